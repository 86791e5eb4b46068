"""aiosmtpd's SMTP protocol with a wire tap: every line read and written reaches the transcript.

aiosmtpd reads the client through ``StreamReader.readuntil`` (commands end at LF, DATA lines at
CRLF; ``readline`` for AUTH answers goes through ``readuntil`` too) and drains over-long lines
with ``read``; it writes every reply line through :meth:`SMTP.push`. Wrapping those calls on
the connection's own reader shows the session exactly as the server interpreted it, in order,
without a second parser that could disagree with aiosmtpd.
"""

from __future__ import annotations

import asyncio
import functools
import re
import time
from typing import Any

from aiosmtpd import __version__ as aiosmtpd_version
from aiosmtpd.smtp import ALLOWED_BEFORE_STARTTLS, SMTP, TLSSetupException, syntax

from smtpscope.sanitize import visible
from smtpscope.server.auth import AuthMixin
from smtpscope.server.context import ServerContext, SessionRecord
from smtpscope.server.enhanced import as_sent
from smtpscope.server.faults import Fault
from smtpscope.server.mailbox import AddressSyntaxMixin
from smtpscope.server.observe import SessionTap
from smtpscope.server.sequence import CommandTable, UnrecognizedMixin, out_of_sequence
from smtpscope.server.size import SizeLimitMixin

# Control characters (Unicode Cc: C0, DEL, C1) a command argument may not hold; TAB is spacing.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")
IDENT = f"ESMTP smtpscope debug server (aiosmtpd {aiosmtpd_version}): stores mail, never relays"
# RFC 3207 4 (with RFC 3463's code for a security policy reply, as Postfix sends it).
NEED_STARTTLS = "530 5.7.0 Must issue a STARTTLS command first"
# RFC 5321 3.8 and 4.2.3 ("421 <domain> Service not available, closing transmission channel"),
# with RFC 3463's X.3.2, whose examples of a system not accepting messages begin with "an
# imminent shutdown".
SHUTTING_DOWN = "421 4.3.2 {host} Service shutting down, closing transmission channel"
# RFC 5321 3.1: after a 554 greeting the server waits for QUIT and answers anything else so.
GREETING_REFUSED = "503 5.5.1 Bad sequence of commands: the greeting refused service, send QUIT"


# Failed AUTH attempts on one connection: each waits longer, and the last one closes it.
AUTH_FAILURE_DELAYS = (0.25, 0.5, 1.0, 2.0)
MAX_AUTH_FAILURES = len(AUTH_FAILURE_DELAYS)
# Across connections: past this many failures in the window, every failure waits longer (so
# many parallel connections do not multiply the guessing rate).
SERVER_FAILURE_WINDOW = 10.0
SERVER_FAILURES_FREE = 10
SERVER_DELAY_STEP, SERVER_DELAY_MAX = 0.1, 5.0


def server_wide_delay(failures: Any, now: float) -> float:
    """The extra wait after a failed AUTH, from the server's recent failures (a deque)."""
    while failures and failures[0] < now - SERVER_FAILURE_WINDOW:
        failures.popleft()
    excess = len(failures) - SERVER_FAILURES_FREE
    return 0.0 if excess <= 0 else min(SERVER_DELAY_MAX, SERVER_DELAY_STEP * excess)
TRIM_AFTER = 2**24  # drained octets after which a closing connection returns heap to the OS


