"""The connect screen: target, port, timeout, security, HELO name, TLS verification, PROXY,
XCLIENT."""

from __future__ import annotations

from functools import partial
from typing import ClassVar, NamedTuple

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Footer, Input, Label, Select

from smtpscope.cli.tui_flags import ConnectFlags
from smtpscope.dns.parallel import off_thread
from smtpscope.protocol.errors import CommandSyntaxError
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


class ConnectFields(NamedTuple):
    """The form as typed (what the command line gave, or what the user is putting right)."""

    target: str = ""
    port: str = ""
    timeout: str = ""
    security: str = "auto"
    helo: str = DEFAULT_HELO
    verify: bool = True
    cafile: str = ""


class _Form(NamedTuple):
    """The form checked at Enter: typed values, ready for ``options_for``."""

    target: str
    port: int | None
    timeout: float | None
    security: str | None
    helo: str
    verify: bool
    cafile: str | None
    control: SessionControl


def _row(label: str, *widgets: Input | Select[str] | Checkbox | Label) -> Horizontal:
    """One field on one line, after its name (a literal of compose())."""
    return Horizontal(Label(label, markup=False, classes="connect-label"), *widgets,
                      classes="connect-row")


class ConnectScreen(Screen[None]):
    """Asks where to connect; bad input is explained here, never as a traceback."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.quit", "Quit", id="connect.quit"),
        Binding("f9", "history", "History", id="connect.history"),
    ]

    def __init__(self, initial_target: str = "", error: str | None = None,
                 record_to: str | None = None, control: SessionControl | None = None,
                 fields: ConnectFields | None = None, flags: ConnectFlags | None = None) -> None:
        super().__init__()
        self._flags = flags or ConnectFlags()
        self._start = fields or ConnectFields()
        if initial_target:
            self._start = self._start._replace(target=initial_target)
        self._error = error
        self._record_to = record_to
        self._control = control or SessionControl()

    def compose(self) -> ComposeResult:
        start = self._start
        with Vertical(id="connect-box", classes="dialog"):
            yield Label("Connect to an SMTP server", classes="dialog-title")
            yield _row("Target", OrderedInput(start.target, placeholder="mail.example.test:25",
                                              id="target", compact=True))
            yield Label("host, host:port, [v6]:port, smtp://, smtps://, submission://, "
                        "lmtp://, unix:/path, user@domain or @domain (MX)", markup=False,
                        classes="connect-hint")
            # Under the target, which it is nearly always about: seen without scrolling.
            # A TargetProblem's quotes are escaped already: visible() would double them.
            yield Label(Text(terminal_safe(self._error or "")), id="connect-error",
                        classes="error connect-hint")
            yield _row("Port", OrderedInput(start.port, placeholder="25", id="port",
                                            compact=True),
                       Label("empty: from the target", classes="connect-note"))
            yield _row("Timeout", OrderedInput(start.timeout, placeholder="seconds",
                                               id="timeout", compact=True),
                       Label("for each reply (empty: RFC 5321's 2 to 10 min)",
                             classes="connect-note"))
            yield _row("Security", Select(SECURITY, value=start.security, allow_blank=False,
                                          id="security", compact=True))
            yield _row("HELO name", OrderedInput(start.helo, id="helo", compact=True))
            yield _row("CA file", OrderedInput(start.cafile, placeholder="empty: the system's",
                                               id="cafile", compact=True))
            yield _row("", Checkbox("Verify TLS certificates (off: recorded and shown)",
                                    start.verify, id="verify", compact=True))
            if said := self._flags.summary():
                # Flags no field shows apply too: say which, where Connect is about to be used.
                yield Label(Text(visible(" · ".join(said)) + " (from the command line)"),
                            id="connect-flags", markup=False, classes="connect-hint")
            with Horizontal(classes="buttons"):
                yield Button("Connect", variant="primary", id="connect", compact=True)
                yield Button("History", id="open-history", compact=True)
            yield from session_control.fields(self._control)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#target", Input).focus()

    def _fail(self, message: str) -> None:
        label = self.query_one("#connect-error", Label)
        label.update(Text(terminal_safe(message)))  # as in compose()
        label.scroll_visible()

    def _value(self, field: str) -> str:
        return self.query_one(f"#{field}", Input).value.strip()

    def _form(self) -> _Form:
        """The fields checked; a ``ValueError`` says what is wrong with one."""
        from smtpscope.cli.common import MAX_WAIT, port_from, seconds_from
        from smtpscope.protocol.commands import Ehlo

        port, timeout, helo = self._value("port"), self._value("timeout"), self._value("helo")
        number = port_from(port) if port else None  # in the order shown: the first is said
        try:
            seconds = seconds_from(timeout, MAX_WAIT) if timeout else None
        except ValueError as exc:
            raise ValueError(f"Timeout: {exc}") from None
        try:
            Ehlo(helo)  # the greeting's own rule: one token, not empty
        except CommandSyntaxError as exc:
            raise ValueError(f"HELO name: {exc.message}") from None
        security = self.query_one("#security", Select).value
        return _Form(self._value("target"), number, seconds,
                     None if security == "auto" else str(security), helo,
                     self.query_one("#verify", Checkbox).value, self._value("cafile") or None,
                     session_control.read_fields(self))

    @on(Button.Pressed, "#connect")
    @on(Input.Submitted)
    def connect(self) -> None:
        # The form as it stands at Enter: keys typed after it are for the session, not for
        # these fields.
        try:
            form = self._form()
        except ValueError as exc:
            self._fail(str(exc))
            return
        hold_keys(self.app, HOLD_WHILE_CONNECTING)
        self.run_worker(self._connect(form), exclusive=True, group="connect")

    async def _connect(self, form: _Form) -> None:
        from smtpscope.cli.tui_flags import session_options
        from smtpscope.target_options import TargetProblem

        target = form.target
        if target.startswith("@") or "@" in target.split("://")[-1]:
            self._fail(f"Looking up the MX records of {visible(target.split('@')[-1])}…")
        try:
            # MX routing and TLSA resolve names: off the UI thread, so the screen stays
            # responsive.
            options, label = await off_thread(partial(
                session_options, self._flags, target, form.control, port=form.port,
                security=form.security, helo=form.helo, verify=form.verify, cafile=form.cafile,
                timeout=form.timeout))
        except (TargetProblem, ValueError) as exc:
            self._fail(str(exc))
            release_keys(self.app)  # back to the fields, to put right what the message says
            return
        from smtpscope.tui.screens.session import SessionScreen

        self.app.switch_screen(SessionScreen(options, target_label=label,
                                             record_to=self._record_to, control=form.control,
                                             flags=self._flags))
        # The session screen is on top now: the keys held since Enter go to its composer
        # once it has mounted and set the focus.
        release_keys(self.app)

    @on(Button.Pressed, "#open-history")
    def action_history(self) -> None:
        from smtpscope.tui.screens.history import HistoryScreen

        self.app.push_screen(HistoryScreen())
