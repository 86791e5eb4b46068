"""Recordings opened for replay: entries are parsed when first needed, so a huge file opens at once.

``read_recording`` parses every line before it returns (seconds for a million-line session);
replay shows entries one step at a time, so :func:`open_recording` only splits the file into
lines and parses the header and footer. A line that is not an entry is found when it is
reached: it is reported in ``problems`` then, and shown in its place as a warning entry.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

from smtpscope.record.store import (
    RecordingError,
    footer_skipped,
    is_header,
    joined_entry,
    read_header_line,
    seq_problem,
    session_label,
)
from smtpscope.record.transcript import Entry
from smtpscope.record.validate import LineError, check_footer, entry_from_json, loads


class LazyEntries(Sequence[Entry]):
    """The entry lines of a recording, each parsed (once) when it is first asked for."""

    def __init__(self, lines: list[bytes | None], numbers: list[int], problems: list[str]) -> None:
        self._lines = lines  # a line's bytes until it is parsed, then None
        self._numbers = numbers  # its line number in the file, for problem reports
        self._parsed: list[Entry | None] = [None] * len(lines)
        self._problems = problems
        # 1 where read_recording forgets the seq after the line (a skipped line, or one out of
        # order): a jump after it says nothing new. One byte a line; 0 until parsed.
        self._lost = bytearray(len(lines))

    def __len__(self) -> int:
        return len(self._parsed)

    @overload
    def __getitem__(self, index: int) -> Entry: ...

    @overload
    def __getitem__(self, index: slice) -> list[Entry]: ...

    def __getitem__(self, index: int | slice) -> Entry | list[Entry]:
        if isinstance(index, slice):
            return [self._entry(i) for i in range(*index.indices(len(self._parsed)))]
        if index < 0:
            index += len(self._parsed)
        if not 0 <= index < len(self._parsed):
            raise IndexError("entry index out of range")
        return self._entry(index)

    def __iter__(self) -> Iterator[Entry]:
        for i in range(len(self._parsed)):
            yield self._entry(i)

    @property
    def parsed_count(self) -> int:
        """How many lines have been parsed so far."""
        return sum(1 for e in self._parsed if e is not None)

    def _entry(self, index: int) -> Entry:
        entry = self._parsed[index]
        if entry is None:
            entry = self._parse(index)
            self._parsed[index] = entry
            self._lines[index] = None  # the Entry holds what is needed now
        return entry

    def _parse(self, index: int) -> Entry:
        line = self._lines[index]
        number = self._numbers[index]
        assert line is not None
        try:
            obj = loads(line)
            if type(obj) is dict and "footer" not in obj and "schema" not in obj:
                # An entry line (neither check below can hold): the common case, in short.
                entry = entry_from_json(obj)
                before = self._parsed[index - 1] if index else None
                if before is not None and entry.seq == before.seq + 1:
                    return entry  # no gap, whatever _previous_seq finds (a seam's seq is -1)
                return self._checked_seq(index, number, entry)
            if isinstance(obj, dict) and obj.get("footer") is True and self._header_next(index):
                return joined_entry(obj, number, self._before(index))  # recordings joined
            if isinstance(obj, dict) and obj.get("footer"):
                return self._damaged(index, footer_skipped(number))
            if is_header(obj):
                return joined_entry(obj, number, self._before(index))
            entry = entry_from_json(obj)  # every field checked (record/validate.py)
        except LineError as exc:
            return self._damaged(index, f"line {number}: {exc}, skipped")
        return self._checked_seq(index, number, entry)

    def _checked_seq(self, index: int, number: int, entry: Entry) -> Entry:
        """``entry``, after noting in ``problems`` a jump in seq from the entry before."""
        previous = self._previous_seq(index)
        if previous is not None:
            gap = seq_problem(previous, entry, number)
            if gap is not None:
                self._problems.append(gap)
            if entry.seq <= previous:
                self._lost[index] = 1
        return entry

    def _previous_seq(self, index: int) -> int | None:
        """The seq the entry at ``index`` follows, as read_recording tracks it: -1 first and
        after another recording's header (whose seq is -1); None when the line before is not
        parsed yet, or was skipped or out of order."""
        if index == 0:
            return -1
        before = self._parsed[index - 1]
        if before is None or self._lost[index - 1]:
            return None
        return before.seq

    def _before(self, index: int) -> Entry | None:
        return self._parsed[index - 1] if index else None

    def _header_next(self, index: int) -> bool:
        """Whether the line after ``index`` is another recording's header."""
        if index + 1 >= len(self._parsed):
            return False
        parsed, line = self._parsed[index + 1], self._lines[index + 1]
        if parsed is not None:
            return "recording" in (parsed.info or {})
        try:
            return line is not None and is_header(loads(line))
        except LineError:
            return False

    def _damaged(self, index: int, problem: str) -> Entry:
        """A warning entry in place of a line that is not an entry (time of the one before)."""
        self._problems.append(problem)
        self._lost[index] = 1
        before = self._before(index)
        mono, wall = (before.mono, before.wall) if before is not None else (0.0, 0.0)
        text = f"recording damaged: {problem}"
        return Entry(-1, mono, wall, "local", "warning", text.encode("utf-8"), text)


@dataclass
class LazyRecording:
    """A recording opened for replay: what :class:`~smtpscope.record.Recording` holds, with
    entries parsed on first use and ``problems`` growing as damaged lines are reached."""

    path: Path
    header: dict[str, Any]
    entries: LazyEntries
    footer: dict[str, Any] | None = None
    truncated_line: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def target(self) -> str:
        return str(self.header.get("target", "?"))

    @property
    def label(self) -> str:
        """:func:`~smtpscope.record.store.session_label` of the header."""
        return session_label(self.header)


def open_recording(path: str | os.PathLike[str]) -> LazyRecording:
    """Open a recording for replay without parsing its entries yet (see the module text)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise RecordingError(f"cannot read {p}: {exc.strerror or exc}") from exc
    blank_lines = re.search(rb"\n[ \t\r\f\v]*\n", data) is not None
    lines = data.split(b"\n")
    del data
    tail = lines.pop()  # after the last newline: b"" for a complete file
    if not lines and not tail:
        raise RecordingError(f"{p} is empty: not a smtpscope recording")
    header = read_header_line(p, lines[0] if lines else tail)  # the checks read_recording makes
    total = len(lines)
    # Entry lines (blank ones skipped, as read_recording does), with their line numbers.
    body: list[bytes | None] = []
    if blank_lines:
        numbers = [n for n in range(2, total + 1) if not lines[n - 1].isspace() and lines[n - 1]]
        body += [lines[n - 1] for n in numbers]
    else:
        numbers = list(range(2, total + 1))
        body += lines[1:]
    del lines
    problems: list[str] = []
    footer = None
    if body and b'"footer"' in (body[-1] or b""):
        try:
            last = loads(body[-1] or b"")
            if isinstance(last, dict) and last.get("footer") is True:
                last = check_footer(last)
        except LineError:
            last = None
        if isinstance(last, dict) and last.get("footer"):
            footer = last
            body.pop()
            numbers.pop()
    rec = LazyRecording(path=p, header=header, entries=LazyEntries(body, numbers, problems),
                        footer=footer, problems=problems)
    if tail.strip():
        rec.truncated_line = tail.decode("utf-8", "replace")
        problems.append(
            f"line {total + 1}: cut off mid-line ({len(tail)} bytes); "
            "everything before it was loaded"
        )
    return rec
