"""The blocking TLS-reaching client judges replies with the engine, never by its own parsing."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator

import pytest

from smtpscope.security.starttls_client import open_tls


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
