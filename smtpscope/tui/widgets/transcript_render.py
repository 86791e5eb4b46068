"""Painting one display line of the transcript pane as a Strip (no widget state)."""

from __future__ import annotations

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from smtpscope.tui.widgets.transcript_css import LOOK_CLASSES
from smtpscope.tui.widgets.transcript_rows import (
    P_BLANK,
    P_CONT,
    PREFIXES,
    WRAP_LOOKS,
    Look,
    TranscriptRows,
)
from smtpscope.tui.widgets.transcript_wrap import WrapMap

# Shown in the last cell of a protocol line that goes on past the pane's right edge.
CONTINUED = "…"


def render_row(
    rows: TranscriptRows,
    wrap: WrapMap,
    row: int,
    line: int,
    scroll_x: int,
    width: int,
    cursor: bool,
    *,
    base: Style,
    palette: list[Style],
    timestamps: bool,
    latency: bool,
) -> Strip:
    """Line ``line`` of row ``row``; its cost depends on the width, never on the line length."""
    n = len(LOOK_CLASSES)
    gutter_style, stamp_style, lat_style, cursor_style = palette[n : n + 4]
    look = rows.look[row]
    style = base + palette[look]
    if cursor:
        # Only the background marks the cursor, so the reply colour stays readable.
        highlight = Style(bgcolor=cursor_style.bgcolor)
        base, style = base + highlight, style + highlight
        gutter_style, stamp_style, lat_style = (
            s + highlight for s in (gutter_style, stamp_style, lat_style)
        )
    stamp, lat = rows.gutter(row, timestamps, latency)
    if line:
        stamp, lat = " " * len(stamp), " " * len(lat)
    gutter: list[Segment] = []
    if stamp:
        gutter.append(Segment(stamp, base + stamp_style))
    if lat:
        gutter.append(Segment(lat, base + lat_style))
    text = rows.text[row]
    used = len(stamp) + len(lat)
    room = max(0, width - used)
    if look in WRAP_LOOKS:
        # Wrapped rows do not scroll sideways: they always fit the pane.
        text = wrap.line(rows, row, line)
        last = line == wrap.height_of(row) - 1
        if look in (Look.TLS, Look.TLS_UNVERIFIED):
            lead = "── " if line == 0 else "   "
            label = Strip([Segment(f"{lead}{text} ", style)]).crop(0, room)
            segments = [*gutter, *label]
            if last and room > label.cell_length:
                segments.append(Segment("─" * (room - label.cell_length), style))
            return Strip(segments).crop_extend(0, width, base)
        prefix = PREFIXES[rows.prefix[row]] if line == 0 else PREFIXES[P_BLANK]
        gutter.append(Segment(prefix, style))
        return Strip([*gutter, Segment(text, style)]).crop_extend(0, width, base)
    prefix = PREFIXES[rows.prefix[row]]
    prefix_style = base + gutter_style if rows.prefix[row] == P_CONT else style
    gutter.append(Segment(prefix, prefix_style))
    room = max(0, room - len(prefix))
    # Cut by characters first (a character is at least one cell, but for combining
    # marks) so the cell-exact crop below only ever sees about one screen width.
    ascii_text = text.isascii()
    more = (len(text) if ascii_text else cell_len(text)) > scroll_x + room
    if more:
        room -= 1  # the last cell shows that the line goes on (Enter shows it whole)
    visible_text = text[scroll_x : scroll_x + room + 1] if ascii_text else None
    if visible_text is not None:
        body = Strip([Segment(visible_text, style)]).crop_extend(0, room, base)
    else:
        body = Strip([Segment(text[: scroll_x + 2 * room + 2], style)])
        body = body.crop_extend(scroll_x, scroll_x + room, base)
    tail = [Segment(CONTINUED, base + gutter_style)] if more else []
    return Strip([*gutter, *body, *tail]).crop_extend(0, width, base)
