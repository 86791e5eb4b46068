"""Plain TCP: IPv4/IPv6, reads and writes, EOF, resets, timeouts and connect errors."""

from __future__ import annotations

import asyncio
import socket
import struct
from concurrent.futures import ThreadPoolExecutor

import pytest

from smtpscope.transport import (
    RFC5321_TIMEOUTS,
    ConnectError,
    ConnectionLost,
    ReadTimeout,
    TransportError,
    open_connection,
)
from smtpscope.transport import addresses as addresses_module
from smtpscope.transport import tcp as tcp_module
from smtpscope.transport.errors import connect_failure


async def line_echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Greet, then echo each line back upper-cased until QUIT."""
    writer.write(b"220 ready\r\n")
    await writer.drain()
    while line := await reader.readline():
        if line.strip() == b"QUIT":
            writer.write(b"221 bye\r\n")
            await writer.drain()
            return
        writer.write(line.upper())
        await writer.drain()


async def read_until(stream, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = await stream.read(timeout=30)
        assert chunk, f"EOF before {marker!r}; got {data!r}"
        data += chunk
    return data


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_ipv4_conversation_and_eof(serve, host: str) -> None:
    port = await serve(line_echo)
    stream = await open_connection(host, port)
    try:
        assert stream.peer[1] == port
        assert stream.local[0] in ("127.0.0.1", "::1")
        assert stream.tls is None
        assert await read_until(stream, b"\r\n") == b"220 ready\r\n"
        await stream.write(b"noop\r\n")
        assert await read_until(stream, b"\r\n") == b"NOOP\r\n"
        await stream.write(b"QUIT\r\n")
        assert await read_until(stream, b"\r\n") == b"221 bye\r\n"
        assert await stream.read(timeout=30) == b""  # EOF
        assert await stream.read(timeout=30) == b""  # and stays EOF
        assert stream.at_eof
        assert stream.bytes_sent == len(b"noop\r\nQUIT\r\n")
    finally:
        await stream.close()


@pytest.mark.parametrize("host", ["::1", "[::1]"])
async def test_ipv6_literal_with_and_without_brackets(serve, ipv6, host: str) -> None:
    port = await serve(line_echo, host="::1")
    stream = await open_connection(host, port)
    try:
        assert stream.peer == ("::1", port)
        assert stream.peer_text == f"[::1]:{port}"
        assert await read_until(stream, b"\r\n") == b"220 ready\r\n"
    finally:
        await stream.close()


async def test_read_respects_max_bytes_and_reassembles(serve) -> None:
    async def chatty(reader, writer) -> None:
        writer.write(b"x" * 3_000_000)  # beyond the read buffer's high-water mark
        await writer.drain()

    port = await serve(chatty)
    stream = await open_connection("127.0.0.1", port)
    total = 0
    while chunk := await stream.read(max_bytes=1000, timeout=30):
        assert len(chunk) <= 1000
        total += len(chunk)
    assert total == 3_000_000
    await stream.close()


async def test_read_timeout_keeps_connection_usable(serve) -> None:
    release = asyncio.Event()

    async def slow(reader, writer) -> None:
        await release.wait()
        writer.write(b"220 late\r\n")
        await writer.drain()
        await reader.read()

    port = await serve(slow)
    stream = await open_connection("127.0.0.1", port)
    with pytest.raises(TimeoutError) as info:
        await stream.read(timeout=0.2)
    assert isinstance(info.value, ReadTimeout)
    assert str(info.value) == f"no data from 127.0.0.1:{port} within 0.2 s"
    assert not stream.closed
    release.set()
    assert await read_until(stream, b"\r\n") == b"220 late\r\n"
    await stream.close()


async def test_connection_reset_becomes_connection_lost(serve) -> None:
    async def resetter(reader, writer) -> None:
        sock = writer.get_extra_info("socket")
        await reader.readline()
        # SO_LINGER with a zero timeout makes close() send RST instead of FIN
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    port = await serve(resetter)
    stream = await open_connection("127.0.0.1", port)
    await stream.write(b"hello\r\n")
    with pytest.raises(ConnectionLost, match=rf"connection reset by 127\.0\.0\.1:{port}"):
        await stream.read(timeout=30)
    assert stream.closed
    with pytest.raises(ConnectionLost):
        await stream.write(b"more\r\n")
    await stream.close()


async def test_write_after_server_closed(serve) -> None:
    async def hang_up(reader, writer) -> None:
        writer.close()

    port = await serve(hang_up)
    stream = await open_connection("127.0.0.1", port)
    assert await stream.read(timeout=30) == b""
    await asyncio.sleep(0.05)  # let the transport notice and close itself
    with pytest.raises(ConnectionLost, match=rf"connection closed by 127\.0\.0\.1:{port}"):
        await stream.write(b"NOOP\r\n")
    await stream.close()


async def test_close_is_idempotent_and_blocks_writes(serve) -> None:
    port = await serve(line_echo)
    stream = await open_connection("127.0.0.1", port)
    await stream.close()
    await stream.close()
    assert stream.closed
    with pytest.raises(TransportError, match="closed"):
        await stream.write(b"NOOP\r\n")


async def test_close_wakes_a_pending_read_with_eof(serve) -> None:
    async def silent(reader, writer) -> None:
        await reader.read()

    port = await serve(silent)
    stream = await open_connection("127.0.0.1", port)
    pending = asyncio.create_task(stream.read(timeout=30))
    await asyncio.sleep(0.01)
    await stream.close()
    assert await asyncio.wait_for(pending, 20) == b""  # woken by close, not the 30 s timeout


async def test_concurrent_reads_are_refused(serve) -> None:
    async def silent(reader, writer) -> None:
        await reader.read()

    port = await serve(silent)
    stream = await open_connection("127.0.0.1", port)
    first = asyncio.create_task(stream.read(timeout=30))
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="already waiting"):
        await stream.read(timeout=30)
    first.cancel()
    await stream.close()


def _closed_port(family: int = socket.AF_INET, host: str = "127.0.0.1") -> int:
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


async def test_refused() -> None:
    port = _closed_port()
    with pytest.raises(ConnectError) as info:
        await open_connection("127.0.0.1", port)
    assert info.value.kind == "refused"
    assert str(info.value) == (
        f"connection refused by 127.0.0.1:{port} (nothing listening on that port?)"
    )


async def test_refused_on_every_address_names_them_all(ipv6) -> None:
    port = _closed_port()
    with pytest.raises(ConnectError) as info:
        await open_connection("localhost", port, family=socket.AF_UNSPEC)
    assert info.value.kind == "refused"
    assert "connection refused by" in str(info.value)


async def test_unknown_host() -> None:
    with pytest.raises(ConnectError) as info:
        await open_connection("no-such-host.invalid", 25, connect_timeout=10)
    assert info.value.kind == "resolve"
    assert str(info.value).startswith("cannot resolve host 'no-such-host.invalid': ")


async def test_connect_timeout_message(monkeypatch) -> None:
    # Loopback never drops SYNs reliably, so stand in a connect attempt that never finishes.
    async def hang(*args, **kwargs):
        await asyncio.sleep(3600)

    monkeypatch.setattr(tcp_module, "_connect_any", hang)
    with pytest.raises(ConnectError) as info:
        await open_connection("127.0.0.1", 2525, connect_timeout=0.1)
    assert info.value.kind == "timeout"
    assert str(info.value) == "no answer from 127.0.0.1:2525 within 0.1 s"


async def test_unreachable_message() -> None:
    err = connect_failure(
        OSError(101, "Network is unreachable"), "mx.test", 25, "192.0.2.1"
    )
    assert err.kind == "unreachable"
    assert str(err) == "cannot reach 192.0.2.1:25: network unreachable (Network is unreachable)"


def test_rfc5321_timeouts() -> None:
    assert RFC5321_TIMEOUTS == {
        "greeting": 300.0,
        "mail": 300.0,
        "rcpt": 300.0,
        "data_init": 120.0,
        "data_block": 180.0,
        "data_term": 600.0,
    }
    with pytest.raises(TypeError):
        RFC5321_TIMEOUTS["mail"] = 1  # type: ignore[index]


class _NoExecutor(ThreadPoolExecutor):
    """A default executor that fails the test if anything is handed to it."""

    def submit(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("an IP literal went through getaddrinfo's worker thread")


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "[::1]"])
async def test_ip_literal_connects_without_the_resolver_thread(serve, request,
                                                               host: str) -> None:
    if ":" in host:
        request.getfixturevalue("ipv6")
    port = await serve(line_echo, host=host.strip("[]"))
    asyncio.get_running_loop().set_default_executor(_NoExecutor())
    stream = await open_connection(host, port)
    try:
        assert stream.peer == (host.strip("[]"), port)
        assert await read_until(stream, b"\r\n") == b"220 ready\r\n"
    finally:
        await stream.close()


async def test_literal_of_the_other_family_still_fails_as_a_resolve_error() -> None:
    # -6 with an IPv4 literal: no short cut; getaddrinfo says there is no such address.
    assert addresses_module.literal("127.0.0.1", socket.AF_INET6) is None
    assert addresses_module.literal("mx.example.test", 0) is None
    assert addresses_module.literal("::1", 0) == [(socket.AF_INET6, "::1")]
    with pytest.raises(ConnectError) as info:
        await open_connection("127.0.0.1", 25, family=socket.AF_INET6, connect_timeout=10)
    assert info.value.kind == "resolve"
