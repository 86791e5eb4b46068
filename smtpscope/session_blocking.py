"""A session on a blocking socket, for one short conversation with one server.

``Session`` runs on asyncio, and importing asyncio costs a one-server ``probe`` more than
the conversation itself. Such a run needs no concurrency, so this class offers the part of
``Session`` the conversation layer's connect, greet and STARTTLS steps use (``connect``,
``command``, ``starttls``, ``quit``, ``close``, ``view``, ``tls``) with the same engine, TLS
policy, timeouts and typed errors, over ``transport.blocking``. Its coroutines never suspend:
``run_blocking`` drives one to its end without an event loop.

It keeps no transcript (the one caller shows none) and speaks TCP to one host only: MX
routes, UNIX sockets and pipes are ``Session``'s.
"""

from __future__ import annotations

import time
from collections.abc import Coroutine
from typing import Any, TypeVar

from smtpscope.protocol import (
    NEED_DATA,
    Closed,
    Command,
    Connection,
    Quit,
    RemoteProtocolError,
    Reply,
    StartTLS,
    State,
)
from smtpscope.security.checker import judge
from smtpscope.security.policy import TLSPolicy, policy_for
from smtpscope.security.report import refusal_error
from smtpscope.session_types import (
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
    reply_limit,
    stage_for,
)
from smtpscope.transport import blocking
from smtpscope.transport.errors import ReadTimeout, TLSError, TransportError
from smtpscope.transport.tls import TLSInfo

T = TypeVar("T")


class UnsupportedTarget(ValueError):
    """The options need what only ``Session`` does (MX routing, a UNIX socket, a pipe)."""


class _Unshown:
    """Where the conversation layer's notes go when no transcript is kept."""

    tls_active = False

    def note(self, text: str, kind: str = "note") -> None:
        return None


