"""The send queue against the real engine: what goes at once, what waits, what is blocked."""

from __future__ import annotations

from smtpscope.conversation.send_queue import (
    DATA_REFUSED,
    BodyDeclaration,
    LineKind,
    SendQueue,
    content_line_warnings,
    in_runs,
)
from smtpscope.protocol import (
    Auth,
    AuthResponse,
    Connection,
    Data,
    Ehlo,
    MailFrom,
    MessageContent,
    Noop,
    Quit,
    RcptTo,
    Rset,
    State,
)


def greeted(*caps: str) -> Connection:
    """An engine after the banner and an EHLO answered with ``caps``."""
    conn = Connection()
    conn.receive_data(b"220 mx.test ESMTP\r\n")
    conn.next_event()
    conn.send(Ehlo("client.test"))
    lines = ["mx.test", *caps]
    conn.receive_data(b"".join(f"250{'-' if i < len(lines) - 1 else ' '}{line}\r\n".encode()
                               for i, line in enumerate(lines)))
    conn.next_event()
    assert conn.state is State.IDENT
    return conn


def send(conn: Connection, queue: SendQueue) -> list[str]:
    """Take what may go and give it to the engine, as a front end does; returns the texts."""
    sent = []
    for item in queue.take_ready(conn):
        queue.started(item)
        if item.kind is LineKind.COMMAND:
            assert item.command is not None
            conn.send(item.command, force=item.force)
        else:
            conn.send_raw(item.data, expect_reply=item.kind is not LineKind.CONTENT)
        sent.append(item.text)
    return sent


def reply(conn: Connection, line: bytes) -> None:
    conn.receive_data(line + b"\r\n")
    conn.next_event()


def test_pipelining_releases_a_mail_rcpt_data_group_at_once_and_waits_after_data() -> None:
    conn, queue = greeted("PIPELINING"), SendQueue()
    for command, text in ((MailFrom("a@x.test"), "MAIL"), (RcptTo("b@x.test"), "RCPT 1"),
                          (RcptTo("c@x.test"), "RCPT 2"), (Data(), "DATA")):
        queue.add_command(command, text)
    assert queue.expects_content(conn)  # the next line typed is message content
    queue.add_content("Subject: hi")
    queue.add_content("")
    queue.add_content(".")
    queue.add_command(Quit(), "QUIT")
    assert send(conn, queue) == ["MAIL", "RCPT 1", "RCPT 2", "DATA"]
    for code in (b"250 ok", b"250 ok", b"250 ok"):
        reply(conn, code)
        assert send(conn, queue) == []  # the content waits for the 354, not for these
    reply(conn, b"354 go ahead")
    assert send(conn, queue) == ["Subject: hi", "", "."]
    assert send(conn, queue) == []  # QUIT waits: the end of data ends the group
    reply(conn, b"250 queued")
    assert send(conn, queue) == ["QUIT"]
    assert len(queue) == 0


def test_without_pipelining_each_line_waits_for_the_reply_before() -> None:
    conn, queue = greeted("SIZE 1000"), SendQueue()
    queue.add_command(Noop(), "NOOP")
    queue.add_command(Rset(), "RSET")
    assert send(conn, queue) == ["NOOP"]
    assert [i.text for i in queue] == ["RSET"]  # queued, not dropped
    reply(conn, b"250 ok")
    assert send(conn, queue) == ["RSET"]


def test_a_group_ender_holds_back_what_follows_even_with_pipelining() -> None:
    conn, queue = greeted("PIPELINING"), SendQueue()
    queue.add_command(Ehlo("again.test"), "EHLO")
    queue.add_command(MailFrom("a@x.test"), "MAIL")
    assert send(conn, queue) == ["EHLO"]
    reply(conn, b"250 mx.test")
    assert send(conn, queue) == ["MAIL"]


def test_nothing_goes_before_the_greeting() -> None:
    conn, queue = Connection(), SendQueue()
    queue.add_command(Ehlo("early.test"), "EHLO")
    assert send(conn, queue) == []
    reply(conn, b"220 mx.test")
    assert send(conn, queue) == ["EHLO"]


