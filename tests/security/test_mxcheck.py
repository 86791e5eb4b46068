"""``mx --check-tls``: each address of an MX is tried in turn, failures read as sentences."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator

import pytest
import trustme

from smtpscope.security.mxcheck import check_lines, check_mx_host


@pytest.fixture
def starttls_port() -> Iterator[tuple[int, str]]:
    """A one-connection STARTTLS server on 127.0.0.1 only; yields its port and CA file."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("mx.test").configure_cert(context)
    listener = socket.create_server(("127.0.0.1", 0))

    def run() -> None:
        conn, _ = listener.accept()
        with conn:
            reader = conn.makefile("rb")
            conn.sendall(b"220 mx.test ESMTP\r\n")
            reader.readline()
            conn.sendall(b"250-mx.test\r\n250 STARTTLS\r\n")
            reader.readline()
            conn.sendall(b"220 go ahead\r\n")
            with context.wrap_socket(conn, server_side=True) as tls:
                if tls.recv(4096).upper().startswith(b"QUIT"):
                    tls.sendall(b"221 bye\r\n")

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    with ca.cert_pem.tempfile() as cafile:
        yield listener.getsockname()[1], cafile
    listener.close()
    thread.join(10)


def test_the_next_address_is_tried_after_a_refusal(starttls_port: tuple[int, str]) -> None:
    port, cafile = starttls_port
    # Nothing listens on 127.0.0.2 at that port: the server is bound to 127.0.0.1 alone.
    result, pkix = check_mx_host("mx.test", ("127.0.0.2", "127.0.0.1"), port, cafile=cafile,
                                 timeout=10)
    assert result["address"] == "127.0.0.1" and result["error"] is None
    assert pkix is not None and pkix.status == "verified"
    assert [(f["address"], f["error_kind"]) for f in result["failed_before"]] == [
        ("127.0.0.2", "refused")]
    lines = check_lines([result])
    assert lines[0] == (f"mx.test [127.0.0.2]:{port}: no TLS: connection refused by "
                        f"127.0.0.2:{port} (nothing listening on that port?)")
    assert lines[1].startswith(f"mx.test [127.0.0.1]:{port}: TLSv1.")


def test_when_no_address_answers_each_failure_is_shown() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    result, pkix = check_mx_host("mx.test", ("127.0.0.2", "127.0.0.3"), port, timeout=10)
    assert pkix is None and result["address"] == "127.0.0.3"
    assert (result["error_step"], result["error_kind"]) == ("connect", "refused")
    assert [f["address"] for f in result["failed_before"]] == ["127.0.0.2"]
    lines = check_lines([result])
    assert [line.split(":")[0] for line in lines] == ["mx.test [127.0.0.2]", "mx.test [127.0.0.3]"]
    assert not any("Errno" in line for line in lines)


def _scripted(script: list[bytes | None]) -> tuple[socket.socket, threading.Thread]:
    """A one-connection server on 127.0.0.1: each item is sent after reading a line (the
    first at once); None ends the connection there; the listener stays silent past the end."""
    listener = socket.create_server(("127.0.0.1", 0))

    def run() -> None:
        conn, _ = listener.accept()
        with conn, conn.makefile("rb") as reader:
            for n, item in enumerate(script):
                if n:
                    reader.readline()
                if item is None:
                    return
                conn.sendall(item)
            reader.read()  # silent until the client gives up

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return listener, thread


BANNER, EHLO = b"220 mx.test ESMTP\r\n", b"250-mx.test\r\n250 STARTTLS\r\n"


@pytest.mark.parametrize(("script", "step", "kind"), [
    ([], "banner", "timeout"),
    ([None], "banner", "closed"),
    ([b"HTTP/1.1 400 Bad Request\r\n"], "banner", "protocol"),
    ([BANNER, None], "ehlo", "closed"),
    ([BANNER, EHLO, b"454 4.7.0 TLS not available due to local problem\r\n"], "starttls",
     "rejected"),
    ([BANNER, EHLO, b"220 go ahead\r\n250 injected\r\n"], "starttls", "injection"),
])
def test_a_failed_step_is_named_with_its_kind(script: list[bytes | None], step: str,
                                              kind: str) -> None:
    listener, thread = _scripted(script)
    with listener:
        result, pkix = check_mx_host("mx.test", ("127.0.0.1",), listener.getsockname()[1],
                                     timeout=0.5)
    thread.join(5)
    assert pkix is None
    assert (result["error_step"], result["error_kind"]) == (step, kind), result["error"]
    # The message names the step as people write it ("EHLO: ...", "STARTTLS: ...").
    assert result["error"].lower().startswith(f"{step}: ")
