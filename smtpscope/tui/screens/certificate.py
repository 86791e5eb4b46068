"""The untrusted-certificate dialog: the chain, the reason, continue (marked) or disconnect."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from smtpscope.sanitize import notify, visible
from smtpscope.security.report import tls_lines, trust_line
from smtpscope.transport.tls import TLSInfo


class UntrustedCertificateScreen(ModalScreen[bool]):
    """Dismisses with True to go on (the session stays marked untrusted), False to disconnect."""

    DEFAULT_CSS = """
    UntrustedCertificateScreen { align: center middle; }
    #cert-dialog { width: 96%; max-width: 110; height: 90%; border: thick $error;
                   background: $surface; padding: 0 1; }
    #cert-title { text-style: bold; color: $error; }
    #cert-body { height: 1fr; }
    #cert-keys { color: $text-muted; }
    #cert-buttons { height: 3; align-horizontal: right; }
    #cert-buttons Button { margin-left: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "go_on", "Continue (marked)", id="cert.continue"),
        Binding("d,escape", "disconnect", "Disconnect", id="cert.disconnect"),
        Binding("y", "copy_pem", "Copy PEM", id="cert.copy"),
    ]

    def __init__(self, info: TLSInfo) -> None:
        super().__init__()
        self.info = info

    def compose(self) -> ComposeResult:
        with Vertical(id="cert-dialog"):
            yield Label(Text("The server's certificate is not trusted"), id="cert-title")
            yield Static(Text(visible(trust_line(self.info))), id="cert-reason")
            with VerticalScroll(id="cert-body"):
                yield Static(Text("\n".join(visible(line) for line in tls_lines(self.info)[1:])),
                             id="cert-chain")
            yield Label(Text("c continue (marked untrusted) · d or Esc disconnect · "
                             "y copy the chain as PEM"), id="cert-keys")
            with Horizontal(id="cert-buttons"):
                yield Button("Continue (marked untrusted)", id="continue", variant="warning")
                yield Button("Disconnect", id="disconnect", variant="error")

    def on_mount(self) -> None:
        self.query_one("#disconnect", Button).focus()

    @on(Button.Pressed, "#continue")
    def action_go_on(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#disconnect")
    def action_disconnect(self) -> None:
        self.dismiss(False)

    def action_copy_pem(self) -> None:
        pem = "".join(c.pem for c in self.info.peer_chain)
        self.app.copy_to_clipboard(pem)
        notify(self, f"copied {len(self.info.peer_chain)} certificate(s) as PEM")