def test_lines_after_a_refused_data_are_blocked_not_sent_as_commands() -> None:
    conn, queue = greeted("PIPELINING"), SendQueue()
    queue.add_command(MailFrom("a@x.test"), "MAIL")
    queue.add_command(RcptTo("nobody@x.test"), "RCPT")
    queue.add_command(Data(), "DATA")
    queue.add_content("Subject: lost")
    queue.add_content(".")
    queue.add_command(Quit(), "QUIT")
    assert send(conn, queue) == ["MAIL", "RCPT", "DATA"]
    reply(conn, b"250 ok")
    reply(conn, b"550 no such user")
    reply(conn, b"554 no valid recipients")
    assert send(conn, queue) == []
    assert [(i.text, i.blocked) for i in queue] == [
        ("Subject: lost", DATA_REFUSED), (".", DATA_REFUSED), ("QUIT", None)]
    assert [i.text for i in queue.cancel_blocked()] == ["Subject: lost", "."]
    assert send(conn, queue) == ["QUIT"]


def test_cancel_and_block_keep_order_and_force_sends_anyway() -> None:
    conn, queue = greeted(), SendQueue()
    first = queue.add_command(Noop(), "NOOP")
    queue.add_command(Rset(), "RSET")
    queue.add_command(Noop(), "NOOP 2")
    assert queue.cancel() is not None and [i.text for i in queue] == ["NOOP", "RSET"]
    taken = queue.take_ready(conn)
    assert taken == [first]
    queue.block(first, "refused by the engine")
    assert [i.text for i in queue] == ["NOOP", "RSET"] and queue.head is first
    assert queue.take_ready(conn) == []
    assert queue.force_head() is first
    assert [i.text for i in queue.take_ready(conn)] == ["NOOP"]


def test_projected_state_runs_through_in_flight_and_queued_lines() -> None:
    conn, queue = greeted("PIPELINING"), SendQueue()
    queue.add_command(MailFrom("a@x.test"), "MAIL")
    assert queue.projected_state(conn) is State.MAIL
    send(conn, queue)
    queue.add_command(RcptTo("b@x.test"), "RCPT")
    assert queue.projected_state(conn) is State.RCPT
    queue.add_command(Data(), "DATA")
    queue.add_content(".")
    assert queue.projected_state(conn) is State.IDENT


def test_projected_state_counts_what_follows_the_last_end_of_a_message() -> None:
    conn, queue = greeted("PIPELINING"), SendQueue()
    for command, text in ((MailFrom("a@x.test"), "MAIL"), (RcptTo("b@x.test"), "RCPT"),
                          (Data(), "DATA")):
        queue.add_command(command, text)
    for line in ("Subject: one", "", "body"):
        queue.add_content(line)
    assert queue.projected_state(conn) is State.DATA
    queue.add_content(".")
    queue.add_command(MailFrom("c@x.test"), "MAIL again")
    assert queue.projected_state(conn) is State.MAIL
    queue.add_command(RcptTo("d@x.test"), "RCPT again")
    queue.add_command(Data(), "DATA again")
    assert queue.projected_state(conn) is State.DATA
    queue.add_content("second message")
    assert queue.projected_state(conn) is State.DATA
    # What is in flight counts as well as what is queued, oldest first.
    send(conn, queue)
    assert queue.projected_state(conn) is State.DATA
    queue.add_content(".")
    assert queue.projected_state(conn) is State.IDENT


def test_a_whole_message_is_taken_at_once_and_grouped_as_one_run() -> None:
    conn, queue = greeted("PIPELINING"), SendQueue()
    queue.add_command(MailFrom("a@x.test"), "MAIL")
    queue.add_command(RcptTo("b@x.test"), "RCPT")
    queue.add_command(Data(), "DATA")
    body = [f"line {n}" for n in range(3000)]
    for line in ("Subject: big", "", *body, ".", "after the end"):
        queue.add_content(line)
    queue.add_command(Quit(), "QUIT")
    assert send(conn, queue) == ["MAIL", "RCPT", "DATA"]
    for code in (b"250 ok", b"250 ok", b"354 go"):
        reply(conn, code)
    taken = queue.take_ready(conn)
    # The message up to its end, at once; what follows waits for the message's reply.
    assert [item.text for item in taken] == ["Subject: big", "", *body, "."]
    assert [len(run) for run in in_runs(taken)] == [len(taken)]
    assert [item.text for item in queue] == ["after the end", "QUIT"]
    assert queue.take_ready(conn) == []


