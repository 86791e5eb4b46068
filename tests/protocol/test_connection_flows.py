"""Connection flows: AUTH, DATA and content, BDAT, RSET, raw sends, LMTP."""

from __future__ import annotations

import pytest

from smtpscope.protocol import (
    Auth,
    AuthCancel,
    AuthResponse,
    Bdat,
    Connection,
    Data,
    Ehlo,
    Helo,
    Kind,
    Lhlo,
    LocalProtocolError,
    MailFrom,
    MessageContent,
    Noop,
    Raw,
    RcptTo,
    Rset,
    StartTLS,
    State,
    Xclient,
    bdat_chunks,
)

from .servers import (
    POSTFIX_EHLO,
    POSTFIX_EHLO_TLS,
)
from .util import at, feed, one


def test_data_fails_when_no_recipient_accepted() -> None:
    conn = at("MAIL")
    conn.send(RcptTo("x@example.test"))
    conn.send(Data())
    one(conn, b"550 5.1.1 unknown\r\n")
    one(conn, b"554 5.5.1 Error: no valid recipients\r\n")
    assert conn.state is State.MAIL


def test_auth_login_loop() -> None:
    conn = at("IDENT", POSTFIX_EHLO_TLS)
    conn.send(Auth("LOGIN"))
    reply = one(conn, b"334 VXNlcm5hbWU6\r\n")
    assert reply.is_intermediate and reply.expected
    assert conn.state is State.AUTH and conn.in_auth and conn.auth_mechanism == "LOGIN"
    with pytest.raises(LocalProtocolError, match="AUTH exchange is in progress"):
        conn.send(Noop())
    assert conn.send(AuthResponse(b"alice")) == b"YWxpY2U=\r\n"
    one(conn, b"334 UGFzc3dvcmQ6\r\n")
    assert conn.send(AuthResponse(b"secret")) == b"c2VjcmV0\r\n"
    reply = one(conn, b"235 2.7.0 Authentication successful\r\n")
    assert reply.expected
    assert conn.state is State.IDENT and conn.authenticated and conn.auth_mechanism == "LOGIN"
    # The transaction may start right away: nothing still thinks an exchange is under way.
    assert conn.send(MailFrom("alice@example.test")) == b"MAIL FROM:<alice@example.test>\r\n"


def test_auth_failure_returns() -> None:
    conn = at("IDENT", POSTFIX_EHLO_TLS)
    conn.send(Auth("PLAIN", b"\0alice\0wrong"))
    reply = one(conn, b"535 5.7.8 Error: authentication failed: (reason unavailable)\r\n")
    assert reply.expected is False
    assert conn.state is State.IDENT and not conn.authenticated and conn.auth_mechanism is None


def test_auth_cancel() -> None:
    conn = at("IDENT", POSTFIX_EHLO_TLS)
    conn.send(Auth("CRAM-MD5"))
    one(conn, b"334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n")
    assert conn.send(AuthCancel()) == b"*\r\n"
    reply = one(conn, b"501 5.7.0 Authentication aborted\r\n")
    assert reply.expected and conn.state is State.IDENT and not conn.in_auth


def test_auth_empty_challenge_and_empty_response() -> None:
    conn = at("IDENT", POSTFIX_EHLO_TLS)
    conn.send(Auth("SCRAM-SHA-256"))
    reply = one(conn, b"334 \r\n")
    assert reply.lines == (b"",)
    assert conn.send(AuthResponse(b"")) == b"\r\n"


def test_data_and_content() -> None:
    conn = at("RCPT")
    conn.send(Data())
    with pytest.raises(LocalProtocolError, match="354"):
        conn.send_content(MessageContent(b"x"))
    one(conn, b"354 End data with <CR><LF>.<CR><LF>\r\n")
    wire = conn.send(MessageContent(b"Subject: t\n\n.leading dot\n"))
    assert wire == b"Subject: t\r\n\r\n..leading dot\r\n.\r\n"
    reply = one(conn, b"250 2.0.0 Ok: queued as 4XyZ\r\n")
    assert isinstance(reply.command, MessageContent)
    assert conn.state is State.IDENT


def test_content_rejected_ends_transaction() -> None:
    conn = at("DATA")
    conn.send_content(MessageContent(b"x" * 10))
    one(conn, b"552 5.3.4 Error: message file too big\r\n")
    assert conn.state is State.IDENT


