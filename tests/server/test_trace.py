"""The trace headers above each stored message: what the session was, and no client can forge."""

from __future__ import annotations

import re
import smtplib
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy

import pytest

from smtpscope.server.trace import FOLD_AT, Arrival, trace_headers
from tests.server.conftest import PASSWORD, USER, Raw

WHEN = datetime(2026, 12, 1, 12, 1, 57, tzinfo=timezone(timedelta(hours=1)))
CONTENT = b"To: visible@x.test\r\nSubject: trace\r\n\r\nbody\r\n"


def _arrival(**changes: object) -> Arrival:
    settings: dict[str, object] = {
        "helo": "client.example", "extended": True, "client": "127.0.0.1",
        "server": "mx.example.test", "queue_id": "C3BD4510961", "mail_from": "s@example.org",
        "rcpt_tos": ("a@example.test",), "when": WHEN,
    }
    settings.update(changes)
    return Arrival(**settings)  # type: ignore[arg-type]


def _headers(data: bytes) -> list[tuple[str, str]]:
    """The header fields a mail reader finds in ``data`` (trace headers above CONTENT)."""
    message = message_from_bytes(data, policy=policy.compat32)
    return [(name, str(value)) for name, value in message.items()]


def test_the_trace_is_written_as_postfix_lays_it_out() -> None:
    assert trace_headers(_arrival()) == (
        b"Return-Path: <s@example.org>\r\n"
        b"Envelope-to: a@example.test\r\n"
        b"Received: from client.example ([127.0.0.1])\r\n"
        b"\tby mx.example.test (smtpscope) with ESMTP id C3BD4510961\r\n"
        b"\tfor <a@example.test>; Tue, 01 Dec 2026 12:01:57 +0100\r\n"
    )


@pytest.mark.parametrize(
    ("changes", "protocol"),
    [
        ({"extended": False}, "SMTP"),
        ({"extended": False, "tls": "using TLSv1.3"}, "SMTP"),  # RFC 3848 has no SMTPS
        ({}, "ESMTP"),
        ({"tls": "using TLSv1.3"}, "ESMTPS"),
        ({"authenticated": True}, "ESMTPA"),
        ({"tls": "using TLSv1.3", "authenticated": True}, "ESMTPSA"),
        ({"smtputf8": True}, "UTF8SMTP"),
        ({"smtputf8": True, "tls": "using TLSv1.2", "authenticated": True}, "UTF8SMTPSA"),
    ],
)
def test_with_names_the_session_as_rfc_3848_and_6531_register_it(
    changes: dict[str, object], protocol: str
) -> None:
    assert f" with {protocol} id ".encode() in trace_headers(_arrival(**changes))


def test_null_sender_ipv6_client_and_several_recipients() -> None:
    data = trace_headers(_arrival(mail_from="", client="::1",
                                  rcpt_tos=("a@example.test", "hidden@example.test")))
    assert data.startswith(b"Return-Path: <>\r\nEnvelope-to: a@example.test, hidden@example.test"
                           b"\r\nReceived: from client.example ([IPv6:::1])\r\n")
    # With several recipients "for" names none (Postfix's rule): the date follows the id.
    assert data.endswith(b" id C3BD4510961;\r\n\tTue, 01 Dec 2026 12:01:57 +0100\r\n")
    assert b"for <" not in data


def test_long_values_are_folded_and_every_header_still_parses() -> None:
    recipients = tuple(f"recipient-{n}@a-long-domain-name.example" for n in range(30))
    data = trace_headers(_arrival(
        rcpt_tos=recipients, server="mx." + "sub." * 12 + "example.test",
        tls="using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"))
    assert max(len(line) for line in data.split(b"\r\n")) <= FOLD_AT
    headers = dict(_headers(data + CONTENT))
    assert headers["Envelope-to"].replace("\r\n\t", " ") == ", ".join(recipients)


@pytest.mark.parametrize(
    "helo",
    [
        "evil.test\r\nBcc: injected@evil.test",  # refused on the wire; the builder holds too
        "evil.test\nX-Injected: 1",
        "nul\x00.test",
        "a b\tc;by evil.test",
        "x)(y\\z",
        "my_host",
        "h" * 300,
        "[127.0.0.1",
        "",
    ],
)
def test_a_helo_that_is_no_domain_gives_the_address_and_a_plain_comment(helo: str) -> None:
    data = trace_headers(_arrival(helo=helo))
    headers = _headers(data + CONTENT)
    assert [name for name, _ in headers] == ["Return-Path", "Envelope-to", "Received", "To",
                                             "Subject"]
    received = headers[2][1]
    assert received.startswith("from [127.0.0.1] ([127.0.0.1])\r\n\t(helo=")
    comment = received.split("\r\n\t")[1]
    assert re.fullmatch(r"\(helo=[\x21-\x27\x2a-\x5b\x5d-\x7e]{0,64}(\.\.\.)?\)", comment)
    assert max(len(line) for line in data.split(b"\r\n")) <= FOLD_AT


@pytest.mark.parametrize(
    ("helo", "written"),
    [
        ("client.example", "client.example"),
        ("[192.0.2.7]", "[192.0.2.7]"),
        ("[IPv6:2001:db8::7]", "[IPv6:2001:db8::7]"),
        ("bücher.example", "xn--bcher-kva.example"),  # its A-labels: ASCII for any reader
        ("127.0.0.1", "127.0.0.1"),  # no literal, but RFC 5321's Domain grammar allows it
    ],
)
def test_a_helo_domain_is_written_as_rfc_5321_allows_it(helo: str, written: str) -> None:
    assert trace_headers(_arrival(helo=helo)).split(b"\r\n")[2] == (
        f"Received: from {written} ([127.0.0.1])".encode())


