"""A server that says 220 to STARTTLS and then answers the ClientHello with plaintext: the
failure says so, and shows what it said, in probe (text and JSON, both transports) and send."""

from __future__ import annotations

import json
from typing import Any

import pytest

REFUSAL = b"454 4.7.0 TLS not available due to local problem\r\n"


def _plaintext_after_starttls(stream: Any) -> None:
    stream.write(b"220 fake ESMTP\r\n")
    for line in stream:
        verb = line.split(maxsplit=1)[0].upper() if line.strip() else b""
        if verb == b"EHLO":
            stream.write(b"250-fake\r\n250 STARTTLS\r\n")
        elif verb == b"STARTTLS":
            stream.write(b"220 go ahead\r\n")
            header = stream.read(5)  # the ClientHello's record: the handshake has begun
            stream.read(int.from_bytes(header[3:5], "big"))
            stream.write(REFUSAL + b"\x1b[2J[bold]x[/]\r\n")
            stream.read()  # until the client hangs up: closing first could reset the line
            return
        else:
            stream.write(b"250 ok\r\n")


SHOWN = '"454 4.7.0 TLS not available due to local problem"…'


@pytest.mark.parametrize("targets", [1, 2])  # one target: the blocking socket; two: asyncio
def test_probe_shows_the_plaintext_answer_to_the_handshake(cli, scripted_peer,
                                                           targets: int) -> None:
    port = scripted_peer(_plaintext_after_starttls)
    args = [f"127.0.0.1:{port}"] * targets
    result = cli("probe", *args, "--timeout", "5")
    assert result.code == 29
    shown = f": {SHOWN}"
    assert (f"  error at tls: TLS handshake with 127.0.0.1:{port} failed: the server accepted "
            f"STARTTLS, then answered the TLS handshake with plaintext{shown}\n" in result.out)
    assert "implicit-TLS port" not in result.out + result.err
    assert "  try: the server " in result.out and "--tls none" in result.out
    assert "\x1b" not in result.out + result.err
    data = json.loads(cli("probe", *args, "--timeout", "5", "--json").out.splitlines()[0])
    assert data["status"] == "tls-error" and data["error"].endswith(f"plaintext{shown}")


def test_send_shows_the_plaintext_answer_to_the_handshake(cli, scripted_peer) -> None:
    port = scripted_peer(_plaintext_after_starttls)
    argv = ["send", f"127.0.0.1:{port}", "--from", "a@b.test", "--to", "c@d.test",
            "--timeout", "5"]
    result = cli(*argv)
    assert result.code == 29
    assert f"answered the TLS handshake with plaintext: {SHOWN}" in result.err
    data = json.loads(cli(*argv, "--json").out)
    assert data["error"].endswith(f"plaintext: {SHOWN}")
    assert "\x1b" not in result.out + result.err
