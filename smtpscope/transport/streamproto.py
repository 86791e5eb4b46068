"""The asyncio protocol under a Stream: a read buffer, EOF/loss state and write flow control."""

from __future__ import annotations

import asyncio
from collections import deque

# Stop reading from the socket while this much is buffered and unread (back-pressure).
_HIGH_WATER = 1 << 20


class StreamProtocol(asyncio.Protocol):
    """Buffers received bytes and records EOF/loss; our own so STARTTLS can see unread bytes."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.eof = False
        self.lost = False
        self.exc: BaseException | None = None
        self._data_waiter: asyncio.Future[None] | None = None
        self._drain_waiters: deque[asyncio.Future[None]] = deque()
        self._write_paused = False
        self._read_paused = False
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > _HIGH_WATER and self.transport and not self._read_paused:
            self._read_paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return False  # let the transport close: SMTP has no use for a half-open connection

    def connection_lost(self, exc: BaseException | None) -> None:
        self.eof = self.lost = True
        self.exc = exc
        self._wake()
        while self._drain_waiters:
            waiter = self._drain_waiters.popleft()
            if not waiter.done():
                waiter.set_exception(exc or ConnectionResetError("connection closed"))
                waiter.exception()  # consumed by drain(); silence "never retrieved"
        if not self.closed.done():
            self.closed.set_result(None)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        while self._drain_waiters:
            waiter = self._drain_waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    def _wake(self) -> None:
        if self._data_waiter is not None and not self._data_waiter.done():
            self._data_waiter.set_result(None)

    def take(self, max_bytes: int) -> bytes:
        data = bytes(self.buffer[:max_bytes])
        del self.buffer[:max_bytes]
        if self._read_paused and len(self.buffer) <= _HIGH_WATER // 2 and self.transport:
            self._read_paused = False
            if not self.lost:
                self.transport.resume_reading()
        return data

    async def wait_for_data(self) -> None:
        if self._data_waiter is not None:
            raise RuntimeError("another read() is already waiting on this stream")
        self._data_waiter = asyncio.get_running_loop().create_future()
        try:
            await self._data_waiter
        finally:
            self._data_waiter = None

    async def drain(self) -> None:
        if self.lost:
            raise self.exc or ConnectionResetError("connection closed")
        if not self._write_paused:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._drain_waiters.append(waiter)
        await waiter