class SocketSession:
    """One SMTP (or LMTP) conversation over a blocking TCP connection."""

    def __init__(self, options: SessionOptions) -> None:
        if options.route or options.unix_path is not None or options.pipe_command is not None:
            raise UnsupportedTarget("a blocking session speaks TCP to one host")
        self.options = options
        self.conn = Connection(lmtp=options.lmtp)
        self.transcript = _Unshown()
        self.stream: blocking.BlockingStream | None = None
        self.tls: TLSInfo | None = None
        self.greeting: Reply | None = None
        self.closed_reason: str | None = None
        self.attempts: tuple[Any, ...] = ()
        #: time.monotonic() when the connection was made (the clock asyncio's loop uses).
        self.connected_at: float | None = None
        #: (start, end) monotonic times of each certificate check: reading and judging a chain
        #: is our time, not the server's, which views time apart.
        self.tls_checks: list[tuple[float, float]] = []
        self.view = SessionView(self)
        self._server_name = options.tls_server_name

    @property
    def is_open(self) -> bool:
        return self.stream is not None and self.closed_reason is None

    def _policy(self) -> TLSPolicy:
        return policy_for(self.options)

    def _sni(self) -> str:
        return self._policy().sni or self._server_name

    # -- connecting ------------------------------------------------------------------------

    async def connect(self) -> Reply:
        """Connect (TLS first for implicit TLS) and read the greeting; as ``Session.connect``."""
        opts = self.options
        try:
            self.stream = blocking.connect(opts.host, opts.port, timeout=opts.connect_timeout,
                                           family=opts.family, local_addr=opts.local_addr)
            if opts.preamble:
                self.stream.write(opts.preamble, timeout=opts.connect_timeout)
            if opts.security == "implicit":
                self.stream.start_tls(self._policy().context(), self._sni(),
                                      timeout=opts.connect_timeout, implicit=True)
        except TransportError as exc:
            self._finish(str(exc))
            stage = Stage.TLS if isinstance(exc, TLSError) else Stage.CONNECT
            raise ConnectFailed(str(exc), stage) from exc
        self.connected_at = time.monotonic()
        if self.stream.tls is not None:
            self._tls_established(self.stream.tls)
        self.greeting = self._replies(Stage.BANNER)[-1]
        return self.greeting

    # -- commands and replies --------------------------------------------------------------

    async def command(self, command: Command, *, force: bool = False) -> Reply:
        """Send one command and read its reply (a 4xx/5xx reply is returned, not raised)."""
        return self._exchange(command, force=force)[-1]

    def _exchange(self, command: Command, *, force: bool = False,
                  limit: float | None = None) -> tuple[Reply, ...]:
        if not self.is_open or self.stream is None:
            raise SessionClosed(f"not connected ({self.closed_reason or 'no connection'})",
                                Stage.CLOSED)
        data = self.conn.send(command, force=force)
        try:
            self.stream.write(data)
        except TransportError as exc:
            self._finish(f"connection lost: {exc}")
            raise SessionClosed(str(exc), Stage.CLOSED) from exc
        return self._replies(stage_for(command), limit)

    def _replies(self, stage: Stage, limit: float | None = None) -> tuple[Reply, ...]:
        """Every reply the last command sent earns, read within the limit for what the engine
        says it is owed (``limit`` instead when given)."""
        assert self.stream is not None
        limit = limit or reply_limit(self.options, self.conn.last_owed)
        deadline = time.monotonic() + limit
        replies: list[Reply] = []
        while True:
            try:
                event = self.conn.next_event()
            except RemoteProtocolError as exc:
                self._finish(f"protocol error: {exc}")
                raise ProtocolFailure(f"connection ended: {self.closed_reason}", stage) from exc
            if event is NEED_DATA:
                if self.closed_reason is not None:
                    raise SessionClosed(f"connection ended: {self.closed_reason}", stage)
                self.conn.receive_data(self._read(deadline, limit, stage))
                continue
            if isinstance(event, Closed):
                self._finish("closed by server")
                raise SessionClosed(f"connection ended: {self.closed_reason}", stage)
            if event.closes:  # 221 to QUIT, or 421: the reply counts, then the session ends
                self._finish(closed_by_reply(event))
            if event.unsolicited:
                continue
            replies.append(event)
            if not event.more:
                return tuple(replies)

    def _read(self, deadline: float, limit: float, stage: Stage) -> bytes:
        assert self.stream is not None
        left = deadline - time.monotonic()
        try:
            if left <= 0:
                raise ReadTimeout("", timeout=limit)
            return self.stream.read(timeout=left)
        except ReadTimeout as exc:
            raise ReplyTimeout(f"no reply within {limit:g} s", stage, limit,
                               self.conn.unfinished) from exc
        except TransportError as exc:
            self._finish(f"connection lost: {exc}")
            raise SessionClosed(f"connection ended: {self.closed_reason}", stage) from exc

    # -- TLS -------------------------------------------------------------------------------

    async def starttls(self) -> Reply:
        """Send STARTTLS and, on 220, upgrade the connection; returns the reply to STARTTLS."""
        reply = await self.command(StartTLS())
        if reply.code != 220 or self.conn.state is not State.TLS_PENDING:
            return reply
        assert self.stream is not None
        try:
            info = self.stream.start_tls(self._policy().context(), self._sni(),
                                         timeout=self.options.connect_timeout)
        except TransportError as exc:
            self._take_late_plaintext()
            self._finish(f"TLS failed: {exc}")
            raise TLSFailed(str(exc), Stage.TLS, reply) from exc
        self._take_late_plaintext()
        self.conn.start_tls_done()
        self._tls_established(info, reply)
        return reply

    def _take_late_plaintext(self) -> None:
        # Bytes after the 220 that the handshake did not read: the engine holds them as
        # trailing data, as Session's reader does (they never pass as data from inside TLS).
        assert self.stream is not None
        if self.stream.discarded_before_tls:
            self.conn.receive_data(self.stream.discarded_before_tls)

    def _tls_established(self, info: TLSInfo, starttls: Reply | None = None) -> None:
        assert self.stream is not None
        info = judge(self._policy(), info, self._server_name, self.stream.port)
        if self.stream.tls_ready_at is not None:  # our time, not the server's (as Session)
            self.tls_checks.append((self.stream.tls_ready_at, time.monotonic()))
        self.stream.tls = info
        self.tls = info
        if not info.accepted:
            error = refusal_error(info, self.stream.peer_text)
            self.stream.abort()
            self._finish(f"TLS refused: {info.refusal}")
            raise TLSFailed(str(error), Stage.TLS, starttls) from error

    # -- ending ----------------------------------------------------------------------------

    async def quit(self, limit: float | None = None) -> Reply | None:
        """Send QUIT if the connection is still open, then close; as ``Session.quit``, a
        ``limit`` on the whole raises ``TimeoutError`` when the reply does not come within."""
        reply: Reply | None = None
        try:
            if self.is_open:
                try:
                    reply = self._exchange(Quit(), limit=limit)[-1]
                except ReplyTimeout:
                    if limit is not None:
                        raise TimeoutError from None
                except SessionError:
                    pass
        finally:
            await self.close()
        return reply

    async def close(self, reason: str = "closed") -> None:
        if self.stream is not None:
            self.stream.close()
        self._finish(reason)

    def _finish(self, reason: str) -> None:
        if self.closed_reason is None:
            self.closed_reason = reason


def run_blocking(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends (one over a ``SocketSession``) to its result."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coroutine.close()
    raise RuntimeError("a blocking session's coroutine waited for an event loop")
