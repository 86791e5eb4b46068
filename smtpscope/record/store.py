"""Recordings on disk: JSON Lines, a header line then one entry a line, flushed as it happens."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from smtpscope import __version__
from smtpscope.record.transcript import Entry

SCHEMA = "smtpscope-recording"
SCHEMA_VERSION = 1

SECRETS_WARNING = (
    "This recording contains authentication secrets in clear: it was made with secrets "
    "recording switched on. Do not share it."
)


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


class Recorder:
    """Write entries to ``path`` as they arrive; usable as a transcript listener."""

    def __init__(self, path: str | os.PathLike[str], header: dict[str, Any]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] | None = open(self.path, "w", encoding="utf-8")  # noqa: SIM115
        if header.get("secrets_recorded"):
            # Secrets stay readable only by the user.
            os.chmod(self.path, 0o600)
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
    #: A list, or for a recording opened for replay a sequence that parses on first use.
    entries: Sequence[Entry] = field(default_factory=list)
    footer: dict[str, Any] | None = None
    truncated_line: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def target(self) -> str:
        return str(self.header.get("target", "?"))


def parse_header(p: Path, first: bytes) -> dict[str, Any]:
    """The header line of a recording; RecordingError when ``first`` is not one we can read."""
    try:
        header = json.loads(first)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordingError(f"{p} is not a smtpscope recording (first line is not JSON)") from exc
    if not isinstance(header, dict) or header.get("schema") != SCHEMA:
        raise RecordingError(f"{p} is not a smtpscope recording (no {SCHEMA} header)")
    if int(header.get("version", 0)) > SCHEMA_VERSION:
        raise RecordingError(
            f"{p} uses recording schema {header.get('version')}, newer than this smtpscope "
            f"understands ({SCHEMA_VERSION}); upgrade smtpscope to read it"
        )
    return header


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
    header = parse_header(p, lines[0] if lines else tail)
    entries: list[Entry] = []
    rec = Recording(path=p, header=header, entries=entries)
    body = lines[1:] if lines else []
    for number, line in enumerate(body, start=2):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except (UnicodeDecodeError, json.JSONDecodeError):
            rec.problems.append(f"line {number}: not JSON, skipped")
            continue
        if isinstance(obj, dict) and obj.get("footer"):
            rec.footer = obj
            continue
        try:
            entries.append(Entry.from_json(obj))
        except ValueError as exc:
            rec.problems.append(f"line {number}: {exc}, skipped")
    if tail.strip():
        rec.truncated_line = tail.decode("utf-8", "replace")
        rec.problems.append(
            f"line {len(lines) + 1}: cut off mid-line ({len(tail)} bytes); "
            "everything before it was loaded"
        )
    return rec
