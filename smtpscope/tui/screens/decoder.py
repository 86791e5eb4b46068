"""The AUTH decoder: paste base64 and see it decoded, labelled, and checked for classic mistakes."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Select, Static

from smtpscope.auth import HIDDEN, MECHANISMS, Decoded, decode_blob
from smtpscope.auth.mistakes import BlobCheck
from smtpscope.sanitize import visible
from smtpscope.tui.keys import OrderedInput
from smtpscope.tui.widgets.auth_values import hex_dump, render_plain

KIND_LABELS: dict[str, str] = {
    "plain": "PLAIN credentials (authzid NUL authcid NUL password)",
    "login-prompt": "LOGIN prompt",
    "cram-md5-challenge": "CRAM-MD5 challenge",
    "cram-md5-response": "CRAM-MD5 response (user and HMAC-MD5 digest)",
    "digest-md5-challenge": "DIGEST-MD5 challenge (directive list)",
    "digest-md5-response": "DIGEST-MD5 response (directive list)",
    "digest-md5-rspauth": "DIGEST-MD5 rspauth (the server's proof)",
    "scram-client-first": "SCRAM client-first message",
    "scram-server-first": "SCRAM server-first message (nonce, salt, iterations)",
    "scram-client-final": "SCRAM client-final message (with the client proof)",
    "scram-server-final": "SCRAM server-final message",
    "xoauth2": "XOAUTH2 client message (bearer token)",
    "oauthbearer": "OAUTHBEARER client message (bearer token)",
    "oauth-error": "OAuth JSON error challenge",
    "json": "JSON",
    "empty": "empty (an empty challenge or response)",
    "text": "text (not a recognised SASL message)",
    "binary": "binary data",
    "invalid": "not base64",
}

# Fields that allow an offline guess at the password, by kind: hidden until revealed, like the
# password and token that decode_blob itself masks.
SECRET_FIELDS: dict[str, frozenset[str]] = {
    "cram-md5-response": frozenset({"HMAC-MD5 hex"}),
    "scram-client-final": frozenset({"client proof"}),
    "digest-md5-response": frozenset({"response"}),
}
# Kinds whose base64 itself carries the secret: the pasted input is masked too.
SECRET_KINDS = frozenset({"plain", "xoauth2", "oauthbearer", *SECRET_FIELDS})


def masked_view(decoded: Decoded, reveal: bool) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Display text and fields with offline-guess values hidden unless ``reveal``."""
    secret = SECRET_FIELDS.get(decoded.kind, frozenset())
    if reveal or not secret:
        return decoded.text, decoded.fields
    text = decoded.text
    fields = []
    for label, value in decoded.fields:
        if label in secret and value:
            text = text.replace(value, HIDDEN)
            if value.lower() != value:
                text = text.replace(value.lower(), HIDDEN)
            value = f"{HIDDEN} ({len(value)} chars)"
        fields.append((label, value))
    return text, tuple(fields)


def render_decoded(decoded: Decoded, reveal: bool) -> RenderableType:
    """The decoder's output panel for one decoded blob."""
    parts: list[RenderableType] = []
    label = KIND_LABELS.get(decoded.kind, decoded.kind)
    parts.append(Text.assemble(("Kind: ", "bold"), (label, "bold cyan")))
    if decoded.error:
        # The error quotes a bad character with repr(): escaped once already, as in the CLI.
        parts.append(Text(visible(decoded.error, keep_backslashes=True), style="bold red"))
    for warning in decoded.warnings:
        # Decoded values arrive escaped once already (show_bytes): no second escaping.
        parts.append(Text(f"⚠ {visible(warning, keep_backslashes=True)}", style="bold yellow"))
    parts.extend(_mistakes(decoded.check, reveal))
    text, fields = masked_view(decoded, reveal)
    if fields:
        table = Table(box=None, show_header=False, padding=(0, 1))
        table.add_column("field", style="cyan", no_wrap=True)
        table.add_column("value", overflow="fold")
        for name, value in fields:
            # Both made visible where they were made (show_text): escaped once.
            table.add_row(Text(visible(name, keep_backslashes=True)),
                          Text(visible(value, keep_backslashes=True)))
        parts.append(table)
    if decoded.kind != "invalid":
        parts.append(Text.assemble(("Decoded: ", "bold"),
                                   (visible(text, keep_backslashes=True), "")))
        parts.append(Text(f"{len(decoded.raw)} bytes; \\0 is a NUL byte", style="dim"))
    if decoded.kind == "binary":
        parts.append(Text(f"hex: {hex_dump(decoded.raw)}"))
    if decoded.kind in SECRET_KINDS and not reveal:
        parts.append(Text("Secrets hidden: Ctrl+R reveals them on screen only.", style="dim"))
    return Group(*parts)