def test_verbatim_content_with_smuggling_variant() -> None:
    conn = at("DATA")
    body = b"Subject: x\n\nhello\n.\nMAIL FROM:<evil@x>\n"
    assert conn.send_content(MessageContent(body, verbatim=True)) == body
    conn2 = at("DATA")
    wire = conn2.send_content(MessageContent(b"hi", verbatim=True, terminator="lflf"))
    assert wire == b"hi\n.\n"


def test_bdat_chunks_and_transaction() -> None:
    conn = at("RCPT")
    chunks = bdat_chunks(b"0123456789", 4)
    assert [c.to_bytes() for c in chunks] == [
        b"BDAT 4\r\n0123", b"BDAT 4\r\n4567", b"BDAT 2 LAST\r\n89"]
    for chunk in chunks[:2]:
        conn.send(chunk)
    one(conn, b"250 2.0.0 4 octets received\r\n")
    assert conn.state is State.BDAT
    one(conn, b"250 2.0.0 4 octets received\r\n")
    conn.send(chunks[2])
    one(conn, b"250 2.0.0 Ok: 10 octets, queued as X\r\n")
    assert conn.state is State.IDENT


def test_rset() -> None:
    conn = at("RCPT")
    conn.send(Rset())
    one(conn, b"250 2.0.0 Ok\r\n")
    assert conn.state is State.IDENT
    ready = at("READY")
    ready.send(Rset())
    one(ready, b"250 2.0.0 Ok\r\n")
    assert ready.state is State.READY


def test_ehlo_refused_then_helo() -> None:
    conn = at("READY")
    conn.send(Ehlo("client.example"))
    reply = one(conn, b"502 5.5.2 Error: command not recognized\r\n")
    assert reply.expected is False and conn.state is State.READY
    conn.send(Helo("client.example"))
    one(conn, b"250 mx.example.test\r\n")
    assert conn.state is State.IDENT and conn.capabilities is None
    with pytest.raises(LocalProtocolError, match="needs EHLO"):
        conn.send(MailFrom("a@b.test", (("SIZE", "10"),)))
    with pytest.raises(LocalProtocolError, match="only EHLO can announce"):
        conn.send(StartTLS())


def test_size_note() -> None:
    conn = at("IDENT")
    conn.send(MailFrom("a@b.test", (("SIZE", "20000000"),)))
    assert conn.last_sent is not None
    assert any("exceeds the server's limit of 10240000" in n for n in conn.last_sent.notes)


def test_raw_known_verb_is_tracked() -> None:
    conn = at("RCPT")
    assert conn.send_raw(b"DATA\r\n") == b"DATA\r\n"
    assert conn.last_sent is not None and conn.last_sent.off_script
    assert "tracked as DATA" in conn.last_sent.notes
    reply = one(conn, b"354 go ahead\r\n")
    assert isinstance(reply.command, Raw) and reply.expected
    assert conn.state is State.DATA
    conn.send_content(MessageContent(b"hi"))


def test_raw_pipelined_lines_each_tracked() -> None:
    conn = at("IDENT")
    conn.send_raw(b"MAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\n")
    assert len(conn.pending) == 2
    feed(conn, b"250 ok\r\n250 ok\r\n")
    assert conn.state is State.RCPT


def test_raw_unknown_expects_one_reply_and_keeps_state() -> None:
    conn = at("IDENT")
    conn.send(Raw(b"XFORWARD NAME=spike.example ADDR=192.0.2.7\r\n"))
    assert conn.last_sent is not None
    assert any("not read as a known command" in n for n in conn.last_sent.notes)
    reply = one(conn, b"220 mx.example.test ESMTP\r\n")
    assert reply.expected is None and not reply.unsolicited
    assert conn.state is State.IDENT


def test_raw_bare_lf_and_no_reply() -> None:
    conn = at("IDENT")
    conn.send_raw(b"NOOP\n")
    assert len(conn.pending) == 1
    one(conn, b"250 ok\r\n")
    conn.send_raw(b"\r\n", expect_reply=False)
    assert conn.pending == ()


