"""Compact display rows for the transcript pane: entries laid out as lines, without Textual."""

from __future__ import annotations

import math
import time
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

from rich.cells import cell_len

from smtpscope.record.transcript import Entry
from smtpscope.sanitize import shown_as_is
from smtpscope.tui.widgets.transcript_text import (
    MAX_LINE_CHARS,
    body_end,
    display,
    display_block,
    lines_of,
)

if TYPE_CHECKING:
    from smtpscope.tui.widgets.leftovers import Leftovers

# Message bodies longer than FOLD_AFTER lines show their first FOLD_KEEP lines and a fold row.
FOLD_AFTER = 20
FOLD_KEEP = 5

Explainer = Callable[[Entry], "str | None"]


class Look(IntEnum):
    """How a row is coloured; the widget maps each to a component class."""

    CLIENT = 0
    CLIENT_OFF = 1
    REPLY_2 = 2
    REPLY_3 = 3
    REPLY_4 = 4
    REPLY_5 = 5
    REPLY_OTHER = 6
    SERVER_OFF = 7
    NOTE = 8
    WARNING = 9
    ERROR = 10
    TLS = 11
    CONTENT = 12
    FOLD = 13
    EXPLAIN = 14
    REDACTED = 15
    TLS_UNVERIFIED = 16


# smtpscope's own words wrap at the pane width; protocol lines stay one row each.
WRAP_LOOKS = frozenset(
    {Look.NOTE, Look.WARNING, Look.ERROR, Look.TLS, Look.TLS_UNVERIFIED, Look.EXPLAIN}
)

# Prefix codes index PREFIXES; every prefix is three cells wide so the text column lines up.
P_CLIENT, P_CLIENT_OFF, P_SERVER, P_SERVER_OFF, P_NOTE, P_WARN, P_CONT, P_BLANK, P_RULE = range(9)
PREFIXES = ("C: ", "C! ", "S: ", "S! ", "-- ", "!! ", " │ ", "   ", "")
PREFIX_WIDTH = 3
TIMESTAMP_WIDTH = 13  # "HH:MM:SS.mmm "
LATENCY_WIDTH = 9  # "  +12.3ms "

_REPLY_LOOKS = {2: Look.REPLY_2, 3: Look.REPLY_3, 4: Look.REPLY_4, 5: Look.REPLY_5}
_NAN = math.nan


def reply_class(entry: Entry) -> int | None:
    """The reply class (2..5) of a reply entry, from its parsed code or its first digits."""
    reply = entry.reply
    if reply is not None and reply.get("code") is not None:
        try:
            return int(reply["code"]) // 100
        except (TypeError, ValueError):
            return None
    head = entry.text[:3]
    return int(head[0]) if len(head) == 3 and head.isdigit() else None


def format_timestamp(wall: float) -> str:
    """Local wall-clock time as HH:MM:SS.mmm."""
    tm = time.localtime(wall)
    millis = int((wall % 1.0) * 1000)
    return f"{tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d}.{millis:03d}"


def format_latency(seconds: float) -> str:
    """A compact latency such as "+0.4ms", "+12ms" or "+1.5s"."""
    ms = seconds * 1000.0
    if ms < 10:
        return f"+{ms:.1f}ms"
    if ms < 10_000:
        return f"+{ms:.0f}ms"
    return f"+{seconds:.1f}s"


@dataclass
class _Fold:
    """A long body shown folded: its text stays here so expanding needs no Entry."""

    text: str
    end: int
    total: int
    expanded: bool = False


