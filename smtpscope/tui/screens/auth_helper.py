"""The AUTH helper: pick a mechanism, then walk (Step) or run (Auto) the SASL exchange.

The exchange is the conversation layer's AUTH stepper, the same one ``send --auth`` runs to
the end; this screen shows each move and lets the user send, edit or cancel it. Every line goes
through ``Session.command`` with the move's mask, so the transcript, the recording and exports
hold the labelled mask while this screen shows the computation. Secret values stay masked on
screen too until the reveal toggle (which never changes what is written).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Select, Static

from smtpscope.auth import CLEARTEXT_MECHANISMS, MECHANISMS
from smtpscope.conversation.auth import InitialResponse
from smtpscope.protocol import State
from smtpscope.sanitize import notify, safe_text, visible
from smtpscope.session import Session
from smtpscope.tui.keys import OrderedInput
from smtpscope.tui.screens.auth_exchange import AuthExchange, Phase
from smtpscope.tui.widgets.auth_values import (
    IR_CHOICES,
    MODES,
    TOKEN_MECHANISMS,
    StepsPanel,
    StepView,
    default_mechanism,
    mechanism_options,
    render_plain,
)


class AuthHelperScreen(AuthExchange, ModalScreen[None]):
    """Walk through an AUTH exchange on a live session, showing every computed value."""

    DEFAULT_CSS = """
    AuthHelperScreen { align: center middle; }
    AuthHelperScreen > #auth-dialog {
        width: 96%; height: 96%; padding: 0 1;
        border: thick $primary; background: $surface;
    }
    AuthHelperScreen #auth-title { text-style: bold; height: 1; }
    AuthHelperScreen .auth-row { height: auto; margin-top: 1; }
    AuthHelperScreen .auth-row Select { width: 1fr; margin-right: 1; }
    AuthHelperScreen .auth-row Input { width: 1fr; margin-right: 1; }
    AuthHelperScreen #auth-notes { height: auto; color: $warning; }
    AuthHelperScreen #auth-steps { height: 1fr; border: round $panel-lighten-2; }
    AuthHelperScreen #auth-response-row { height: auto; }
    AuthHelperScreen #auth-response-row Label { width: auto; padding: 0 1 0 0; }
    AuthHelperScreen #auth-response { width: 1fr; }
    AuthHelperScreen .auth-buttons { height: auto; }
    AuthHelperScreen .auth-buttons Button { margin-right: 1; min-width: 0; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "go", "Start/Send", priority=True, id="auth.send"),
        Binding("f8", "cancel_exchange", "Cancel (*)", id="auth.cancel"),
        Binding("ctrl+r", "reveal", "Reveal", priority=True, id="auth.reveal"),
        Binding("ctrl+o", "decoder", "Decoder", id="auth.decoder"),
        Binding("escape", "close", "Close", id="auth.close"),
    ]

    # Focused as soon as the form is mounted, so keys typed right after F4 land in it.
    AUTO_FOCUS = "#auth-user"

    reveal: reactive[bool] = reactive(False, init=False)

    def __init__(self, session: Session, *, on_done: Callable[[], None] | None = None,
                 name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self.session = session
        self.on_done = on_done
        caps = session.view.capabilities
        self.advertised: tuple[str, ...] = tuple(caps.auth_mechanisms) if caps else ()

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        opts = self.session.options
        name = default_mechanism(self.advertised)
        token = OrderedInput(placeholder="OAuth token", password=True, id="auth-token",
                             compact=True)
        password = OrderedInput(placeholder="password", password=True, id="auth-password",
                                compact=True)
        token.display, password.display = name in TOKEN_MECHANISMS, name not in TOKEN_MECHANISMS
        with Vertical(id="auth-dialog"):
            yield Label(safe_text(f"AUTH helper · {opts.host}:{opts.port}"), id="auth-title")
            with Horizontal(classes="auth-row"):
                yield Select(mechanism_options(self.advertised), id="auth-mech", compact=True,
                             allow_blank=False, value=name)
                yield Select(MODES, id="auth-mode", compact=True, allow_blank=False,
                             value="step")
                yield Select(IR_CHOICES, id="auth-ir", compact=True, allow_blank=False,
                             value="ir")
            with Horizontal(classes="auth-row"):
                yield OrderedInput(placeholder="user name", id="auth-user", compact=True)
                yield password
                yield OrderedInput(placeholder="authzid (usually empty)", id="auth-authzid",
                            compact=True)
                yield token
            yield Static(self._notes_text(name), id="auth-notes")
            yield StepsPanel(id="auth-steps")
            with Horizontal(id="auth-response-row"):
                yield Label("Response:")
                yield OrderedInput(placeholder="base64 line to send ('*' cancels)",
                                   id="auth-response", compact=True, disabled=True)
            with Horizontal(classes="auth-buttons"):
                yield Button("Start", id="auth-start", variant="primary", compact=True)
                yield Button("Send", id="auth-send", variant="success", compact=True,
                             disabled=True)
                yield Button("Cancel (*)", id="auth-cancel", variant="error", compact=True,
                             disabled=True)
                yield Button("Reveal", id="auth-reveal", compact=True)
                yield Button("Decoder", id="auth-decoder", compact=True)
                yield Button("Close", id="auth-close", compact=True)
        yield Footer()

    # -- form --------------------------------------------------------------------------------

    @property
    def selected_mechanism(self) -> str:
        value = self.query_one("#auth-mech", Select).value
        return value if isinstance(value, str) else default_mechanism(self.advertised)

    def mechanism_warnings(self, name: str) -> list[str]:
        """What to tell the user about choosing ``name`` on this connection now."""
        notes: list[str] = []
        caps = self.session.view.capabilities
        if caps is None:
            notes.append("No EHLO reply yet: nothing is known to be advertised (send EHLO first).")
        elif not self.advertised:
            after = " (many offer it only after STARTTLS)" if self.session.view.tls is None else ""
            notes.append(f"The server advertises no AUTH{after}; the AUTH line will be sent "
                         "anyway, marked off-script.")
        elif name not in self.advertised:
            notes.append(f"{name} is not advertised (offered: {' '.join(self.advertised)}); it "
                         "will be sent anyway, marked off-script.")
        unsupported = [m for m in self.advertised if m not in MECHANISMS]
        if unsupported:
            notes.append(f"Advertised but not supported here: {' '.join(unsupported)}.")
        if name in CLEARTEXT_MECHANISMS and self.session.view.tls is None:
            notes.append(f"{name} over a plaintext connection: anyone on the path can read the "
                         "credentials. Use STARTTLS first.")
        state = self.session.view.state
        if self.session.view.authenticated:
            notes.append("This session is already authenticated: the server will answer 503.")
        elif state not in (State.IDENT, State.READY):
            notes.append(f"The session is in state {state.name}: AUTH belongs after EHLO, "
                         "outside a mail transaction.")
        return notes

    def _update_notes(self) -> None:
        if not self.query("#auth-notes"):
            return  # a Changed message from before the form finished mounting
        name = self.selected_mechanism
        token = name in TOKEN_MECHANISMS
        self.query_one("#auth-token", Input).display = token
        self.query_one("#auth-password", Input).display = not token
        self.query_one("#auth-notes", Static).update(self._notes_text(name))

    def _notes_text(self, name: str) -> Text:
        text = Text()
        for i, note in enumerate(self.mechanism_warnings(name)):
            text.append(("\n" if i else "") + f"⚠ {visible(note)}")
        return text

    @on(Select.Changed, "#auth-mech")
    def _mech_changed(self) -> None:
        self._update_notes()

    # -- buttons and bindings ----------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions = {"auth-start": self.start_exchange, "auth-send": self.send_proposal,
                   "auth-cancel": self.action_cancel_exchange, "auth-reveal": self.action_reveal,
                   "auth-decoder": self.action_decoder, "auth-close": self.action_close}
        action = actions.get(event.button.id or "")
        if action is not None:
            event.stop()
            action()

    @on(Input.Submitted, "#auth-response")
    def _response_submitted(self) -> None:
        self.send_proposal()

    def action_go(self) -> None:
        if self.phase is Phase.WAITING:
            self.send_proposal()
        elif not self.phase.busy:
            self.start_exchange()

    def action_cancel_exchange(self) -> None:
        """Answer the pending challenge with ``*`` (RFC 4954 §4)."""
        if self.phase is Phase.COMPUTING:
            self._cancel_computation()
            return
        proposal = self._proposal
        if self.phase is Phase.WAITING and proposal is not None and not proposal.initial:
            self._send(proposal, "*")

    def action_reveal(self) -> None:
        self.reveal = not self.reveal

    def watch_reveal(self, reveal: bool) -> None:
        for view in self.query(StepView):
            view.reveal = reveal
        self._mask_response_input()
        button = self.query_one("#auth-reveal", Button)
        button.label = "Hide" if reveal else "Reveal"

    def action_decoder(self) -> None:
        from smtpscope.tui.screens.decoder import DecoderScreen

        self.app.push_screen(DecoderScreen(self._last_challenge, self.selected_mechanism))

    def action_close(self) -> None:
        if self.session.view.state is State.AUTH and self.session.is_open:
            self.session.transcript.note(
                "Auth helper closed mid-exchange: the server still waits for a response. Type "
                "* in the composer to cancel.", kind="warning")
        if self.on_done is not None:
            self.on_done()
        self.dismiss(None)

    # -- starting an exchange, and the controls it drives ------------------------------------

    def start_exchange(self) -> None:
        """Build the mechanism from the form and propose (or send) the AUTH line."""
        if self.phase.busy:
            return
        if not self.session.is_open:
            notify(self, "Not connected.", severity="warning")
            return
        name = self.selected_mechanism
        user = self.query_one("#auth-user", Input).value
        password = self.query_one("#auth-password", Input).value
        token = self.query_one("#auth-token", Input).value
        if not user:
            notify(self, "Enter a user name first.", severity="warning")
            self.query_one("#auth-user", Input).focus()
            return
        opts = self.session.options
        mechanism = MECHANISMS[name](
            username=user, password=password,
            authzid=self.query_one("#auth-authzid", Input).value,
            token=token or None, host=opts.tls_server_name, port=opts.port,
        )
        self.auto = self.query_one("#auth-mode", Select).value == "auto"
        ir_choice = self.query_one("#auth-ir", Select).value
        self._begin(mechanism, InitialResponse(str(ir_choice)), self.mechanism_warnings(name))

    def _mask_response_input(self) -> None:
        proposal = self._proposal
        secret = proposal is not None and proposal.move.secret_mask is not None
        self.query_one("#auth-response", Input).password = secret and not self.reveal

    def _set_buttons(self) -> None:
        waiting = self.phase is Phase.WAITING
        self.query_one("#auth-start", Button).disabled = self.phase.busy
        self.query_one("#auth-send", Button).disabled = not waiting
        initial = self._proposal is not None and self._proposal.initial
        self.query_one("#auth-cancel", Button).disabled = not waiting or initial
        if not waiting:
            response = self.query_one("#auth-response", Input)
            response.value = ""
            response.disabled = True

    # -- for tests and the session screen ----------------------------------------------------

    @property
    def step_views(self) -> list[StepView]:
        return list(self.query(StepView))

    def panel_text(self, width: int = 200) -> str:
        """Everything the exchange panel shows now, as plain text (masks included)."""
        return "".join(render_plain(view.content_renderable(), width)
                       for view in self.step_views)


__all__ = ["AuthHelperScreen"]

