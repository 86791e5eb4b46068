"""The one async I/O loop: couples the sans-IO engine, a transport stream and the transcript.

Everything that awaits the network lives here. A reader task feeds every byte the server sends
into the engine and turns each reply into a transcript entry, whether or not anybody asked for
it (so an unsolicited ``421`` shows up while the user is idle). Commands wait for their replies
on futures resolved in order, which is exactly what PIPELINING needs. STARTTLS stops the reader
before the upgrade and starts it again afterwards, so no read is ever pending across the switch.

The same class serves a Textual worker and ``asyncio.run``; ``close()`` is cancellation safe and
a server that closes or resets the connection ends the session cleanly with a transcript entry.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from smtpscope.protocol import (
    NEED_DATA,
    Auth,
    AuthCancel,
    AuthResponse,
    Closed,
    Command,
    Connection,
    Ehlo,
    MessageContent,
    Quit,
    Raw,
    RemoteProtocolError,
    Reply,
    StartTLS,
    State,
)
from smtpscope.record import Recorder, Redactor, Transcript, make_header
from smtpscope.security.policy import policy_for
from smtpscope.security.report import refusal_error
from smtpscope.session_types import (
    DEFAULT_HELO,
    SessionClosed,
    SessionError,
    SessionOptions,
    describe_tls,
    reply_dict,
    timeout_for,
    tls_info_dict,
)
from smtpscope.transport import (
    Stream,
    TLSInfo,
    TransportError,
    open_connection,
)

__all__ = [
    "DEFAULT_HELO",
    "Session",
    "SessionClosed",
    "SessionError",
    "SessionOptions",
    "describe_tls",
    "tls_info_dict",
]


class Session:
    """One SMTP conversation with one server."""

    def __init__(
        self,
        options: SessionOptions,
        *,
        transcript: Transcript | None = None,
        record_to: str | Sequence[str] | None = None,
        record_secrets: bool = False,
        on_close: Callable[[str], None] | None = None,
    ) -> None:
        self.options = options
        self.conn = Connection(lmtp=options.lmtp)
        self.transcript = transcript or Transcript(redactor=Redactor(record_secrets=record_secrets))
        self.stream: Stream | None = None
        self.tls: TLSInfo | None = None
        self.greeting: Reply | None = None
        self.closed_reason: str | None = None
        self._on_close = on_close
        self._waiters: deque[tuple[asyncio.Future[Reply], float]] = deque()
        self._greeting_waiter: asyncio.Future[Reply] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._server_name = options.tls_server_name
        paths = [record_to] if isinstance(record_to, str) else list(record_to or ())
        header = make_header(
            f"{options.host}:{options.port}",
            role="client",
            security=options.security,
            secrets_recorded=record_secrets,
        )
        self.recorders = [Recorder(path, header) for path in paths]
        for recorder in self.recorders:
            self.transcript.subscribe(recorder)

    # -- state -------------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.stream is not None and self.closed_reason is None

    @property
    def capabilities(self) -> Any:
        return self.conn.capabilities

    # -- connecting --------------------------------------------------------------------------

    async def connect(self) -> Reply:
        """Open the connection (TLS first for implicit TLS) and read the greeting.

        With ``options.route`` (MX candidates), each is tried in order until one answers; the
        transcript says which one was used and why the others failed.
        """
        opts = self.options
        implicit = opts.security == "implicit"
        context = self._tls_context() if implicit else None
        candidates = list(opts.route) or [None]
        for index, candidate in enumerate(candidates):
            host = opts.host if candidate is None else (candidate.address or candidate.host)
            port = opts.port if candidate is None else candidate.port
            self._server_name = opts.tls_server_name if candidate is None else candidate.host
            label = host if candidate is None else f"{candidate.host} ({host}, {candidate.via})"
            self.transcript.note(
                f"Connecting to {label} port {port}" + (" with implicit TLS" if implicit else "")
            )
            try:
                self.stream = await open_connection(
                    host,
                    port,
                    implicit_tls=implicit,
                    tls_context=context,
                    server_hostname=self._sni() if implicit else None,
                    connect_timeout=opts.connect_timeout,
                )
                break
            except TransportError as exc:
                stage = "tls" if implicit and "TLS" in type(exc).__name__ else "connect"
                last = index == len(candidates) - 1
                more = "" if last else "; trying the next MX"
                self.transcript.note(f"{exc}{more}", kind="error" if last else "warning")
                if last:
                    self._finish(str(exc))
                    raise SessionError(str(exc), stage) from exc
        assert self.stream is not None
        peer = self.stream.peer
        self.transcript.note(f"Connected to {peer[0]} port {peer[1]}")
        if self.stream.tls is not None:
            self._tls_established(self.stream.tls)
        loop = asyncio.get_running_loop()
        self._greeting_waiter = loop.create_future()
        self._waiters.append((self._greeting_waiter, loop.time()))
        self._start_reader()
        self.greeting = await self._wait(self._greeting_waiter, None, "banner")
        return self.greeting

    def _tls_context(self) -> ssl.SSLContext:
        return policy_for(self.options).context()

    def _sni(self) -> str:
        return policy_for(self.options).sni or self._server_name

    def _tls_established(self, info: TLSInfo) -> None:
        # The handshake never verifies; the policy judges the chain now, by its level.
        assert self.stream is not None
        info = policy_for(self.options).evaluate(info, self._server_name, self.stream.port)
        self.stream.tls = info
        self.tls = info
        self.transcript.tls_active = True
        kind = "tls" if info.trust in ("verified", "dane", "fingerprint") else "warning"
        self.transcript.add(
            "local", "tls", describe_tls(info).encode(), describe_tls(info),
            info=tls_info_dict(info), notes=(("TLS verification is off",) if kind == "warning"
                                             and info.insecure else ()),
        )
        if not info.accepted:
            error = refusal_error(info, self.stream.peer_text)
            self.transcript.note(str(error), kind="error")
            self.stream.abort()
            self._finish(f"TLS refused: {info.refusal}")
            raise SessionError(str(error), "tls") from error

    # -- the reader --------------------------------------------------------------------------

    def _start_reader(self) -> None:
        self._reader = asyncio.get_running_loop().create_task(self._read_loop())

    async def _read_loop(self) -> None:
        assert self.stream is not None
        try:
            while True:
                if not self._drain_events():
                    await self.stream.close()
                    return
                if self.conn.state is State.TLS_PENDING:
                    return  # starttls() upgrades and restarts us; never read across the switch
                # No read timeout here: an idle session is fine; waits for replies time out.
                data = await self.stream.read(timeout=None)
                self.conn.receive_data(data)
        except asyncio.CancelledError:
            raise
        except RemoteProtocolError as exc:
            self.transcript.note(f"Protocol error from the server: {exc}", kind="error")
            self._finish(f"protocol error: {exc}")
        except (TransportError, OSError) as exc:
            self.transcript.note(f"Connection lost: {exc}", kind="error")
            self._finish(f"connection lost: {exc}")

    def _drain_events(self) -> bool:
        """Turn every complete event into entries; False once the connection has ended."""
        while True:
            event = self.conn.next_event()
            if event is NEED_DATA:
                return True
            if isinstance(event, Closed):
                if event.partial:
                    self.transcript.add(
                        "server", "raw", event.partial,
                        notes=("incomplete line before the server closed the connection",),
                    )
                self.transcript.note("The server closed the connection", kind="note")
                self._finish("closed by server")
                return False
            if isinstance(event, Reply):
                self._on_reply(event)
                if self.conn.state is State.CLOSED:
                    # 221 to QUIT, or 421: the server is closing (RFC 5321 §3.8), so do we,
                    # whether or not it actually hangs up.
                    why = "after QUIT" if event.code == 221 else f"server said {event.code}"
                    self.transcript.note(f"Connection closed ({why})")
                    self._finish(f"closed by server ({event.code})")
                    return False

    def _on_reply(self, reply: Reply) -> None:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Reply] | None = None
        sent_at: float | None = None
        if not reply.unsolicited and self._waiters:
            waiter, sent_at = self._waiters.popleft()
        latency = None if sent_at is None else loop.time() - sent_at
        self.transcript.add(
            "server", "reply", reply.raw,
            reply=reply_dict(reply), notes=tuple(reply.warnings), latency=latency,
        )
        if self.conn.state is State.TLS_PENDING and self.conn.trailing_data:
            self.transcript.add(
                "server", "raw", self.conn.trailing_data,
                notes=("bytes sent after the STARTTLS 220 reply, before TLS: possible STARTTLS "
                       "command injection; smtpscope discards them",),
            )
        if waiter is not None and not waiter.done():
            waiter.set_result(reply)

    def _finish(self, reason: str) -> None:
        if self.closed_reason is not None:
            return
        self.closed_reason = reason
        for waiter, _ in self._waiters:
            if not waiter.done():
                waiter.set_exception(SessionClosed(f"connection ended: {reason}", "closed"))
                # A waiter abandoned after a timeout has nobody left to await it; mark the
                # exception as seen so asyncio does not log "exception was never retrieved".
                waiter.exception()
        self._waiters.clear()
        if self._on_close is not None:
            self._on_close(reason)

    async def _wait(self, waiter: asyncio.Future[Reply], command: Command | str | None,
                    stage: str) -> Reply:
        limit = self.options.reply_timeout or timeout_for(command)
        try:
            return await asyncio.wait_for(asyncio.shield(waiter), limit)
        except TimeoutError as exc:
            message = f"no reply within {limit:g} s"
            self.transcript.note(f"Timeout: {message}", kind="error")
            raise SessionError(message, stage) from exc
        except SessionClosed as exc:
            raise SessionClosed(str(exc), stage) from exc

    # -- sending -----------------------------------------------------------------------------

    def _expect(self) -> asyncio.Future[Reply]:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Reply] = loop.create_future()
        self._waiters.append((waiter, loop.time()))
        return waiter

    def _check_open(self) -> None:
        if not self.is_open or self.stream is None:
            raise SessionClosed(f"not connected ({self.closed_reason or 'no connection'})", "send")

    async def _write(self, data: bytes) -> None:
        self._check_open()
        assert self.stream is not None
        try:
            await self.stream.write(data)
        except (TransportError, OSError) as exc:
            self.transcript.note(f"Connection lost while sending: {exc}", kind="error")
            self._finish(f"connection lost: {exc}")
            raise SessionClosed(str(exc), "send") from exc

    def submit(self, command: Command, *, force: bool = False,
               secret_mask: str | None = None) -> tuple[bytes, asyncio.Future[Reply]]:
        """Queue ``command`` without awaiting (for pipelining); returns wire bytes and future."""
        self._check_open()
        data = self.conn.send(command, force=force)
        off_script = force or isinstance(command, Raw)
        kind = "raw" if isinstance(command, Raw) else "command"
        notes = (command.note,) if isinstance(command, Raw) and command.note else ()
        if force and not isinstance(command, Raw):
            notes = (*notes, "sent anyway: not valid in this state or not advertised")
        self.transcript.add("client", kind, data, off_script=off_script, notes=notes,
                            secret_mask=secret_mask)
        return data, self._expect()

    async def command(self, command: Command, *, force: bool = False,
                      secret_mask: str | None = None) -> Reply:
        """Send one command and await its reply (a 4xx/5xx reply is returned, not raised)."""
        data, waiter = self.submit(command, force=force, secret_mask=secret_mask)
        await self._write(data)
        return await self._wait(waiter, command, type(command).__name__.lower())

    async def pipeline(self, commands: Iterable[Command]) -> list[Reply]:
        """Send several commands in one write and await their replies in order."""
        batch = [self.submit(cmd) for cmd in commands]
        await self._write(b"".join(data for data, _ in batch))
        return [await self._wait(w, None, "pipeline") for _, w in batch]

    async def send_raw(self, data: bytes, *, expect_reply: bool = True,
                       note: str = "") -> Reply | None:
        """Send exact bytes, unvalidated and marked off-script."""
        self._check_open()
        wire = self.conn.send_raw(data, expect_reply=expect_reply)
        notes = (note,) if note else ()
        self.transcript.add("client", "raw", wire, off_script=True, notes=notes)
        waiter = self._expect() if expect_reply else None
        await self._write(wire)
        if waiter is None:
            return None
        return await self._wait(waiter, None, "raw")

    async def send_content(self, content: MessageContent) -> Reply:
        """Send the message after ``354``: dot-stuffed with the terminator (or verbatim)."""
        self._check_open()
        wire = self.conn.send_content(content)
        notes = ("sent verbatim: line endings and terminator exactly as written",) \
            if content.verbatim else ()
        self.transcript.add("client", "content", wire, off_script=content.verbatim, notes=notes)
        waiter = self._expect()
        await self._write(wire)
        return await self._wait(waiter, "content", "data")

    # -- conveniences --------------------------------------------------------------------------

    async def ehlo(self, name: str | None = None) -> Reply:
        return await self.command(Ehlo(name or self.options.helo_name))

    async def starttls(self) -> Reply:
        """Send STARTTLS and, on 220, upgrade the stream; returns the reply to STARTTLS."""
        reply = await self.command(StartTLS())
        if reply.code != 220 or self.conn.state is not State.TLS_PENDING:
            return reply
        if self._reader is not None:
            await self._reader  # it stops by itself at TLS_PENDING
        assert self.stream is not None
        try:
            info = await self.stream.start_tls(self._tls_context(), self._sni())
        except TransportError as exc:
            self.transcript.note(f"TLS handshake failed: {exc}", kind="error")
            self._finish(f"TLS failed: {exc}")
            raise SessionError(str(exc), "tls") from exc
        if self.stream.discarded_before_tls:
            self.transcript.add(
                "server", "raw", self.stream.discarded_before_tls,
                notes=("plaintext received just before the TLS handshake: possible STARTTLS "
                       "command injection; discarded",),
            )
        self.conn.start_tls_done()
        self._tls_established(info)
        self._start_reader()
        return reply

    async def authenticate(
        self,
        mechanism: Any,
        *,
        initial_response: bool = True,
        on_step: Callable[[Any, Reply | None], None] | None = None,
    ) -> Reply:
        """Run a whole AUTH exchange with a mechanism object from :mod:`smtpscope.auth`."""
        from smtpscope.auth.decode import b64decode_tolerant

        first = mechanism.initial_response() if initial_response else None
        data, waiter = self.submit(  # validated before anything is shown as sent
            Auth(mechanism.name, None if first is None else first.response),
            secret_mask=first.mask if first is not None and first.secret else None,
        )
        if on_step is not None and first is not None:
            on_step(first, None)
        await self._write(data)
        reply = await self._wait(waiter, None, "auth")
        while reply.code == 334:
            challenge = b"".join(reply.lines)
            try:
                decoded, _notes = b64decode_tolerant(challenge.decode("ascii", "replace"))
            except ValueError as exc:
                # A challenge we cannot read is answered the only safe way: cancel (RFC 4954).
                self.transcript.note(f"AUTH challenge is not base64 ({exc}): cancelling",
                                     kind="warning")
                reply = await self.command(AuthCancel())
                break
            step = mechanism.respond(decoded)
            if on_step is not None:
                on_step(step, reply)
            if step.response is None:
                reply = await self.command(AuthCancel())
                break
            reply = await self.command(
                AuthResponse(step.response), secret_mask=step.mask if step.secret else None,
            )
        return reply

    async def quit(self) -> Reply | None:
        """Send QUIT if the connection is still open, then close."""
        reply: Reply | None = None
        if self.is_open:
            with contextlib.suppress(SessionError):
                reply = await self.command(Quit())
        await self.close()
        return reply

    async def close(self) -> None:
        """Close the connection and stop the reader; safe to call twice or when cancelled."""
        reader, self._reader = self._reader, None
        if reader is not None and not reader.done():
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
        if self.stream is not None:
            await self.stream.close()
        self._finish("closed")
        recorders, self.recorders = self.recorders, []
        for recorder in recorders:
            recorder.write_footer(outcome=self.closed_reason)
            recorder.close()
