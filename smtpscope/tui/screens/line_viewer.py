"""A modal that shows one transcript entry whole, wrapped, for lines wider than the pane."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from smtpscope.record import Entry
from smtpscope.sanitize import visible

# A pathological line is shown up to this many characters; the recording keeps all of it.
MAX_SHOWN = 100_000


def whole_text(entry: Entry) -> Text:
    """The entry's text, every line made visible (controls escaped), never markup."""
    text = entry.shown_text
    cut = len(text) - MAX_SHOWN
    if cut > 0:
        text = text[:MAX_SHOWN]
    lines = [visible(line.rstrip("\r")) for line in text.rstrip("\r\n").split("\n")]
    shown = Text("\n".join(lines))
    if cut > 0:
        shown.append(f"\n… ({cut:,} more characters in the recording)", style="italic")
    return shown


class LineViewer(ModalScreen[None]):
    """One entry in full, wrapped at the dialog width; Escape, Enter or q closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter,q", "close", "Close", id="line_viewer.close"),
    ]

    def __init__(self, entry: Entry) -> None:
        super().__init__()
        self._entry = entry

    def compose(self) -> ComposeResult:
        direction = {"client": "sent", "server": "received"}.get(self._entry.direction, "note")
        with VerticalScroll(classes="dialog", id="line-viewer"):
            yield Static(Text(f"Whole line ({direction}, {len(self._entry.raw):,} bytes)"),
                         classes="dialog-title")
            yield Static(whole_text(self._entry), id="line-viewer-text")

    def action_close(self) -> None:
        self.dismiss(None)