class TranscriptRows:
    """Entries laid out as display rows, stored as parallel compact columns.

    Each row costs one display string plus six bytes (look, prefix, owner index in arrays);
    each entry costs 24 bytes (wall time, latency, sequence number). No Rich objects are kept:
    the widget builds strips only for the rows on screen.
    """

    def __init__(self, fold_after: int = FOLD_AFTER, fold_keep: int = FOLD_KEEP) -> None:
        self.fold_after = fold_after
        self.fold_keep = min(fold_keep, fold_after)
        self.clear()

    def clear(self) -> None:
        """Forget every row and entry."""
        self.text: list[str] = []
        self.look = array("B")
        self.prefix = array("B")
        self.owner = array("I")  # entry ordinal of each row; never decreases
        self.wall = array("d")
        self.latency = array("d")  # NaN when the entry has none
        self.seq = array("q")
        self.folds: dict[int, _Fold] = {}
        self.max_cells = 0  # widest row that does not wrap
        self.wrappable = array("I")  # rows whose look wraps, ascending

    def __len__(self) -> int:
        return len(self.text)

    def truncate(self, entries: int, leftovers: Leftovers | None = None) -> None:
        """Keep only the first ``entries`` entries and their rows (cost: what is removed, or
        with ``leftovers``, at most what is kept: the strings cut off are freed later)."""
        if entries >= len(self.seq):
            return
        start = bisect_left(self.owner, entries)
        if leftovers is not None:
            self.text = leftovers.cut(self.text, start)
        del self.text[start:], self.look[start:], self.prefix[start:], self.owner[start:]
        del self.wall[entries:], self.latency[entries:], self.seq[entries:]
        del self.wrappable[bisect_left(self.wrappable, start) :]
        for ordinal in [o for o in self.folds if o >= entries]:
            del self.folds[ordinal]

    @property
    def entry_count(self) -> int:
        """How many entries have been laid out."""
        return len(self.seq)

    def _row(self, text: str, look: int, prefix: int, ordinal: int) -> None:
        self.text.append(text)
        self.look.append(look)
        self.prefix.append(prefix)
        self.owner.append(ordinal)
        if look in WRAP_LOOKS:
            self.wrappable.append(len(self.text) - 1)
            return
        cells = len(text) if text.isascii() else cell_len(text)
        if cells > self.max_cells:
            self.max_cells = cells

    def add(self, entry: Entry, explain: Explainer | None = None) -> None:
        """Lay out one entry as one or more rows."""
        ordinal = len(self.seq)
        self.seq.append(entry.seq)
        self.wall.append(entry.wall)
        self.latency.append(_NAN if entry.latency is None else entry.latency)
        kind = entry.kind
        text = entry.shown_text
        end = body_end(text)
        if kind == "tls":
            label = " · ".join(display(line) for line in lines_of(text, end) if line)
            info = entry.info or {}
            # A handshake whose certificate was not verified must not look like a good one.
            trusted = info.get("verified", True) and not info.get("insecure", False)
            self._row(label, Look.TLS if trusted else Look.TLS_UNVERIFIED, P_RULE, ordinal)
        elif kind == "content" and text.count("\n", 0, end) >= self.fold_after:
            self._add_folded(entry, end, ordinal)
        else:
            look, first, cont = self._style(entry)
            own = entry.direction == "local"
            if text.find("\n", 0, end) >= 0:
                lines = lines_of(text, end)
                self._row(display(lines[0], own), look, first, ordinal)
                for line in lines[1:]:
                    self._row(display(line, own), look, cont, ordinal)
            else:
                line = text[:end]
                self._row(display(line[:-1] if line.endswith("\r") else line, own), look, first,
                          ordinal)
            reply = entry.reply
            if reply is not None and "recipient" in reply:
                # LMTP after the data: one reply per accepted recipient; say whose this is.
                self._row(f"↳ for <{display(str(reply['recipient']))}>", Look.EXPLAIN, P_BLANK,
                          ordinal)
            # Errors get the catalogue's words; a 334 challenge gets its base64 decoded.
            if explain is not None and (look in (Look.REPLY_4, Look.REPLY_5)
                                        or (look == Look.REPLY_3 and entry.code == 334)):
                explanation = explain(entry)
                if explanation:
                    for line in explanation.splitlines():
                        self._row("↳ " + display(line), Look.EXPLAIN, P_BLANK, ordinal)
        warnings = entry.notes
        if entry.reply is not None and entry.reply.get("warnings"):
            warnings = tuple(dict.fromkeys((*warnings, *map(str, entry.reply["warnings"]))))
        for note in warnings:
            self._row(display(note, own=True), Look.WARNING, P_WARN, ordinal)

    def add_many(self, entries: Iterable[Entry], explain: Explainer | None = None) -> None:
        """Lay out many entries, as :meth:`add` would one by one.

        Most entries are a protocol line or a short body and nothing else: their lines go
        through the sanitizer together, their style is looked up, their rows are appended
        column by column; any other entry (a note, a handshake, a long body, one with notes,
        flags or warnings) goes through :meth:`add`.
        """
        add, row, fold_after = self.add, self._row, self.fold_after
        text, look_col, prefix_col, owner, seq, wall, latency = (
            self.text, self.look, self.prefix, self.owner, self.seq, self.wall, self.latency)
        styles: dict[tuple[str, str, int, bool], tuple[int, int, int]] = {}
        max_cells = self.max_cells
        # Looks as plain values: an enum member looked up on its class costs a call per entry.
        reply_3, failures = int(Look.REPLY_3), (int(Look.REPLY_4), int(Look.REPLY_5))
        for entry in entries:
            direction, kind, reply = entry.direction, entry.kind, entry.reply
            if (not entry.plain or direction == "local" or kind == "tls"
                    or (reply is not None and ("recipient" in reply or reply.get("warnings")))):
                self.max_cells = max_cells
                add(entry, explain)
                max_cells = self.max_cells
                continue
            shown = entry.shown_text
            end = body_end(shown)
            lf = shown.find("\n", 0, end)
            if end > MAX_LINE_CHARS or (
                    kind == "content" and shown.count("\n", 0, end) >= fold_after):
                self.max_cells = max_cells
                add(entry, explain)  # a line to cut, or a body to fold
                max_cells = self.max_cells
                continue
            code = None if reply is None else reply.get("code")
            if direction == "client" or type(code) is int:
                # What _style() reads of an entry with nothing but its text.
                key = (direction, kind, code or 0, reply is not None and bool(
                    reply.get("unsolicited")))
                style = styles.get(key)
                if style is None:
                    style = styles[key] = self._style(entry)
            else:
                style = self._style(entry)  # the class may come from the text's first digits
            look, first, cont = style
            body = shown[:end]
            if not shown_as_is(body):  # else it is display_block's answer already
                body = display_block(shown, end)
            ordinal = len(seq)
            seq.append(entry.seq)
            wall.append(entry.wall)
            lat = entry.latency
            latency.append(_NAN if lat is None else lat)
            if lf < 0:
                text.append(body)
                look_col.append(look)
                prefix_col.append(first)
                owner.append(ordinal)
                cells = len(body) if body.isascii() else cell_len(body)
            else:
                lines = body.split("\n")
                count = len(lines)
                text += lines
                look_col.frombytes(bytes((look,)) * count)
                prefix_col.frombytes(bytes((first,)) + bytes((cont,)) * (count - 1))
                owner.extend(array("I", (ordinal,)) * count)
                cells = (max(map(len, lines)) if body.isascii() else
                         max([len(line) if line.isascii() else cell_len(line) for line in lines]))
            if cells > max_cells:
                max_cells = cells
            if explain is not None and (look in failures
                                        or (look == reply_3 and entry.code == 334)):
                explanation = explain(entry)
                if explanation:
                    for line in explanation.splitlines():
                        row("↳ " + display(line), Look.EXPLAIN, P_BLANK, ordinal)
        self.max_cells = max_cells

    @staticmethod
    def _style(entry: Entry) -> tuple[int, int, int]:
        """(look, first-row prefix, continuation prefix) of a non-TLS entry."""
        direction = entry.direction
        if direction == "client":
            off = entry.off_script or entry.kind == "raw"
            if entry.redacted:
                look = Look.REDACTED
            elif off:
                look = Look.CLIENT_OFF
            else:
                look = Look.CONTENT if entry.kind == "content" else Look.CLIENT
            return look, (P_CLIENT_OFF if off else P_CLIENT), P_CONT
        if direction == "server":
            unsolicited = entry.reply is not None and bool(entry.reply.get("unsolicited"))
            off = unsolicited or entry.kind != "reply"
            if entry.redacted:
                look = Look.REDACTED
            elif entry.kind == "reply":
                look = _REPLY_LOOKS.get(reply_class(entry) or 0, Look.REPLY_OTHER)
            else:
                look = Look.SERVER_OFF
            return look, (P_SERVER_OFF if off else P_SERVER), P_CONT
        if entry.kind == "error":
            return Look.ERROR, P_WARN, P_BLANK
        if entry.kind == "warning":
            return Look.WARNING, P_WARN, P_BLANK
        return Look.NOTE, P_NOTE, P_BLANK

    def _add_folded(self, entry: Entry, end: int, ordinal: int) -> None:
        text = entry.shown_text
        fold = _Fold(text, end, text.count("\n", 0, end) + 1)
        self.folds[ordinal] = fold
        look, first, cont = self._style(entry)
        for i, line in enumerate(lines_of(fold.text, end, self.fold_keep)):
            self._row(display(line), look, cont if i else first, ordinal)
        self._row(self._fold_label(fold), Look.FOLD, P_BLANK, ordinal)

    def _fold_label(self, fold: _Fold) -> str:
        if fold.expanded:
            return f"▴ {fold.total:,} lines (Enter to fold)"
        return f"… {fold.total - self.fold_keep:,} more lines (Enter to expand)"

    def entry_rows(self, ordinal: int) -> tuple[int, int]:
        """The half-open row range [start, end) laid out for one entry."""
        return bisect_left(self.owner, ordinal), bisect_right(self.owner, ordinal)

    def is_foldable(self, ordinal: int) -> bool:
        """Whether the entry is a long body that can be folded and expanded."""
        return ordinal in self.folds

    def is_expanded(self, ordinal: int) -> bool:
        """Whether a foldable entry is currently shown in full."""
        fold = self.folds.get(ordinal)
        return fold is not None and fold.expanded

    def toggle_fold(self, ordinal: int) -> bool:
        """Expand or fold a long body; returns False when the entry is not foldable."""
        fold = self.folds.get(ordinal)
        if fold is None:
            return False
        start, _ = self.entry_rows(ordinal)
        shown = fold.total if fold.expanded else self.fold_keep
        look, first = self.look[start], self.prefix[start]
        fold.expanded = not fold.expanded
        limit = None if fold.expanded else self.fold_keep
        new_text = [display(line) for line in lines_of(fold.text, fold.end, limit)]
        count = len(new_text)
        self.text[start : start + shown] = new_text
        self.look[start : start + shown] = array("B", [look]) * count
        self.prefix[start : start + shown] = array("B", [first] + [P_CONT] * (count - 1))
        self.owner[start : start + shown] = array("I", [ordinal]) * count
        self.text[start + count] = self._fold_label(fold)
        if count != shown:
            # Rows after the fold moved: so did the wrappable ones among them.
            moved = count - shown
            wrappable = self.wrappable
            for k in range(bisect_right(wrappable, start), len(wrappable)):
                wrappable[k] += moved
        for line in new_text:
            cells = len(line) if line.isascii() else cell_len(line)
            if cells > self.max_cells:
                self.max_cells = cells
        return True

    def gutter(self, row: int, timestamps: bool, latency: bool) -> tuple[str, str]:
        """The (timestamp, latency) columns for a row; blank on continuation rows."""
        first = row == 0 or self.owner[row - 1] != self.owner[row]
        stamp = lat = ""
        if timestamps:
            stamp = " " * TIMESTAMP_WIDTH
            if first:
                stamp = format_timestamp(self.wall[self.owner[row]]) + " "
        if latency:
            lat = " " * LATENCY_WIDTH
            value = self.latency[self.owner[row]]
            if first and not math.isnan(value):
                lat = format_latency(value).rjust(LATENCY_WIDTH - 1) + " "
        return stamp, lat

    def plain_line(self, row: int, timestamps: bool = False, latency: bool = False) -> str:
        """One row as plain text, exactly as shown (the TLS rule at a fixed width)."""
        stamp, lat = self.gutter(row, timestamps, latency)
        if self.look[row] in (Look.TLS, Look.TLS_UNVERIFIED):
            return f"{stamp}{lat}── {self.text[row]} ──"
        return f"{stamp}{lat}{PREFIXES[self.prefix[row]]}{self.text[row]}"
