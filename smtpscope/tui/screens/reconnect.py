"""F5: reconnect to the same server, with the TLS mode, CA file, verification, PROXY header or
XCLIENT changed."""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Switch

from smtpscope.paths import ca_file_problem
from smtpscope.sanitize import quoted, terminal_safe, visible
from smtpscope.session import SessionOptions
from smtpscope.tui.keys import OrderedInput
from smtpscope.tui.screens import session_control
from smtpscope.tui.screens.session_control import SessionControl

TLS_MODES = [
    ("plain (no TLS unless you send STARTTLS)", "plain"),
    ("STARTTLS (EHLO, STARTTLS, EHLO on connect)", "starttls"),
    ("implicit TLS (smtps://, usually port 465)", "implicit"),
]


class ReconnectDialog(ModalScreen["SessionOptions | None"]):
    """Returns new options to connect with, or None when cancelled; ``control`` is then the
    session-control values they were made with."""

    # Short terminals (80x24): the form scrolls, Connect and Cancel stay at the bottom.
    DEFAULT_CSS = """
    ReconnectDialog #reconnect-box { overflow-y: auto; }
    ReconnectDialog #reconnect-buttons { dock: bottom; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="reconnect.cancel"),
        Binding("ctrl+s", "connect", "Connect", id="reconnect.connect"),
    ]

    def __init__(self, options: SessionOptions, *, suggest: str | None = None,
                 control: SessionControl | None = None) -> None:
        super().__init__()
        self._options = options
        self._suggest = suggest
        self.control = control or SessionControl(xclient=" ".join(options.xclient))

    def compose(self) -> ComposeResult:
        opts = self._options
        mode = self._suggest or (opts.security if opts.security in
                                 ("plain", "starttls", "implicit") else "plain")
        where = f"[{opts.host}]" if ":" in opts.host else opts.host
        with Vertical(id="reconnect-box", classes="dialog"):
            yield Label(Text(f"Reconnect to {visible(where)}"), classes="dialog-title")
            yield Label("Port")
            yield OrderedInput(str(opts.port), id="reconnect-port", type="integer")
            yield Label("TLS")
            yield Select(TLS_MODES, value=mode, allow_blank=False, id="reconnect-tls")
            yield Label("CA file (empty: the system's trust store)")
            yield OrderedInput(opts.cafile or "", placeholder="/path/to/ca.pem",
                               id="reconnect-cafile")
            with Horizontal(classes="buttons"):
                yield Label("Insecure: do not verify the certificate (recorded) ")
                yield Switch(not opts.verify, id="reconnect-insecure")
            yield from session_control.fields(self.control)
            yield Label("", id="reconnect-error", classes="error")
            with Horizontal(classes="buttons", id="reconnect-buttons"):
                yield Button("Connect", variant="primary", id="reconnect-go")
                yield Button("Cancel", id="reconnect-cancel")

    # F5 then Enter reconnects as before (Enter in a field connects); typing replaces the port
    # (a focused field's text is selected), and Tab goes on to the other fields. The port is
    # focused here, not by AUTO_FOCUS, which centres it: a short form (80x24) would scroll past
    # its title and the Port label, while from the top the field is in view.
    AUTO_FOCUS = ""

    def on_mount(self) -> None:
        self.query_one("#reconnect-port", Input).focus(scroll_visible=False)

    def chosen(self) -> tuple[SessionOptions, SessionControl] | str:
        """The options the form describes with its session-control values, or why they
        cannot be used (foreign text in it escaped once)."""
        from smtpscope.cli.common import port_from

        try:
            port = port_from(self.query_one("#reconnect-port", Input).value.strip())
        except ValueError as exc:
            return str(exc)
        cafile = self.query_one("#reconnect-cafile", Input).value.strip() or None
        if cafile is not None and (problem := ca_file_problem(cafile)) is not None:
            return f"CA file {quoted(cafile)} {problem}."
        mode = self.query_one("#reconnect-tls", Select).value
        insecure = self.query_one("#reconnect-insecure", Switch).value
        # Another port: the same MX hosts, at the addresses found through --resolver, on that
        # port (as --port does for an MX-routed target), not the host name looked up afresh.
        route = tuple(replace(candidate, port=port) for candidate in self._options.route)
        tls = self._options.tls
        if tls is not None:  # the TLS policy follows the CA file and the insecure switch
            tls = tls._replace(cafile=cafile, insecure=insecure)
        options = self._options._replace(port=port, security=str(mode), cafile=cafile,
                                         verify=not insecure, route=route, tls=tls)
        try:
            control = session_control.apply_fields(self, options)
        except ValueError as exc:
            return str(exc)
        # Fields left as shown keep what the connection used: several --xclient stay several
        # commands, and a header made in code, with no values to show, stays.
        if control.xclient == self.control.xclient:
            options.xclient = self._options.xclient
        if not self.control.proxy and (control.proxy, control.proxy_source,
                                       control.proxy_dest) == (0, "", ""):
            options.preamble = self._options.preamble
        return options, control

    def action_connect(self) -> None:
        result = self.chosen()
        if isinstance(result, str):
            # Quoted text in the messages is escaped where they are made, as on the connect
            # screen: visible() would double the escapes.
            self.query_one("#reconnect-error", Label).update(Text(terminal_safe(result)))
            self.query_one("#reconnect-error", Label).scroll_visible()
            return
        options, self.control = result
        self.dismiss(options)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#reconnect-go")
    def _go(self) -> None:
        self.action_connect()

    @on(Button.Pressed, "#reconnect-cancel")
    def _cancel(self) -> None:
        self.action_cancel()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_connect()
