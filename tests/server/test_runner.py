"""DebugServer on the test's own event loop: ports, stop with live clients, broken views."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from pathlib import Path

import pytest

from smtpscope.record import read_recording
from smtpscope.server import DebugServer, PortInUseError, ServerConfig, runner
from smtpscope.server.certs import CertPaths


def _config(tmp_path: Path, cert_paths: CertPaths, **extra: object) -> ServerConfig:
    settings: dict[str, object] = {
        "port": 0,
        "cert": cert_paths.cert,
        "key": cert_paths.key,
        "maildir": tmp_path / "maildir",
        "record_dir": tmp_path / "rec",
    }
    settings.update(extra)
    return ServerConfig(**settings)  # type: ignore[arg-type]


async def test_busy_port_raises_port_in_use(tmp_path: Path, cert_paths: CertPaths) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        server = DebugServer(_config(tmp_path, cert_paths, port=None, tls_port=port))
        with pytest.raises(PortInUseError) as info:
            await server.start()
    assert str(info.value) == (
        f"port {port} on 127.0.0.1 is already in use; pick another with --tls-port"
    )


async def test_stop_closes_live_sessions_and_finishes_recordings(
    tmp_path: Path, cert_paths: CertPaths
) -> None:
    async with DebugServer(_config(tmp_path, cert_paths, host="localhost")) as server:
        assert server.host == "127.0.0.1"
        reader, writer = await asyncio.open_connection(server.host, server.port)
        assert (await reader.readline()).startswith(b"220 localhost ESMTP smtpscope")
        writer.write(b"EHLO idle.test\r\n")
        while not (await reader.readline()).startswith(b"250 "):
            pass
    # RFC 5321 3.8: a 421 before the server hangs up on stop.
    assert await reader.read() == (
        b"421 4.3.2 localhost Service shutting down, closing transmission channel\r\n")
    writer.close()
    recording = read_recording(next((tmp_path / "rec").glob("*.jsonl")))
    assert recording.footer is not None and recording.footer["messages"] == 0
    assert recording.footer["outcome"] == "server stopped"
    texts = [e.text for e in recording.entries]
    assert texts[-3:] == ["server stopping: closing the connection",
                          "421 4.3.2 localhost Service shutting down, closing transmission channel",
                          "connection closed"]


async def test_stop_cuts_a_client_that_reads_nothing_after_the_grace(
    tmp_path: Path, cert_paths: CertPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "SHUTDOWN_GRACE", 0.3)
    server = DebugServer(_config(tmp_path, cert_paths))
    await server.start()
    assert server.port is not None and server.ctx is not None
    client = socket.socket()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    client.connect((server.host, server.port))
    client.setblocking(False)
    while not server.ctx.connections:
        await asyncio.sleep(0.01)
    (conn,) = server.ctx.connections
    conn.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    # The client never reads: replies pile up until the server holds some it cannot send, so
    # not even the 421 gets out, and a plain close would wait for this client forever.
    while conn.transport.get_write_buffer_size() < 2**16:
        with contextlib.suppress(BlockingIOError):
            client.send(b"EHLO stalled.test\r\n" * 16)
        await asyncio.sleep(0.001)
    started = asyncio.get_running_loop().time()
    await server.stop()
    assert asyncio.get_running_loop().time() - started < 2.0
    client.close()
    recording = read_recording(next((tmp_path / "rec").glob("*.jsonl")))
    assert recording.footer is not None and recording.footer["outcome"] == "server stopped"


def _tls_client(port: int, cafile: str, starttls: bool) -> ssl.SSLSocket:
    """A TLS session that then reads nothing, not even the server's close_notify."""
    sock = socket.create_connection(("localhost", port), timeout=10)
    if starttls:
        replies = sock.makefile("rb")
        replies.readline()
        sock.sendall(b"EHLO tls.test\r\n")
        while replies.readline()[3:4] == b"-":
            pass
        sock.sendall(b"STARTTLS\r\n")
        replies.readline()
    context = ssl.create_default_context(cafile=cafile)
    return context.wrap_socket(sock, server_hostname="localhost")


async def test_stop_ends_tls_sessions_whose_client_never_answers_the_close(
    tmp_path: Path, cert_paths: CertPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "SHUTDOWN_GRACE", 0.3)
    server = DebugServer(_config(tmp_path, cert_paths, tls_port=0))
    await server.start()
    assert server.port is not None and server.tls_port is not None
    cafile = str(cert_paths.cafile)
    clients = [await asyncio.to_thread(_tls_client, port, cafile, starttls)
               for port, starttls in ((server.port, True), (server.tls_port, False))]
    while not (server.ctx and len(server.ctx.connections) == 2):
        await asyncio.sleep(0.01)
    started = asyncio.get_running_loop().time()
    await server.stop()
    assert asyncio.get_running_loop().time() - started < 2.0
    for client in clients:
        client.close()
    for path in (tmp_path / "rec").glob("*.jsonl"):
        recording = read_recording(path)
        assert recording.footer is not None and recording.footer["outcome"] == "server stopped"


async def test_a_failing_view_does_not_break_the_session(
    tmp_path: Path, cert_paths: CertPaths
) -> None:
    def broken(session_id: int, entry: object) -> None:
        raise RuntimeError("view crashed")

    async with DebugServer(_config(tmp_path, cert_paths), on_entry=broken) as server:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        await reader.readline()
        writer.write(b"NOOP\r\n")
        assert await reader.readline() == b"250 2.0.0 OK\r\n"
        writer.close()
