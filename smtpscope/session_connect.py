"""How a session gets its stream: TCP to a host or to each MX candidate in turn, a UNIX
socket, or a command's stdin/stdout. Every failure becomes a typed ``ConnectFailed``."""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING

from smtpscope.session_types import ConnectFailed, SessionOptions, Stage
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


class Connecting:
    """Mixed into Session: opening the stream, recording each route attempt."""

    options: SessionOptions
    transcript: Transcript
    stream: Stream | None
    attempts: tuple[RouteAttempt, ...]
    _server_name: str

    if TYPE_CHECKING:  # provided by Session
        def _finish(self, reason: str) -> None: ...
        def _tls_context(self) -> ssl.SSLContext: ...
        def _sni(self) -> str: ...

    async def _open_local(self) -> None:
        """A UNIX socket or a command's stdin/stdout: one place to go, no route."""
        opts = self.options
        implicit = opts.security == "implicit"
        context = self._tls_context() if implicit else None
        if opts.pipe_command is not None:
            what = f"Starting {opts.pipe_command!r}, speaking SMTP on its stdin/stdout"
        else:
            what = f"Connecting to UNIX socket {opts.unix_path}"
        self.transcript.note(what + (" with implicit TLS" if implicit else ""))
        try:
            if opts.pipe_command is not None:
                self.stream = await open_pipe(opts.pipe_command)
            else:
                assert opts.unix_path is not None
                self.stream = await open_unix_connection(
                    opts.unix_path, connect_timeout=opts.connect_timeout)
            if implicit:
                await self.stream.start_tls(context, self._sni())
        except TransportError as exc:
            self.transcript.note(str(exc), kind="error")
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
                self.transcript.note(f"{exc}{more}", kind="error" if last else "warning")
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
