"""aiosmtpd handler hooks: fault injection per stage, and Maildir delivery (never relay)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiosmtpd.smtp import MISSING, Envelope, Session

from smtpscope.sanitize import visible
from smtpscope.server.context import ServerContext, StoredMessage
from smtpscope.server.mailbox import MalformedPath
from smtpscope.server.size import SIZE_EXCEEDED, declared_size
from smtpscope.server.trace import Arrival, tls_comment, trace_headers

if TYPE_CHECKING:
    from smtpscope.server.smtp import ScopeSMTP

# Recipients one transaction may have: Postfix's smtpd_recipient_limit default. RFC 5321
# 4.5.3.1.8 asks for at least 100 and 4.5.3.1.10 names the reply for the rest, 452, which
# tells the client to send them in another transaction.
MAX_RECIPIENTS = 1000
TOO_MANY_RECIPIENTS = "452 4.5.3 Error: too many recipients"
# RFC 6531 3.4: a non-ASCII address needs MAIL's SMTPUTF8 parameter; Postfix's words and code.
NEEDS_SMTPUTF8 = "553 5.6.7 Must declare SMTPUTF8 to send unicode address"
# Recipients the "stored" note names; the rest are counted.
RECIPIENTS_SHOWN = 5
# aiosmtpd keeps an empty path (``MAIL FROM:<>``) as the text "<>", the stdlib header parser's
# word for an empty address.
NULL_PATH = "<>"
# A path that is not RFC 5321 syntax (mailbox.py), and RCPT TO:<> (RFC 5321 4.1.1.3: only
# MAIL's reverse-path may be empty): Postfix's replies.
BAD_SENDER = "501 5.1.7 Bad sender address syntax"
BAD_RECIPIENT = "501 5.1.3 Bad recipient address syntax"


def reverse_path(envelope: Envelope) -> str:
    """MAIL's address, "" for the null reverse-path."""
    address = envelope.mail_from or ""
    return "" if address == NULL_PATH else address


def recipient_list(rcpts: tuple[str, ...], shown: int = RECIPIENTS_SHOWN) -> str:
    """``<a@x>, <b@x> and 998 more``: the first few recipients, the rest counted."""
    names = ", ".join(f"<{visible(r)}>" for r in rcpts[:shown])
    return f"{names} and {len(rcpts) - shown} more" if len(rcpts) > shown else names


