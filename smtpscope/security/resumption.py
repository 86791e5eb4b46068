"""The resumption check (``probe --reconnect``): a second connection offering the saved session."""

from __future__ import annotations

import re
import socket
import ssl
from typing import Any


def _reply(sock: socket.socket, buffer: bytearray) -> bytes:
    """Read one whole (multiline) SMTP reply; returns its last line."""
    while True:
        for line in bytes(buffer).split(b"\r\n")[:-1]:
            if re.match(rb"^\d{3}(?: |$)", line):
                end = buffer.index(line + b"\r\n") + len(line) + 2
                del buffer[:end]
                return line
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        buffer += chunk


def _expect(sock: socket.socket, buffer: bytearray, code: bytes, what: str) -> None:
    line = _reply(sock, buffer)
    if not line.startswith(code):
        raise ConnectionError(f"{what}: {line[:80].decode('ascii', 'replace')}")


def check_resumption(address: str, port: int, *, implicit: bool, context: ssl.SSLContext,
                     sni: str | None, session: ssl.SSLSession | None, helo: str,
                     timeout: float) -> dict[str, Any]:
    """Connect again (blocking: run in a thread), offer ``session``, report whether it resumed."""
    if session is None:
        return {"attempted": False, "resumed": False,
                "error": "the server gave no session to resume (no ticket or session id)"}
    raw = socket.create_connection((address, port), timeout=timeout)
    buffer = bytearray()
    try:
        if not implicit:
            _expect(raw, buffer, b"220", "banner")
            raw.sendall(f"EHLO {helo}\r\n".encode())
            _expect(raw, buffer, b"250", "EHLO")
            raw.sendall(b"STARTTLS\r\n")
            _expect(raw, buffer, b"220", "STARTTLS")
        tls = context.wrap_socket(raw, server_hostname=sni, session=session)
        try:
            resumed = bool(tls.session_reused)
            version = tls.version()
            tls.settimeout(2.0)
            try:
                if implicit:
                    _reply(tls, buffer)
                tls.sendall(b"QUIT\r\n")
                _reply(tls, buffer)
            except OSError:
                pass  # the answer to the question is known; a rude close changes nothing
        finally:
            tls.close()
    except (OSError, ssl.SSLError, ConnectionError) as exc:
        raw.close()
        return {"attempted": True, "resumed": False, "error": str(exc)}
    return {"attempted": True, "resumed": resumed, "version": version, "error": None}
