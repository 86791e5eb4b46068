"""Connection: wire bytes per state, validation, pipelining, STARTTLS, closing."""

from __future__ import annotations

import pytest

from smtpscope.protocol import (
    INJECTION_WARNING,
    NEED_DATA,
    Auth,
    AuthResponse,
    Bdat,
    Closed,
    Command,
    Connection,
    Data,
    Ehlo,
    Etrn,
    Expn,
    Helo,
    Help,
    Lhlo,
    LocalProtocolError,
    MailFrom,
    Noop,
    Quit,
    RcptTo,
    Reply,
    Rset,
    StartTLS,
    State,
    Vrfy,
)

from .servers import (
    EXIM_EHLO,
    POSTFIX_EHLO,
    POSTFIX_EHLO_TLS,
    POSTFIX_GREETING,
    SENDMAIL_EHLO,
)
from .util import at, feed, one

WIRE_CASES: list[tuple[str, bytes, Command, bytes]] = [
    ("READY", POSTFIX_EHLO, Ehlo("client.example"), b"EHLO client.example\r\n"),
    ("READY", POSTFIX_EHLO, Helo("[192.0.2.1]"), b"HELO [192.0.2.1]\r\n"),
    ("IDENT", POSTFIX_EHLO, Ehlo("client.example"), b"EHLO client.example\r\n"),
    ("IDENT", POSTFIX_EHLO, MailFrom("a@example.test"), b"MAIL FROM:<a@example.test>\r\n"),
    ("IDENT", POSTFIX_EHLO, MailFrom(""), b"MAIL FROM:<>\r\n"),
    ("IDENT", POSTFIX_EHLO, MailFrom("a@b.test", (("SIZE", "100"), ("BODY", "8BITMIME"))),
     b"MAIL FROM:<a@b.test> SIZE=100 BODY=8BITMIME\r\n"),
    ("IDENT", POSTFIX_EHLO, MailFrom("δ@b.test", (("smtputf8", None),)),
     "MAIL FROM:<δ@b.test> SMTPUTF8\r\n".encode()),
    ("IDENT", POSTFIX_EHLO, MailFrom("a@b.test", (("RET", "HDRS"), ("ENVID", "QQ+2B314"))),
     b"MAIL FROM:<a@b.test> RET=HDRS ENVID=QQ+2B314\r\n"),
    ("IDENT", POSTFIX_EHLO, MailFrom("a@b.test", (("X-CUSTOM", "1"),)),
     b"MAIL FROM:<a@b.test> X-CUSTOM=1\r\n"),
    ("MAIL", POSTFIX_EHLO, RcptTo("bob@example.test"), b"RCPT TO:<bob@example.test>\r\n"),
    ("MAIL", POSTFIX_EHLO, RcptTo("Postmaster"), b"RCPT TO:<Postmaster>\r\n"),
    ("MAIL", POSTFIX_EHLO,
     RcptTo("b@x.test", (("NOTIFY", "SUCCESS,FAILURE"), ("ORCPT", "rfc822;b@x.test"))),
     b"RCPT TO:<b@x.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@x.test\r\n"),
    ("RCPT", POSTFIX_EHLO, RcptTo("carol@example.test"), b"RCPT TO:<carol@example.test>\r\n"),
    ("RCPT", POSTFIX_EHLO, Data(), b"DATA\r\n"),
    ("RCPT", POSTFIX_EHLO, Bdat(b"hello", last=True), b"BDAT 5 LAST\r\nhello"),
    ("RCPT", POSTFIX_EHLO, Bdat(b"", last=False, size=1000), b"BDAT 1000\r\n"),
    ("RCPT", POSTFIX_EHLO, Rset(), b"RSET\r\n"),
    ("READY", POSTFIX_EHLO, Rset(), b"RSET\r\n"),
    ("IDENT", POSTFIX_EHLO, Noop(), b"NOOP\r\n"),
    ("MAIL", POSTFIX_EHLO, Noop("ping"), b"NOOP ping\r\n"),
    ("IDENT", POSTFIX_EHLO, Vrfy("postmaster"), b"VRFY postmaster\r\n"),
    ("IDENT", POSTFIX_EHLO, Expn("staff"), b"EXPN staff\r\n"),
    ("IDENT", POSTFIX_EHLO, Help(), b"HELP\r\n"),
    ("IDENT", POSTFIX_EHLO, Help("MAIL"), b"HELP MAIL\r\n"),
    ("IDENT", POSTFIX_EHLO, Etrn("@example.test"), b"ETRN @example.test\r\n"),
    ("IDENT", POSTFIX_EHLO, StartTLS(), b"STARTTLS\r\n"),
    ("IDENT", POSTFIX_EHLO_TLS, Auth("PLAIN", b"\0tim\0tanstaaftanstaaf"),
     b"AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm\r\n"),
    ("IDENT", POSTFIX_EHLO_TLS, Auth("scram-sha-256", b""), b"AUTH SCRAM-SHA-256 =\r\n"),
    ("IDENT", POSTFIX_EHLO_TLS, Auth("LOGIN"), b"AUTH LOGIN\r\n"),
    ("READY", POSTFIX_EHLO, Quit(), b"QUIT\r\n"),
    ("RCPT", POSTFIX_EHLO, Quit(), b"QUIT\r\n"),
]