def test_raw_in_data_state_is_content() -> None:
    conn = at("DATA")
    conn.send_raw(b"hello\n.\n", expect_reply=False)
    conn.send_raw(b"\r\n.\r\n")
    one(conn, b"250 2.0.0 Ok: queued\r\n")
    assert conn.state is State.IDENT


def test_raw_auth_response() -> None:
    conn = at("IDENT", POSTFIX_EHLO_TLS)
    conn.send(Auth("LOGIN"))
    one(conn, b"334 VXNlcm5hbWU6\r\n")
    conn.send_raw(b"*\r\n")
    one(conn, b"501 5.7.0 aborted\r\n")
    assert conn.state is State.IDENT


def test_lmtp_per_recipient_replies() -> None:
    conn = at("RCPT", POSTFIX_EHLO, lmtp=True)
    conn.send(RcptTo("carol@example.test"))
    one(conn, b"250 2.1.5 Ok\r\n")
    conn.send(RcptTo("nobody@example.test"))
    one(conn, b"550 5.1.1 unknown\r\n")
    conn.send(Data())
    one(conn, b"354 go\r\n")
    conn.send_content(MessageContent(b"hi\r\n"))
    first = one(conn, b"250 2.0.0 <bob@example.test> delivered\r\n")
    assert isinstance(first.command, MessageContent)
    assert conn.state is State.DATA and len(conn.pending) == 1
    last = one(conn, b"452 4.2.2 <carol@example.test> mailbox full\r\n")
    assert conn.state is State.IDENT and conn.pending == ()
    # RFC 2033 §4.2: each reply is for one accepted recipient, in RCPT order (the refused
    # nobody@ is owed none).
    assert (first.recipient, last.recipient) == ("bob@example.test", "carol@example.test")
    # The count starts again with the next transaction: one accepted recipient, one reply.
    conn.send(MailFrom("alice@client.example"))
    one(conn, b"250 2.1.0 Ok\r\n")
    conn.send(RcptTo("dave@example.test"))
    one(conn, b"250 2.1.5 Ok\r\n")
    conn.send(Data())
    one(conn, b"354 go\r\n")
    conn.send_content(MessageContent(b"again\r\n"))
    assert one(conn, b"250 2.0.0 <dave@example.test> delivered\r\n").recipient \
        == "dave@example.test"
    assert conn.state is State.IDENT and conn.pending == ()


def test_lmtp_replies_after_raw_data_or_bdat_last_say_whose_they_are() -> None:
    conn = at("RCPT", POSTFIX_EHLO, lmtp=True)
    conn.send_raw(b"RCPT TO:<raw@example.test>\r\n")  # accepted, but its address unparsed
    one(conn, b"250 2.1.5 Ok\r\n")
    conn.send(Data())
    one(conn, b"354 go\r\n")
    conn.send_raw(b"hi\r\n.\r\n")
    replies = [one(conn, b"250 2.0.0 Ok\r\n") for _ in range(2)]
    assert [r.recipient for r in replies] == ["bob@example.test", None]
    bdat = at("RCPT", POSTFIX_EHLO, lmtp=True)
    bdat.send(Bdat(b"hi\r\n", last=True))
    assert one(bdat, b"250 2.0.0 Ok\r\n").recipient == "bob@example.test"
    # SMTP, or any reply but LMTP's after the data, is for nobody in particular.
    plain = at("DATA")
    plain.send_content(MessageContent(b"hi\r\n"))
    assert one(plain, b"250 2.0.0 Ok\r\n").recipient is None


def test_lmtp_rejects_ehlo() -> None:
    conn = Connection(lmtp=True)
    one(conn, b"220 lmtp.example.test LMTP ready\r\n")
    with pytest.raises(LocalProtocolError, match="not LMTP"):
        conn.send(Ehlo("x.test"))
    assert conn.send(Lhlo("x.test")) == b"LHLO x.test\r\n"


def test_forced_auth_response_outside_auth_keeps_state() -> None:
    conn = at("READY")
    conn.send(AuthResponse(b"x"), force=True)
    one(conn, b"500 5.5.2 Error: bad syntax\r\n")
    assert conn.state is State.READY


def test_auth_with_initial_response_answered_at_once() -> None:
    conn = at("IDENT", POSTFIX_EHLO_TLS)
    conn.send(Auth("PLAIN", b"\0alice\0pw"))
    assert conn.projected_state is State.IDENT
    one(conn, b"235 2.7.0 Authentication successful\r\n")
    assert conn.state is State.IDENT and conn.authenticated
    assert conn.auth_mechanism == "PLAIN"


