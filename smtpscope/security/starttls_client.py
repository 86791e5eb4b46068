"""A minimal blocking driver of the engine that only reaches TLS: banner, EHLO, STARTTLS, handshake.

For the checks that need a second, separate connection (``probe --reconnect``, ``mx
--check-tls``); the conversation itself always goes through the session. Replies are framed and
judged by the engine (``smtpscope.protocol``), never by a parser of this module's own.
"""

from __future__ import annotations

import socket
import ssl
from collections import deque

from smtpscope.protocol import (
    Closed,
    Command,
    Connection,
    Ehlo,
    ProtocolError,
    Quit,
    Reply,
    StartTLS,
)
from smtpscope.sanitize import visible
from smtpscope.session_types import Stage
from smtpscope.transport.errors import TLSError, connect_failure, format_address
from smtpscope.transport.tls import handshake_error, sni_argument

# How each step is named in messages ("EHLO: 421 ..."); its JSON word is the Stage's value.
_SAID = {Stage.BANNER: "banner", Stage.EHLO: "EHLO", Stage.STARTTLS: "STARTTLS",
         Stage.QUIT: "QUIT"}


class StepFailed(ConnectionError):
    """An SMTP step on the way to TLS failed.

    ``step`` is the conversation's :class:`Stage` (banner, EHLO, STARTTLS, QUIT); ``kind`` says how:
    ``"timeout"`` (no reply in time), ``"closed"`` (the server hung up), ``"protocol"`` (what
    came was no SMTP reply), ``"rejected"`` (a reply its command does not hope for, in
    ``code``) or ``"injection"`` (data after the 220 to STARTTLS).
    """

    def __init__(self, message: str, *, step: Stage, kind: str,
                 code: int | None = None) -> None:
        super().__init__(message)
        self.step = step
        self.kind = kind
        self.code = code


class Wire:
    """A blocking socket coupled with the engine's view of the conversation on it."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.conn = Connection()
        self._events: deque[Reply | Closed] = deque()  # drained from the engine, not yet read

    def reply(self, step: Stage) -> Reply:
        """The next whole reply; StepFailed when none comes (closed, timeout, garbage)."""
        what = _SAID[step]
        events = self._events
        while not events:
            try:
                events.extend(self.conn.next_events())
            except ProtocolError as exc:  # garbage from the server, or a line past the limit
                raise StepFailed(f"{what}: {visible(str(exc))}", step=step,
                                 kind="protocol") from exc
            if not events:
                try:
                    data = self.sock.recv(4096)
                except TimeoutError:
                    raise StepFailed(f"{what}: no reply in time", step=step,
                                     kind="timeout") from None
                self.conn.receive_data(data)
        event = events[0]
        if isinstance(event, Closed):  # left queued: every later read says the same
            raise StepFailed(f"{what}: the server closed the connection", step=step,
                             kind="closed")
        events.popleft()
        return event

    def expect(self, step: Stage) -> Reply:
        """The next reply, which must be one its command hopes for (StepFailed if not)."""
        reply = self.reply(step)
        if reply.expected is False:
            first = reply.shown_lines[0] if reply.lines else ""
            said = f"{_SAID[step]}: {reply.code} {visible(first[:80])}".rstrip()
            raise StepFailed(said, step=step, kind="rejected", code=reply.code)
        return reply

    def command(self, cmd: Command, step: Stage) -> Reply:
        self.sock.sendall(self.conn.send(cmd))
        return self.expect(step)


def open_tls(address: str, port: int, *, implicit: bool, context: ssl.SSLContext,
             sni: str | None, helo: str, timeout: float,
             session: ssl.SSLSession | None = None) -> tuple[ssl.SSLSocket, Wire]:
    """Connect, get to TLS (STARTTLS unless ``implicit``) and return the TLS socket and its wire.

    A failed connect raises :class:`ConnectError` and a failed handshake :class:`TLSError`, each
    with a kind and a message for people (not ``[Errno 111]``); the SMTP steps raise
    :class:`StepFailed` naming the step.
    """
    try:
        raw = socket.create_connection((address, port), timeout=timeout)
    except OSError as exc:
        raise connect_failure(exc, sni or address, port, address) from exc
    try:
        wire = Wire(raw)
        if not implicit:
            wire.expect(Stage.BANNER)
            wire.command(Ehlo(helo), Stage.EHLO)
            wire.command(StartTLS(), Stage.STARTTLS)
            if wire.conn.trailing_data:
                # Bytes after the 220 to STARTTLS can only be injected (the STARTTLS-injection
                # case): a TLS check must not go on as if the channel were clean.
                raise StepFailed("STARTTLS: the server sent data after its 220 (possible "
                                 "STARTTLS command injection)", step=Stage.STARTTLS,
                                 kind="injection")
        try:
            tls = context.wrap_socket(raw, server_hostname=sni_argument(sni), session=session)
        except TimeoutError:
            raise TLSError(f"TLS handshake with {format_address(address, port)}: no answer in "
                           "time", kind="timeout", reason="timeout", server_hostname=sni) from None
        except (ssl.SSLError, ConnectionError, EOFError) as exc:
            raise handshake_error(exc, format_address(address, port), sni) from exc
        if not implicit:
            wire.conn.start_tls_done()
        wire.sock = tls
        return tls, wire
    except BaseException:
        raw.close()
        raise


def quit_politely(tls: ssl.SSLSocket, wire: Wire, implicit: bool) -> None:
    """QUIT and close; a server that drops us instead changes nothing."""
    try:
        tls.settimeout(2.0)
        if implicit:
            wire.reply(Stage.BANNER)  # the banner comes after the handshake
        tls.sendall(wire.conn.send(Quit()))
        wire.reply(Stage.QUIT)
    except (OSError, ProtocolError):  # ConnectionError is an OSError
        pass
    finally:
        tls.close()
