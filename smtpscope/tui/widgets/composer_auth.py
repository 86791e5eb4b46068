"""The composer's help with hand-typed AUTH answers: one key to base64-encode, and a check
of each blob for the classic mistakes before it is sent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding

from smtpscope.auth.mistakes import check_blob, encode_answer

if TYPE_CHECKING:
    from textual.widgets import Input

    from smtpscope.protocol import Command

AUTH_ASSIST_BINDING = Binding("ctrl+g", "auth_assist", "Base64", show=False,
                              id="composer.auth_assist")
ENCODE_HINT = "Ctrl+G base64-encodes the line (type \\0 for NUL)"


class AuthAssist:
    """Mixin for the composer: ``auth_mechanism`` is set by the screen during AUTH."""

    auth_mechanism: str | None = None
    _offer: str | None = None  # the corrected blob offered for the held line

    if TYPE_CHECKING:  # provided by the composer
        in_auth: bool
        _held: str | None

        @property
        def input(self) -> Input: ...

        def _show(self, text: str, level: str = "") -> None: ...

    def blob_warning(self, text: str) -> bool:
        """Hold a base64 answer that shows a classic mistake; True when it was held."""
        check = check_blob(text.strip(), self.auth_mechanism)
        if not check:
            self._offer = None
            return False
        self._held = text
        self._offer = check.corrected
        fix = " · Ctrl+G puts the corrected blob in the line" if check.corrected else ""
        self._show(f"⚠ {'; '.join(check.messages)}{fix} · Enter again sends it as typed",
                   "warning")
        return True

    def initial_response_warning(self, text: str, command: Command) -> bool:
        """``AUTH PLAIN <blob>``: the same check on the initial response; True when held."""
        words = text.split()
        if command.kind != "AUTH" or len(words) != 3 or words[2] == "=":
            return False
        check = check_blob(words[2], words[1])
        if not check:
            return False
        self._held = text
        self._offer = f"{words[0]} {words[1]} {check.corrected}" if check.corrected else None
        fix = " · Ctrl+G puts the corrected blob in the line" if check.corrected else ""
        self._show(f"⚠ {'; '.join(check.messages)}{fix} · Enter again sends it as typed",
                   "warning")
        return True

    def action_auth_assist(self) -> None:
        """Ctrl+G: take the offered correction, or base64-encode the plain text typed."""
        value = self.input.value
        if self._offer is not None and self._held == value:
            new = self._offer
        elif self.in_auth and value.strip() not in ("", "*"):
            new = encode_answer(value.strip())
        else:
            return
        self._offer = None
        self._held = None
        self.input.value = new
        self.input.cursor_position = len(new)
