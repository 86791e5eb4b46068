"""What the server's transcript shows for off-script bytes, sent over a raw socket."""

from __future__ import annotations

import socket
import ssl

import pytest

from smtpscope.record import read_recording


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


def test_bare_lf_in_data_is_flagged_and_kept(serve) -> None:
    running = serve()
    raw = Raw(running.host, running.port)
    for command in (b"EHLO raw.test\r\n", b"MAIL FROM:<a@x.test>\r\n", b"RCPT TO:<b@x.test>\r\n"):
        raw.send(command)
        assert raw.reply().startswith(b"250")
    raw.send(b"DATA\r\n")
    assert raw.reply().startswith(b"354")
    # "\n.\n" is the smuggling look-alike: aiosmtpd must treat it as text, not as the end.
    content = b"Subject: lf\r\n\r\nline one\nline two\n.\nMAIL FROM:<evil@x.test>\r\n"
    raw.send(content + b".\r\n")
    assert raw.reply().startswith(b"250")
    raw.send(b"QUIT\r\n")
    raw.reply()
    raw.close()
    assert running.stored() == [content]  # one message, bytes untouched
    entries = running.wait_closed()
    warnings = [e.text for e in entries if e.kind == "warning"]
    assert any(w.startswith("bare LF in the message content (3x)") for w in warnings)
    assert any("end-of-data look-alike" in w and r"\x0a.\x0a" in w for w in warnings)
    content_entries = [e for e in entries if e.kind == "content"]
    assert [e.raw for e in content_entries] == [content + b".\r\n"]
    # Recorded too, with the warnings after the content.
    recorded = read_recording(running.recordings()[0]).entries
    assert [e.kind for e in recorded if e.kind in ("content", "warning")][:2] == [
        "content",
        "warning",
    ]


def test_bare_lf_command_is_flagged(serve) -> None:
    running = serve()
    raw = Raw(running.host, running.port)
    raw.send(b"EHLO lf.test\n")
    assert raw.reply().startswith(b"250")
    raw.send(b"NOOP\r\r\n")
    assert raw.reply().startswith(b"250")
    raw.send(b"QUIT\r\n")
    raw.reply()
    raw.close()
    entries = running.wait_closed()
    commands = [e.raw for e in entries if e.kind == "command"]
    assert commands == [b"EHLO lf.test\n", b"NOOP\r\r\n", b"QUIT\r\n"]
    warnings = [e.text for e in entries if e.kind == "warning"]
    assert any(w.startswith("bare LF ends this command line") for w in warnings)
    assert any(w.startswith("bare CR inside the command line (1x)") for w in warnings)


def test_bytes_pipelined_after_starttls_are_reported(serve) -> None:
    running = serve()
    raw = Raw(running.host, running.port)
    raw.send(b"EHLO inject.test\r\n")
    raw.reply()
    raw.send(b"STARTTLS\r\nMAIL FROM:<injected@x.test>\r\n")
    assert raw.reply().startswith(b"220")
    context = running.client_context()
    tls = context.wrap_socket(raw.sock, server_hostname="localhost")
    tls.sendall(b"QUIT\r\n")
    assert tls.recv(100).startswith(b"221")
    tls.close()
    warnings = [e.text for e in running.wait_closed() if e.kind == "warning"]
    assert any("29 octets sent after STARTTLS" in w for w in warnings), warnings


def test_unterminated_bytes_at_close_are_reported(serve) -> None:
    running = serve()
    raw = Raw(running.host, running.port)
    raw.send(b"EHLO half.test")
    raw.close()
    warnings = [e.text for e in running.wait_closed() if e.kind == "warning"]
    assert any("14 octets from the client were never read" in w for w in warnings)


def test_tls_handshake_failure_after_starttls_is_noted(serve) -> None:
    running = serve()
    raw = Raw(running.host, running.port)
    raw.send(b"EHLO bad.test\r\nSTARTTLS\r\n")
    raw.reply()
    assert raw.reply().startswith(b"220")
    context = ssl.create_default_context()  # does not trust the server: handshake fails
    with pytest.raises(ssl.SSLCertVerificationError):
        context.wrap_socket(raw.sock, server_hostname="localhost")
    raw.close()
    entries = running.wait_closed()
    assert any(e.text.startswith("TLS handshake after STARTTLS failed") for e in entries)
