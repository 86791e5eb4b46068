"""Recordings on disk: JSON Lines, a header line then one entry a line, flushed as it happens."""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from smtpscope import __version__
from smtpscope.record.transcript import Entry
from smtpscope.record.validate import (
    MAX_LINE,
    LineError,
    check_footer,
    check_header,
    entry_from_json,
    loads,
)
from smtpscope.sanitize import visible

SCHEMA = "smtpscope-recording"
SCHEMA_VERSION = 1

SECRETS_WARNING = (
    "This recording contains authentication secrets in clear: it was made with secrets "
    "recording switched on. Do not share it."
)


def session_label(header: dict[str, Any]) -> str:
    """What a list or title names a recorded session by: its target, with the protocol when
    the target does not already say it (an LMTP session over TCP is only ``host:port``).

    Foreign text (a ``serve`` recording's target is a stranger's address): pass the label
    through the sanitizer to show it.
    """
    target = str(header.get("target", "?"))
    # "lmtp:/path" is smtpscope's own way of writing an LMTP socket: nothing to add then.
    if header.get("protocol") == "lmtp" and not target.startswith("lmtp:"):
        return f"LMTP {target}"
    return target


class RecordingError(Exception):
    """A file that is not a recording smtpscope can read (the message says why)."""


def make_header(target: str, **extra: Any) -> dict[str, Any]:
    """Build a recording header for ``target``; ``extra`` adds fields (role, security, ...)."""
    header: dict[str, Any] = {
        "schema": SCHEMA,
        "version": SCHEMA_VERSION,
        "tool": f"smtpscope {__version__}",
        "target": target,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "started_wall": time.time(),
    }
    header.update(extra)
    if header.get("secrets_recorded"):
        header["warning"] = SECRETS_WARNING
    return header


def private_dir(path: Path, *, ours: bool = False) -> Path:
    """Create ``path`` (and parents) if missing; the folder made (or ``ours``) becomes 0700.

    A folder the user chose that already exists keeps its mode: it may be shared on purpose.
    """
    if not path.exists():
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        ours = True
    if ours:
        with contextlib.suppress(OSError):
            os.chmod(path, 0o700)  # mkdir's mode is filtered by the umask
    return path


def unused_path(path: Path) -> Path:
    """``path`` if nothing is there yet, else the first free ``stem-2.ext``, ``stem-3.ext``...

    A later connection of the same session records next to the first, never over a file.
    """
    number = 2
    found = path
    while found.exists() or found.is_symlink():
        found = path.with_name(f"{path.stem}-{number}{path.suffix}")
        number += 1
    return found


def _hold(fd: int) -> None:
    """Say "being written" of the file open on ``fd`` for as long as it stays open (the lock
    goes with the descriptor, or with the process, however it ends): see ``being_written``."""
    try:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (ImportError, OSError):
        pass  # no flock (Windows), or a file system without it: nothing to tell by


