"""DebugServer on the test's own event loop: ports, stop with live clients, broken views."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from smtpscope.record import read_recording
from smtpscope.server import DebugServer, PortInUseError, ServerConfig
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
    assert await reader.read() == b""  # the server hung up on stop
    writer.close()
    recording = read_recording(next((tmp_path / "rec").glob("*.jsonl")))
    assert recording.footer is not None and recording.footer["messages"] == 0
    texts = [e.text for e in recording.entries]
    assert "server stopping: closing the connection" in texts


async def test_a_failing_view_does_not_break_the_session(
    tmp_path: Path, cert_paths: CertPaths
) -> None:
    def broken(session_id: int, entry: object) -> None:
        raise RuntimeError("view crashed")

    async with DebugServer(_config(tmp_path, cert_paths), on_entry=broken) as server:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        await reader.readline()
        writer.write(b"NOOP\r\n")
        assert await reader.readline() == b"250 OK\r\n"
        writer.close()
