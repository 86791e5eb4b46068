"""The composer's typed-ahead parts: its input line, how a paste splits, how the queue looks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType

from smtpscope.auth import HIDDEN
from smtpscope.protocol import Auth
from smtpscope.sanitize import visible
from smtpscope.tui.keys import OrderedInput

if TYPE_CHECKING:
    from smtpscope.conversation.send_queue import QueuedLine
    from smtpscope.tui.widgets.composer import Composer

# The head is what goes next (or what blocks the rest): show the queue from there. One row
# each (the view does not wrap), so the title, SHOWN lines and "… N more" fill the composer's
# 8-row queue box exactly: nothing queued is ever hidden without being counted.
SHOWN = 6
# Keys closer together than this come from a paste (or a macro), not from fingers: people
# type at most about 15 keys a second even in bursts. Times are when the terminal's bytes
# were read, so a busy UI does not make typing look like pasting.
PASTE_GAP = 0.03


class ComposerInput(OrderedInput):
    """The composer's line: Enter hands the line to the composer at once, in key order.

    The line is taken (and the input cleared) inside the Enter key's own turn, so a key typed
    right after Enter starts the next line instead of joining this one. A paste of several
    lines goes to the composer whole, to become one line each.
    """

    # A terminal without bracketed paste may deliver a pasted line break as LF (Ctrl+J).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+j", "submit", "Submit", show=False),
    ]

    def __init__(self, composer: Composer, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._composer = composer
        self._last_key = 0.0  # when the key before the current one was read
        self._key_gap = 1.0  # seconds between the current key and the one before

    async def _on_key(self, event: events.Key) -> None:
        # Textual calls every class's _on_key in turn (the ordering guard's comes next), so
        # this one only notes the time and must not call super().
        self._key_gap, self._last_key = event.time - self._last_key, event.time

    async def action_submit(self) -> None:
        self._composer.submit(self.value, pasted=self._key_gap < PASTE_GAP)

    def _on_paste(self, event: events.Paste) -> None:
        if "\n" in event.text or "\r" in event.text:
            event.stop()
            event.prevent_default()  # Input would keep only the first line
            self._composer.paste(event.text)


def split_paste(text: str) -> tuple[list[str], str]:
    """The complete lines of a paste (any line ending) and what follows the last break."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    tail = lines.pop()
    return lines, tail


def raw_paste(text: str) -> str:
    """A paste in raw mode: its line breaks as visible ``\\r\\n`` escapes, one send."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\r\\n")


def _masked(item: QueuedLine) -> str:
    """A queued line that carries credentials, as the queue shows it: its AUTH verb and
    mechanism (typed values) at most, never the text."""
    if isinstance(item.command, Auth):
        return f"AUTH {visible(item.command.mechanism)} {HIDDEN}"
    return f"{HIDDEN} (answer to the 334, hidden)"


def render_queue(items: Sequence[QueuedLine], keys: str, *, connected: bool = True) -> Text:
    """The queue above the composer, one row a line: ⏳ waiting, ⛔ blocked with the reason (cut
    to the row; the composer's hint line gives the head's reason whole)."""
    text = Text(f"queued ({len(items)})")
    if not connected:  # before the keys: a cut title must still say why nothing goes
        text.append(" · not connected: they go after F5 reconnects", style="bold")
    text.append(f" · {keys}")
    for item in items[:SHOWN]:
        shown = _masked(item) if item.secret else (visible(item.text) or "(empty line)")
        text.append("\n")
        if item.blocked is None:
            text.append(f"  ⏳ {shown}")
        else:
            text.append(f"  ⛔ {shown}", style="bold")
            text.append(f" — {visible(item.blocked)}")
    if len(items) > SHOWN:
        text.append(f"\n  … {len(items) - SHOWN} more")
    return text
