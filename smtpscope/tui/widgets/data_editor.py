"""The DATA editor: a modal with a readable draft, its encoded size and how it will be sent."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Button, Checkbox, Label, Static, TextArea

from smtpscope.message import (
    DraftError,
    body_is_8bit,
    draft_text,
    encode_draft,
    envelope,
    format_size,
    parse_draft,
)
from smtpscope.protocol.data import MAX_END_OF_DATA, MESSAGE_START, ends_data, missing_end
from smtpscope.tui.keys import OrderedTextArea
from smtpscope.tui.widgets.open_end_dialog import OpenEnd, OpenEndDialog

if TYPE_CHECKING:
    from smtpscope.protocol import Capabilities, MailFrom, Reply

# Re-measuring builds the whole message; at typing speed once per pause is plenty.
STATUS_DEBOUNCE = 0.25


@dataclass(frozen=True)
class Encoded:
    """What the editor would send right now, and how it was encoded."""

    content: bytes
    eightbit: bool  # body goes out as 8bit (8BITMIME)
    smtputf8: bool  # headers carry raw UTF-8 (SMTPUTF8)
    encoded_words: bool = False  # non-ASCII headers went out as RFC 2047 encoded-words
    undeclared_8bit: bool = False  # 8-bit text encoded: the MAIL FROM sent did not declare it


@dataclass
class OpenEnvelope:
    """The transaction the server holds open: the MAIL FROM it accepted, the RCPTs it took."""

    mail: MailFrom
    recipients: list[str] = field(default_factory=list)
    rcpt_replies: list[Reply] = field(default_factory=list)  # each recipient's acceptance

    @property
    def eightbit(self) -> bool:
        """The MAIL FROM declared an 8-bit body (BODY=8BITMIME or BINARYMIME, RFC 6152/3030)."""
        return self.mail.body_8bit

    @property
    def smtputf8(self) -> bool:
        """The MAIL FROM declared SMTPUTF8 (RFC 6531 §3.4): UTF-8 headers may follow."""
        return self.mail.param("SMTPUTF8") is not None

    def rset_reason(self, sender: str, recipients: Sequence[str], *, smtputf8: bool = False,
                    eightbit: bool = False) -> str | None:
        """Why a message cannot go on in this transaction (None: DATA or BDAT may follow)."""
        if sender != self.mail.address or set(recipients) != set(self.recipients):
            return "the message's From/To/Cc/Bcc differ from the envelope the server accepted"
        if smtputf8 and not self.smtputf8:
            return "the message needs SMTPUTF8, which the open MAIL FROM did not declare"
        if eightbit and not self.eightbit:
            return "the body is 8bit and the open MAIL FROM did not declare BODY=8BITMIME"
        return None


class DataEditor(ModalScreen["DataEditor.Result | None"]):
    """Edit a message as readable text; dismisses with :class:`DataEditor.Result` or None.

    The text is a draft (headers, a blank line, the body) shown as typed; the stdlib email
    package encodes it on send (RFC 2047, MIME, 8bit or SMTPUTF8 when advertised). Verbatim
    mode sends the text's UTF-8 bytes exactly: no encoding, no CRLF, no dot-stuffing.
    """

    DEFAULT_CSS = """
    DataEditor { align: center middle; }
    DataEditor > #data-dialog {
        width: 90%; height: 90%; padding: 0 1;
        border: thick $primary; background: $surface;
    }
    DataEditor #data-title { text-style: bold; width: 1fr; }
    DataEditor #data-text { height: 1fr; }
    DataEditor #data-status { height: auto; color: $text-muted; }
    DataEditor #data-status.-over, DataEditor #data-status.-error { color: $error; }
    DataEditor .data-options { height: 1; margin-top: 1; }
    DataEditor .data-options Horizontal { width: auto; }
    DataEditor .data-options Checkbox { margin-right: 2; }
    DataEditor .data-options Button { margin-left: 1; min-width: 10; }
    DataEditor #data-send { margin-left: 0; }  /* the BDAT box's margin is the gap */
    DataEditor.-narrow .data-options { layout: vertical; height: 2; }
    DataEditor.-narrow #data-buttons { width: 1fr; align-horizontal: right; }
    """
    # Below 100 columns the options and the buttons no longer fit on one line: two lines.
    # (Textual's own annotation of it makes a ClassVar one an error for mypy.)
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]  # noqa: RUF012

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "send", "Send", priority=True, id="data.send"),
        Binding("escape", "cancel", "Cancel", id="data.cancel"),
    ]

    @dataclass(frozen=True)
    class Result:
        """The message to send. ``content`` is not dot-stuffed and has no terminator: the
        engine adds those (``send_content``) unless ``verbatim``; BDAT sends it as is.
        """

        content: bytes
        verbatim: bool
        use_bdat: bool
        eightbit: bool = False
        smtputf8: bool = False
        sender: str = ""
        recipients: tuple[str, ...] = ()

    def __init__(
        self,
        *,
        capabilities: Capabilities | None = None,
        from_addr: str = "",
        to_addrs: Sequence[str] = (),
        subject: str = "smtpscope test",
        body: str = "Hello from smtpscope.\n",
        text: str | None = None,
        after_354: bool = False,
        open_envelope: OpenEnvelope | None = None,
        accepted: OpenEnvelope | None = None,
        open_tail: bytes = MESSAGE_START,
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id)
        self.capabilities = capabilities
        # After a 354 the server waits for DATA content: BDAT is no longer an option.
        self.after_354 = after_354
        #: MAIL and RCPT already accepted: the message goes on in that transaction if it can.
        self.open_envelope = open_envelope
        #: After a 354: the transaction the content goes into (None when its MAIL is unknown,
        #: e.g. sent as raw bytes). Its MAIL FROM has fixed what the content may carry.
        self.accepted = accepted
        #: After a 354: the last bytes of the message sent so far (lines typed before the
        #: editor), which verbatim text goes on from.
        self.open_tail = open_tail
        if text is None:
            text = draft_text(from_addr=from_addr or "sender@example.test",
                              to_addrs=list(to_addrs) or ["recipient@example.test"],
                              subject=subject, body=body)
        self._initial = text
        #: The text as it was when the editor closed (sent or cancelled), for the next time.
        self.draft: str = text
        self._timer: Timer | None = None

    def _has(self, keyword: str) -> bool:
        return self.capabilities is not None and self.capabilities.has(keyword)

    def _may_use(self) -> tuple[bool, bool]:
        """(8bit body, UTF-8 headers) allowed. Before DATA: what the server advertised (the
        MAIL FROM that follows declares it). After a 354 the MAIL FROM has gone: only what it
        declared (RFC 6152 §3, RFC 6531 §3.4), else 7-bit and RFC 2047 encoded-words."""
        if not self.after_354:
            return self._has("8BITMIME"), self._has("SMTPUTF8")
        if self.accepted is None:
            return False, False
        return self.accepted.eightbit, self.accepted.smtputf8

    @property
    def bdat_available(self) -> bool:
        """True when the server advertised CHUNKING and no DATA is under way."""
        return self._has("CHUNKING") and not self.after_354

    def compose(self) -> ComposeResult:
        with Vertical(id="data-dialog"):
            title = "Message content (after 354)" if self.after_354 else "New message"
            yield Label(title, id="data-title")
            yield OrderedTextArea(self._initial, id="data-text", soft_wrap=True,
                                  tab_behavior="focus")
            yield Static("", id="data-status")
            with Horizontal(classes="data-options"):
                with Horizontal():
                    yield Checkbox("verbatim (exact bytes, LF line ends)",
                                   id="data-verbatim", compact=True)
                    yield Checkbox("use BDAT" if self.bdat_available
                                   else "BDAT (not after 354)" if self._has("CHUNKING")
                                   else "BDAT (needs CHUNKING)",
                                   id="data-bdat", disabled=not self.bdat_available, compact=True)
                with Horizontal(id="data-buttons"):
                    yield Button("Send ^S", variant="primary", id="data-send", compact=True)
                    yield Button("Cancel Esc", id="data-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#data-text", TextArea).focus()
        self.refresh_status()

    # -- building ----------------------------------------------------------------------------

    @property
    def text(self) -> str:
        return self.query_one("#data-text", TextArea).text

    @property
    def verbatim(self) -> bool:
        return self.query_one("#data-verbatim", Checkbox).value

    @property
    def use_bdat(self) -> bool:
        return self.bdat_available and self.query_one("#data-bdat", Checkbox).value

    def encode(self) -> Encoded:
        """The bytes to send for the current text; raises DraftError when it cannot encode."""
        if self.verbatim:
            return Encoded(self.text.encode("utf-8"), False, False)
        draft = parse_draft(self.text)
        may_8bit, may_utf8 = self._may_use()
        # SMTPUTF8 only when the message needs it: it obliges the MAIL command to declare it.
        smtputf8 = may_utf8 and draft.needs_utf8
        eightbit = may_8bit or smtputf8
        content = encode_draft(draft, smtputf8=smtputf8, eightbit=eightbit)
        uses_8bit = body_is_8bit(draft, smtputf8=smtputf8, eightbit=eightbit)
        encoded_words = not smtputf8 and any(not v.isascii() for _, v in draft.headers)
        undeclared = self.after_354 and not eightbit and draft.needs_8bit
        return Encoded(content, uses_8bit, smtputf8, encoded_words, undeclared)

    def status_text(self) -> tuple[Text, str]:
        """The status line and its class ("" / "-over" / "-error")."""
        try:
            encoded = self.encode()
        except DraftError as exc:
            return Text(f"✗ {exc}"), "-error"
        size = len(encoded.content)
        limit = self.capabilities.size if self.capabilities is not None else None
        line = Text(f"{format_size(size)} ({size} bytes)")
        level = ""
        if limit:
            line.append(f" of {format_size(limit)} allowed")
            if size > limit:
                line.append(" — over the advertised SIZE", style="bold")
                level = "-over"
        else:
            line.append(" · no SIZE limit advertised")
        if self.verbatim:
            line.append(" · verbatim: newlines are LF as typed, no dot-stuffing, no encoding")
            if self._leaves_open(encoded.content):
                line.append(" · no <CRLF>.<CRLF> at the end: the message stays open",
                            style="bold")
        else:
            line.append(" · body " + ("8bit (8BITMIME)" if encoded.eightbit else "7-bit clean"))
            if encoded.undeclared_8bit:
                line.append(" (the MAIL FROM sent declared no BODY=8BITMIME)")
            if encoded.smtputf8:
                line.append(" · headers UTF-8 (SMTPUTF8)")
            elif encoded.encoded_words:
                line.append(" · headers RFC 2047 encoded")
            else:
                line.append(" · headers ASCII")
        if self.use_bdat:
            line.append(" · sent with BDAT")
        if self.open_envelope is not None:
            sender, recipients = "", list[str]()
            with contextlib.suppress(DraftError):
                sender, recipients = envelope(parse_draft(self.text))
            reason = self.open_envelope.rset_reason(sender, recipients, smtputf8=encoded.smtputf8,
                                                    eightbit=encoded.eightbit)
            if reason is None:
                verb = "BDAT" if self.use_bdat else "DATA"
                line.append(f" · goes on in the open transaction: {verb} next")
            else:
                line.append(f" · RSET first: {reason}", style="bold")
        return line, level

    def refresh_status(self) -> None:
        """Recompute the status line now."""
        text, level = self.status_text()
        status = self.query_one("#data-status", Static)
        status.update(text)
        status.set_class(level == "-over", "-over")
        status.set_class(level == "-error", "-error")

    @on(TextArea.Changed)
    def _text_changed(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(STATUS_DEBOUNCE, self.refresh_status)

    @on(Checkbox.Changed)
    def _switch_changed(self) -> None:
        self.refresh_status()

    # -- actions -----------------------------------------------------------------------------

    def _leaves_open(self, content: bytes) -> bool:
        """Verbatim ``content`` sent with DATA would not end the message (BDAT needs no end)."""
        return self.verbatim and not self.use_bdat and not ends_data(content, self.open_tail)

    @on(Button.Pressed, "#data-send")
    def action_send(self) -> None:
        """Encode and dismiss with the result; an encoding problem stays on screen. Verbatim
        text without <CRLF>.<CRLF> asks first: add it, send as is (the message stays open),
        or go back."""
        try:
            encoded = self.encode()
        except DraftError:
            self.refresh_status()
            self.app.bell()
            return
        if not self._leaves_open(encoded.content):
            self._send(encoded)
            return
        sent = self.open_tail + encoded.content
        missing = missing_end(sent)

        def answered(answer: OpenEnd | None) -> None:
            if answer is OpenEnd.ADD_END:
                self._send(replace(encoded, content=encoded.content + missing))
            elif answer is OpenEnd.AS_IS:
                self._send(encoded)

        self.app.push_screen(OpenEndDialog(sent[-MAX_END_OF_DATA:], missing), answered)

    def _send(self, encoded: Encoded) -> None:
        sender, recipients = "", list[str]()
        # Verbatim text is sent as is, but its From/To/Cc/Bcc still name the envelope (text
        # without readable headers names none).
        with contextlib.suppress(DraftError):
            sender, recipients = envelope(parse_draft(self.text))
        self.draft = self.text
        self.dismiss(self.Result(encoded.content, self.verbatim, self.use_bdat,
                                 eightbit=encoded.eightbit, smtputf8=encoded.smtputf8,
                                 sender=sender, recipients=tuple(recipients)))

    @on(Button.Pressed, "#data-cancel")
    def action_cancel(self) -> None:
        """Close without sending; the text is kept as a draft for Ctrl+N."""
        self.draft = self.text
        self.dismiss(None)
