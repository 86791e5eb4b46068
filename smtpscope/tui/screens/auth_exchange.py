"""The AUTH helper's exchange: propose each move of the stepper, send it, read the reply.

The screen reads the form and builds the mechanism; from there this part walks the exchange:
one step block per move, the line sent through ``Session.command`` with the move's mask, a
server-chosen SCRAM iteration count computed in a thread (F8 cancels with ``*``), the final reply.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import Enum, auto
from typing import TYPE_CHECKING, Any

from textual.containers import VerticalScroll
from textual.widgets import Button, Input

from smtpscope.auth import Mechanism, Step, b64, decode_blob
from smtpscope.conversation.auth import (
    AuthMove,
    AuthStepper,
    InitialResponse,
    note_move,
    note_outcome,
)
from smtpscope.protocol import AuthCancel, LocalProtocolError, Reply
from smtpscope.session import SessionError, Stage
from smtpscope.tui.sasl_compute import (
    OFF_THREAD_ITERATIONS,
    ComputeProgress,
    estimate_seconds,
    scram_iterations,
)
from smtpscope.tui.widgets.auth_values import AUTO_STEP_LIMIT, StepInfo, StepsPanel, StepView

if TYPE_CHECKING:
    from collections.abc import Callable

    from smtpscope.session import Session


class Phase(Enum):
    """Where the exchange stands; it decides which buttons and keys act (never shown as text)."""

    IDLE = auto()
    """No exchange yet (or the one before was cancelled while computing)."""
    WAITING = auto()
    """A proposal waits for the user to send, edit or cancel it."""
    SENDING = auto()
    """A line is on its way; the reply is awaited."""
    COMPUTING = auto()
    """A server-chosen SCRAM iteration count is being computed in a thread."""
    DONE = auto()
    """The exchange ended (final reply, or a line that could not be sent)."""

    @property
    def busy(self) -> bool:
        """An exchange is under way: Start must wait for it to end."""
        return self in (Phase.WAITING, Phase.SENDING, Phase.COMPUTING)


@dataclass
class _Proposal:
    """The client line waiting for the user (Step mode) or about to be sent (Auto mode)."""

    move: AuthMove
    view: StepView

    @property
    def initial(self) -> bool:
        return self.move.initial


class AuthExchange:
    """Mixin for the AUTH helper screen, which provides the session, the form and the buttons."""

    stepper: AuthStepper | None = None
    phase: Phase = Phase.IDLE
    auto = False  # Auto mode: send each proposal without waiting for the user
    final_reply: Reply | None = None
    _proposal: _Proposal | None = None
    _step_count = 0  # lines sent in this exchange
    _last_challenge = ""  # for the decoder (Ctrl+O)
    _computing: tuple[ComputeProgress, Reply] | None = None

    if TYPE_CHECKING:  # provided by the screen
        session: Session
        advertised: tuple[str, ...]
        reveal: bool
        on_done: Callable[[], None] | None

        def query_one(self, selector: Any, expect_type: Any = None) -> Any: ...
        def query(self, selector: Any = None) -> Any: ...
        def run_worker(self, *args: Any, **kwargs: Any) -> Any: ...
        def _set_buttons(self) -> None: ...
        def _mask_response_input(self) -> None: ...

    def _begin(self, mechanism: Mechanism, initial: InitialResponse, notes: list[str]) -> None:
        """A new exchange: clear the panel and propose (or, in Auto mode, send) the AUTH line."""
        self.query_one("#auth-steps", VerticalScroll).remove_children()
        self.final_reply = None
        self._step_count = 0
        # Typed lines and challenges are read strictly here: the user sees exactly what is wrong.
        self.stepper = AuthStepper(mechanism, initial=initial, policy=b64.Policy.STRICT)
        move = self.stepper.begin()
        name = self.stepper.name
        info = StepInfo(f"Step 1 · AUTH {name}", step=move.step, proposed=move.line,
                        proposed_prefix=f"AUTH {name} ", notes=[*notes, *move.notes])
        self._propose(move, info)

    def _step_title(self, what: str) -> str:
        return f"Step {len(self.query(StepView)) + 1} · {what}"

    def _show_step(self, info: StepInfo) -> StepView:
        view = StepView(info, reveal=self.reveal)
        self.query_one("#auth-steps", VerticalScroll).mount(view)
        self._follow_steps()
        return view

    def _follow_steps(self) -> None:
        """Scroll the panel to the newest step's last line, and keep it there as it grows."""
        self.query_one("#auth-steps", StepsPanel).follow()

    def _propose(self, move: AuthMove, info: StepInfo) -> None:
        view = self._show_step(info)
        self._proposal = _Proposal(move, view)
        if self.auto and self._step_count < AUTO_STEP_LIMIT:
            self._send(self._proposal, move.line)
            return
        if self.auto:
            self.auto = False
            info.notes.append(f"More than {AUTO_STEP_LIMIT} steps: Auto mode stopped; continue "
                              "step by step or cancel.")
            view.refresh_info()
        self.phase = Phase.WAITING
        response = self.query_one("#auth-response", Input)
        response.disabled = False
        response.value = move.line
        self._mask_response_input()
        self._set_buttons()
        response.focus()

    def send_proposal(self) -> None:
        """Send the (possibly edited) response line."""
        if self.phase is not Phase.WAITING or self._proposal is None:
            return
        self._send(self._proposal, self.query_one("#auth-response", Input).value.strip())

    def _send(self, proposal: _Proposal, line: str) -> None:
        self.phase = Phase.SENDING
        self._set_buttons()
        self.run_worker(self._exchange(proposal, line), group="auth", exclusive=True)

    async def _exchange(self, proposal: _Proposal, line: str) -> None:
        """Send one client line and handle the reply (which may propose the next line)."""
        session = self.session
        assert self.stepper is not None
        info = proposal.view.info
        move = self.stepper.edit(proposal.move, line)
        info.notes.extend(move.notes[len(proposal.move.notes):])
        if move is proposal.move:  # the mechanism's line, as `smtpscope send` would send it
            note_move(session, self.stepper.name, move)
        self._step_count += 1
        try:
            try:
                reply = await session.command(move.command, secret_mask=move.secret_mask,
                                              public=move.public)
            except LocalProtocolError as exc:
                if not (move.initial and self.stepper.name not in self.advertised):
                    raise
                info.notes.append(f"Sent anyway: {exc}.")
                reply = await session.command(move.command, force=True, public=move.public,
                                              secret_mask=move.secret_mask)
        except (SessionError, LocalProtocolError) as exc:
            # A session error with the command's own stage came while awaiting the reply: the
            # line went out (the transcript shows it) and the server hung up or went quiet.
            written = isinstance(exc, SessionError) and exc.stage is not Stage.CLOSED
            if written:
                self._show_sent(info, move, line)
            info.notes.append(f"{'No reply' if written else 'Not sent'}: {exc}")
            proposal.view.refresh_info()
            self._finish(None)
            return
        self._show_sent(info, move, line)
        proposal.view.refresh_info()
        self._follow_steps()
        self._on_reply(reply)

    def _show_sent(self, info: StepInfo, move: AuthMove, line: str) -> None:
        """The step shows the line as sent: the transcript's (masked) text, and the real one
        for the reveal toggle."""
        sent = self.session.last_client_entry
        prefix = info.proposed_prefix if move.initial else ""
        info.sent = sent.text.rstrip("\r\n") if sent is not None else f"{prefix}{line}"
        info.sent_real = f"{prefix}{line}".rstrip() if move.initial else line

    def _on_reply(self, reply: Reply) -> None:
        assert self.stepper is not None
        iterations = scram_iterations(self.stepper.name, _challenge_bytes(reply))
        if iterations >= OFF_THREAD_ITERATIONS:
            self._receive_off_thread(reply, iterations)
            return
        self._take_move(reply, self.stepper.receive(reply))

    def _take_move(self, reply: Reply, move: AuthMove | None) -> None:
        assert self.stepper is not None
        if move is None:
            self._finish(reply)
            return
        self._last_challenge = move.challenge_text
        info = StepInfo(self._step_title("server challenge"), reply=reply,
                        challenge=move.challenge, challenge_error=move.challenge_error)
        if move.challenge is not None and move.challenge_text:
            info.challenge_kind = decode_blob(move.challenge_text, self.stepper.name).kind
        info.step = move.step
        info.proposed = move.line
        self._propose(move, info)

    def _receive_off_thread(self, reply: Reply, iterations: int) -> None:
        """A server-chosen PBKDF2 count: compute in a thread, with progress; F8 cancels."""
        assert self.stepper is not None
        stepper, name = self.stepper, self.stepper.name
        progress = ComputeProgress(name, iterations, estimate_seconds(name, iterations))
        self.query_one("#auth-steps", VerticalScroll).mount(progress)
        computing = (progress, reply)
        self._computing = computing
        self.phase = Phase.COMPUTING
        self._set_buttons()
        self.query_one("#auth-cancel", Button).disabled = False

        async def compute() -> None:
            move = await asyncio.to_thread(stepper.receive, reply)
            if progress.is_mounted:
                await progress.remove()
            if self._computing is computing:  # not cancelled (or restarted) meanwhile
                self._computing = None
                self._take_move(reply, move)

        self.run_worker(compute(), group="sasl", exclusive=True)

    def _cancel_computation(self) -> None:
        """Answer ``*`` now; the computation's late result is dropped (the mechanism is done)."""
        if self._computing is None:
            return
        progress, reply = self._computing
        self._computing = None
        if progress.is_mounted:
            progress.remove()
        step = Step(None, (), "Cancelled while computing: '*' ends the exchange (RFC 4954 "
                    "§4); the computation's result is discarded.", cancel=True)
        move = AuthMove(AuthCancel(), "*", False, step)
        info = StepInfo(self._step_title("server challenge"), reply=reply, step=step,
                        proposed="*")
        self.phase = Phase.IDLE
        self._propose(move, info)
        if self._proposal is not None and self.phase is Phase.WAITING:
            self._send(self._proposal, "*")

    def _finish(self, reply: Reply | None) -> None:
        self.phase = Phase.DONE
        self._proposal = None
        self._set_buttons()
        self.query_one("#auth-start", Button).label = "Start again"
        if reply is not None and self.stepper is not None and self.stepper.outcome is not None:
            note_outcome(self.session, self.stepper)
            self.final_reply = reply
            self._show_step(StepInfo(self._step_title("final reply"), reply=reply,
                                     step=self.stepper.outcome, final=True))
        if self.on_done is not None:
            self.on_done()


def _challenge_bytes(reply: Reply) -> bytes:
    """A 334 reply's challenge decoded (b"" for any other reply or text that is not base64)."""
    if reply.code != 334:
        return b""
    text = b"".join(reply.lines).decode("ascii", "replace").strip()
    try:
        return b64.decode_strict(text) if text else b""
    except ValueError:
        return b""
