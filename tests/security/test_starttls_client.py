"""The blocking TLS-reaching client judges replies with the engine, never by its own parsing."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator

import pytest

from smtpscope.security.starttls_client import open_tls
from smtpscope.transport.errors import ConnectError, TLSError


def _serve(script: dict[bytes, bytes], banner: bytes) -> tuple[int, threading.Thread]:
    """A one-connection loopback server answering each command line from ``script``."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def run() -> None:
        with listener:
            conn, _ = listener.accept()
            with conn:
                conn.sendall(banner)
                buffer = b""
                while True:
                    data = conn.recv(4096)
                    if not data:
                        return
                    buffer += data
                    while b"\r\n" in buffer:
                        line, buffer = buffer.split(b"\r\n", 1)
                        verb = line.split(b" ", 1)[0].upper()
                        conn.sendall(script.get(verb, b"502 5.5.1 no\r\n"))
                        if verb == b"STARTTLS":
                            return  # no TLS behind it: the handshake meets a closed socket

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return port, thread


@pytest.fixture
def context() -> Iterator[ssl.SSLContext]:
    yield ssl.create_default_context()


def test_bytes_after_the_220_to_starttls_are_refused_as_injection(context) -> None:
    port, thread = _serve({b"EHLO": b"250-mx.test\r\n250 STARTTLS\r\n",
                           b"STARTTLS": b"220 go ahead\r\n250 injected\r\n"},
                          banner=b"220 mx.test ESMTP\r\n")
    with pytest.raises(ConnectionError, match="injection"):
        open_tls("127.0.0.1", port, implicit=False, context=context, sni=None,
                 helo="client.test", timeout=10)
    thread.join(10)


def test_a_refused_ehlo_names_the_reply(context) -> None:
    port, thread = _serve({b"EHLO": b"554-5.7.1 no\r\n554 5.7.1 go away\r\n"},
                          banner=b"220-mx.test\r\n220 ESMTP\r\n")
    with pytest.raises(ConnectionError, match=r"^EHLO: 554 5\.7\.1 no$"):
        open_tls("127.0.0.1", port, implicit=False, context=context, sni=None,
                 helo="client.test", timeout=10)
    thread.join(10)


def test_escape_sequences_in_a_refusal_do_not_reach_the_message(context) -> None:
    port, thread = _serve({b"EHLO": b"550 \x1b]2;PWNED\x07 no\r\n"},
                          banner=b"220 mx.test ESMTP\r\n")
    with pytest.raises(ConnectionError) as info:
        open_tls("127.0.0.1", port, implicit=False, context=context, sni=None,
                 helo="client.test", timeout=10)
    assert "\x1b" not in str(info.value) and "\x07" not in str(info.value)
    thread.join(10)


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


def test_a_refused_connect_is_a_connect_error_for_people(context) -> None:
    with pytest.raises(ConnectError) as info:
        open_tls("127.0.0.1", _free_port(), implicit=False, context=context, sni="mx.test",
                 helo="client.test", timeout=10)
    assert info.value.kind == "refused"
    assert str(info.value).startswith("connection refused by 127.0.0.1:")
    assert "Errno" not in str(info.value)


def test_a_failed_handshake_is_a_tls_error(context) -> None:
    # The server says 220 to STARTTLS, then answers the ClientHello with plain text.
    port, thread = _serve({b"EHLO": b"250-mx.test\r\n250 STARTTLS\r\n",
                           b"STARTTLS": b"220 go ahead\r\n"}, banner=b"220 mx.test ESMTP\r\n")
    with pytest.raises(TLSError) as info:
        open_tls("127.0.0.1", port, implicit=False, context=context, sni="mx.test",
                 helo="client.test", timeout=10)
    assert info.value.kind in ("protocol", "closed")
    assert str(info.value).startswith(f"TLS handshake with 127.0.0.1:{port} failed: ")
    thread.join(10)