def _mistakes(check: BlobCheck, reveal: bool) -> list[RenderableType]:
    """The classic hand-made mistakes, each once, the corrected blob (masked unless revealed:
    it carries the secret) and the one command that builds the blob right."""
    lines: list[RenderableType] = [
        Text(f"⚠ Mistake: {visible(message, keep_backslashes=True)}", style="bold yellow")
        for message in check.messages
    ]
    if check.corrected:
        lines.append(Text(f"Fixed: {visible(check.corrected) if reveal else HIDDEN}"))
    if check.recipe:
        lines.append(Text(f"Build it with: {visible(check.recipe, keep_backslashes=True)}"))
    return lines


class DecoderScreen(ModalScreen[None]):
    """Decode any base64 AUTH line; passwords, tokens and proofs stay hidden until revealed."""

    DEFAULT_CSS = """
    DecoderScreen { align: center middle; }
    DecoderScreen > #decoder-dialog {
        width: 90%; height: 80%; padding: 0 1;
        border: thick $primary; background: $surface;
    }
    DecoderScreen #decoder-title { text-style: bold; height: 1; }
    DecoderScreen .decoder-row { height: auto; margin-top: 1; }
    DecoderScreen #decoder-input { width: 1fr; margin-right: 1; }
    DecoderScreen #decoder-mech { width: 30; }
    DecoderScreen #decoder-scroll { height: 1fr; margin-top: 1; border: round $panel-lighten-2; }
    DecoderScreen .decoder-buttons { height: auto; }
    DecoderScreen .decoder-buttons Button { margin-right: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "reveal", "Reveal", priority=True, id="decoder.reveal"),
        Binding("escape", "close", "Close", id="decoder.close"),
    ]

    reveal: reactive[bool] = reactive(False, init=False)

    def __init__(self, blob: str = "", mechanism: str | None = None, *,
                 name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self.initial_blob = blob
        self.initial_mechanism = mechanism if mechanism in MECHANISMS else None
        self.decoded: Decoded | None = None

    def compose(self) -> ComposeResult:
        options = [("any mechanism", "")] + [(m, m) for m in MECHANISMS]
        with Vertical(id="decoder-dialog"):
            yield Label("AUTH decoder · paste a base64 line, a '334 …' reply or 'AUTH MECH …'",
                        id="decoder-title")
            with Horizontal(classes="decoder-row"):
                yield OrderedInput(self.initial_blob, placeholder="base64", id="decoder-input",
                            compact=True)
                yield Select(options, id="decoder-mech", compact=True, allow_blank=False,
                             value=self.initial_mechanism or "")
            with VerticalScroll(id="decoder-scroll"):
                yield Static("", id="decoder-output")
            with Horizontal(classes="decoder-buttons"):
                yield Button("Reveal", id="decoder-reveal", compact=True)
                yield Button("Close", id="decoder-close", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        # Nested containers finish mounting after the screen's own Mount: start a moment later.
        self.call_after_refresh(self._ready)

    def _ready(self) -> None:
        self.query_one("#decoder-input", Input).focus()
        self.decode()

    @property
    def context(self) -> str | None:
        value = self.query_one("#decoder-mech", Select).value
        return value if isinstance(value, str) and value else None

    def decode(self) -> None:
        """Decode the input as it is now and redraw the output."""
        blob = self.query_one("#decoder-input", Input).value
        output = self.query_one("#decoder-output", Static)
        if not blob.strip():
            self.decoded = None
            output.update(Text("Paste base64 above.", style="dim"))
            return
        # decode_blob masks the password and token itself unless revealed.
        self.decoded = decode_blob(blob, self.context, reveal=self.reveal)
        self.query_one("#decoder-input", Input).password = (
            self.decoded.kind in SECRET_KINDS and not self.reveal)
        output.update(render_decoded(self.decoded, self.reveal))

    @on(Input.Changed, "#decoder-input")
    @on(Select.Changed, "#decoder-mech")
    def _changed(self) -> None:
        self.decode()

    def watch_reveal(self) -> None:
        if self.is_mounted:
            self.query_one("#decoder-reveal", Button).label = "Hide" if self.reveal else "Reveal"
            self.decode()

    def action_reveal(self) -> None:
        self.reveal = not self.reveal

    def action_close(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#decoder-reveal")
    def _reveal_pressed(self) -> None:
        self.action_reveal()

    @on(Button.Pressed, "#decoder-close")
    def _close_pressed(self) -> None:
        self.action_close()

    def output_text(self) -> str:
        """The output panel as plain text (what the user sees)."""
        if self.decoded is None:
            return ""
        return render_plain(render_decoded(self.decoded, self.reveal))
