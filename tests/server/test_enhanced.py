"""RFC 2034/3463 enhanced status codes on every reply after the greeting, as Postfix sends them."""

from __future__ import annotations

import re
import smtplib
import ssl

from smtpscope.server.enhanced import as_sent, enhanced_code, with_enhanced

from .conftest import Raw

# RFC 2034 4: "<code> <class>.<subject>.<detail> ", the class agreeing with the reply code.
ENHANCED = re.compile(rb"^([245])\d\d[ -]\1\.\d{1,3}\.\d{1,3}( |\r\n)")


def test_the_code_comes_from_the_verb_and_the_reply_code() -> None:
    assert with_enhanced("250 OK", "MAIL") == "250 2.1.0 OK"
    assert with_enhanced("250 OK", "RCPT") == "250 2.1.5 OK"
    assert with_enhanced("250 OK", "RSET") == "250 2.0.0 OK"
    assert with_enhanced("221 Bye", "QUIT") == "221 2.0.0 Bye"
    assert with_enhanced("503 Error: need MAIL command", "RCPT") == (
        "503 5.5.1 Error: need MAIL command")
    assert with_enhanced("500 Command line too long", None) == "500 5.5.2 Command line too long"
    assert with_enhanced("504 x", "AUTH") == "504 5.5.4 x"
    assert with_enhanced("250", "NOOP") == "250 2.0.0"
    assert enhanced_code("MAIL", 553) == "5.1.7" and enhanced_code("RCPT", 553) == "5.1.3"
    assert enhanced_code(None, 599) == "5.0.0"


def test_a_code_already_there_is_kept_and_copied_to_every_line() -> None:
    assert with_enhanced("503 5.5.1 Error: x", "AUTH") == "503 5.5.1 Error: x"
    assert with_enhanced("250-one\r\n250-2.1.0 two\r\n250 three", "MAIL") == (
        "250-2.1.0 one\r\n250-2.1.0 two\r\n250 2.1.0 three")
    assert with_enhanced("214-a\r\n214 b", "HELP") == "214-2.0.0 a\r\n214 2.0.0 b"


def test_no_code_where_rfc_2034_defines_none() -> None:
    # 3xx replies, and any reply to HELO or EHLO (Postfix: "501 Syntax: EHLO hostname").
    assert with_enhanced("354 End data with <CR><LF>.<CR><LF>", "DATA") == (
        "354 End data with <CR><LF>.<CR><LF>")
    assert with_enhanced("334 VXNlcm5hbWU6", "AUTH") == "334 VXNlcm5hbWU6"
    assert with_enhanced("501 Syntax: EHLO hostname", "EHLO") == "501 Syntax: EHLO hostname"
    assert with_enhanced("250 localhost", "HELO") == "250 localhost"


def test_every_reply_of_a_session_carries_one(serve) -> None:
    running = serve()
    raw = Raw(running.host, running.port)
    raw.send(b"EHLO ok.test\r\n")
    assert b"250-ENHANCEDSTATUSCODES\r\n" in raw.reply()
    commands = [b"NOOP", b"RSET", b"HELP", b"RCPT TO:<a@x.test>", b"", b"XYZZY", b"EXPN x",
                b"VRFY x", b"MAIL FROM:<a@x.test>", b"MAIL FROM:<b@x.test>", b"RCPT TO:<b@x.test>",
                b"DATA x", b"AUTH", b"STARTTLS x", b"A" * 600]
    for command in commands:
        raw.send(command + b"\r\n")
        reply = raw.reply()
        assert ENHANCED.match(reply), (command, reply)
    raw.send(b"DATA\r\n")
    assert raw.reply() == b"354 End data with <CR><LF>.<CR><LF>\r\n"
    raw.send(b"Subject: x\r\n\r\nx\r\n.\r\nQUIT\r\n")
    assert raw.reply().startswith(b"250 2.0.0 Ok: queued as ")
    assert raw.reply() == b"221 2.0.0 Bye\r\n"
    raw.close()


def test_starttls_answers_as_postfix_and_smtplib_sends(serve) -> None:
    running = serve()
    with smtplib.SMTP(running.host, running.port) as client:
        client.ehlo()
        assert client.has_extn("enhancedstatuscodes")
        assert client.docmd("STARTTLS") == (220, b"2.0.0 Ready to start TLS")
        client.sock = running.client_context().wrap_socket(
            client.sock, server_hostname="localhost")
        client.file = None
        client.ehlo()
        assert isinstance(client.sock, ssl.SSLSocket)
        assert client.mail("a@x.test") == (250, b"2.1.0 OK")
        assert client.rcpt("b@x.test") == (250, b"2.1.5 OK")
        code, text = client.data(b"Subject: x\r\n\r\nx\r\n")
        assert code == 250 and text.startswith(b"2.0.0 Ok: queued as ")
    assert len(running.stored()) == 1


def test_help_is_answered_214() -> None:
    # RFC 5321 4.2 and 4.3.2: 214 "help message"; aiosmtpd answered 250. Its text is kept.
    assert as_sent("250 Supported commands: DATA HELO", "HELP") == (
        "214 2.0.0 Supported commands: DATA HELO")
    assert as_sent("501 Supported commands: DATA", "HELP") == "501 5.5.4 Supported commands: DATA"
    assert as_sent("250 OK", "NOOP") == "250 2.0.0 OK"