def test_in_runs_keeps_message_lines_together_and_other_lines_apart() -> None:
    queue = SendQueue()
    mail = queue.add_command(MailFrom("a@x.test"), "MAIL")
    rcpt = queue.add_command(RcptTo("b@x.test"), "RCPT")
    first, second, end = (queue.add_content(text) for text in ("one", "two", "."))
    after = queue.add_content("a second message's first line")
    assert end.kind is LineKind.END and after.kind is LineKind.CONTENT
    quit_ = queue.add_command(Quit(), "QUIT")
    assert in_runs([mail, rcpt, first, second, end, after, quit_]) == [
        [mail], [rcpt], [first, second, end], [after], [quit_]]
    assert in_runs([]) == []


def test_an_auth_without_initial_response_awaits_a_challenge_until_it_comes() -> None:
    conn, queue = greeted("AUTH LOGIN PLAIN"), SendQueue()
    queue.add_command(Auth("LOGIN"), "AUTH LOGIN")
    assert queue.awaits_challenge(conn)  # queued: the next line typed answers its 334
    send(conn, queue)
    assert queue.awaits_challenge(conn)  # in flight
    answer = queue.add_command(AuthResponse(b"user"), "dXNlcg==", secret=True)
    assert not queue.awaits_challenge(conn) and answer.secret
    assert send(conn, queue) == []  # the answer waits for the 334
    reply(conn, b"334 VXNlcm5hbWU6")
    assert send(conn, queue) == ["dXNlcg=="]
    fresh = SendQueue()
    fresh.add_command(Auth("PLAIN", b"\0u\0p"), "AUTH PLAIN AHUAcA==")
    assert not fresh.awaits_challenge(conn)  # an initial response may end at 235


def test_dot_lines_are_warned_and_the_terminator_is_not() -> None:
    assert content_line_warnings(".") == ()
    assert content_line_warnings("plain") == ()
    [warning] = content_line_warnings(".hidden")
    assert "'hidden'" in warning and "type '..hidden'" in warning
    # Typed with '..' the line is already dot-stuffed: it goes as typed, the server keeps one.
    assert content_line_warnings("..dotted") == ()
    assert content_line_warnings("..") == ()


def test_lines_over_the_rfc_5321_limit_are_warned_in_octets() -> None:
    # 1000 octets with the CRLF is the limit (RFC 5321 §4.5.3.1.6); UTF-8 counts in octets.
    assert content_line_warnings("x" * 998) == ()
    [warning] = content_line_warnings("x" * 999)
    assert "1001 octets" in warning and "limit of 1000" in warning
    [warning] = content_line_warnings("é" * 500)  # 500 characters, 1000 octets
    assert "1002 octets" in warning
    assert len(content_line_warnings("." + "x" * 1100)) == 2


def test_8bit_lines_are_warned_unless_the_mail_from_declared_them() -> None:
    # RFC 6152 §3: 8-bit octets need BODY=8BITMIME on the MAIL (or SMTPUTF8, RFC 6531).
    declared, undeclared = BodyDeclaration(True, True), BodyDeclaration(False, True)
    assert content_line_warnings("héllo", declared) == ()
    assert content_line_warnings("hello", undeclared) == ()
    assert content_line_warnings("héllo") == ()  # nothing known about the transaction
    [warning] = content_line_warnings("héllo", undeclared)
    assert "8-bit" in warning and "neither BODY=8BITMIME (RFC 6152) nor SMTPUTF8" in warning
    assert "advertise" not in warning
    [warning] = content_line_warnings("héllo", BodyDeclaration(False, False))
    assert "the server did not advertise 8BITMIME" in warning
    [warning] = content_line_warnings("héllo", BodyDeclaration(None, True))  # a raw MAIL
    assert "raw bytes" in warning and "unknown" in warning
    assert len(content_line_warnings(".é", undeclared)) == 2