def test_raw_note_reaches_the_transcript() -> None:
    conn = at("IDENT")
    conn.send(Raw(b"XYZ\r\n", "XYZ is not a verb smtpscope knows; sent as typed"))
    assert conn.last_sent is not None
    assert "XYZ is not a verb smtpscope knows; sent as typed" in conn.last_sent.notes


# Postfix on a host in smtpd_authorized_xclient_hosts.
XCLIENT_EHLO = POSTFIX_EHLO.replace(
    b"250 CHUNKING\r\n",
    b"250-CHUNKING\r\n250 XCLIENT NAME ADDR PORT PROTO HELO LOGIN DESTADDR DESTPORT\r\n")
XCLIENT = Xclient((("ADDR", "192.0.2.9"),))


def test_xclient_220_is_a_new_greeting() -> None:
    # XCLIENT_README: the server resets to the initial greeting stage and answers 220.
    conn = at("IDENT", XCLIENT_EHLO)
    assert conn.send(XCLIENT) == b"XCLIENT ADDR=192.0.2.9\r\n"
    assert conn.last_sent is not None and not conn.last_sent.off_script
    assert conn.must_wait(Noop())  # it ends a pipelined group
    reply = one(conn, b"220 mx.example.test ESMTP\r\n")
    assert reply.expected is True
    assert conn.state is conn.projected_state is State.READY
    assert conn.capabilities is None
    with pytest.raises(LocalProtocolError):
        conn.send(MailFrom("a@b.test"))
    conn.send(Ehlo("client.example"))
    one(conn, XCLIENT_EHLO)
    assert conn.state is State.IDENT and conn.capabilities is not None


@pytest.mark.parametrize(("answer", "expected"), [
    (b"250 2.0.0 Ok\r\n", True),  # Postfix before 2.3: accepted, no new greeting
    (b"550 5.7.0 Error: insufficient authorization\r\n", False),
])
def test_xclient_without_a_new_greeting_keeps_the_session(answer: bytes, expected: bool) -> None:
    conn = at("IDENT", XCLIENT_EHLO)
    conn.send(XCLIENT)
    assert one(conn, answer).expected is expected
    assert conn.state is conn.projected_state is State.IDENT
    assert conn.capabilities is not None and conn.capabilities.has("XCLIENT")


def test_xclient_needs_the_advertisement_and_no_open_transaction() -> None:
    with pytest.raises(LocalProtocolError, match="did not advertise XCLIENT"):
        at("IDENT").send(XCLIENT)
    with pytest.raises(LocalProtocolError, match="inside a transaction"):
        at("MAIL", XCLIENT_EHLO).send(XCLIENT)
    conn = at("IDENT")
    conn.send(XCLIENT, force=True)
    assert conn.last_sent is not None and conn.last_sent.off_script


def test_raw_xclient_is_tracked_as_xclient() -> None:
    conn = at("IDENT", XCLIENT_EHLO)
    conn.send_raw(b"XCLIENT NAME=spike.example\r\n")
    assert conn.last_sent is not None and "tracked as XCLIENT" in conn.last_sent.notes
    reply = one(conn, b"220 mx.example.test ESMTP\r\n")
    assert conn.state is State.READY and conn.capabilities is None
    # The reply says what it answered as a typed kind, as a typed XCLIENT's does.
    assert reply.kind is Kind.XCLIENT and not isinstance(reply.command, Xclient)


def test_reply_kind_is_the_matched_expectations() -> None:
    conn = at("IDENT", XCLIENT_EHLO)
    conn.send(XCLIENT)
    assert one(conn, b"220 mx.example.test ESMTP\r\n").kind is Kind.XCLIENT
    conn.send_raw(b"EHLO a.test\r\nNOOP\r\n")
    assert [r.kind for r in feed(conn, XCLIENT_EHLO + b"250 ok\r\n")] == \
        [Kind.EHLO, Kind.NOOP]  # the hot path's replies too
    conn.send_raw(b"NOT A COMMAND\r\n")
    assert one(conn, b"500 what\r\n").kind is Kind.RAW
    assert one(conn, b"250 unasked\r\n").kind is None  # unsolicited
