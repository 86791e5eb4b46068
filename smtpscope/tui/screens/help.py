"""F1 help: a modal showing the help entry of the focused widget."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown, Static

from smtpscope.sanitize import visible
from smtpscope.tui.help import help_for


class HelpScreen(ModalScreen[None]):
    """Shows help text; any of Escape, F1 or q closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,q", "dismiss", "Close", id="help.close"),
    ]

    def __init__(self, widget_id: str | None, about: str = "") -> None:
        super().__init__()
        self._about = about  # the status bar uncut, which a long target overflows
        from smtpscope.tui.keymap import load_keymap
        from smtpscope.tui.keymap_ids import keys_markdown

        self._text = help_for(widget_id) + "\n" + keys_markdown(load_keymap()[0])

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="help-box"):
            if self._about:
                # Plain text, never markup; escaped already (backslashes kept, not doubled).
                yield Static(Text(visible(self._about, keep_backslashes=True)), id="help-about")
            yield Markdown(self._text)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
