"""The composer's help with hand-typed AUTH answers: one key to base64-encode, a check of each
blob for the classic mistakes before it is sent, and the line masked while it answers a 334."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding

from smtpscope.auth.mistakes import check_blob, encode_answer
from smtpscope.protocol import State

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.widgets import Input

    from smtpscope.conversation.send_queue import SendQueue
    from smtpscope.protocol import Command, Connection

AUTH_ASSIST_BINDING = Binding("ctrl+g", "auth_assist", "Base64", show=False,
                              id="composer.auth_assist")
AUTH_REVEAL_BINDING = Binding("ctrl+l", "reveal_answer", "Reveal", id="composer.reveal")
ENCODE_HINT = "Ctrl+G base64-encodes the line (type \\0 for NUL) · Ctrl+L shows or hides it"


class AuthAssist:
    """Mixin for the composer: ``auth_mechanism`` is set by the screen during AUTH."""

    auth_mechanism: str | None = None
    _offer: str | None = None  # the corrected blob offered for the held line
    # The user asked to see the answer in clear; forgotten when the exchange ends, so the next
    # one starts masked again.
    _revealed = False
    _answering = False  # as the footer last showed it

    if TYPE_CHECKING:  # provided by the composer
        queue: SendQueue | None
        engine: Callable[[], Connection | None]
        in_auth: bool
        data_mode: bool
        is_mounted: bool
        _held: str | None

        @property
        def input(self) -> Input: ...

        def _show(self, text: str, level: str = "") -> None: ...
        def _queued_state(self) -> State | None: ...
        def _update_hint(self) -> None: ...
        def refresh_bindings(self) -> None: ...
        def refresh_placeholder(self) -> None: ...

    def answering(self) -> bool:
        """True when the line typed is an answer to a 334 (the state it will meet is AUTH, or
        it follows an AUTH still waiting for its 334): it may be a password."""
        if self.data_mode:
            return False
        if self.in_auth or self._queued_state() is State.AUTH:
            return True
        conn = self.engine()
        return self.queue is not None and conn is not None and self.queue.awaits_challenge(conn)

    def update_mask(self) -> None:
        """Mask the input line while it answers a 334, unless the user revealed it."""
        if not self.is_mounted:
            return
        answering = self.answering()
        if answering != self._answering:
            self._answering = answering
            self.refresh_bindings()  # the reveal key shows in the footer only while it acts
            self.refresh_placeholder()
        self._revealed = self._revealed and answering
        self.input.password = answering and not self._revealed

    def action_reveal_answer(self) -> None:
        """Show the answer being typed in clear (on screen only), or mask it again."""
        if self.answering():
            self._revealed = not self._revealed
            self.update_mask()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "reveal_answer":
            return self.answering()
        return super().check_action(action, parameters)  # type: ignore[misc, no-any-return]

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
        elif self.answering() and value.strip() not in ("", "*"):
            new = encode_answer(value.strip())
        else:
            return
        self._offer = None
        self._held = None
        self.input.value = new
        self.input.cursor_position = len(new)
