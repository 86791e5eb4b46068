"""Asked when verbatim text lacks <CRLF>.<CRLF>: add the standard end, send as is, or go back.

Without that end the message stays open after sending: the server waits for more and owes no
reply. That is what a line-ending test wants, and what a verbatim box ticked by accident does
not: so the editor asks, and going back is the answer Enter gives.
"""

from __future__ import annotations

import enum
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from smtpscope.protocol.data import END_OF_DATA_VARIANTS, end_variant
from smtpscope.sanitize import visible
from smtpscope.tui.completion import end_of_data_label, escaped_bytes


class OpenEnd(enum.Enum):
    """The answer: append the missing part of the standard end, or send the bytes as they are."""

    ADD_END = "add-end"
    AS_IS = "as-is"


class OpenEndDialog(ModalScreen[OpenEnd | None]):
    """Dismisses with an :class:`OpenEnd`, or None to go back to editing."""

    DEFAULT_CSS = """
    OpenEndDialog { align: center middle; }
    #open-end-dialog { width: 80%; max-width: 96; height: auto; padding: 0 1;
                       border: thick $warning; background: $surface; }
    #open-end-title { text-style: bold; color: $warning; }
    #open-end-buttons { height: 3; align-horizontal: right; }
    #open-end-buttons Button { margin-left: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back to editing", id="open_end.back"),
    ]

    def __init__(self, tail: bytes, missing: bytes) -> None:
        super().__init__()
        self._answered = False
        #: The last bytes of the message as it would go (the end the server would see).
        self.tail = tail
        #: What "add the end" appends.
        self.missing = missing

    def compose(self) -> ComposeResult:
        variant = end_variant(self.tail)
        ends = (f"It ends with {end_of_data_label(variant, END_OF_DATA_VARIANTS[variant])}: "
                "an end of data only a server that wrongly accepts it takes (SMTP smuggling)."
                if variant else
                f"It ends with \"{escaped_bytes(self.tail)}\".")
        with Vertical(id="open-end-dialog"):
            yield Label(Text("The verbatim text does not end with <CRLF>.<CRLF>"),
                        id="open-end-title")
            yield Static(Text(visible(
                f"{ends} Sent as is, the message stays open: the server waits for more and "
                "owes no reply; the composer then sends each line as more of the message "
                "('.' alone ends it), and a reply that comes anyway is marked as the server "
                "taking another end of data.", keep_backslashes=True)), id="open-end-text")
            yield Static(Text(visible(f"Enter or Esc: back to editing · Tab, Enter: add "
                                      f"\"{escaped_bytes(self.missing)}\" and send, or send "
                                      "as is", keep_backslashes=True)), id="open-end-keys")
            with Horizontal(id="open-end-buttons"):
                # Back first and focused: Enter is the answer that sends nothing.
                yield Button("Back to editing", id="open-end-back")
                yield Button(f"Add {escaped_bytes(self.missing)} and send", id="open-end-add",
                             variant="primary")
                yield Button("Send as is (stays open)", id="open-end-as-is",
                             variant="warning")

    def on_mount(self) -> None:
        self.query_one("#open-end-back", Button).focus()

    @on(Button.Pressed, "#open-end-back")
    def action_back(self) -> None:
        self._answer(None)

    @on(Button.Pressed, "#open-end-add")
    def _add(self) -> None:
        self._answer(OpenEnd.ADD_END)

    @on(Button.Pressed, "#open-end-as-is")
    def _as_is(self) -> None:
        self._answer(OpenEnd.AS_IS)

    def _answer(self, answer: OpenEnd | None) -> None:
        # Once: a second dismiss (Enter pressed twice) would pop the editor below as well.
        if not self._answered:
            self._answered = True
            self.dismiss(answer)