def being_written(path: str | os.PathLike[str]) -> bool:
    """Whether a running session (of this app or another) still writes the recording at
    ``path``: one without a footer is then going on, not cut off."""
    try:
        import fcntl

        with open(path, "rb") as file:
            try:
                fcntl.flock(file.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(file.fileno(), fcntl.LOCK_UN)
    except (ImportError, OSError):
        pass
    return False


class Recorder:
    """Write entries to ``path`` as they arrive; usable as a transcript listener."""

    def __init__(self, path: str | os.PathLike[str], header: dict[str, Any]) -> None:
        # No directory is made here: a mistyped --record path must fail, not grow a tree. The
        # folders smtpscope owns are made by their owners (recordings_dir, the server's).
        self.path = Path(path)
        # Recordings hold message content and addresses: readable by the user only (0600),
        # set at creation so there is no moment when another user could open the file.
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        _hold(fd)
        self._file: IO[str] | None = os.fdopen(fd, "w", encoding="utf-8")
        self._write(header)

    def _write(self, obj: dict[str, Any]) -> None:
        if self._file is None:
            return
        self._file.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n")
        self._file.flush()

    def __call__(self, entry: Entry) -> None:
        self._write(entry.to_json())

    def write_footer(self, **fields: Any) -> None:
        """Add a closing line (outcome, end time) that the history screen reads."""
        self._write({"footer": True, "ended_wall": time.time(), **fields})

    def close(self) -> None:
        """Close the file; further entries are ignored."""
        if self._file is not None:
            self._file.close()
            self._file = None


@dataclass
class Recording:
    """A recording read back: header, entries, footer, and what could not be read."""

    path: Path
    header: dict[str, Any]
    entries: list[Entry] = field(default_factory=list)
    footer: dict[str, Any] | None = None
    truncated_line: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def target(self) -> str:
        return str(self.header.get("target", "?"))

    @property
    def label(self) -> str:
        """:func:`session_label` of the header: the target, and LMTP when it was."""
        return session_label(self.header)


def read_header_line(path: Path, first: bytes) -> dict[str, Any]:
    """The checked header of the recording at ``path``; RecordingError when it is unusable."""
    try:
        header = loads(first)
    except LineError as exc:
        raise RecordingError(f"{path} is not a smtpscope recording (first line is {exc})") from None
    if not isinstance(header, dict) or header.get("schema") != SCHEMA:
        raise RecordingError(f"{path} is not a smtpscope recording (no {SCHEMA} header)")
    try:
        return check_header(header, SCHEMA_VERSION)
    except LineError as exc:
        raise RecordingError(f"{path}: header: {exc}") from None


def read_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Only the checked header (the first line) of a recording; RecordingError when unusable."""
    p = Path(path)
    try:
        with p.open("rb") as handle:
            first = handle.readline(MAX_LINE + 1)
    except OSError as exc:
        raise RecordingError(f"cannot read {p}: {exc.strerror or exc}") from exc
    if not first.strip():
        raise RecordingError(f"{p} is empty: not a smtpscope recording")
    return read_header_line(p, first.rstrip(b"\n"))


def parse_header(p: Path, first: bytes) -> dict[str, Any]:
    """The checked header line of a recording (see :func:`read_header_line`)."""
    return read_header_line(p, first)


def is_header(obj: Any) -> bool:
    """Whether a parsed line is a recording's header (of a second recording, inside a file)."""
    return isinstance(obj, dict) and obj.get("schema") == SCHEMA


def joined_entry(obj: dict[str, Any], number: int, before: Entry | None) -> Entry:
    """A note in place of line ``number``, a header, or the footer before one, inside a file:
    recordings joined end to end (``cat a.jsonl b.jsonl``). The line's checked fields ride in
    ``info`` (``recording`` or ``footer``), so nothing is lost and readers find the seam by
    type; LineError when they do not check. Time: the entry before's.
    """
    if is_header(obj):
        header = check_header(obj, SCHEMA_VERSION)
        info = {"recording": header}
        text = (f"line {number}: another recording starts here: "
                f"{visible(str(header.get('target', '?')))}, started "
                f"{visible(str(header.get('started', '?')))}")
    else:
        footer = check_footer(obj)
        info = {"footer": footer}
        outcome = footer.get("outcome")
        text = f"line {number}: the recording above ends here" + (
            f" ({visible(outcome)})" if outcome else "")
    mono, wall = (before.mono, before.wall) if before is not None else (0.0, 0.0)
    return Entry(-1, mono, wall, "local", "note", text.encode("utf-8"), text, info=info)


def footer_skipped(number: int) -> str:
    """The problem of a footer at line ``number`` that more of its recording follows."""
    return f"line {number}: a footer before the end, skipped"


def seq_problem(previous: int, entry: Entry, number: int) -> str | None:
    """What is wrong when ``entry`` (line ``number``) does not follow entry ``previous``.

    A recording numbers every entry of its session from 0, one a line, so a jump says lines
    were taken out (or moved) by hand: replies may then look answered by the wrong command.
    """
    if entry.seq == previous + 1:
        return None
    head = f"line {number}: " + (f"entry {entry.seq} follows entry {previous}" if previous >= 0
                                 else f"the first entry is entry {entry.seq}")
    if entry.seq > previous + 1:
        return f"{head}, so {entry.seq - previous - 1} entry line(s) are missing before it"
    return f"{head}, out of order"


def read_recording(path: str | os.PathLike[str]) -> Recording:
    """Read a recording; a file cut off mid-line loads up to the cut, which is reported."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise RecordingError(f"cannot read {p}: {exc.strerror or exc}") from exc
    lines = data.split(b"\n")
    tail = lines.pop()  # after the last newline: b"" for a complete file
    if not lines and not tail:
        raise RecordingError(f"{p} is empty: not a smtpscope recording")
    header = read_header_line(p, lines[0] if lines else tail)
    entries: list[Entry] = []
    rec = Recording(path=p, header=header, entries=entries)
    body = lines[1:] if lines else []
    footer_at = 0  # line number of the footer just read, while no entry has followed it
    previous: int | None = -1  # seq of the entry line before; None after a skipped line
    for number, line in enumerate(body, start=2):
        if not line.strip():
            continue
        try:
            obj = loads(line)
            if isinstance(obj, dict) and obj.get("footer") is True:
                if footer_at:  # two footers: the first did not end anything
                    rec.problems.append(footer_skipped(footer_at))
                    previous = None
                rec.footer, footer_at = check_footer(obj), number
                continue
            if is_header(obj):
                before = entries[-1] if entries else None
                if rec.footer is not None and footer_at:  # the first recording's, kept
                    entries.append(joined_entry(rec.footer, footer_at, before))
                    rec.footer = None
                entries.append(joined_entry(obj, number, before))
                previous = -1
            else:
                if footer_at:  # entries go on after it: it was not the recording's end
                    rec.problems.append(footer_skipped(footer_at))
                    rec.footer, previous = None, None
                entry = entry_from_json(obj)
                gap = None if previous is None else seq_problem(previous, entry, number)
                rec.problems += [gap] if gap else []
                entries.append(entry)
                # After a line out of order the next jump says nothing new: not reported.
                out_of_order = previous is not None and entry.seq <= previous
                previous = None if out_of_order else entry.seq
        except LineError as exc:
            if footer_at:
                rec.problems.append(footer_skipped(footer_at))
                rec.footer = None
            rec.problems.append(f"line {number}: {exc}, skipped")
            previous = None  # the skipped line explains the next jump
        footer_at = 0
    if tail.strip():
        rec.truncated_line = tail.decode("utf-8", "replace")
        rec.problems.append(
            f"line {len(lines) + 1}: cut off mid-line ({len(tail)} bytes); "
            "everything before it was loaded"
        )
    return rec