@pytest.mark.parametrize(("state", "ehlo", "command", "wire"), WIRE_CASES)
def test_wire_bytes_per_state(state: str, ehlo: bytes, command: Command, wire: bytes) -> None:
    conn = at(state, ehlo)
    assert conn.send(command) == wire
    assert conn.pending == (command,)
    assert conn.last_sent is not None and not conn.last_sent.off_script


INVALID_CASES: list[tuple[str, bytes, Command, str]] = [
    ("READY", POSTFIX_EHLO, MailFrom("a@b.test"), "send EHLO/HELO first"),
    ("IDENT", POSTFIX_EHLO, RcptTo("b@x.test"), "send MAIL FROM first"),
    ("MAIL", POSTFIX_EHLO, Data(), "accepted RCPT TO"),
    ("MAIL", POSTFIX_EHLO, MailFrom("a@b.test"), "not valid in state MAIL"),
    ("IDENT", POSTFIX_EHLO, AuthResponse(b"x"), "only after a 334"),
    ("IDENT", POSTFIX_EHLO, Auth("PLAIN"), "did not advertise AUTH"),
    ("IDENT", POSTFIX_EHLO_TLS, Auth("XOAUTH2"), "did not advertise AUTH XOAUTH2"),
    ("DATA", POSTFIX_EHLO, Noop(), "use send_content"),
    ("READY", POSTFIX_EHLO, StartTLS(), "send EHLO first"),
    ("MAIL", POSTFIX_EHLO, StartTLS(), "not allowed inside a transaction"),
    ("IDENT", POSTFIX_EHLO, Lhlo("x.test"), "LHLO is for LMTP"),
    ("IDENT", POSTFIX_EHLO, MailFrom("a@b.test", (("MT-PRIORITY", "3"),)),
     "MT-PRIORITY needs MT-PRIORITY"),
    ("IDENT", POSTFIX_EHLO, MailFrom("a@b.test", (("BODY", "BINARYMIME"),)),
     "BODY needs BINARYMIME"),
    ("RCPT", SENDMAIL_EHLO, Bdat(b"x", last=True), "did not advertise CHUNKING"),
    ("IDENT", EXIM_EHLO, StartTLS(), "did not advertise STARTTLS"),
]


@pytest.mark.parametrize(("state", "ehlo", "command", "fragment"), INVALID_CASES)
def test_invalid_commands_explain_themselves(
    state: str, ehlo: bytes, command: Command, fragment: str
) -> None:
    conn = at(state, ehlo)
    with pytest.raises(LocalProtocolError) as info:
        conn.send(command)
    assert fragment in str(info.value)
    assert conn.pending == ()
    # force sends it anyway, marked off-script, and the reply is still tracked.
    wire = conn.send(command, force=True) if not isinstance(command, AuthResponse) else b""
    if wire:
        assert conn.pending == (command,)
        assert conn.last_sent is not None and conn.last_sent.off_script
        assert conn.last_sent.notes[0].startswith("off-script")


