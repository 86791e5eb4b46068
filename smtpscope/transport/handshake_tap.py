"""Keep the first bytes the server sends in a TLS handshake that asyncio drives.

``loop.start_tls`` feeds what arrives straight into OpenSSL: when the server answers our
ClientHello with plaintext (a ``454`` after its 220 to STARTTLS, a banner on a plain port) all
that is left is OpenSSL's "wrong version number". The tap stands between the socket transport
and asyncio's TLS protocol and copies the first ``ANSWER_KEPT`` bytes on their way, so the
failure can show what the server said instead.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .errors import ANSWER_KEPT


class _TapProtocol(asyncio.BufferedProtocol):
    """asyncio's TLS protocol (a buffered one), with the first bytes it gets copied."""

    def __init__(self, inner: Any, tap: HandshakeTap) -> None:
        self._inner = inner
        self._tap = tap
        self._buffer: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._inner.connection_made(transport)

    def get_buffer(self, sizehint: int) -> Any:
        self._buffer = self._inner.get_buffer(sizehint)
        return self._buffer

    def buffer_updated(self, nbytes: int) -> None:
        if len(self._tap.received) < ANSWER_KEPT and self._buffer is not None:
            self._tap.received += bytes(memoryview(self._buffer)[:nbytes])[
                :ANSWER_KEPT - len(self._tap.received)]
        self._inner.buffer_updated(nbytes)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()  # type: ignore[no-any-return]

    def connection_lost(self, exc: Exception | None) -> None:
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


class HandshakeTap:
    """The socket transport as ``loop.start_tls`` is given it: every call passes through, and
    the protocol it installs is wrapped so that ``received`` gets the server's first bytes."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self.received = b""

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(_TapProtocol(protocol, self))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
