"""The one async I/O loop: couples the sans-IO engine, a transport stream and the transcript.

Everything that awaits the network lives here. A reader task feeds every byte the server sends
into the engine and turns each reply into a transcript entry, whether or not anybody asked for
it (so an unsolicited ``421`` shows up while the user is idle). Commands wait for their replies
on futures resolved in order, which is exactly what PIPELINING needs; a command that earns
several replies (LMTP after the data: one per accepted recipient) gets all of them. STARTTLS
stops the reader before the upgrade and starts it again afterwards, so no read is ever pending
across the switch.

The same class serves a Textual worker and ``asyncio.run``; ``close()`` is cancellation safe and
a server that closes or resets the connection ends the session cleanly with a transcript entry.
The conversation itself (greeting, STARTTLS, AUTH, a message) is :mod:`smtpscope.conversation`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncGenerator, Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from smtpscope.protocol import (
    Capabilities,
    Closed,
    Command,
    Connection,
    Ehlo,
    Helo,
    Lhlo,
    Quit,
    Raw,
    RemoteProtocolError,
    Reply,
    Sent,
    State,
)
from smtpscope.record.redact import Redactor
from smtpscope.record.transcript import Entry, Transcript, reply_fields
from smtpscope.session_connect import Connecting
from smtpscope.session_content import ContentSteps
from smtpscope.session_tls import TlsSteps
from smtpscope.session_types import (
    DEFAULT_HELO,
    ConnectFailed,
    ProtocolFailure,
    ReplyTimeout,
    SessionClosed,
    SessionError,
    SessionOptions,
    SessionView,
    Stage,
    TLSFailed,
    closed_by_reply,
    describe_tls,
    reply_limit,
    stage_for,
    tls_info_dict,
)
from smtpscope.transport import (
    Stream,
    TLSInfo,
    TransportError,
)

if TYPE_CHECKING:  # MX routing code loads only for a routed target (session_connect.py)
    from smtpscope.dns.routing import RouteAttempt
    from smtpscope.record.store import Recorder

__all__ = [
    "DEFAULT_HELO",
    "ConnectFailed",
    "ProtocolFailure",
    "ReplyTimeout",
    "Session",
    "SessionClosed",
    "SessionError",
    "SessionOptions",
    "SessionView",
    "Stage",
    "TLSFailed",
    "describe_tls",
    "tls_info_dict",
]


class _Waiter:
    """Replies owed to one write: usually one, one per accepted recipient for LMTP content."""

    __slots__ = ("command", "future", "limit", "replies", "sent_at", "timer")

    def __init__(self, command: Command | None, future: asyncio.Future[tuple[Reply, ...]],
                 sent_at: float, limit: float) -> None:
        self.command = command
        self.future = future
        self.sent_at = sent_at
        self.limit = limit  # seconds each reply may take, from when it is awaited
        self.timer: asyncio.Timeout | None = None  # while awaited: restarted by each reply
        self.replies: list[Reply] = []


class Session(ContentSteps, TlsSteps, Connecting):
    """One SMTP (or LMTP) conversation with one server, over TCP, a UNIX socket or a pipe."""

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
        #: Why the connection ended, a phrase that reads on its own ("closed after QUIT (221)",
        #: "connection lost: ..."): the status bar shows it as it is, the recording's footer
        #: keeps it as the outcome the history lists, and "not connected (...)" quotes it.
        self.closed_reason: str | None = None
        #: Every route candidate tried by ``connect``, in order; the last one answered.
        self.attempts: tuple[RouteAttempt, ...] = ()
        #: Loop time when the connection was made (None before); front ends time the banner.
        self.connected_at: float | None = None
        #: (start, end) monotonic times of each certificate check: reading and judging a chain
        #: is our time, not the server's, which views time apart.
        self.tls_checks: list[tuple[float, float]] = []
        #: The transcript entry of the last line sent (masked as the transcript shows it).
        self.last_client_entry: Entry | None = None
        #: The last reply read, set before its transcript entry goes out to listeners.
        self.last_reply: Reply | None = None
        #: The domain of the last greeting the server accepted: who we are on this connection.
        self.greeted_as: str | None = None
        #: Called once with the reason when the session ends; a view sets it or clears it.
        self.on_close = on_close
        self.view = SessionView(self)
        self._waiters: deque[_Waiter] = deque()
        self._reader: asyncio.Task[None] | None = None
        self._diagnosed = False
        self._server_name = options.tls_server_name
        paths = [record_to] if isinstance(record_to, str) else list(record_to or ())
        self.recorders: list[Recorder] = []
        if paths:  # the recording file code loads only when something is recorded
            from smtpscope.record.store import Recorder, make_header

            header = make_header(
                options.endpoint,
                role="client",
                protocol="lmtp" if options.lmtp else "smtp",  # the address alone does not say
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
    def capabilities(self) -> Capabilities | None:
        return self.conn.capabilities

    # -- connecting --------------------------------------------------------------------------

    # -- the reader --------------------------------------------------------------------------

    def _start_reader(self) -> None:
        self._reader = asyncio.get_running_loop().create_task(self._read_loop())

    async def _read_loop(self) -> None:
        assert self.stream is not None
        try:
            while self._drain_events():
                if self.conn.state is State.TLS_PENDING:
                    return  # starttls() upgrades and restarts us; never read across the switch
                # No read timeout here: an idle session is fine; waits for replies time out.
                data = await self.stream.read(timeout=None)
                self.conn.receive_data(data)
        except asyncio.CancelledError:
            raise
        except RemoteProtocolError as exc:
            self.transcript.note(f"Protocol error from the server: {exc}", kind="error")
            self._finish(f"protocol error: {exc}", ProtocolFailure)
        except (TransportError, OSError) as exc:
            self.transcript.note(f"Connection lost: {exc}", kind="error")
            self._finish(f"connection lost: {exc}")
        # The connection has ended (a 421, a 221, a hang-up): the recordings end now, not at
        # the next close() a front end makes, which a closed terminal may never make.
        await self._wind_up()

    def _drain_events(self) -> bool:
        """Turn every complete event into entries; False once the connection has ended."""
        while True:
            events = self.conn.next_events()
            if not events:
                return True
            for event in events:
                if isinstance(event, Closed):
                    if event.partial:
                        self.transcript.add(
                            "server", "raw", event.partial,
                            notes=("incomplete line before the server closed the connection",),
                        )
                    self.transcript.note("The server closed the connection", kind="note",
                                         info={"connection": "closed"})
                    self._finish("closed by server")
                    return False
                self._on_reply(event)
                if event.closes:
                    # 221 to QUIT, or 421: the server is closing (RFC 5321 §3.8), so do we,
                    # whether or not it actually hangs up. Later replies are not shown.
                    why = "after QUIT" if event.code == 221 else f"server said {event.code}"
                    self.transcript.note(f"Connection closed ({why})",
                                         info={"connection": "closed"})
                    self._finish(closed_by_reply(event))
                    return False
            if self.conn.state is State.TLS_PENDING and self.conn.trailing_data:
                # The 220 to STARTTLS ends its batch: these came after it. Shown as bytes; the
                # warning is the engine's, on the 220 itself (one warning, not two).
                self.transcript.add("server", "raw", self.conn.trailing_data)

    def _on_reply(self, reply: Reply) -> None:
        loop = asyncio.get_running_loop()
        waiter = self._waiters[0] if not reply.unsolicited and self._waiters else None
        latency = None if waiter is None else loop.time() - waiter.sent_at
        self.last_reply = reply
        self.transcript.add(
            "server", "reply", reply.raw,
            reply=reply_fields(reply), notes=tuple(reply.warnings), latency=latency,
        )
        if waiter is None:
            return
        waiter.replies.append(reply)
        if reply.code == 250 and isinstance(waiter.command, Ehlo | Helo | Lhlo):
            self.greeted_as = waiter.command.domain
        if reply.more:  # the engine still owes replies to this same command (LMTP, raw batches)
            timer = waiter.timer
            if timer is not None and not timer.expired():  # each gets the whole limit
                timer.reschedule(loop.time() + waiter.limit)
            return
        self._waiters.popleft()
        if not waiter.future.done():
            waiter.future.set_result(tuple(waiter.replies))

    def _finish(self, reason: str, error: type[SessionError] = SessionClosed) -> None:
        if self.closed_reason is not None:
            return
        self.closed_reason = reason
        for waiter in self._waiters:
            if not waiter.future.done():
                exc = error(f"connection ended: {reason}", Stage.CLOSED)
                exc.replies = tuple(waiter.replies)
                waiter.future.set_exception(exc)
                # A waiter abandoned after a timeout has nobody left to await it; mark the
                # exception as seen so asyncio does not log "exception was never retrieved".
                waiter.future.exception()
        self._waiters.clear()
        if self.on_close is not None:
            self.on_close(reason)

    async def _wait(self, waiter: asyncio.Future[tuple[Reply, ...]],
                    stage: Stage) -> tuple[Reply, ...]:
        owed = next((w for w in self._waiters if w.future is waiter), None)
        try:
            if owed is None:  # answered (or failed) before we came to wait for it
                return waiter.result()
            async with asyncio.timeout(owed.limit) as owed.timer:
                return await asyncio.shield(waiter)
        except TimeoutError as exc:
            assert owed is not None
            timeout = ReplyTimeout(f"no reply within {owed.limit:g} s", stage, owed.limit,
                                   self.conn.unfinished)
            self.transcript.note(f"Timeout: {timeout}", kind="error")
            timeout.replies = tuple(owed.replies)
            raise timeout from exc
        except SessionError as exc:
            exc.stage = stage  # each waiter got its own instance: say what it was waiting for
            raise
        finally:
            if owed is not None:
                owed.timer = None  # a reply still to come to an abandoned wait restarts nothing

    # -- sending -----------------------------------------------------------------------------

    def _expect(self, command: Command | None) -> asyncio.Future[tuple[Reply, ...]]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[tuple[Reply, ...]] = loop.create_future()
        # Timed by what the engine says is owed: the reply to the message waits longest.
        limit = reply_limit(self.options, self.conn.last_owed)
        self._waiters.append(_Waiter(command, future, loop.time(), limit))
        return future

    def _check_open(self) -> None:
        if not self.is_open or self.stream is None:
            raise SessionClosed(f"not connected ({self.closed_reason or 'no connection'})",
                                Stage.CLOSED)

    async def _write(self, data: bytes) -> None:
        self._check_open()
        assert self.stream is not None
        try:
            await self.stream.write(data)
        except (TransportError, OSError) as exc:
            self.transcript.note(f"Connection lost while sending: {exc}", kind="error")
            self._finish(f"connection lost: {exc}")
            raise SessionClosed(str(exc), Stage.CLOSED) from exc

    def submit(self, command: Command, *, force: bool = False, secret_mask: str | None = None,
               public: bool = False) -> tuple[bytes, asyncio.Future[tuple[Reply, ...]]]:
        """Queue ``command`` without awaiting (for pipelining); returns wire bytes and future.

        The future resolves to every reply the command earns (one, except LMTP content).
        The transcript shows the engine's own notes: why a forced command is off-script.
        """
        self._check_open()
        data = self.conn.send(command, force=force)
        sent = self.conn.last_sent
        off_script = force or isinstance(command, Raw)
        kind = "raw" if isinstance(command, Raw) else "command"
        if isinstance(command, Raw):
            notes: tuple[str, ...] = (command.note,) if command.note else ()
        else:
            notes = sent.notes if sent is not None and sent.command is command else ()
        self.last_client_entry = self.transcript.add(
            "client", kind, data, off_script=off_script, notes=notes, secret_mask=secret_mask,
            public=public)
        return data, self._expect(command)

    async def command_replies(self, command: Command, *, force: bool = False,
                              secret_mask: str | None = None, public: bool = False,
                              ) -> tuple[Reply, ...]:
        """Send one command and await every reply it earns (LMTP BDAT LAST: one a recipient)."""
        data, waiter = self.submit(command, force=force, secret_mask=secret_mask, public=public)
        await self._write(data)
        return await self._wait(waiter, stage_for(command))

    async def command(self, command: Command, *, force: bool = False,
                      secret_mask: str | None = None, public: bool = False) -> Reply:
        """Send one command and await its reply (a 4xx/5xx reply is returned, not raised)."""
        return (await self.command_replies(command, force=force, secret_mask=secret_mask,
                                           public=public))[-1]

    async def pipeline(self, commands: Iterable[Command]) -> list[Reply]:
        """Send several commands in one write and await their replies in order."""
        return [reply async for reply in self.pipelined(commands)]

    async def pipelined(self, commands: Iterable[Command]) -> AsyncGenerator[Reply, None]:
        """Send several commands in one write; yield each reply in order as it comes, so a
        caller judges the first ones even when the connection ends before the last."""
        batch = [(cmd, *self.submit(cmd)) for cmd in commands]
        await self._write(b"".join(data for _, data, _ in batch))
        for cmd, _, waiter in batch:
            yield (await self._wait(waiter, stage_for(cmd)))[-1]

    async def send_raw(self, data: bytes, *, expect_reply: bool = True,
                       note: str = "") -> Reply | None:
        """Send exact bytes, unvalidated and marked off-script; returns the last reply (None
        when none is owed: ``expect_reply`` False, or bytes that leave a message open)."""
        self._check_open()
        self.conn.send_raw(data, expect_reply=expect_reply, note=note)
        sent = self.conn.last_sent
        assert sent is not None
        self.last_client_entry = self.transcript.add(
            "client", "raw", sent.data, off_script=True,
            notes=(*((note,) if note else ()), *self._open_note(sent)))
        replies = await self._owed(sent, Stage.COMMAND)
        return replies[-1] if replies else None

    async def _owed(self, sent: Sent, stage: Stage, data: bytes | None = None
                    ) -> tuple[Reply, ...]:
        """Write what the engine just sent (or ``data``: the sends it ends) and await the
        replies it says that earned: none for raw bytes sent expecting none or content that
        leaves the message open."""
        waiter = self._expect(sent.command) if sent.owes_reply else None
        await self._write(sent.data if data is None else data)
        return () if waiter is None else await self._wait(waiter, stage)

    # -- conveniences --------------------------------------------------------------------------

    def greeting_command(self, name: str | None = None, *, helo: bool = False) -> Command:
        """LHLO for LMTP, else EHLO (or HELO when asked), with the name the server already
        knows us by (a re-greeting after STARTTLS or XCLIENT must not change who we are)."""
        domain = name or self.greeted_as or self.options.helo_name
        if self.options.lmtp:
            return Lhlo(domain)
        return Helo(domain) if helo else Ehlo(domain)

    async def ehlo(self, name: str | None = None) -> Reply:
        """Greet: EHLO, or LHLO on an LMTP session."""
        return await self.command(self.greeting_command(name))

    async def quit(self, limit: float | None = None) -> Reply | None:
        """Send QUIT if the connection is still open, then close; ``TimeoutError`` when the
        two take longer than ``limit`` seconds (the connection is closed all the same)."""
        reply: Reply | None = None
        try:
            async with asyncio.timeout(limit):
                if self.is_open:
                    with contextlib.suppress(SessionError):
                        reply = await self.command(Quit())
        finally:
            await self.close()
        return reply

    async def close(self, reason: str = "closed") -> None:
        """Close the connection and stop the reader; safe to call twice or when cancelled.

        ``reason`` is the recording's outcome unless the session had already ended."""
        reader, self._reader = self._reader, None
        if reader is not None and not reader.done():
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
        if self.closed_reason is None and (partial := self.conn.unfinished):
            # We hang up on a reply still arriving (a timeout, a user closing): its bytes
            # are part of the record. (When the server closed, the engine showed them.)
            self.transcript.add("server", "raw", partial,
                                notes=("unfinished reply when the connection was closed",))
        await self._wind_up(reason)

    async def _wind_up(self, reason: str = "closed") -> None:
        """Close the stream, end the session and write each recording's footer (once)."""
        if self.stream is not None:
            await self.stream.close()
            if not self._diagnosed:
                self._diagnosed = True
                for line in self.stream.diagnostics():
                    self.transcript.note(line)
        self._finish(reason)
        recorders, self.recorders = self.recorders, []
        for recorder in recorders:
            recorder.write_footer(outcome=self.closed_reason)
            recorder.close()
