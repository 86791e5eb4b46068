"""The transcript pane's cursor: which line is picked, the keys and clicks that move it, folding."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from textual.actions import SkipAction

from smtpscope.tui.widgets.transcript_rows import WRAP_LOOKS

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual import events
    from textual.app import App
    from textual.geometry import Offset, Region
    from textual.message import Message

    from smtpscope.record.transcript import Entry
    from smtpscope.tui.widgets.transcript_rows import TranscriptRows
    from smtpscope.tui.widgets.transcript_wrap import WrapMap


class TranscriptCursor:
    """Mixin for the transcript view, which provides the rows, their wrapping and follow mode."""

    _cursor = -1  # the highlighted row, -1 for none
    _selected_ordinal = -1  # the entry that row belongs to, as last announced
    _pinned = False  # a line was selected on purpose: stay on it

    if TYPE_CHECKING:  # provided by the view
        app: App[Any]
        follow: bool
        scroll_offset: Offset
        scrollable_content_region: Region
        _rows: TranscriptRows
        _wrap: WrapMap
        EntrySelected: Callable[[Any, Entry | None, int], Message]

        @property
        def marker_text(self) -> str: ...
        def _entry(self, ordinal: int) -> Entry | None: ...
        def _gutter_width(self) -> int: ...
        def _layout_changed(self) -> None: ...
        def _start_following(self) -> None: ...
        def _follow_end(self) -> None: ...
        def resume_follow(self) -> None: ...
        def post_message(self, message: Message) -> bool: ...
        def refresh(self, *args: Any, **kwargs: Any) -> Any: ...
        def refresh_bindings(self) -> None: ...
        def scroll_to(self, *args: Any, **kwargs: Any) -> Any: ...

    @property
    def cursor_row(self) -> int:
        """The highlighted row, or -1 when nothing is selected."""
        return self._cursor

    @property
    def selected_entry(self) -> Entry | None:
        """The entry of the highlighted row."""
        return None if self._cursor < 0 else self._entry(self._rows.owner[self._cursor])

    def select_row(self, row: int) -> None:
        """Highlight a row (clamped), scroll it into view and announce a new entry."""
        count = len(self._rows)
        row = -1 if count == 0 else max(-1, min(row, count - 1))
        if (row < 0) != (self._cursor < 0):
            self.refresh_bindings()  # Escape unselects, or goes on to the screen (check_action)
        self._cursor = row
        if row >= 0:
            top = round(self.scroll_offset.y)
            height = self.scrollable_content_region.height
            first = self._wrap.display_of(row)
            last = first + self._wrap.height_of(row) - 1
            if first < top:
                self.scroll_to(y=first, animate=False, immediate=True)
            elif height and last >= top + height:
                self.scroll_to(y=last - height + 1, animate=False, immediate=True)
        ordinal = -1 if row < 0 else self._rows.owner[row]
        if ordinal != self._selected_ordinal:
            self._selected_ordinal = ordinal
            entry = None if ordinal < 0 else self._entry(ordinal)
            self.post_message(self.EntrySelected(self, entry, row))
        self.refresh()

    def toggle_fold(self, row: int | None = None) -> bool:
        """Expand or fold the long body at ``row`` (default: the cursor); False if none."""
        row = self._cursor if row is None else row
        if not 0 <= row < len(self._rows):
            return False
        ordinal = self._rows.owner[row]
        if not self._rows.toggle_fold(ordinal):
            return False
        self._cursor = min(self._cursor, len(self._rows) - 1)
        self._wrap.reset(self._wrap.room)  # rows moved: wrap them again
        self._layout_changed()
        return True

    def _pin(self) -> None:
        """The user picked a line: stop following so it stays where they put it."""
        self._pinned = True
        self.follow = False

    def action_cursor_up(self) -> None:
        self._pin()
        if self._cursor < 0:
            bottom = round(self.scroll_offset.y) + self.scrollable_content_region.height - 1
            bottom = min(bottom, self._wrap.display_count(len(self._rows)) - 1)
            self.select_row(self._wrap.locate(bottom)[0] if bottom >= 0 else -1)
        else:
            self.select_row(max(0, self._cursor - 1))

    def action_cursor_down(self) -> None:
        self._pin()
        if self._cursor < 0:
            self.select_row(self._wrap.locate(round(self.scroll_offset.y))[0])
        else:
            self.select_row(self._cursor + 1)

    def action_cursor_page_up(self) -> None:
        height = max(1, self.scrollable_content_region.height)
        if self._cursor < 0:
            self.scroll_to(y=self.scroll_offset.y - height, animate=False, immediate=True)
        else:
            self._pin()
            self.select_row(max(0, self._cursor - height))

    def action_cursor_page_down(self) -> None:
        height = max(1, self.scrollable_content_region.height)
        if self._cursor < 0:
            self.scroll_to(y=self.scroll_offset.y + height, animate=False, immediate=True)
        else:
            self._pin()
            self.select_row(self._cursor + height)

    def action_cursor_first(self) -> None:
        self._pin()
        self.select_row(0)

    def action_cursor_last(self) -> None:
        """End: the last line, and follow new output again."""
        self._pinned = False
        self.select_row(len(self._rows) - 1)
        self._start_following()
        self._follow_end()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_selection":
            # Nothing selected: Escape is not ours, so the footer shows what it does on the
            # screen (the replay's Close) and the key goes on to it.
            return self._cursor >= 0
        return True

    def action_clear_selection(self) -> None:
        if self.cursor_row < 0:
            raise SkipAction()  # nothing selected: let Escape close the screen instead
        self._pinned = False
        self.select_row(-1)

    def action_toggle_fold(self) -> None:
        """Enter: fold or expand a long body, or show a line too wide for the pane whole."""
        if self.toggle_fold():
            return
        entry = self.selected_entry
        if entry is None or self._cursor < 0:
            return
        room = self.scrollable_content_region.width - self._gutter_width() - 1
        text = self._rows.text[self._cursor]
        if self._rows.look[self._cursor] in WRAP_LOOKS or cell_len(text) <= room:
            return
        from smtpscope.tui.screens.line_viewer import LineViewer

        self.app.push_screen(LineViewer(entry))

    def on_click(self, event: events.Click) -> None:
        # self is the TranscriptView this class is mixed into: a Widget at run time.
        offset = event.get_content_offset(self)  # type: ignore[arg-type]
        if offset is not None:
            if self.marker_text and offset.y == self.scrollable_content_region.height - 1:
                self.resume_follow()  # a click on the "new lines" marker
                return
            self._pin()
            self.select_row(self._wrap.locate(round(self.scroll_offset.y) + offset.y)[0])