def test_an_lmtp_session_is_told_to_send_lhlo_not_ehlo() -> None:
    from smtpscope.protocol.checks import command_problems

    conn = at("READY", lmtp=True)
    with pytest.raises(LocalProtocolError, match=r"send LHLO first \(and finish"):
        conn.send(MailFrom("a@b.test"))
    # What the composer holds a queued line with says the same.
    assert any("send LHLO first" in p for p in command_problems(
        MailFrom("a@b.test"), State.READY, None, lmtp=True))
    assert not any("EHLO" in p for p in command_problems(
        MailFrom("a@b.test"), State.READY, None, lmtp=True))


def test_before_greeting_is_early_talking() -> None:
    conn = Connection()
    with pytest.raises(LocalProtocolError, match="before the server's greeting"):
        conn.send(Ehlo("client.example"))
    wire = conn.send(Ehlo("client.example"), force=True)
    assert wire == b"EHLO client.example\r\n"
    greeting, ehlo = feed(conn, POSTFIX_GREETING + POSTFIX_EHLO)
    assert isinstance(greeting, Reply) and greeting.command is None
    assert isinstance(ehlo, Reply) and ehlo.command == Ehlo("client.example")
    assert conn.state is State.IDENT and conn.capabilities is not None


def test_554_greeting_only_allows_quit() -> None:
    conn = Connection()
    reply = one(conn, b"554 5.7.1 mx.example.test no SMTP service for you\r\n")
    assert reply.expected is False
    assert conn.state is State.GREETING
    with pytest.raises(LocalProtocolError, match="refused service"):
        conn.send(Ehlo("client.example"))
    assert conn.send(Quit()) == b"QUIT\r\n"
    one(conn, b"221 2.0.0 Bye\r\n")
    assert conn.state is State.CLOSED


def test_pipelined_group_advances_state_per_reply() -> None:
    conn = at("IDENT")
    wire = b"".join([
        conn.send(MailFrom("alice@client.example")),
        conn.send(RcptTo("bob@example.test")),
        conn.send(RcptTo("nobody@example.test")),
        conn.send(RcptTo("carol@example.test")),
        conn.send(Data()),
    ])
    assert wire.count(b"\r\n") == 5
    assert conn.state is State.IDENT
    assert conn.projected_state is State.DATA
    assert len(conn.pending) == 5
    replies = [
        b"250 2.1.0 Ok\r\n",
        b"250 2.1.5 Ok\r\n",
        b"550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown\r\n",
        b"250 2.1.5 Ok\r\n",
        b"354 End data with <CR><LF>.<CR><LF>\r\n",
    ]
    conn.receive_data(b"".join(replies))
    states = []
    commands = []
    events: list[Reply] = []
    while (event := conn.next_event()) is not NEED_DATA:
        assert isinstance(event, Reply)
        states.append(conn.state)
        commands.append(event.command)
        events.append(event)
    assert states == [State.MAIL, State.RCPT, State.RCPT, State.RCPT, State.DATA]
    assert [type(c).__name__ for c in commands] == ["MailFrom", "RcptTo", "RcptTo", "RcptTo",
                                                     "Data"]
    accepted = [e for e in events if isinstance(e.command, RcptTo) and e.expected]
    assert len(accepted) == 2
    assert conn.pending == ()


def test_pipelined_mail_failure_reprojects() -> None:
    conn = at("IDENT")
    conn.send(MailFrom("alice@client.example"))
    conn.send(RcptTo("bob@example.test"))
    one(conn, b"553 5.1.8 sender rejected\r\n")
    assert conn.state is State.IDENT
    reply = one(conn, b"503 5.5.1 Error: need MAIL command\r\n")
    assert reply.expected is False
    assert conn.state is State.IDENT and conn.projected_state is State.IDENT
    with pytest.raises(LocalProtocolError):
        conn.send(Data())


def test_pipelining_needs_the_extension() -> None:
    conn = at("IDENT", b"250-old.example.test\r\n250 8BITMIME\r\n")
    conn.send(MailFrom("a@b.test"))
    with pytest.raises(LocalProtocolError, match="did not advertise PIPELINING"):
        conn.send(RcptTo("c@d.test"))


def test_group_enders_must_be_last() -> None:
    conn = at("IDENT")
    conn.send(Noop())
    with pytest.raises(LocalProtocolError, match="end a pipelined group"):
        conn.send(MailFrom("a@b.test"))


