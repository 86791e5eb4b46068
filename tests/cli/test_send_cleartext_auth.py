"""``send --auth`` never hands readable credentials (PLAIN, LOGIN, OAuth tokens) to a connection
without TLS unless TLS was turned off on purpose: a refused or missing STARTTLS is what an
attacker on the path can cause, so it must not decide where the password goes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.cli.test_send_peculiar import FROM_TO

PASSWORD = "alice-secret-pw"


def downgrading_peer(seen: list[bytes], mechanisms: bytes) -> Any:
    """Offers STARTTLS and AUTH, then refuses STARTTLS (454), as a stripping box would."""
    def script(stream: Any) -> None:
        stream.write(b"220 peer.test ESMTP\r\n")
        stream.readline()
        stream.write(b"250-peer.test\r\n250-STARTTLS\r\n250 AUTH " + mechanisms + b"\r\n")
        while line := stream.readline():
            seen.append(line)
            verb = line.split()[0].upper()
            if verb == b"STARTTLS":
                stream.write(b"454 4.7.0 TLS not available\r\n")
            elif verb == b"AUTH":
                stream.write(b"235 2.7.0 ok\r\n")
            else:
                answer_one(stream, verb)
                if verb == b"QUIT":
                    return
    return script


def answer_one(stream: Any, verb: bytes) -> None:
    stream.write(b"221 bye\r\n" if verb == b"QUIT" else b"250 2.0.0 ok\r\n")


def auth_lines(seen: list[bytes]) -> list[bytes]:
    return [line for line in seen if line.upper().startswith(b"AUTH")]


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN", "auto"])
def test_refused_starttls_keeps_the_password_home(scripted_peer, cli, monkeypatch,
                                                  mechanism: str) -> None:
    seen: list[bytes] = []
    port = scripted_peer(downgrading_peer(seen, b"PLAIN LOGIN"))
    monkeypatch.setenv("PW", PASSWORD)
    result = cli("send", f"127.0.0.1:{port}", *FROM_TO, "--auth", mechanism, "--user",
                 "alice", "--password-env", "PW", "--json")
    assert result.code == 28, result.err
    data = json.loads(result.out)
    assert data["status"] == "not-secure" and data["stage"] == "auth"
    assert "--tls none" in data["hint"]
    assert auth_lines(seen) == [] and seen[-1].upper().startswith(b"QUIT")


def test_tls_none_sends_them_on_purpose(scripted_peer, cli, monkeypatch) -> None:
    seen: list[bytes] = []
    port = scripted_peer(downgrading_peer(seen, b"PLAIN"))
    monkeypatch.setenv("PW", PASSWORD)
    result = cli("send", f"127.0.0.1:{port}", *FROM_TO, "--auth", "PLAIN", "--user", "alice",
                 "--password-env", "PW", "--tls", "none", "--quit-after", "auth")
    assert result.code == 0, result.err
    assert [line.split()[:2] for line in auth_lines(seen)] == [[b"AUTH", b"PLAIN"]]
    assert not any(line.upper().startswith(b"STARTTLS") for line in seen)


def test_auto_takes_a_mechanism_that_hides_the_password(scripted_peer, cli,
                                                        monkeypatch) -> None:
    seen: list[bytes] = []
    port = scripted_peer(downgrading_peer(seen, b"PLAIN CRAM-MD5"))
    monkeypatch.setenv("PW", PASSWORD)
    cli("send", f"127.0.0.1:{port}", *FROM_TO, "--auth", "auto", "--user", "alice",
        "--password-env", "PW", "--quit-after", "auth")
    assert [line.split()[:2] for line in auth_lines(seen)] == [[b"AUTH", b"CRAM-MD5"]]


def test_auth_optional_goes_on_without_authenticating(scripted_peer, cli,
                                                      monkeypatch) -> None:
    seen: list[bytes] = []
    port = scripted_peer(downgrading_peer(seen, b"PLAIN"))
    monkeypatch.setenv("PW", PASSWORD)
    result = cli("send", f"127.0.0.1:{port}", *FROM_TO, "--auth-optional", "PLAIN", "--user",
                 "alice", "--password-env", "PW", "--quit-after", "rcpt")
    assert result.code == 0, result.err
    assert auth_lines(seen) == []
    assert any(line.upper().startswith(b"RCPT TO") for line in seen)
    assert "not sending AUTH PLAIN" in result.out
