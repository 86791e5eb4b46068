"""The connect screen: target, port, security, HELO name, TLS verification, PROXY, XCLIENT."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar, NamedTuple

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Select, Switch

from smtpscope.sanitize import terminal_safe, visible
from smtpscope.session import DEFAULT_HELO
from smtpscope.tui.keys import OrderedInput, hold_keys, release_keys
from smtpscope.tui.screens import session_control
from smtpscope.tui.screens.session_control import SessionControl

SECURITY = [
    ("from the target (smtp:// STARTTLS if offered, smtps:// TLS)", "auto"),
    ("plain (no TLS unless you type STARTTLS)", "plain"),
    ("STARTTLS", "starttls"),
    ("implicit TLS", "implicit"),
]

# Keys typed after Enter wait this long at most for the session screen (an MX lookup may
# take longer; they then go to the fields, beside its message).
HOLD_WHILE_CONNECTING = 5.0


class _Form(NamedTuple):
    target: str
    port: str
    security: Any
    helo: str
    verify: bool
    cafile: str | None
    control: SessionControl


class ConnectScreen(Screen[None]):
    """Asks where to connect; bad input is explained here, never as a traceback."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.quit", "Quit", id="connect.quit"),
        Binding("f9", "history", "History", id="connect.history"),
    ]

    def __init__(self, initial_target: str = "", error: str | None = None,
                 record_to: str | None = None, control: SessionControl | None = None) -> None:
        super().__init__()
        self._initial = initial_target
        self._error = error
        self._record_to = record_to
        self._control = control or SessionControl()

    def compose(self) -> ComposeResult:
        with Vertical(id="connect-box", classes="dialog"):
            yield Label("Connect to an SMTP server", classes="dialog-title")
            yield Label("Target: host, host:port, [v6]:port, smtp://, smtps://, submission://, "
                        "@domain")
            yield OrderedInput(self._initial, placeholder="mail.example.test:25", id="target")
            # Under the target, which it is nearly always about: seen without scrolling.
            # A TargetProblem's quotes are escaped already: visible() would double them.
            yield Label(Text(terminal_safe(self._error or "")), id="connect-error",
                        classes="error")
            yield Label("Port (empty: from the target)")
            yield OrderedInput("", placeholder="25", id="port", type="integer")
            yield Label("Security")
            yield Select(SECURITY, value="auto", allow_blank=False, id="security")
            yield Label("HELO/EHLO name")
            yield OrderedInput(DEFAULT_HELO, id="helo")
            with Horizontal(classes="buttons"):
                yield Label("Verify TLS certificates ")
                yield Switch(True, id="verify")
            yield Label("CA file (empty: the system's)")
            yield OrderedInput("", placeholder="/path/to/ca.pem", id="cafile")
            with Horizontal(classes="buttons"):
                yield Button("Connect", variant="primary", id="connect")
                yield Button("History", id="open-history")
            yield from session_control.fields(self._control)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#target", Input).focus()

    def _fail(self, message: str) -> None:
        label = self.query_one("#connect-error", Label)
        label.update(Text(terminal_safe(message)))  # as in compose()
        label.scroll_visible()

    @on(Button.Pressed, "#connect")
    @on(Input.Submitted)
    def connect(self) -> None:
        # The form as it stands at Enter: keys typed after it are for the session, not for
        # these fields.
        form = _Form(
            self.query_one("#target", Input).value.strip(),
            self.query_one("#port", Input).value.strip(),
            self.query_one("#security", Select).value,
            self.query_one("#helo", Input).value.strip() or DEFAULT_HELO,
            self.query_one("#verify", Switch).value,
            self.query_one("#cafile", Input).value.strip() or None,
            session_control.read_fields(self),
        )
        hold_keys(self.app, HOLD_WHILE_CONNECTING)
        self.run_worker(self._connect(form), exclusive=True, group="connect")

    async def _connect(self, form: _Form) -> None:
        from smtpscope.target_options import TargetProblem, options_for

        target = form.target
        if target.startswith("@") or "@" in target.split("://")[-1]:
            self._fail(f"Looking up the MX records of {visible(target.split('@')[-1])}…")
        try:
            # MX routing resolves names: off the UI thread, so the screen stays responsive.
            options, label = await asyncio.to_thread(
                options_for,
                target,
                port=int(form.port) if form.port else None,
                security=None if form.security == "auto" else str(form.security),
                helo=form.helo,
                verify=form.verify,
                cafile=form.cafile,
            )
            session_control.apply(form.control, options)
        except (TargetProblem, ValueError) as exc:
            self._fail(str(exc))
            release_keys(self.app)  # back to the fields, to put right what the message says
            return
        from smtpscope.tui.screens.session import SessionScreen

        self.app.switch_screen(SessionScreen(options, target_label=label,
                                             record_to=self._record_to, control=form.control))
        # The session screen is on top now: the keys held since Enter go to its composer
        # once it has mounted and set the focus.
        release_keys(self.app)

    @on(Button.Pressed, "#open-history")
    def action_history(self) -> None:
        from smtpscope.tui.screens.history import HistoryScreen

        self.app.push_screen(HistoryScreen())

