"""Fixtures for the debug server tests: a shared certificate and a server in a thread."""

from __future__ import annotations

import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from smtpscope.record import Entry
from smtpscope.server import DebugServer, ServerConfig, ServerThread
from smtpscope.server.certs import CertPaths, ensure_certificate

USER, PASSWORD = "alice", "s3cret-Pa55"
# The trace headers serve writes above each message (smtpscope/server/trace.py).
TRACE = re.compile(rb"Return-Path: <[^\r\n]*>\r\nEnvelope-to: [^\r\n]*\r\n(?:\t[^\r\n]*\r\n)*"
                   rb"Received: from [^\r\n]*\r\n(?:\t[^\r\n]*\r\n)*")


class Raw:
    """A bare socket client: send exact bytes, read one reply."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port), timeout=30)
        self.file = self.sock.makefile("rb")
        self.reply()  # greeting

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def reply(self) -> bytes:
        lines = []
        while True:
            line = self.file.readline()
            lines.append(line)
            if len(line) < 4 or line[3:4] != b"-":
                return b"".join(lines)

    def close(self) -> None:
        self.file.close()
        self.sock.close()


@pytest.fixture(scope="session")
def cert_paths(tmp_path_factory: pytest.TempPathFactory) -> CertPaths:
    """One generated certificate for the whole run (generation costs an RSA key)."""
    return ensure_certificate(tmp_path_factory.mktemp("server-cert"))


@dataclass
class Running:
    """A started server plus what it reported."""

    server: DebugServer
    entries: list[tuple[int, Entry]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def port(self) -> int:
        assert self.server.port is not None
        return self.server.port

    @property
    def tls_port(self) -> int:
        assert self.server.tls_port is not None
        return self.server.tls_port

    @property
    def maildir(self) -> Path:
        return self.server.maildir

    def client_context(self) -> ssl.SSLContext:
        assert self.server.cert is not None
        return ssl.create_default_context(cafile=str(self.server.cert.cafile))

    def stored_files(self) -> list[bytes]:
        """The Maildir's files, as written."""
        return [p.read_bytes() for p in sorted((self.maildir / "new").iterdir())]

    def stored(self) -> list[bytes]:
        """The messages as the client sent them: each file without its trace headers."""
        messages = []
        for data in self.stored_files():
            trace = TRACE.match(data)
            assert trace is not None, data[:400]
            messages.append(data[trace.end():])
        return messages

    def session_entries(self, session_id: int = 1) -> list[Entry]:
        with self.lock:
            return [e for sid, e in self.entries if sid == session_id]

    def wait_closed(self, session_id: int = 1, timeout: float = 30.0) -> list[Entry]:
        """Entries of a session once its connection is closed (the server side lags)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            entries = self.session_entries(session_id)
            if any(e.text.startswith("connection closed") for e in entries):
                return entries
            time.sleep(0.02)
        raise AssertionError(f"session {session_id} did not close: {self.session_entries()}")

    def recordings(self) -> list[Path]:
        assert self.server.record_dir is not None
        return sorted(self.server.record_dir.glob("*.jsonl"))


@pytest.fixture
def serve(tmp_path: Path, cert_paths: CertPaths) -> Iterator[Callable[..., Running]]:
    """Start a server with ServerConfig overrides; it listens on free loopback ports."""
    threads: list[ServerThread] = []

    def start(**overrides: Any) -> Running:
        settings: dict[str, Any] = {
            "port": 0,
            "cert": cert_paths.cert,
            "key": cert_paths.key,
            "maildir": tmp_path / "maildir",
            "record_dir": tmp_path / "recordings",
        }
        settings.update(overrides)
        running: Running | None = None

        def on_entry(session_id: int, entry: Entry) -> None:
            assert running is not None
            with running.lock:
                running.entries.append((session_id, entry))

        thread = ServerThread(ServerConfig(**settings), on_entry=on_entry)
        running = Running(thread.server)
        thread.start()
        threads.append(thread)
        return running

    yield start
    for thread in threads:
        thread.stop()