def test_starttls_with_injected_bytes() -> None:
    conn = at("IDENT")
    conn.send(StartTLS())
    conn.receive_data(b"220 2.0.0 Ready to start TLS\r\n250-injected\r\n250 OK\r\n")
    reply = conn.next_event()
    assert isinstance(reply, Reply)
    assert reply.code == 220 and reply.command == StartTLS()
    assert INJECTION_WARNING in reply.warnings
    assert conn.state is State.TLS_PENDING and conn.tls_pending
    assert conn.trailing_data == b"250-injected\r\n250 OK\r\n"
    assert conn.capabilities is None
    assert conn.next_event() is NEED_DATA
    # Plaintext that arrives before the handshake is kept apart too.
    conn.receive_data(b"550 more\r\n")
    assert conn.next_event() is NEED_DATA
    assert conn.trailing_data.endswith(b"550 more\r\n")
    with pytest.raises(LocalProtocolError, match="start_tls_done"):
        conn.send(Ehlo("client.example"))
    conn.start_tls_done()
    assert conn.state is State.READY and conn.tls_active
    with pytest.raises(LocalProtocolError, match="EHLO"):
        conn.send(MailFrom("a@b.test"))
    conn.send(Ehlo("client.example"))
    one(conn, POSTFIX_EHLO_TLS)
    assert conn.capabilities is not None
    assert "SCRAM-SHA-256" in conn.capabilities.auth_mechanisms


def test_starttls_clean() -> None:
    conn = at("IDENT")
    conn.send(StartTLS())
    reply = one(conn, b"220 2.0.0 Ready to start TLS\r\n")
    assert reply.warnings == () and conn.trailing_data == b""
    conn.start_tls_done()
    with pytest.raises(LocalProtocolError):
        conn.start_tls_done()


def test_starttls_refused_keeps_state() -> None:
    conn = at("IDENT")
    conn.send(StartTLS())
    one(conn, b"454 4.7.0 TLS not available due to local problem\r\n")
    assert conn.state is State.IDENT and conn.capabilities is not None


def test_unsolicited_421() -> None:
    conn = at("IDENT")
    reply = one(conn, b"421 4.4.2 mx.example.test Error: timeout exceeded\r\n")
    assert reply.unsolicited and reply.command is None and reply.expected is None
    assert any("unsolicited" in w for w in reply.warnings)
    assert conn.state is State.CLOSED
    with pytest.raises(LocalProtocolError, match="closed"):
        conn.send(Noop())
    assert feed(conn, b"") == [Closed(b"")]


def test_421_in_reply_to_a_command_closes() -> None:
    conn = at("IDENT")
    conn.send(MailFrom("a@b.test"))
    reply = one(conn, b"421 4.7.0 too many errors\r\n")
    assert reply.command == MailFrom("a@b.test") and not reply.unsolicited
    assert conn.state is State.CLOSED and conn.pending == ()


def test_unsolicited_non_421_does_not_close() -> None:
    conn = at("IDENT")
    reply = one(conn, b"250 surprise\r\n")
    assert reply.unsolicited and conn.state is State.IDENT


def test_quit() -> None:
    conn = at("RCPT")
    conn.send(Quit())
    reply = one(conn, b"221 2.0.0 Bye\r\n")
    assert reply.expected and conn.state is State.CLOSED
    assert feed(conn, b"") == [Closed(b"")]
    with pytest.raises(LocalProtocolError):
        conn.receive_data(b"more")


def test_only_client_role() -> None:
    with pytest.raises(ValueError):
        Connection(role="server")


def test_unfinished_shows_a_reply_still_arriving_without_taking_it() -> None:
    conn = Connection()
    wire = b"220-mx.test ESMTP\r\n220 ready\r\n"
    for i, byte in enumerate(wire[:-1]):  # one byte at a time, every offset
        conn.receive_data(bytes([byte]))
        assert conn.next_event() is NEED_DATA
        assert conn.unfinished == wire[:i + 1]
    conn.receive_data(wire[-1:])
    reply = conn.next_event()
    assert isinstance(reply, Reply) and reply.raw == wire  # the peek took nothing away
    assert conn.unfinished == b""