def give_memory_back() -> None:
    """Ask the C allocator to return free heap pages (glibc only; elsewhere a no-op).

    Big transient buffers of a flooding client are freed when it leaves, but glibc keeps the
    pages in its arenas; ``malloc_trim`` hands them back so RSS falls again.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name:
        return
    try:
        libc = ctypes.CDLL(name)
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        return


def _shown_argument(verb: str, arg: str) -> str:
    """A refused argument for the transcript, escaped; an AUTH credential masked as usual."""
    if verb == "AUTH":
        from smtpscope.auth.redact import redact_client_line

        line = f"AUTH {arg}".encode("utf-8", "surrogateescape")
        masked = redact_client_line(arg.split(" ", 1)[0], 0, line)
        if masked is not None:
            arg = masked[0].decode("utf-8", "surrogateescape").removeprefix("AUTH ")
    return visible(arg)


def _addr(info: Any) -> str:
    if isinstance(info, tuple) and len(info) >= 2:
        host = str(info[0])
        return f"[{host}]:{info[1]}" if ":" in host else f"{host}:{info[1]}"
    return str(info)


def _why(error: BaseException) -> str:
    return str(error) or type(error).__name__


def _close_reason(error: Exception | None) -> str:
    """`` (why)`` after "connection closed", or nothing for a normal close."""
    if error is None:
        return ""
    if isinstance(error, TLSSetupException):
        cause = error.__cause__
        return f" (TLS handshake failed: {_why(cause)})" if cause else " (TLS handshake failed)"
    return f" ({_why(error)})"


def _tls_summary(transport: Any) -> str:
    ssl_object = transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return "TLS established"
    cipher = ssl_object.cipher()
    name = f", cipher {cipher[0]} ({cipher[2]} bits)" if cipher else ""
    return f"TLS established: {ssl_object.version()}{name}"


class ScopeSMTP(AuthMixin, AddressSyntaxMixin, SizeLimitMixin, UnrecognizedMixin, SMTP):
    """One client connection, observed; ``implicit_tls`` marks the TLS-on-connect port."""

    # aiosmtpd's AUTH LOGIN prompts are "User Name\0" and "Password\0" (the expired
    # draft-murchison-sasl-login spells them "User Name" and "Password"); real servers (Cyrus
    # SASL under Postfix, Exchange, Exim's usual setup) send these, and some clients match them.
    AuthLoginUsernameChallenge = "Username:"
    AuthLoginPasswordChallenge = "Password:"

    def __init__(
        self, handler: Any, ctx: ServerContext, *, implicit_tls: bool = False, **kwargs: Any
    ) -> None:
        self.ctx = ctx
        self.implicit_tls = implicit_tls
        self.record: SessionRecord | None = None
        self.tap: SessionTap | None = None  # type: ignore[assignment]
        self._greeted = False
        self._close_after_reply = False
        self._greeting_refused = False  # a non-421 CONNECT fault: only QUIT is served
        self._quit = False  # QUIT was answered: the session ended as it should
        self._stopping = False  # the server is stopping and said 421
        self._lost = False
        self._tls_up = False  # a STARTTLS handshake completed
        self._drained_bytes = 0  # octets of over-long lines drained and thrown away
        self._auth_failures = 0
        self.answering: str | None = None  # the verb whose replies are being sent
        self.rcpt_limit_noted: Any = None  # the envelope whose recipient limit was noted
        super().__init__(handler, ident=IDENT, **kwargs)
        # Every command's argument passes one check before aiosmtpd or a hook parses it.
        self._smtp_methods = CommandTable(
            {verb: self._guarded(verb, method) for verb, method in self._smtp_methods.items()},
            lambda verb: self._guarded(verb, self.unknown_command(verb)))

    def _guarded(self, verb: str, method: Any) -> Any:
        """``method`` behind the control-character rule; HELP's syntax text is kept."""

        @functools.wraps(method)
        async def guarded(arg: str | None) -> None:
            self.answering = verb
            try:
                if not await self._refuse_out_of_turn(verb) and not await self._refuse_control(
                    verb, method, arg
                ):
                    await method(arg)
            finally:
                self.answering = None

        return guarded

    async def _refuse_out_of_turn(self, verb: str) -> bool:
        """Answer a command the session's state does not allow yet (or any more)."""
        if self._greeting_refused and verb != "QUIT":
            await self.push(GREETING_REFUSED)
            return True
        # aiosmtpd's own check (require_starttls) answers without an enhanced status code.
        if (self.ctx.config.require_tls and not self.implicit_tls and not self._tls_protocol
                and verb not in ALLOWED_BEFORE_STARTTLS):
            await self.push(NEED_STARTTLS)
            return True
        session = self.session
        refusal = out_of_sequence(
            verb, tls_active=self.implicit_tls or self._tls_protocol is not None,
            in_transaction=self.envelope is not None and self.envelope.mail_from is not None,
            helo_only=session is not None and bool(session.host_name)
            and not session.extended_smtp)
        if refusal is not None:
            await self.push(refusal)
            return True
        return False

    async def _refuse_control(self, verb: str, method: Any, arg: str | None) -> bool:
        """Answer 501 to a command whose argument holds a control character (TAB aside).

        No RFC 5321 domain, address, parameter or base64 text holds one (RFC 6531 widens
        addresses to UTF-8, not to controls), and a C server reads an argument only up to a
        NUL: Postfix answers ``HELO \\x00a`` with 501, as it would an empty name. One rule for
        every command, before aiosmtpd or a hook sees the argument.
        """
        found = _CONTROL.findall(arg or "")
        if not found:
            return False
        controls = ", ".join(visible(c) for c in dict.fromkeys(found))
        shown = _shown_argument(verb, arg or "")
        self.tap_note(f"{verb} refused: its argument holds control characters ({controls}): "
                      f"{shown}")
        usage = getattr(method, "__smtp_syntax__", verb)
        await self.push(f"501 5.5.2 Syntax: {usage} (control characters in the argument)")
        return True

    # -- connection lifecycle -----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self._original_transport is not None and self.tap is not None:
            # Second call: the STARTTLS handshake finished. aiosmtpd is about to throw away any
            # plaintext the client sent after STARTTLS (RFC 3207): show it before it goes.
            leftover = bytes(self._reader._buffer)  # type: ignore[attr-defined]
            super().connection_made(transport)
            self._tls_up = True
            self.tap.tls(_tls_summary(transport))
            if leftover:
                self.tap.after_starttls(leftover, handshake_done=True)
            return
        peer = _addr(transport.get_extra_info("peername"))
        listen = _addr(transport.get_extra_info("sockname"))
        mode = "implicit" if self.implicit_tls else ("starttls" if self.tls_context else "none")
        self.record = self.ctx.open_session(peer, listen, mode)
        self.tap = SessionTap(self.record.transcript, budget=self.ctx.memory)
        self.ctx.connections.add(self)
        port_kind = "implicit-TLS port" if self.implicit_tls else "port"
        self.tap.note(f"connection from {peer} on {port_kind} {listen}")
        if self.implicit_tls:
            self.tap.tls(_tls_summary(transport))
        super().connection_made(transport)

    def _cb_client_connected(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        super()._cb_client_connected(reader, writer)
        readuntil, read = reader.readuntil, reader.read

        async def tapped_readuntil(separator: bytes = b"\n") -> bytes:
            line = await readuntil(separator)
            if self.tap is not None:
                # Only the DATA loop reads up to CRLF; commands and AUTH answers end at LF.
                if separator == b"\r\n":
                    self.tap.data_line(line)
                else:
                    self.tap.client_line(line)
            self.count_data(line)
            return line

        async def tapped_read(n: int = -1) -> bytes:
            # aiosmtpd reads only to drain a line that overran its buffer, then refuses the
            # line; but in DATA (1.4.6) it also appends every drained piece to a list it keeps
            # until the line ends, so a 600 MB line without CRLF cost 600 MB. The tap keeps
            # what the transcript shows; aiosmtpd gets an empty piece to append.
            data = await read(n)
            if self.tap is not None:
                self.tap.drained(data)
            self.count_data(data)
            self._drained_bytes += len(data)
            return b""

        # Instance attributes shadow the methods, and StreamReader.readline calls
        # self.readuntil, so AUTH answers pass through the tap as well.
        reader.readuntil = tapped_readuntil  # type: ignore[method-assign,assignment]
        reader.read = tapped_read  # type: ignore[method-assign]

    def connection_lost(self, error: Exception | None) -> None:
        first = not self._lost
        self._lost = True
        leftover = b""
        reader = getattr(self, "_reader", None)
        if first and reader is not None:
            leftover = bytes(reader._buffer)
        super().connection_lost(error)
        if not first or self.tap is None or self.record is None:
            return
        if leftover and self._original_transport is not None and not self._tls_up:
            # STARTTLS was answered but no handshake completed: these bytes were sent in
            # plaintext after it, and aiosmtpd never read them.
            self.tap.after_starttls(leftover, handshake_done=False)
            leftover = b""
        self.tap.connection_closed(leftover)
        if self._quit:
            # After 221 the session is over; a TLS client that resets instead of answering
            # the server's close_notify (swaks, for one) did nothing wrong.
            error = None
        self.tap.note(f"connection closed{_close_reason(error)}")
        self.ctx.connections.discard(self)
        outcome = "server stopped" if self._stopping else "error" if error else "closed"
        self.ctx.close_session(self.record, outcome)
        if max(self._drained_bytes, self.tap.held_peak) > TRIM_AFTER:
            give_memory_back()

    def shut_down(self) -> None:
        """The server is stopping: end the session, tell the client 421 and close.

        RFC 5321 3.8: a server shut down by external means SHOULD send a 421 first. aiosmtpd's
        task for this connection is cancelled, so nothing the client already sent is acted on
        afterwards (a message wholly buffered is not stored behind a 421); the task only ever
        waits between whole steps, and the Maildir write has none, so no file is left half
        written. The reply is written, not pushed: nothing waits for a client that reads no more.
        """
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        self._stopping = True
        self._handler_coroutine.cancel()  # type: ignore[union-attr]
        reply = SHUTTING_DOWN.format(host=self.hostname).encode()
        if self.tap is not None:
            self.tap.flush_reply()
            self.tap.flush_content("the server stopped during DATA")
            if self.in_data:
                self.tap.note("message not stored: the server stopped before the end of data")
            self.tap.note("server stopping: closing the connection")
            self.tap.server_line(reply)
        transport.write(reply + b"\r\n")  # type: ignore[attr-defined]
        transport.close()

    def cut(self) -> None:
        """Drop the connection at once, unflushed: a client that did not take the 421 in time.

        After STARTTLS this aborts the socket's own transport: closed twice (aiosmtpd closes it
        again when its task is cancelled), asyncio's TLS transport forgets its protocol, and
        its ``abort`` then does nothing. The implicit-TLS port has no such handle; its server
        is made with a TLS shutdown timeout instead (runner.py).
        """
        transport = self._original_transport or self.transport
        if isinstance(transport, asyncio.Transport):
            transport.abort()

    # -- replies --------------------------------------------------------------------------------

    async def push(self, status: str | bytes) -> None:
        if self.refusal is not None:
            # The end of this DATA was answered while reading it: aiosmtpd's own reply (its
            # 552 without an enhanced code, or a line-length 500) gives way.
            status, self.refusal = self.refusal, None
        if not self._greeted:
            self._greeted = True
            fault = self.ctx.injector.check("CONNECT")
            if fault is not None:
                self.injected(fault)  # 421 closes; after 554 the client still sends QUIT
                self._greeting_refused = fault.code != 421
                status = fault.reply()
        elif isinstance(status, str):  # aiosmtpd pushes bytes only for 334 challenges
            status = as_sent(status, self.answering)
        if self.tap is not None:
            data = status.encode("utf-8") if isinstance(status, str) else status
            for line in data.split(b"\r\n"):
                self.tap.server_line(line)
        await super().push(status)
        if self._close_after_reply and self.transport is not None:
            self.tap_note("closing the connection after the injected reply")
            self.transport.close()

    def tap_note(self, text: str) -> None:
        if self.tap is not None:
            self.tap.note(text)

    def injected(self, fault: Fault) -> None:
        """Note an injected failure; 421 also closes the connection (RFC 5321 3.8)."""
        self.tap_note(f"injected failure {fault.spec} at {fault.stage}")
        if fault.code == 421:
            self._close_after_reply = True

    # -- commands aiosmtpd has no hook for ------------------------------------------------------

    @syntax("STARTTLS", when="tls_context")
    async def smtp_STARTTLS(self, arg: str) -> None:
        if not arg and self.tls_context and not self._tls_protocol:
            if self.tap is not None and self.session is not None and not self.session.host_name:
                # RFC 3207 does not require EHLO first and Postfix (default settings) answers
                # 220 as aiosmtpd does; Exim refuses ("STARTTLS command used when not
                # advertised"). Served as Postfix does, but said, since a client that never
                # sent EHLO cannot know STARTTLS is offered.
                self.tap.warning("STARTTLS before HELO/EHLO: the client has not seen it offered")
            fault = self.ctx.injector.check("STARTTLS")
            if fault is not None:
                self.injected(fault)
                await self.push(fault.reply())
                return
        await super().smtp_STARTTLS(arg)

    @syntax("QUIT")
    async def smtp_QUIT(self, arg: str) -> None:
        self._quit = not arg  # with an argument aiosmtpd answers 501 and goes on
        await super().smtp_QUIT(arg)

    @syntax("AUTH <mechanism>")
    async def smtp_AUTH(self, arg: str) -> None:
        """aiosmtpd's AUTH, then a growing pause after each failure and a close after a few.

        Without it a client could try about 1,850 passwords a second on one connection.
        """
        was_authenticated = bool(getattr(self.session, "authenticated", False))
        # RFC 5321 2.4: argument values such as the mechanism name are not case sensitive;
        # aiosmtpd looks the name up as given, and "auth login" got 504, after which the
        # client sent its credentials as commands.
        mechanism, sep, rest = (arg or "").partition(" ")
        await super().smtp_AUTH(mechanism.upper() + sep + rest)
        if was_authenticated or getattr(self.session, "authenticated", False) or not arg:
            return
        self._auth_failures += 1
        now = time.monotonic()
        self.ctx.auth_failures.append(now)
        if self._auth_failures >= MAX_AUTH_FAILURES:
            self.tap_note(f"{self._auth_failures} failed AUTH attempts: closing the connection")
            await self.push("421 4.7.0 Too many failed authentication attempts, closing")
            if self.transport is not None:
                self.transport.close()
            return
        delay = max(AUTH_FAILURE_DELAYS[self._auth_failures - 1],
                    server_wide_delay(self.ctx.auth_failures, now))
        self.tap_note(f"failed AUTH attempt {self._auth_failures}: the next command is read "
                      f"after {delay:g} s")
        await asyncio.sleep(delay)

    async def handle_exception(self, error: Exception) -> str:
        if isinstance(error, TLSSetupException):
            cause = error.__cause__ or error
            self.tap_note(f"TLS handshake after STARTTLS failed: {_why(cause)}")
            return "454 4.7.0 TLS handshake failed"
        if self.tap is not None:
            self.tap.error(f"server error: {type(error).__name__}: {error}")
        return "451 4.3.0 Internal server error (see the smtpscope transcript)"
