"""Status bar: target, peer, TLS state, session state and elapsed time."""

from __future__ import annotations

import time

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from smtpscope.sanitize import visible


class StatusBar(Static):
    """One line of facts about the session (wrapping, never cut); set by the screen."""

    DEFAULT_CSS = """
    StatusBar { height: auto; max-height: 3; background: $panel; padding: 0 1; }
    """

    target: reactive[str] = reactive("", layout=True)
    """What the user asked to connect to."""
    peer: reactive[str] = reactive("", layout=True)
    """The address actually connected, ``ip:port``."""
    tls: reactive[str] = reactive("plain", layout=True)
    """TLS state: plain, a version/cipher, or a loud "insecure"."""
    tls_ok: reactive[bool] = reactive(True)
    """False when TLS is off or unverified, to colour it."""
    state: reactive[str] = reactive("disconnected", layout=True)
    """The engine's session state."""
    auth: reactive[str | None] = reactive(None, layout=True)
    """The mechanism a 235 accepted on this connection; None while not authenticated."""
    started: reactive[float | None] = reactive(None)
    """Monotonic start of the connection, for the elapsed time."""
    now: reactive[float] = reactive(0.0)
    """Ticked once a second by the screen."""

    def render(self) -> Text:
        text = Text()
        text.append(visible(self.target) or "no target", style="bold")
        if self.peer and not self.target.endswith(self.peer):
            text.append(f" → {visible(self.peer)}", style="dim")
        text.append("  │ ", style="dim")
        if self.tls == "plain":
            text.append("no TLS", style="dim")
        else:
            text.append(visible(self.tls), style="green" if self.tls_ok else "bold yellow")
        text.append("  │ ", style="dim")
        text.append(visible(self.state))
        if self.auth is not None:
            text.append(" · ", style="dim")
            text.append(f"authenticated ({visible(self.auth)})", style="green")
        if self.started is not None:
            elapsed = max(0.0, (self.now or time.monotonic()) - self.started)
            minutes, seconds = divmod(int(elapsed), 60)
            text.append("  │ ", style="dim")
            text.append(f"{minutes:02d}:{seconds:02d}")
        return text
