"""Each --fail stage produces its code, and probability 0/1 behave as promised."""

from __future__ import annotations

import smtplib
import socket

import pytest

from smtpscope.server.faults import Fault, parse_fault

from .conftest import PASSWORD, USER


def _until(client: smtplib.SMTP, stage: str) -> tuple[int, bytes]:
    """Drive a transaction up to ``stage`` and return that stage's reply."""
    if stage == "HELO":
        return client.helo()
    if stage == "EHLO":
        return client.ehlo()
    client.ehlo()
    if stage == "AUTH":
        client.user, client.password = USER, PASSWORD
        try:
            return client.auth("PLAIN", client.auth_plain)
        except smtplib.SMTPAuthenticationError as exc:
            return exc.smtp_code, exc.smtp_error
    if stage in ("RSET", "NOOP"):
        return client.docmd(stage)
    if stage == "VRFY":
        return client.verify("someone@example.test")
    if stage == "STARTTLS":
        return client.docmd("STARTTLS")
    reply = client.mail("a@example.test")
    if stage == "MAIL":
        return reply
    reply = client.rcpt("b@example.test")
    if stage == "RCPT":
        return reply
    assert stage == "DATA"
    return client.data(b"Subject: t\r\n\r\nbody\r\n")


@pytest.mark.parametrize(
    ("spec", "enhanced"),
    [
        ("MAIL:451", b"4.3.0"),
        ("RCPT:550", b"5.1.1"),
        ("RCPT:452:1", b"4.3.1"),
        ("DATA:552", b"5.3.4"),
        ("AUTH:535", b"5.7.8"),
        ("AUTH:454", b"4.7.0"),
        ("EHLO:554", b"5.7.1"),
        # A mailbox code names the recipient only at RCPT, the sender at MAIL.
        ("HELO:550", b"5.7.1"),
        ("MAIL:550", b"5.1.0"),
        ("MAIL:553", b"5.1.7"),
        ("RCPT:553", b"5.1.3"),
        ("DATA:550", b"5.7.1"),
        ("STARTTLS:454", b"4.7.0"),
        ("RSET:451", b"4.3.0"),
        ("NOOP:500", b"5.5.2"),
        ("VRFY:502", b"5.5.1"),
    ],
)
def test_each_stage_produces_its_code(serve, spec: str, enhanced: bytes) -> None:
    fault = parse_fault(spec)
    running = serve(users={USER: PASSWORD}, faults=(fault,))
    with smtplib.SMTP(running.host, running.port) as client:
        code, text = _until(client, fault.stage)
    assert code == fault.code
    assert text.startswith(enhanced + b" Injected failure")
    assert running.stored() == []
    notes = [e.text for e in running.wait_closed() if e.direction == "local"]
    assert f"injected failure {fault.spec} at {fault.stage}" in notes


def test_probability_zero_never_fails(serve) -> None:
    running = serve(faults=(Fault("RCPT", 451, 0.0), Fault("DATA", 552, 0.0)))
    with smtplib.SMTP(running.host, running.port) as client:
        for _ in range(20):
            assert client.sendmail("a@example.test", ["b@example.test"], b"x\r\n") == {}
    assert len(running.stored()) == 20


def test_probability_one_always_fails(serve) -> None:
    running = serve(faults=(Fault("RCPT", 451, 1.0),))
    with smtplib.SMTP(running.host, running.port) as client:
        client.ehlo()
        for _ in range(20):
            client.mail("a@example.test")
            assert client.rcpt("b@example.test")[0] == 451
            client.rset()


def test_fractional_probability_is_repeatable_with_a_seed(serve) -> None:
    outcomes = []
    for _ in range(2):
        running = serve(faults=(Fault("RCPT", 451, 0.5),), fault_seed=42)
        with smtplib.SMTP(running.host, running.port) as client:
            client.ehlo()
            client.mail("a@example.test")
            outcomes.append([client.rcpt(f"r{i}@example.test")[0] for i in range(30)])
    assert outcomes[0] == outcomes[1]
    assert set(outcomes[0]) == {250, 451}


def test_connect_fault_replaces_the_greeting_and_closes(serve) -> None:
    running = serve(faults=(Fault("CONNECT", 554),))
    with pytest.raises(smtplib.SMTPConnectError) as info:
        smtplib.SMTP(running.host, running.port, timeout=30)
    assert info.value.smtp_code == 554
    replies = [e for e in running.wait_closed() if e.kind == "reply"]
    assert [e.code for e in replies] == [554]  # instead of the 220 greeting


def test_refused_greeting_waits_for_quit(serve) -> None:
    # RFC 5321 3.1: after a 554 greeting the server must wait for QUIT, answering 503 to
    # anything else; closing at once broke the client's own QUIT (a reset, not a 221).
    running = serve(faults=(Fault("CONNECT", 554),))
    with socket.create_connection((running.host, running.port), timeout=30) as sock:
        replies = sock.makefile("rb")
        assert replies.readline().startswith(b"554 5.7.1 ")
        sock.sendall(b"EHLO client.test\r\nMAIL FROM:<a@example.test>\r\n")
        assert replies.readline().startswith(b"503 5.5.1 ")
        assert replies.readline().startswith(b"503 5.5.1 ")
        sock.sendall(b"QUIT\r\n")
        assert replies.readline().startswith(b"221")
    assert [e.code for e in running.wait_closed() if e.kind == "reply"] == [554, 503, 503, 221]


def test_421_greeting_closes_the_connection(serve) -> None:
    running = serve(faults=(Fault("CONNECT", 421),))
    with socket.create_connection((running.host, running.port), timeout=30) as sock:
        replies = sock.makefile("rb")
        assert replies.readline().startswith(b"421 4.3.2 ")
        assert replies.readline() == b""  # closed by the server


def test_421_closes_the_connection(serve) -> None:
    running = serve(faults=(Fault("MAIL", 421),))
    with smtplib.SMTP(running.host, running.port) as client:
        client.ehlo()
        assert client.mail("a@example.test")[0] == 421
        with pytest.raises(smtplib.SMTPServerDisconnected):
            client.noop()
    notes = [e.text for e in running.wait_closed() if e.direction == "local"]
    assert "closing the connection after the injected reply" in notes
