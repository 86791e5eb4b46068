"""Commands the session's state forbids (STARTTLS over TLS, AUTH inside a mail transaction)
and commands serve does not know."""

from __future__ import annotations

import base64
import smtplib

from smtpscope.server.faults import parse_fault
from smtpscope.server.sequence import (
    AUTH_IN_TRANSACTION,
    AUTH_NOT_ENABLED,
    MAX_UNRECOGNIZED,
    TLS_ALREADY_ACTIVE,
    out_of_sequence,
)

from .conftest import PASSWORD, USER, Raw

PLAIN = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()


def test_the_rules_as_a_table() -> None:
    assert out_of_sequence("STARTTLS", tls_active=True, in_transaction=False) == TLS_ALREADY_ACTIVE
    assert out_of_sequence("STARTTLS", tls_active=False, in_transaction=True) is None
    assert out_of_sequence("AUTH", tls_active=False, in_transaction=True) == AUTH_IN_TRANSACTION
    assert out_of_sequence("AUTH", tls_active=True, in_transaction=False) is None
    assert out_of_sequence("MAIL", tls_active=True, in_transaction=True) is None
    assert out_of_sequence("AUTH", tls_active=False, in_transaction=True,
                           helo_only=True) == AUTH_NOT_ENABLED
    assert out_of_sequence("MAIL", tls_active=False, in_transaction=False, helo_only=True) is None


def test_starttls_after_starttls_is_refused_and_the_session_goes_on(serve) -> None:
    running = serve()
    with smtplib.SMTP(running.host, running.port) as client:
        client.starttls(context=running.client_context())
        client.ehlo()
        # aiosmtpd answered 220 and wrapped a second TLS layer in the first: the client hung.
        assert client.docmd("STARTTLS") == (554, b"5.5.1 Error: TLS already active")
        assert client.noop()[0] == 250
        refused = client.sendmail("a@example.test", ["b@example.test"], b"Subject: x\r\n\r\nx\r\n")
        assert refused == {}
    assert len(running.stored()) == 1


def test_starttls_on_the_implicit_tls_port_is_refused_as_tls_already_active(serve) -> None:
    running = serve(tls_port=0)
    with smtplib.SMTP_SSL(running.host, running.tls_port,
                          context=running.client_context()) as client:
        client.ehlo()
        assert client.docmd("STARTTLS") == (554, b"5.5.1 Error: TLS already active")


def test_auth_during_a_transaction_is_refused_with_503(serve) -> None:
    running = serve(users={USER: PASSWORD})
    with smtplib.SMTP(running.host, running.port) as client:
        client.ehlo()
        assert client.mail("a@example.test")[0] == 250
        # RFC 4954 4: MUST be rejected with 503; aiosmtpd said 235 and the transaction went
        # on, its Received line claiming an authenticated submission (ESMTPA).
        assert client.docmd("AUTH", f"PLAIN {PLAIN}") == (
            503, b"5.5.1 Error: MAIL transaction in progress")
        assert client.rset()[0] == 250
        assert client.docmd("AUTH", f"PLAIN {PLAIN}")[0] == 235
    entries = running.wait_closed()
    # Refused before any credential was checked: no failed attempt, no delay.
    assert not any("failed AUTH attempt" in e.text for e in entries)
    assert not any(PLAIN.encode() in e.raw or PLAIN in e.text for e in entries)


def test_auth_after_helo_is_not_enabled_and_not_a_failed_attempt(serve) -> None:
    running = serve(users={USER: PASSWORD})
    with smtplib.SMTP(running.host, running.port) as client:
        client.helo()
        # RFC 4954 3: AUTH is offered in the EHLO reply only. aiosmtpd said "500 Error: command
        # 'AUTH' not recognized" and counted a failed attempt: a pause, and a close after four.
        for _ in range(5):
            assert client.docmd("AUTH", f"PLAIN {PLAIN}") == (
                503, b"5.5.1 Error: authentication not enabled")
        assert client.noop()[0] == 250
        client.ehlo()
        assert client.docmd("AUTH", f"PLAIN {PLAIN}")[0] == 235
    entries = running.wait_closed()
    assert not any("failed AUTH attempt" in e.text for e in entries)


def test_too_many_unknown_commands_end_with_421_and_a_close(serve) -> None:
    running = serve()
    raw = Raw(running.host, running.port)
    raw.send(b"HELP XYZZY\r\n")  # HELP still explains known verbs only, and counts nothing
    assert raw.reply().startswith(b"501 5.5.4 Supported commands: ")
    for _ in range(MAX_UNRECOGNIZED - 1):
        raw.send(b"XYZZY\r\n")
        assert raw.reply() == b'500 5.5.2 Error: command "XYZZY" not recognized\r\n'
    raw.send(b"XYZZY\r\n")
    # RFC 5321 3.8: a server that hangs up says 421; aiosmtpd said 502, "not implemented".
    assert raw.reply() == (b"421 4.7.0 localhost Error: too many unrecognized commands, "
                           b"closing\r\n")
    assert raw.file.read() == b""  # closed
    raw.close()
    notes = [e.text for e in running.wait_closed() if e.direction == "local"]
    assert f"{MAX_UNRECOGNIZED} unrecognized commands: closing the connection" in notes


def test_unknown_commands_after_a_refused_greeting_get_the_quit_only_answer(serve) -> None:
    running = serve(faults=(parse_fault("CONNECT:554"),))
    raw = Raw(running.host, running.port)
    raw.send(b"XYZZY\r\n")
    assert raw.reply().startswith(b"503 5.5.1 Bad sequence of commands: the greeting refused")
    raw.close()
