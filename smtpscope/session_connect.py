"""How a session gets its stream (TCP to a host or to each MX candidate in turn, a UNIX
socket, or a command's stdin/stdout) and its greeting. Every failure to connect becomes a
typed ``ConnectFailed``."""

from __future__ import annotations

import asyncio
import ssl
from typing import TYPE_CHECKING

from smtpscope.protocol import Command, Connection, Reply
from smtpscope.session_types import (
    ConnectFailed,
    SessionOptions,
    Stage,
    reply_limit,
    tls_failure_info,
)
from smtpscope.tls_hints import GREETING_HINT_AFTER, implicit_tls_hint
from smtpscope.transport import (
    Stream,
    TLSError,
    TransportError,
    open_connection,
    open_pipe,
    open_unix_connection,
)

if TYPE_CHECKING:  # MX routing code loads only for a routed target
    from smtpscope.dns.routing import Candidate, RouteAttempt
    from smtpscope.record import Transcript
    from smtpscope.transport import TLSInfo


class Connecting:
    """Mixed into Session: opening the stream, recording each route attempt, the greeting."""

    options: SessionOptions
    transcript: Transcript
    conn: Connection
    stream: Stream | None
    attempts: tuple[RouteAttempt, ...]
    greeting: Reply | None
    connected_at: float | None
    _server_name: str
    _dialed: dict[str, object]  # what was dialled: transport, to (host, path, command), port

    if TYPE_CHECKING:  # provided by Session
        @property
        def is_open(self) -> bool: ...
        def _finish(self, reason: str) -> None: ...
        def _tls_context(self) -> ssl.SSLContext: ...
        def _sni(self) -> str: ...
        def _tls_established(self, info: TLSInfo) -> None: ...
        def _expect(self, command: Command | None) -> asyncio.Future[tuple[Reply, ...]]: ...
        def _start_reader(self) -> None: ...
        async def _wait(self, waiter: asyncio.Future[tuple[Reply, ...]],
                        stage: Stage) -> tuple[Reply, ...]: ...

    async def connect(self) -> Reply:
        """Open the connection (TLS first for implicit TLS) and read the greeting.

        With ``options.route`` (MX candidates), each is tried in order until one answers;
        ``attempts`` and the transcript say which one was used and why the others failed.
        Raises ``ConnectFailed`` (stage CONNECT, or TLS for a failed implicit-TLS handshake).
        """
        opts = self.options
        if opts.pipe_command is not None or opts.unix_path is not None:
            await self._open_local()
        else:
            await self._open_routed()
        assert self.stream is not None
        self.connected_at = asyncio.get_running_loop().time()
        stream = self.stream
        where = stream.label or f"{stream.peer[0]} port {stream.peer[1]}"
        # The typed event lets exports (swaks' "=== Connected to") read it without the wording.
        self.transcript.note(f"Connected to {where}",
                             info={"connection": "connected", **self._dialed})
        if opts.preamble:
            # A binary header (PROXY v2) is shown in hex, every byte; the raw bytes are kept.
            text = None if opts.preamble.isascii() else \
                "[binary, hex] " + opts.preamble.hex(" ")
            self.transcript.add("client", "raw", opts.preamble, text, off_script=True,
                                notes=("sent before the banner: PROXY protocol header",))
        if self.stream.tls is not None:
            self._tls_established(self.stream.tls)
        waiter = self._expect(None)
        self._start_reader()
        late = None
        wait = reply_limit(opts, None)
        if stream.tls is None and stream.label is None and wait > GREETING_HINT_AFTER:
            late = asyncio.get_running_loop().call_later(GREETING_HINT_AFTER,
                                                         self._greeting_late)
        try:
            self.greeting = (await self._wait(waiter, Stage.BANNER))[-1]
        finally:
            if late is not None:
                late.cancel()
        return self.greeting

    def _greeting_late(self) -> None:
        """No greeting yet on a plain TCP connection: say what that usually means."""
        if self.greeting is None and self.is_open and self.stream is not None:
            if begun := len(self.conn.unfinished):
                # SMTP bytes are coming, only slowly (a tarpit): not an implicit-TLS port.
                self.transcript.note(
                    f"The greeting has begun but not ended after {GREETING_HINT_AFTER:g} s "
                    f"({begun} bytes so far): a slow or tarpitting server. Still waiting.",
                    kind="warning")
                return
            host, port = self.stream.peer[:2]
            why = f"no greeting after {GREETING_HINT_AFTER:g} s"
            self.transcript.note(implicit_tls_hint(host, port, why), kind="warning")

    async def _open_local(self) -> None:
        """A UNIX socket or a command's stdin/stdout: one place to go, no route."""
        opts = self.options
        implicit = opts.security == "implicit"
        context = self._tls_context() if implicit else None
        if opts.pipe_command is not None:
            what = f"Starting {opts.pipe_command!r}, speaking SMTP on its stdin/stdout"
            self._dialed = {"transport": "pipe", "to": opts.pipe_command}
        else:
            what = f"Connecting to UNIX socket {opts.unix_path}"
            self._dialed = {"transport": "unix", "to": str(opts.unix_path)}
        self.transcript.note(what + (" with implicit TLS" if implicit else ""),
                             info={"connection": "connecting", **self._dialed})
        try:
            if opts.pipe_command is not None:
                self.stream = await open_pipe(opts.pipe_command)
            else:
                assert opts.unix_path is not None
                self.stream = await open_unix_connection(
                    opts.unix_path, connect_timeout=opts.connect_timeout)
            if implicit:
                await self.stream.start_tls(context, self._sni(), timeout=opts.connect_timeout,
                                            implicit=True)
        except TransportError as exc:
            failed = tls_failure_info(False, error=exc) if isinstance(exc, TLSError) else None
            self.transcript.note(str(exc), kind="error", info=failed)
            self._finish(str(exc))
            stage = Stage.TLS if isinstance(exc, TLSError) else Stage.CONNECT
            raise ConnectFailed(str(exc), stage) from exc

    async def _open_routed(self) -> None:
        """TCP to the host, or to each MX candidate in turn until one answers."""
        opts = self.options
        implicit = opts.security == "implicit"
        context = self._tls_context() if implicit else None
        candidates: list[Candidate | None] = list(opts.route) or [None]
        attempts: list[RouteAttempt] = []
        for index, candidate in enumerate(candidates):
            host = opts.host if candidate is None else (candidate.address or candidate.host)
            port = opts.port if candidate is None else candidate.port
            self._server_name = opts.tls_server_name if candidate is None else candidate.host
            label = host if candidate is None else f"{candidate.host} ({host}, {candidate.via})"
            self._dialed = {"transport": "tcp", "to": host, "port": port}
            self.transcript.note(
                f"Connecting to {label} port {port}" + (" with implicit TLS" if implicit else ""),
                info={"connection": "connecting", **self._dialed},
            )
            try:
                self.stream = await open_connection(
                    host,
                    port,
                    implicit_tls=implicit,
                    tls_context=context,
                    server_hostname=self._sni() if implicit else None,
                    connect_timeout=opts.connect_timeout,
                    tls_timeout=opts.connect_timeout,  # the handshake is part of connecting
                    family=opts.family,
                    local_addr=opts.local_addr,
                    preamble=opts.preamble,
                )
            except TransportError as exc:
                if candidate is not None:
                    from smtpscope.dns.routing import RouteAttempt

                    attempts.append(RouteAttempt(candidate, str(exc)))
                self.attempts = tuple(attempts)
                last = index == len(candidates) - 1
                more = "" if last else "; trying the next MX"
                failed = tls_failure_info(False, error=exc) \
                    if last and isinstance(exc, TLSError) else None
                self.transcript.note(f"{exc}{more}", kind="error" if last else "warning",
                                     info=failed)
                if last:
                    from smtpscope.dns.routing import summarize_attempts

                    self._finish(str(exc))
                    stage = Stage.TLS if isinstance(exc, TLSError) else Stage.CONNECT
                    why = summarize_attempts(self.attempts) if len(self.attempts) > 1 \
                        else str(exc)
                    raise ConnectFailed(why, stage, self.attempts) from exc
                continue
            if candidate is not None:
                from smtpscope.dns.routing import RouteAttempt

                attempts.append(RouteAttempt(candidate, None))
            self.attempts = tuple(attempts)
            return