class Handler:
    """Hooks aiosmtpd calls with the connection's protocol object as ``server``.

    A hook returns ``MISSING`` to let aiosmtpd do its normal work, or a reply line to send
    instead; that is where injected faults go.
    """

    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx

    def _undeclared_utf8(self, server: ScopeSMTP, envelope: Envelope, address: str) -> bool:
        """A UTF-8 address in a transaction whose MAIL did not say SMTPUTF8 (noted)."""
        if address.isascii() or envelope.smtp_utf8:
            return False
        server.tap_note(f"non-ASCII address <{visible(address)}> without SMTPUTF8 on MAIL "
                        "(RFC 6531 3.4): refused as Postfix does")
        return True

    def _malformed(self, server: ScopeSMTP, verb: str, address: str) -> bool:
        """A path that is not RFC 5321 syntax (noted)."""
        if not isinstance(address, MalformedPath):
            return False
        server.tap_note(f"{verb} refused: {visible(address)} is not an RFC 5321 path")
        return True

    def _fault(self, server: ScopeSMTP, stage: str) -> str | None:
        fault = self.ctx.injector.check(stage)
        if fault is None:
            return None
        server.injected(fault)
        return fault.reply()

    async def handle_EHLO(
        self,
        server: ScopeSMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        failure = self._fault(server, "EHLO")
        if failure is not None:
            return [failure]
        # With the 5-argument hook aiosmtpd leaves remembering the name to us.
        session.host_name = hostname
        # aiosmtpd prints "AUTH" even with every mechanism excluded (no users): drop that line.
        lines = [r for r in responses if r.rstrip() != "250-AUTH"]
        # RFC 2920: aiosmtpd reads each command from its stream in turn and answers in order,
        # so a batch (DATA last, in one segment or many) is served as sent.
        # RFC 2034: every reply after this one carries an enhanced status code (enhanced.py).
        # RFC 9422: say the recipient limit up front, so a client splits the envelope itself.
        return [*lines[:-1], "250-PIPELINING", "250-ENHANCEDSTATUSCODES",
                f"250-LIMITS RCPTMAX={MAX_RECIPIENTS}", *lines[-1:]]

    async def handle_HELO(
        self, server: ScopeSMTP, session: Session, envelope: Envelope, hostname: str
    ) -> Any:
        return self._fault(server, "HELO") or MISSING

    async def handle_MAIL(
        self,
        server: ScopeSMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        options: list[str],
    ) -> Any:
        if self._malformed(server, "MAIL", address):
            return BAD_SENDER
        if self._undeclared_utf8(server, envelope, address):
            return NEEDS_SMTPUTF8
        try:
            size = declared_size(options)
        except ValueError:
            return "501 5.5.4 Syntax: SIZE=<octets> takes ASCII digits (RFC 1870)"
        limit = self.ctx.config.size
        if limit and size is not None and size > limit:
            server.tap_note(f"MAIL refused: its SIZE={size} exceeds the --size limit of {limit}")
            return SIZE_EXCEEDED
        return self._fault(server, "MAIL") or MISSING

    async def handle_RCPT(
        self,
        server: ScopeSMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        options: list[str],
    ) -> Any:
        if address == NULL_PATH or self._malformed(server, "RCPT", address):
            return BAD_RECIPIENT
        if self._undeclared_utf8(server, envelope, address):
            return NEEDS_SMTPUTF8
        failure = self._fault(server, "RCPT")
        if failure is not None:
            return failure
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            if server.rcpt_limit_noted is not envelope:  # once per transaction
                server.rcpt_limit_noted = envelope
                server.tap_note(f"recipient limit of {MAX_RECIPIENTS} reached: further RCPT "
                                "commands get 452 (send them in another transaction)")
            return TOO_MANY_RECIPIENTS
        return MISSING

    async def handle_RSET(self, server: ScopeSMTP, session: Session, envelope: Envelope) -> Any:
        return self._fault(server, "RSET") or MISSING

    async def handle_NOOP(
        self, server: ScopeSMTP, session: Session, envelope: Envelope, arg: str
    ) -> Any:
        return self._fault(server, "NOOP") or MISSING

    async def handle_VRFY(
        self, server: ScopeSMTP, session: Session, envelope: Envelope, address: str
    ) -> Any:
        return self._fault(server, "VRFY") or MISSING

    def _trace(self, server: ScopeSMTP, session: Session, envelope: Envelope,
               queue_id: str) -> bytes:
        """The trace headers for this message, or nothing with --no-trace."""
        if not self.ctx.config.trace:
            return b""
        peer = session.peer
        transport = server.transport
        return trace_headers(Arrival(
            helo=session.host_name or "",
            extended=session.extended_smtp,
            client=str(peer[0]) if isinstance(peer, tuple) else "",
            server=self.ctx.config.hostname,
            queue_id=queue_id,
            mail_from=reverse_path(envelope),
            rcpt_tos=tuple(envelope.rcpt_tos),
            when=datetime.now().astimezone(),
            tls=tls_comment(transport.get_extra_info("ssl_object") if transport else None),
            authenticated=bool(session.authenticated),
            smtputf8=envelope.smtp_utf8,
        ))

    async def handle_DATA(self, server: ScopeSMTP, session: Session, envelope: Envelope) -> str:
        if server.refusal is not None:  # over --size: decided and noted while reading
            return server.refusal
        failure = self._fault(server, "DATA")
        tap, record = server.tap, server.record
        assert tap is not None and record is not None  # set when the connection was made
        if failure is not None:
            tap.note("message not stored (injected failure)")
            return failure
        content = envelope.original_content or b""
        queue_id = self.ctx.maildir.queue_id()
        try:
            path = self.ctx.maildir.deliver(
                content, queue_id, self._trace(server, session, envelope, queue_id))
        except OSError as exc:
            tap.error(f"could not store the message in {self.ctx.maildir.path}: {exc}")
            return "451 4.3.0 Could not store the message (see the server's transcript)"
        message = StoredMessage(
            session_id=record.session_id,
            path=path,
            mail_from=reverse_path(envelope),
            rcpt_tos=tuple(envelope.rcpt_tos),
            size=len(content),
            queue_id=queue_id,
        )
        record.messages += 1
        tap.note(
            f"stored {len(content)} octets from <{visible(message.mail_from)}> to "
            f"{recipient_list(message.rcpt_tos)} as {path}, queue id {queue_id} (never relayed)"
        )
        self.ctx.stored(message)
        # Postfix's words, which clients and scripts look for; the id is in the file's name.
        return f"250 2.0.0 Ok: queued as {queue_id} (stored, never relayed)"
