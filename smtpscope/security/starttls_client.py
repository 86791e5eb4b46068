"""A minimal blocking SMTP client that only reaches TLS: banner, EHLO, STARTTLS, handshake.

For the checks that need a second, separate connection (``probe --reconnect``, ``mx
--check-tls``); the conversation itself always goes through the session.
"""

from __future__ import annotations

import re
import socket
import ssl

_FINAL_LINE = re.compile(rb"^\d{3}(?: |$)")


def read_reply(sock: socket.socket, buffer: bytearray) -> bytes:
    """Read one whole (multiline) SMTP reply from ``sock``; returns its last line."""
    while True:
        for line in bytes(buffer).split(b"\r\n")[:-1]:
            if _FINAL_LINE.match(line):
                end = buffer.index(line + b"\r\n") + len(line) + 2
                del buffer[:end]
                return line
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        buffer += chunk


def expect(sock: socket.socket, buffer: bytearray, code: bytes, what: str) -> None:
    line = read_reply(sock, buffer)
    if not line.startswith(code):
        raise ConnectionError(f"{what}: {line[:80].decode('ascii', 'replace')}")


def open_tls(address: str, port: int, *, implicit: bool, context: ssl.SSLContext,
             sni: str | None, helo: str, timeout: float,
             session: ssl.SSLSession | None = None) -> tuple[ssl.SSLSocket, bytearray]:
    """Connect, get to TLS (STARTTLS unless ``implicit``) and return the socket and its buffer."""
    raw = socket.create_connection((address, port), timeout=timeout)
    buffer = bytearray()
    try:
        if not implicit:
            expect(raw, buffer, b"220", "banner")
            raw.sendall(f"EHLO {helo}\r\n".encode())
            expect(raw, buffer, b"250", "EHLO")
            raw.sendall(b"STARTTLS\r\n")
            expect(raw, buffer, b"220", "STARTTLS")
        return context.wrap_socket(raw, server_hostname=sni, session=session), buffer
    except BaseException:
        raw.close()
        raise


def quit_politely(tls: ssl.SSLSocket, buffer: bytearray, implicit: bool) -> None:
    """QUIT and close; a server that drops us instead changes nothing."""
    try:
        tls.settimeout(2.0)
        if implicit:
            read_reply(tls, buffer)  # the banner comes after the handshake
        tls.sendall(b"QUIT\r\n")
        read_reply(tls, buffer)
    except OSError:
        pass
    finally:
        tls.close()
