"""Streams that are not TCP: a UNIX socket (SMTP or LMTP) and a command's stdin/stdout."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket

from .errors import ConnectError
from .streamproto import StreamProtocol
from .tcp import Stream
from .timeouts import DEFAULT_CONNECT_TIMEOUT

_EXIT_GRACE = 2.0  # seconds a piped command gets to exit after we close its stdin
_STDERR_LIMIT = 64 * 1024  # keep at most this much of a piped command's stderr


async def open_unix_connection(
    path: str, *, connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT
) -> Stream:
    """Connect to the UNIX socket at ``path``; raises ``ConnectError`` like a TCP connect."""
    loop = asyncio.get_running_loop()
    protocol = StreamProtocol()
    try:
        async with asyncio.timeout(connect_timeout):
            transport, _ = await loop.create_unix_connection(lambda: protocol, path)
    except TimeoutError:
        raise ConnectError(f"no answer from UNIX socket {path} within {connect_timeout:g} s",
                           host=path, port=0, kind="timeout", socket=True) from None
    except OSError as exc:
        if isinstance(exc, ConnectionRefusedError):
            kind, why = "refused", _refused_why(path)
        elif exc.errno == errno.ENOENT:
            kind, why = "resolve", "no such socket"
        else:
            kind, why = "other", exc.strerror or str(exc)
        raise ConnectError(f"cannot connect to UNIX socket {path}: {why}", host=path, port=0,
                           kind=kind, socket=True) from exc
    stream = Stream(protocol, transport, path, 0)
    stream.label = f"unix:{path}"
    return stream


def _refused_why(path: str) -> str:
    """Why a connection to ``path`` was refused: Linux refuses a directory or a plain file
    as it refuses a socket nobody listens on, and only the second has a listener to start."""
    import os
    import stat

    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = stat.S_IFSOCK  # gone since: say what the connect said
    if stat.S_ISSOCK(mode):
        return "connection refused (nothing listening on it?)"
    return f"not a socket but {'a directory' if stat.S_ISDIR(mode) else 'a file'}"


class PipeStream(Stream):
    """A Stream over a socket pair whose other end is a command's stdin and stdout."""

    process: asyncio.subprocess.Process
    command: str

    def attach(self, process: asyncio.subprocess.Process, command: str) -> None:
        self.process = process
        self.command = command
        self.stderr = bytearray()
        self._stderr_task = asyncio.get_running_loop().create_task(self._read_stderr())

    async def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        while chunk := await self.process.stderr.read(4096):
            if len(self.stderr) < _STDERR_LIMIT:
                self.stderr += chunk[: _STDERR_LIMIT - len(self.stderr)]

    def diagnostics(self) -> list[str]:
        """The command's exit status and what it wrote on stderr, once it has ended."""
        out = [line for line in self.stderr.decode("utf-8", "replace").splitlines() if line]
        code = self.process.returncode
        if code is not None:
            out.append(f"{self.command!r} exited with status {code}")
        return out

    async def close(self) -> None:
        """Close our end (the command sees EOF), let it exit, terminate it after a grace."""
        await super().close()
        try:
            await asyncio.wait_for(self.process.wait(), _EXIT_GRACE)
        except BaseException:  # timeout or cancelled: never leave the process behind
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.process.wait(), _EXIT_GRACE)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._stderr_task, _EXIT_GRACE)


async def open_pipe(command: str) -> PipeStream:
    """Start ``command`` with a shell; its stdin and stdout become the stream (stderr is kept)."""
    loop = asyncio.get_running_loop()
    ours, theirs = socket.socketpair()
    try:
        process = await asyncio.create_subprocess_shell(
            command, stdin=theirs.fileno(), stdout=theirs.fileno(),
            stderr=asyncio.subprocess.PIPE, start_new_session=True,
        )
    except OSError as exc:
        ours.close()
        raise ConnectError(f"cannot start {command!r}: {exc.strerror or exc}", host=command,
                           port=0, kind="other") from exc
    finally:
        theirs.close()
    protocol = StreamProtocol()
    transport, _ = await loop.create_unix_connection(lambda: protocol, sock=ours)
    stream = PipeStream(protocol, transport, command, 0)
    stream.label = f"pipe:{command}"
    stream.attach(process, command)
    return stream
