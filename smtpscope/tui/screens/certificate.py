"""The untrusted-certificate dialog: the chain, the reason, continue (marked) or disconnect.

It opens by itself, often while the user is typing: keys typed before it (and in the moment it
takes to notice it) never answer it but go to the composer once it closes (see ``arm_keys``), and
no letter acts on it, so continuing over an untrusted certificate is always deliberate.
"""

from __future__ import annotations

import math
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
from smtpscope.tui.keys import arm_keys, typed_ahead_resume


class UntrustedCertificateScreen(ModalScreen[bool]):
    """Dismisses with True to go on (the session stays marked untrusted), False to disconnect."""

    DEFAULT_CSS = """
    UntrustedCertificateScreen { align: center middle; }
    #cert-dialog { width: 96%; max-width: 110; height: 90%; border: thick $error;
                   background: $surface; padding: 0 1; }
    #cert-title { text-style: bold; color: $error; }
    #cert-body { height: 1fr; }
    #cert-keys { color: $text-muted; width: 100%; }
    #cert-buttons { height: 3; align-horizontal: right; }
    #cert-buttons Button { margin-left: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        # Continue has no key of its own: Tab to its button and Enter, or a click.
        Binding("escape", "disconnect", "Disconnect", id="cert.disconnect"),
        Binding("ctrl+y", "copy_pem", "Copy PEM", id="cert.copy"),
    ]

    keys_from = math.inf
    """Keys stamped before this (``Message.time``) were typed ahead: the app keeps them aside."""

    def __init__(self, info: TLSInfo) -> None:
        super().__init__()
        self.info = info
        self._answered = False

    def compose(self) -> ComposeResult:
        with Vertical(id="cert-dialog"):
            yield Label(Text("The server's certificate is not trusted"), id="cert-title")
            yield Static(Text(visible(trust_line(self.info))), id="cert-reason")
            with VerticalScroll(id="cert-body"):
                yield Static(Text("\n".join(visible(line) for line in tls_lines(self.info)[1:])),
                             id="cert-chain")
            yield Label(Text("Enter or Esc: disconnect · Tab, Enter: continue (marked "
                             "untrusted) · Ctrl+Y: copy the chain as PEM"),
                        id="cert-keys")
            with Horizontal(id="cert-buttons"):
                # Disconnect first and focused: Enter is the safe answer, Tab reaches Continue.
                yield Button("Disconnect", id="disconnect", variant="error")
                yield Button("Continue (marked untrusted)", id="continue", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#disconnect", Button).focus()
        self.call_after_refresh(arm_keys, self)  # counted from when it can be seen

    @on(Button.Pressed, "#continue")
    def action_go_on(self) -> None:
        self._answer(True)

    @on(Button.Pressed, "#disconnect")
    def action_disconnect(self) -> None:
        self._answer(False)

    def _answer(self, go_on: bool) -> None:
        # Once: a second dismiss would pop the session screen below and leave a blank app.
        if self._answered:
            return
        self._answered = True
        self.dismiss(go_on)
        typed_ahead_resume(self.app)

    def action_copy_pem(self) -> None:
        pem = "".join(c.pem for c in self.info.peer_chain)
        self.app.copy_to_clipboard(pem)
        notify(self, f"copied {len(self.info.peer_chain)} certificate(s) as PEM")
