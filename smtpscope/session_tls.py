"""TLS in a session: the policy's context and SNI, judging the chain once the handshake is done,
and STARTTLS (the engine decides, the transport upgrades, the reader restarts afterwards)."""

from __future__ import annotations

import asyncio
import ssl
import time
from typing import TYPE_CHECKING

from smtpscope.protocol import (
    INJECTION_WARNING,
    Command,
    Connection,
    Reply,
    StartTLS,
    State,
)
from smtpscope.security.checker import judge
from smtpscope.security.policy import policy_for
from smtpscope.security.report import refusal_error
from smtpscope.session_types import (
    SessionOptions,
    Stage,
    TLSFailed,
    describe_tls,
    tls_failure_info,
    tls_info_dict,
)
from smtpscope.transport import Stream, TLSInfo, TransportError

if TYPE_CHECKING:
    from smtpscope.record import Transcript


class TlsSteps:
    """Mixed into Session: everything about TLS once a stream exists."""

    options: SessionOptions
    transcript: Transcript
    stream: Stream | None
    conn: Connection
    tls: TLSInfo | None
    _server_name: str
    _reader: asyncio.Task[None] | None
    tls_checks: list[tuple[float, float]]

    if TYPE_CHECKING:  # provided by Session
        def _finish(self, reason: str) -> None: ...
        def _start_reader(self) -> None: ...
        async def command(self, command: Command, *, force: bool = False,
                          secret_mask: str | None = None) -> Reply: ...

    def _tls_context(self) -> ssl.SSLContext:
        return policy_for(self.options).context()

    def _sni(self) -> str:
        return policy_for(self.options).sni or self._server_name

    def _tls_established(self, info: TLSInfo, starttls: Reply | None = None) -> None:
        # The handshake never verifies; the policy judges the chain now, by its level.
        assert self.stream is not None
        info = judge(policy_for(self.options), info, self._server_name, self.stream.port)
        self._count_tls_check()
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
            self.transcript.note(str(error), kind="error",
                                 info=tls_failure_info(starttls is not None, refused=info))
            self.stream.abort()
            self._finish(f"TLS refused: {info.refusal}")
            raise TLSFailed(str(error), Stage.TLS, starttls) from error

    def _count_tls_check(self) -> None:
        # Reading the chain and judging it (cryptography, the trust store) took our time, not
        # the server's: kept apart so a view times the server's steps honestly.
        assert self.stream is not None
        if self.stream.tls_ready_at is not None:
            self.tls_checks.append((self.stream.tls_ready_at, time.monotonic()))

    # -- STARTTLS ----------------------------------------------------------------------------

    async def starttls(self, *, force: bool = False) -> Reply:
        """Send STARTTLS and, on 220, upgrade the stream; returns the reply to STARTTLS.

        ``force``: even where the engine would refuse it (not advertised, TLS already up); a
        220 to it still starts TLS, or the connection would wait in TLS_PENDING for good."""
        reply = await self.command(StartTLS(), force=force)
        if reply.code != 220 or self.conn.state is not State.TLS_PENDING:
            return reply
        if self._reader is not None:
            await self._reader  # it stops by itself at TLS_PENDING
        assert self.stream is not None
        try:
            info = await self.stream.start_tls(self._tls_context(), self._sni(),
                                               timeout=self.options.connect_timeout)
        except TransportError as exc:
            self._report_late_injection()
            self.transcript.note(f"TLS handshake failed: {exc}", kind="error",
                                 info=tls_failure_info(True, error=exc))
            self._finish(f"TLS failed: {exc}")
            raise TLSFailed(str(exc), Stage.TLS, reply) from exc
        self._report_late_injection()
        self.conn.start_tls_done()
        self._tls_established(info, reply)
        self._start_reader()
        return reply

    def _report_late_injection(self) -> None:
        """Show plaintext that came after the 220's batch, before the handshake took the line.

        It is the rest of an injection, or all of it when the 220 came alone. The engine takes
        it as trailing data (which so holds every injected byte), and the warning is given once:
        by the engine on the 220 when bytes came with it, else here on these bytes.
        """
        assert self.stream is not None
        later = self.stream.discarded_before_tls
        if not later:
            return
        warned = bool(self.conn.trailing_data)  # the engine warned on the 220 for these
        self.conn.receive_data(later)
        self.transcript.add("server", "raw", later, notes=() if warned else (INJECTION_WARNING,))
        if warned:
            self.transcript.note(f"{len(later)} more octets of that injection came before the "
                                 f"handshake ({len(self.conn.trailing_data)} in all, discarded)")