def test_a_message_line_is_checked_against_the_mail_from_it_follows() -> None:
    # Typed ahead of the 354, a line follows the MAIL queued or in flight; once sent, the one
    # that went. Each line goes with its own MAIL, not a later transaction's.
    conn, queue = greeted("PIPELINING", "8BITMIME"), SendQueue()
    assert queue.body_declaration(conn) is None  # the next line is a command
    queue.add_command(MailFrom("a@x.test"), "MAIL")
    queue.add_command(RcptTo("b@x.test"), "RCPT")
    queue.add_command(Data(), "DATA")
    assert queue.body_declaration(conn) == BodyDeclaration(False, True)
    first = queue.add_content("héllo")
    queue.add_content(".")
    queue.add_command(MailFrom("c@x.test", (("BODY", "8BITMIME"),)), "MAIL 8bit")
    queue.add_command(RcptTo("d@x.test"), "RCPT")
    queue.add_command(Data(), "DATA")
    assert queue.body_declaration(conn) == BodyDeclaration(True, True)
    assert queue.body_declaration(conn, first) == BodyDeclaration(False, True)
    assert send(conn, queue) == ["MAIL", "RCPT", "DATA"]
    assert queue.body_declaration(conn, first) == BodyDeclaration(False, True)  # in flight
    for line in (b"250 ok", b"250 ok", b"354 go"):
        reply(conn, line)
    assert queue.body_declaration(conn, first) == BodyDeclaration(False, True)  # it went


def test_a_raw_mail_leaves_what_the_content_may_carry_unknown() -> None:
    conn, queue = greeted("PIPELINING"), SendQueue()
    queue.add_raw(b"MAIL FROM:<a@x.test> BODY=8BITMIME\r\n", "raw MAIL")
    send(conn, queue)
    reply(conn, b"250 ok")
    queue.add_command(RcptTo("b@x.test"), "RCPT")
    queue.add_command(Data(), "DATA")
    assert queue.body_declaration(conn) == BodyDeclaration(None, False)
    # What the caller saw the server accept is newer than what this queue let go.
    accepted = MailFrom("a@x.test", (("SMTPUTF8", None),))
    assert queue.body_declaration(conn, accepted=accepted) == BodyDeclaration(True, False)


def test_nothing_taken_after_a_refused_line_overtakes_it() -> None:
    conn, queue = greeted("PIPELINING"), SendQueue()
    queue.add_command(RcptTo("b@x.test"), "RCPT")  # before MAIL: the engine will refuse it
    queue.add_command(Noop(), "NOOP")
    rcpt, noop = queue.take_ready(conn)
    assert queue.started(rcpt)
    queue.block(rcpt, "RCPT not valid before MAIL")
    assert not queue.started(noop)
    assert [(i.text, i.blocked is not None) for i in queue] == [("RCPT", True), ("NOOP", False)]
    assert queue.take_ready(conn) == []


def test_after_verbatim_content_that_stopped_mid_line_a_dot_goes_on_with_that_line() -> None:
    """The queue reads a "." line as the end exactly when the engine will: after content
    left open without a line end it is more of that line, and a command waits for the end."""
    conn, queue = greeted(), SendQueue()
    for command in (MailFrom("a@x.test"), RcptTo("b@x.test"), Data()):
        conn.send(command)
        reply(conn, b"354 go" if isinstance(command, Data) else b"250 ok")
    conn.send_content(MessageContent(b"Subject: v\n\nhello", verbatim=True))
    assert conn.message_open
    dot = queue.add_content(".", conn)
    assert dot.kind is LineKind.CONTENT and queue.expects_content(conn)
    assert send(conn, queue) == ["."] and conn.message_open  # "hello.\r\n": one line
    end = queue.add_content(".", conn)
    assert end.kind is LineKind.END and not queue.expects_content(conn)
    queue.add_command(Quit(), "QUIT")
    assert send(conn, queue) == ["."] and not conn.message_open
    reply(conn, b"250 queued")
    assert send(conn, queue) == ["QUIT"]


def test_lines_typed_during_the_tls_handshake_meet_the_state_after_it() -> None:
    """After the 220 to STARTTLS the engine waits for the handshake: a line typed then is
    judged against READY, where EHLO belongs, and goes only once TLS is up."""
    from smtpscope.protocol import StartTLS
    from smtpscope.protocol.checks import command_problems

    conn = greeted("STARTTLS", "PIPELINING")
    queue = SendQueue()
    conn.send(StartTLS())
    reply(conn, b"220 2.0.0 Ready to start TLS")
    assert conn.state is State.TLS_PENDING
    state = queue.projected_state(conn)
    assert state is State.READY
    assert command_problems(Ehlo("y"), state, None) == []
    assert command_problems(MailFrom("a@x.test"), state, None) != []  # EHLO again first
    queue.add_command(Ehlo("y"), "EHLO y")
    queue.add_command(Noop(), "NOOP")
    assert queue.projected_state(conn) is State.IDENT
    conn.start_tls_done()
    assert send(conn, queue) == ["EHLO y"]  # NOOP waits for the EHLO reply (a group ender)