def test_control_characters_in_addresses_never_reach_a_header() -> None:
    data = trace_headers(_arrival(mail_from="s@x.test>\r\nBcc: <e@evil.test",
                                  rcpt_tos=("a@x.test\r\nX-Injected: 1",)))
    names = [name for name, _ in _headers(data + CONTENT)]
    assert names == ["Return-Path", "Envelope-to", "Received", "To", "Subject"]


# -- over the wire ----------------------------------------------------------------------------


def _send(raw: Raw, *commands: bytes) -> bytes:
    reply = b""
    for command in commands:
        raw.send(command)
        reply = raw.reply()
        assert reply[:1] in (b"2", b"3"), (command, reply)
    return reply


def test_a_hostile_helo_is_kept_out_of_the_stored_headers(serve) -> None:
    running = serve()
    raw = Raw(running.host, running.port)
    reply = _send(raw, b"EHLO evil.test (x)\tBcc: <spy@evil.test>;\r\n",
                  b"MAIL FROM:<s@x.test>\r\n", b"RCPT TO:<visible@x.test>\r\n", b"DATA\r\n",
                  CONTENT + b".\r\n")
    raw.close()
    [data] = running.stored_files()
    assert [name for name, _ in _headers(data)] == ["Return-Path", "Envelope-to", "Received",
                                                     "To", "Subject"]
    assert data.startswith(
        b"Return-Path: <s@x.test>\r\nEnvelope-to: visible@x.test\r\n"
        b"Received: from [127.0.0.1] ([127.0.0.1])\r\n"
        b"\t(helo=evil.test??x??Bcc:?<spy@evil.test>;)\r\n")
    queue_id = re.fullmatch(rb"250 2\.0\.0 Ok: queued as ([0-9A-F]+) .*\r\n", reply)
    assert queue_id is not None
    assert b" with ESMTP id " + queue_id[1] + b"\r\n\tfor <visible@x.test>; " in data
    assert running.stored() == [CONTENT]


def test_bcc_recipients_are_named_only_by_the_envelope(serve) -> None:
    running = serve()
    raw = Raw(running.host, running.port)
    # One message to a Bcc recipient alone, one to the visible recipient and a Bcc one.
    _send(raw, b"HELO client.test\r\n", b"MAIL FROM:<>\r\n", b"RCPT TO:<hidden@x.test>\r\n",
          b"DATA\r\n", CONTENT + b".\r\n")
    _send(raw, b"MAIL FROM:<s@x.test>\r\n", b"RCPT TO:<visible@x.test>\r\n",
          b"RCPT TO:<hidden@x.test>\r\n", b"DATA\r\n", CONTENT + b".\r\n")
    raw.close()
    alone, both = (dict(_headers(data)) for data in running.stored_files())
    assert alone["Return-Path"] == "<>"
    assert alone["Envelope-to"] == "hidden@x.test"
    assert alone["Received"].startswith("from client.test ([127.0.0.1])\r\n\tby localhost "
                                        "(smtpscope) with SMTP id ")
    assert "\r\n\tfor <hidden@x.test>; " in alone["Received"]
    assert both["Envelope-to"] == "visible@x.test, hidden@x.test"
    assert "for <" not in both["Received"]
    assert running.stored() == [CONTENT, CONTENT]
    # The live view names the null sender as it was sent, and counts what the client sent.
    notes = [e.text for e in running.wait_closed()]
    assert any(n.startswith(f"stored {len(CONTENT)} octets from <> to <hidden@x.test> as ")
               for n in notes)


@pytest.mark.parametrize("implicit", [False, True], ids=["starttls", "implicit-tls"])
def test_tls_and_auth_are_in_the_received_line(serve, implicit: bool) -> None:
    running = serve(users={USER: PASSWORD}, tls_port=0)
    context = running.client_context()
    if implicit:
        client: smtplib.SMTP = smtplib.SMTP_SSL(running.host, running.tls_port,
                                                local_hostname="client.test", context=context)
    else:
        client = smtplib.SMTP(running.host, running.port, local_hostname="client.test")
        client.starttls(context=context)
    with client:
        client.login(USER, PASSWORD)
        client.sendmail("s@x.test", ["visible@x.test"], CONTENT)
    [data] = running.stored_files()
    received = dict(_headers(data))["Received"]
    assert re.fullmatch(
        r"from client\.test \(\[127\.0\.0\.1\]\)\r\n"
        r"\t\(using TLSv1\.[23] with cipher [A-Z0-9_-]+ \((\d+)/\d+ bits\)\)\r\n"
        r"\tby localhost \(smtpscope\) with ESMTPSA id [0-9A-F]{12}\r\n"
        r"\tfor <visible@x\.test>; \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}", received)
    assert USER.encode() not in data and PASSWORD.encode() not in data


def test_no_trace_stores_the_bytes_alone(serve) -> None:
    running = serve(trace=False)
    raw = Raw(running.host, running.port)
    _send(raw, b"EHLO client.test\r\n", b"MAIL FROM:<s@x.test>\r\n",
          b"RCPT TO:<visible@x.test>\r\n", b"DATA\r\n", CONTENT + b".\r\n")
    raw.close()
    assert running.stored_files() == [CONTENT]


def test_no_trace_is_an_option_of_serve() -> None:
    from smtpscope.cli import build_parser
    from smtpscope.cli.serve import build_config

    def config(*argv: str) -> bool:
        return build_config(build_parser(only="serve").parse_args(["serve", *argv])).trace

    assert config() and not config("--no-trace")
