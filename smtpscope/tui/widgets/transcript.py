"""The transcript pane: a line-virtualised view of transcript entries (C:/S:, notes, TLS)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive, var
from textual.scroll_view import ScrollView
from textual.strip import Strip

from smtpscope.record.transcript import Entry
from smtpscope.tui.collector import GrowthFreezer
from smtpscope.tui.widgets.leftovers import Leftovers
from smtpscope.tui.widgets.transcript_css import PALETTE_CLASSES, TRANSCRIPT_CSS
from smtpscope.tui.widgets.transcript_cursor import TranscriptCursor
from smtpscope.tui.widgets.transcript_render import render_row
from smtpscope.tui.widgets.transcript_rows import (
    FOLD_AFTER,
    FOLD_KEEP,
    LATENCY_WIDTH,
    PREFIX_WIDTH,
    TIMESTAMP_WIDTH,
    Explainer,
    Look,
    TranscriptRows,
)
from smtpscope.tui.widgets.transcript_wrap import WrapMap

# Rendered strips kept for reuse; a screenful is a few dozen, so this covers several pages.
_STRIP_CACHE_SIZE = 1024
# Seconds between two slices of freeing what a cut left over (see leftovers.py).
_FREE_EVERY = 0.01


class TranscriptView(TranscriptCursor, ScrollView, can_focus=True):
    """Transcript entries as one row per protocol line; only the rows on screen are rendered.

    Attributes go down (:meth:`add_entry`, :attr:`explain`, the reactives); messages go up
    (:class:`EntrySelected`). Without ``lookup`` the view keeps a reference to each entry
    (cheap when a :class:`~smtpscope.record.transcript.Transcript` owns them anyway); with
    ``lookup`` (sequence number -> Entry) it keeps none, and a million lines cost it only their
    display text and a few bytes each.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = set(PALETTE_CLASSES)

    DEFAULT_CSS = TRANSCRIPT_CSS

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Previous line", show=False, id="transcript.cursor_up"),
        Binding("down", "cursor_down", "Next line", show=False, id="transcript.cursor_down"),
        Binding("pageup", "cursor_page_up", "Page up", show=False, id="transcript.page_up"),
        Binding(
            "pagedown", "cursor_page_down", "Page down", show=False, id="transcript.page_down"
        ),
        Binding("home", "cursor_first", "First line", show=False, id="transcript.first"),
        Binding("end", "cursor_last", "Last line (follow)", show=False, id="transcript.last"),
        Binding("enter", "toggle_fold", "Expand/fold", id="transcript.toggle_fold"),
        Binding("escape", "clear_selection", "Unselect", show=False, id="transcript.unselect"),
        Binding("t", "toggle_timestamps", "Timestamps", id="transcript.toggle_timestamps"),
        Binding("l", "toggle_latency", "Latency", id="transcript.toggle_latency"),
    ]

    show_timestamps: reactive[bool] = reactive(False)
    """Show each entry's local wall-clock time (HH:MM:SS.mmm) in front of it."""

    show_latency: reactive[bool] = reactive(False)
    """Show each reply's latency (time since the command it answers)."""

    follow: var[bool] = var(True)
    """Keep the newest line in view; off while the user has scrolled up or picked a line."""

    unseen: reactive[int] = reactive(0)
    """Rows added while not following; shown as a "N new lines (End)" marker."""

    class EntrySelected(Message):
        """The highlighted row now belongs to another entry (or to none)."""

        def __init__(self, view: TranscriptView, entry: Entry | None, row: int) -> None:
            super().__init__()
            self.view = view
            self.entry = entry
            self.row = row

        @property
        def control(self) -> TranscriptView:
            """The view that sent the message."""
            return self.view

        def can_replace(self, message: Message) -> bool:
            # Holding an arrow key must not queue one explanation per row passed.
            return isinstance(message, TranscriptView.EntrySelected) and message.view is self.view

    def __init__(
        self,
        *,
        explain: Explainer | None = None,
        lookup: Callable[[int], Entry | None] | None = None,
        fold_after: int = FOLD_AFTER,
        fold_keep: int = FOLD_KEEP,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.explain: Explainer | None = explain
        """Text explaining a reply (catalogue); called for 4xx/5xx replies as they arrive."""
        self.lookup = lookup
        """Entry by sequence number; when None the view keeps the entries it is given."""
        self._rows = TranscriptRows(fold_after, fold_keep)
        self._wrap = WrapMap()
        self._entries: list[Entry] | None = [] if lookup is None else None
        self._cache: LRUCache[tuple[int, int, int, bool], Strip] = LRUCache(_STRIP_CACHE_SIZE)
        self._styles: list[Style] | None = None
        self._pending = False
        self._shown_rows = 0  # rows published by the last sync
        self._auto_scroll = False  # scrolling done by follow mode, not by the user
        self._leftovers = Leftovers()  # rows and entries cut off, freed a slice at a time
        self._freeing = False
        self._freezer = GrowthFreezer()  # keeps the collector's full passes short

    # -- adding ------------------------------------------------------------------------------

    def add_entry(self, entry: Entry) -> None:
        """Append one entry; the screen is updated once per batch of calls, not per call."""
        if not self._pending:
            self._pending = True
            if self.is_mounted:
                self.call_later(self._sync)
        if self._entries is not None:
            self._entries.append(entry)
        self._rows.add(entry, self.explain)

    @property
    def entries(self) -> tuple[Entry, ...] | None:
        """Every entry shown, oldest first (None when the view keeps none: ``lookup``)."""
        return None if self._entries is None else tuple(self._entries)

    def add_entries(self, entries: Iterable[Entry]) -> None:
        """Append many entries and update the screen once. ``entries`` is read one at a time
        as each is laid out, so a generator that watches the clock (replay's slices) counts
        the layout's time too."""
        if self._entries is not None:
            entries = _kept(entries, self._entries.append)
        self._rows.add_many(entries, self.explain)
        self._pending = True
        if self.is_mounted:
            self._sync()

    def clear(self) -> None:
        """Remove every row and the selection."""
        self._leftovers.keep(self._rows.text)
        self._rows.clear()
        self._wrap.reset(self._wrap.room)
        if self._entries is not None:
            self._leftovers.keep(self._entries)
            self._entries = []
        self._free_leftovers_later()
        self._cursor = -1
        self._selected_ordinal = -1
        self._cache.clear()
        self._shown_rows = 0
        self._pinned = False
        self.follow = True
        self.unseen = 0
        self._pending = True
        if self.is_mounted:
            self._sync()

    def truncate(self, entries: int) -> None:
        """Keep the first ``entries`` entries (replay stepping back): rows after them go."""
        if entries >= self._rows.entry_count:
            return
        self._rows.truncate(entries, self._leftovers)
        self._wrap.truncate(self._rows)
        if self._entries is not None:
            self._entries = self._leftovers.cut(self._entries, entries)
        self._free_leftovers_later()
        self._cache.clear()
        if self._cursor >= len(self._rows):  # the selected row is gone: nothing selected
            self._cursor = -1
            if self._selected_ordinal != -1:
                self._selected_ordinal = -1
                self.post_message(self.EntrySelected(self, None, -1))
        self._pending = True
        if self.is_mounted:
            self._sync()

    def _free_leftovers_later(self) -> None:
        """Free what a cut left over a slice per timer tick, starting after the next paint."""
        if not self.is_mounted:  # no timers yet (or any more): free it now
            while self._leftovers.free_some():
                pass
        elif self._leftovers and not self._freeing:
            self._freeing = True
            self.set_timer(_FREE_EVERY, self._free_leftovers)

    def _free_leftovers(self) -> None:
        if self._leftovers.free_some():
            self.set_timer(_FREE_EVERY, self._free_leftovers)
        else:
            self._freeing = False

    def _sync(self) -> None:
        """Publish rows added since the last sync: size, follow (or count unseen), repaint."""
        if not self._pending:
            return
        self._pending = False
        self._freezer.count(self._rows.entry_count)
        added = max(0, len(self._rows) - self._shown_rows)
        self._shown_rows = len(self._rows)
        self._update_virtual_size()
        if self.follow and not self.is_vertical_scrollbar_grabbed:
            self._follow_end()
        elif added:
            self.unseen += added
        self.refresh()

    def _follow_end(self) -> None:
        """Scroll to the newest line, now and once more after layout.

        A horizontal scrollbar that appears with a batch shortens the viewport only after
        layout: scroll again then, or the newest line hides behind it.
        """
        self._auto_scroll = True
        try:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        finally:
            self._auto_scroll = False
        self.call_after_refresh(self._settle_at_end)

    def _settle_at_end(self) -> None:
        if self.follow:
            self._auto_scroll = True
            try:
                self.scroll_end(animate=False, immediate=True, x_axis=False)
            finally:
                self._auto_scroll = False

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self._auto_scroll or not self.is_mounted:
            return
        if new_value >= self.max_scroll_y:
            if not self._pinned:
                self._start_following()
        elif new_value < old_value:
            self.follow = False  # the user scrolled up to read: leave them there

    def _start_following(self) -> None:
        self.follow = True
        self.unseen = 0

    def resume_follow(self) -> None:
        """Drop the selection and follow the newest line again (End, or back to the composer)."""
        self._pinned = False
        if self._cursor >= 0:
            self.select_row(-1)
        self._start_following()
        if self.is_mounted:
            self._follow_end()
        self.refresh()

    def on_resize(self) -> None:
        self._update_virtual_size()
        if self.follow:
            self.call_after_refresh(self._settle_at_end)

    def watch_unseen(self) -> None:
        self.refresh()

    @property
    def marker_text(self) -> str:
        """The "N new lines (End)" marker, or "" while following."""
        if self.follow or not self.unseen:
            return ""
        return f"↓ {self.unseen:,} new line{'s' if self.unseen != 1 else ''} (End)"

    def _wrap_room(self) -> int:
        """Cells for the text of a wrapped row (one column kept for the edge)."""
        return max(8, self.scrollable_content_region.width - self._gutter_width() - 1)

    def _fit_wrap(self) -> bool:
        """Wrap rows for the pane's width now; True when the width changed and all rewrapped."""
        room = self._wrap_room() if self.is_mounted else self._wrap.room
        changed = room != self._wrap.room
        if changed:
            self._wrap.reset(room)
            self._cache.clear()
        self._wrap.extend(self._rows)
        return changed

    def _update_virtual_size(self) -> None:
        if self._fit_wrap():
            self.refresh()  # lines painted before the width changed were split for the old one
        height = self._wrap.display_count(len(self._rows))
        self.virtual_size = Size(self._gutter_width() + self._rows.max_cells, height)

    def on_mount(self) -> None:
        self._sync()

    def on_unmount(self) -> None:
        self._freezer.release()

    # -- reading -----------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        """Number of display rows (lines) in the pane."""
        return len(self._rows)

    @property
    def entry_count(self) -> int:
        """Number of entries added."""
        return self._rows.entry_count

    def _entry(self, ordinal: int) -> Entry | None:
        if self._entries is not None:
            return self._entries[ordinal]
        return None if self.lookup is None else self.lookup(self._rows.seq[ordinal])

    def to_text(self) -> str:
        """Everything in the pane as plain text, as shown (timestamps and latency if on)."""
        rows = self._rows
        ts, lat = self.show_timestamps, self.show_latency
        lines = [rows.plain_line(i, ts, lat) for i in range(len(rows))]
        return "\n".join(lines) + ("\n" if lines else "")

    # -- display options ---------------------------------------------------------------------

    def action_toggle_timestamps(self) -> None:
        self.show_timestamps = not self.show_timestamps

    def action_toggle_latency(self) -> None:
        self.show_latency = not self.show_latency

    def watch_show_timestamps(self) -> None:
        self.set_class(self.show_timestamps, "-timestamps")
        self._layout_changed()

    def watch_show_latency(self) -> None:
        self.set_class(self.show_latency, "-latency")
        self._layout_changed()

    def _layout_changed(self) -> None:
        self._cache.clear()
        self._update_virtual_size()
        self.refresh()

    # -- rendering ---------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None
        self._cache.clear()

    def _gutter_width(self) -> int:
        return (
            PREFIX_WIDTH
            + (TIMESTAMP_WIDTH if self.show_timestamps else 0)
            + (LATENCY_WIDTH if self.show_latency else 0)
        )

    def _palette(self) -> list[Style]:
        """Rich styles by Look, plus gutter, timestamp, latency and cursor at the end."""
        if self._styles is None:
            self._styles = [self.get_component_rich_style(n) for n in PALETTE_CLASSES]
        return self._styles

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        display_row = scroll_y + y
        width = self.scrollable_content_region.width
        marker = self.marker_text
        if marker and y == self.scrollable_content_region.height - 1:
            style = self.rich_style + self._palette()[Look.FOLD] + Style(reverse=True)
            return Strip([Segment(f" {marker} ", style)]).crop_extend(0, width, self.rich_style)
        if self._wrap.room != self._wrap_room():
            # A new width is painted before on_resize runs: split rows for the width painted,
            # or a line cut for the old width shows clipped and the next repeats its end.
            self._fit_wrap()
            self.call_later(self._update_virtual_size)
        else:
            # Rows added since the last publication are split before they are painted: a
            # strip cached unsplit would stay cut at the edge, with the next row shown twice.
            self._wrap.extend(self._rows)
        if not 0 <= display_row < self._wrap.display_count(len(self._rows)):
            # Not cached: rows past the end appear as entries arrive.
            return Strip.blank(width, self.rich_style)
        row, line = self._wrap.locate(display_row)
        key = (display_row, scroll_x, width, row == self._cursor)
        strip = self._cache.get(key)
        if strip is None:
            strip = self._render_row(row, line, scroll_x, width, row == self._cursor)
            self._cache[key] = strip
        return strip

    def _render_row(self, row: int, line: int, scroll_x: int, width: int, cursor: bool) -> Strip:
        """Build one row's strip; its cost depends on the width, never on the line length."""
        return render_row(
            self._rows, self._wrap, row, line, scroll_x, width, cursor,
            base=self.rich_style, palette=self._palette(),
            timestamps=self.show_timestamps, latency=self.show_latency,
        )


def _kept(entries: Iterable[Entry], keep: Callable[[Entry], None]) -> Iterator[Entry]:
    """``entries``, each handed to ``keep`` as it is taken."""
    for entry in entries:
        keep(entry)
        yield entry
