"""Standard output and error whose reader went away (``smtpscope send ... | head -1``).

Python raises ``BrokenPipeError`` on such a write. It must not read as a failed connection (the
transcript printer runs inside the session, where an OSError means the network), nor end in a
crash report: the stream is pointed at /dev/null and the command goes on or ends quietly. A
broken pipe is told from any other by asking the descriptor itself (a pipe without readers
polls as an error), not by where the exception came from.
"""

from __future__ import annotations

import errno
import os
import select
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from rich.console import Console

#: The exit status of a process that SIGPIPE ended, which shells and ``set -o pipefail`` know.
EXIT_PIPE = 128 + 13


def reader_gone(stream: TextIO) -> bool:
    """True when ``stream`` is a pipe (or socket) whose reading end is closed."""
    try:
        fd = stream.fileno()
    except (AttributeError, ValueError, OSError):
        return False
    poller = select.poll()
    poller.register(fd, 0)  # POLLERR and POLLHUP are reported whatever is asked for
    return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))


def discard(stream: TextIO) -> None:
    """Send whatever ``stream`` still holds, and every later write, to /dev/null."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, stream.fileno())
    finally:
        os.close(devnull)


def write_or_discard(stream: TextIO, text: str) -> None:
    """Write and flush ``text``; if the reader has gone, discard this and all later output."""
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        if not reader_gone(stream):
            raise
        discard(stream)


def closed_outputs(streams: tuple[TextIO, ...]) -> bool:
    """After a ``BrokenPipeError``: discard each stream whose reader has gone; True if any."""
    gone = [stream for stream in streams if reader_gone(stream)]
    for stream in gone:
        discard(stream)
    return bool(gone)


def console(**options: Any) -> Console:
    """A Rich console whose broken pipe is a ``BrokenPipeError``, as every other write's is.

    Rich's own answer is ``SystemExit(1)``: exit 1, which the commands' help calls a usage
    error, where ``| head`` gets EXIT_PIPE from everything else.
    """
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True  # nothing more is written through it
            raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))

    return _Console(**options)
