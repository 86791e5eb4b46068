"""The debug server against swaks, a widely used third-party SMTP test client."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from .conftest import PASSWORD, USER

SWAKS = shutil.which("swaks") or "/usr/bin/swaks"

pytestmark = [
    pytest.mark.swaks,
    pytest.mark.skipif(
        shutil.which("swaks") is None, reason="swaks is not installed (Debian package 'swaks')"
    ),
]

BODY = "Subject: from swaks\n\nHello from swaks.\n.leading dot\n"


def _swaks(port: int, *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [
        SWAKS, "--server", "127.0.0.1", "--port", str(port),
        "--from", "sender@example.test", "--to", "rcpt@example.test",
        "--helo", "swaks.test", "--data", BODY, "--timeout", "10",
        *extra,
    ]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)


def _expected() -> bytes:
    # swaks sends --data with CRLF line endings and always puts CRLF before its ".": that CRLF
    # is message content. The server keeps the unstuffed bytes exactly.
    return BODY.replace("\n", "\r\n").encode() + b"\r\n"


def test_plain_send(serve) -> None:
    running = serve()
    result = _swaks(running.port)
    assert result.returncode == 0, result.stdout + result.stderr
    assert running.stored() == [_expected()]


def test_starttls(serve) -> None:
    running = serve()
    result = _swaks(running.port, "-tls")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "TLS started" in result.stdout
    assert running.stored() == [_expected()]


def test_tls_on_connect(serve) -> None:
    running = serve(tls_port=0)
    result = _swaks(running.tls_port, "--tls-on-connect")
    assert result.returncode == 0, result.stdout + result.stderr
    assert running.stored() == [_expected()]
    assert any(e.kind == "tls" for e in running.wait_closed())


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN", "CRAM-MD5"])
def test_auth(serve, mechanism: str) -> None:
    running = serve(users={USER: PASSWORD})
    good = _swaks(running.port, "-a", mechanism, "-au", USER, "-ap", PASSWORD)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "235 2.7.0 Authentication successful" in good.stdout
    bad = _swaks(running.port, "-a", mechanism, "-au", USER, "-ap", "wrong")
    assert bad.returncode != 0
    assert "535 5.7.8" in bad.stdout
    assert running.stored() == [_expected()]


def test_fail_rcpt_reaches_swaks(serve) -> None:
    from smtpscope.server.faults import parse_fault

    running = serve(faults=(parse_fault("RCPT:451"),))
    result = _swaks(running.port)
    assert result.returncode != 0
    assert "451 4.3.0 Injected failure" in result.stdout
    assert running.stored() == []


def test_pipeline(serve) -> None:
    running = serve()
    result = _swaks(running.port, "--pipeline", "--to", "rcpt@example.test,other@example.test")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    batch = lines.index(" -> DATA")
    # swaks sent MAIL, both RCPTs and DATA before reading a reply (RFC 2920), and each reply
    # came back in order.
    assert lines[batch - 3:batch + 5] == [
        " -> MAIL FROM:<sender@example.test>", " -> RCPT TO:<rcpt@example.test>",
        " -> RCPT TO:<other@example.test>", " -> DATA", "<-  250 2.1.0 OK",
        "<-  250 2.1.5 OK", "<-  250 2.1.5 OK", "<-  354 End data with <CR><LF>.<CR><LF>"]
    assert running.stored() == [_expected()]
