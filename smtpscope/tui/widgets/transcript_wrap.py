"""Wrapping for the transcript pane: notes, warnings, errors and TLS rows wrap at the pane width.

Server and client lines stay one row each (the exact bytes, scrolled sideways); smtpscope's own
notes must never be cut. Only rows that actually wrap cost anything here, so a transcript of a
million protocol lines with a few long notes maps display rows to rows with one bisection.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from rich.cells import get_character_cell_size

from smtpscope.tui.widgets.transcript_rows import TranscriptRows


def _one_cell_each(text: str) -> bool:
    """Whether every character of ``text`` takes one cell, so that cells are counted by
    position. Most of our own rows are ASCII but for a sign ("↳ ", " · "): each distinct
    character is measured once, not each character in turn."""
    return all(get_character_cell_size(c) == 1 for c in set(text) if not c.isascii())


def wrap_starts(text: str, room: int) -> list[int]:
    """Start offsets of each display line of ``text`` wrapped to ``room`` cells (words kept
    whole where a space allows, long words cut)."""
    room = max(8, room)
    starts = [0]
    pos, n = 0, len(text)
    one_cell = text.isascii() or _one_cell_each(text)
    while True:
        if one_cell:
            end = pos + room
        else:
            end, cells = pos, 0
            while end < n:
                cells += get_character_cell_size(text[end])
                if cells > room:
                    break
                end += 1
            end = max(end, pos + 1)
        if end >= n:
            return starts
        space = text.rfind(" ", pos + 1, end + 1)
        if space > pos + room // 3:
            end = space + 1
        starts.append(end)
        pos = end


class WrapMap:
    """Which rows take more than one display row at the current width, and where each starts."""

    def __init__(self) -> None:
        self.reset(0)

    def reset(self, room: int) -> None:
        """Forget every wrap; rows will be wrapped to ``room`` cells."""
        self.room = room
        self.rows: list[int] = []  # wrapped rows, ascending
        self.first: list[int] = []  # display index of each wrapped row's first line
        self.before: list[int] = []  # extra display lines before each wrapped row
        self.starts: dict[int, list[int]] = {}
        self.extra = 0
        self.scanned = 0  # how many of TranscriptRows.wrappable have been looked at

    def extend(self, rows: TranscriptRows) -> None:
        """Wrap the wrappable rows added since the last call (they come after all others)."""
        wrappable = rows.wrappable
        for k in range(self.scanned, len(wrappable)):
            row = wrappable[k]
            starts = wrap_starts(rows.text[row], self.room)
            if len(starts) > 1:
                self.rows.append(row)
                self.first.append(row + self.extra)
                self.before.append(self.extra)
                self.starts[row] = starts
                self.extra += len(starts) - 1
        self.scanned = len(wrappable)

    def truncate(self, rows: TranscriptRows) -> None:
        """Forget the wraps of rows that ``rows`` no longer has (it was truncated)."""
        j = bisect_left(self.rows, len(rows))
        if j < len(self.rows):
            self.extra = self.before[j]
            for row in self.rows[j:]:
                del self.starts[row]
            del self.rows[j:], self.first[j:], self.before[j:]
        self.scanned = min(self.scanned, len(rows.wrappable))

    def display_count(self, rows: int) -> int:
        """Display rows for ``rows`` rows."""
        return rows + self.extra

    def locate(self, display: int) -> tuple[int, int]:
        """(row, line within the row) shown at display index ``display``."""
        j = bisect_right(self.first, display) - 1
        if j < 0:
            return display, 0
        row = self.rows[j]
        lines = len(self.starts[row])
        if display < self.first[j] + lines:
            return row, display - self.first[j]
        return display - self.before[j] - (lines - 1), 0

    def display_of(self, row: int) -> int:
        """Display index of the first line of ``row``."""
        j = bisect_left(self.rows, row)
        return row + (self.before[j] if j < len(self.rows) else self.extra)

    def height_of(self, row: int) -> int:
        """How many display lines ``row`` takes."""
        starts = self.starts.get(row)
        return 1 if starts is None else len(starts)

    def line(self, rows: TranscriptRows, row: int, index: int) -> str:
        """The text of display line ``index`` of ``row``."""
        text = rows.text[row]
        starts = self.starts.get(row)
        if starts is None:
            return text
        end = starts[index + 1] if index + 1 < len(starts) else len(text)
        return text[starts[index] : end].rstrip(" ")
