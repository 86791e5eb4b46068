"""Status bar: target, peer, TLS state, session state and elapsed time."""

from __future__ import annotations

import time

from rich.cells import cell_len, get_character_cell_size
from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from smtpscope.sanitize import visible

# The target keeps at least this many cells before the facts after it are cut instead.
TARGET_MIN_CELLS = 16


def _fit(text: str, cells: int) -> int:
    """How many characters of ``text`` fit in ``cells`` cells."""
    used = 0
    for count, char in enumerate(text):
        used += get_character_cell_size(char)
        if used > cells:
            return count
    return len(text)


def cut_middle(text: str, cells: int) -> str:
    """``text`` in at most ``cells`` cells, its middle replaced by "…": both ends say the most
    (a scheme and a port, a socket's directory and its name)."""
    if cell_len(text) <= cells:
        return text
    if cells < 3:
        return "…" if cells else ""
    head = _fit(text, (cells - 1) - (cells - 1) // 2)
    tail = _fit(text[::-1], (cells - 1) // 2)
    return f"{text[:head]}…{text[len(text) - tail:]}"


def tls_label(version: str, *, insecure: bool, trust: str | None,
              verified: bool) -> tuple[str, bool]:
    """What the bar says of a TLS connection, and whether that is good (green): the same for
    a live session and for its replay, which reads these fields from the recording."""
    if insecure:
        return f"{version} INSECURE (not verified)", False
    if trust in ("verified", "dane", "fingerprint"):
        return f"{version} {trust}", True
    if trust in ("trusted", "untrusted"):
        return f"{version} UNTRUSTED{' (chain only)' if trust == 'trusted' else ''}", False
    return (f"{version} verified", True) if verified else (f"{version} unverified", False)


class StatusBar(Static):
    """One line of facts about the session, never wrapped: a long target is cut in the middle
    (F1 shows it whole, as :attr:`full_text`); set by the screen."""

    DEFAULT_CSS = """
    StatusBar {
        height: 1; background: $panel; padding: 0 1;
        text-wrap: nowrap; text-overflow: ellipsis;
    }
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

    def _where(self) -> tuple[str, str]:
        """The target, and the address connected when it says more ("" when not)."""
        peer = "" if not self.peer or self.target.endswith(self.peer) else visible(self.peer)
        return visible(self.target) or "no target", peer

    @property
    def full_text(self) -> str:
        """Everything the bar says, uncut."""
        target, peer = self._where()
        return target + (f" → {peer}" if peer else "") + self._facts().plain

    def _facts(self) -> Text:
        """Everything after the target: TLS, state, authentication, elapsed time."""
        text = Text()
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

    def render(self) -> Text:
        facts = self._facts()
        room = max(TARGET_MIN_CELLS, self.content_size.width - facts.cell_len)
        target, peer = self._where()
        arrow = " → " if peer else ""
        if cell_len(target + arrow + peer) > room:
            peer = cut_middle(peer, (room - len(arrow)) // 2)
            target = cut_middle(target, room - len(arrow) - cell_len(peer))
        text = Text()
        text.append(target, style="bold")
        text.append(arrow + peer, style="dim")
        return text + facts
