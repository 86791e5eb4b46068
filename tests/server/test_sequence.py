"""Commands the session's state forbids: STARTTLS over TLS."""

from __future__ import annotations

import smtplib

from smtpscope.server.sequence import TLS_ALREADY_ACTIVE, out_of_sequence


def test_the_rules_as_a_table() -> None:
    assert out_of_sequence("STARTTLS", tls_active=True) == TLS_ALREADY_ACTIVE
    assert out_of_sequence("STARTTLS", tls_active=False) is None
    assert out_of_sequence("MAIL", tls_active=True) is None


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

