"""The open message: content without <CRLF>.<CRLF> owes no reply, and a reply to it anyway
is the server taking another end of data (SMTP smuggling)."""

from __future__ import annotations

import pytest

from smtpscope.protocol import (
    DATA_ENDED_EARLY,
    Data,
    Kind,
    LocalProtocolError,
    MailFrom,
    MessageContent,
    Noop,
    Raw,
    RcptTo,
    State,
)
from smtpscope.protocol.data import end_variant

from .servers import POSTFIX_EHLO
from .util import at, feed, one


def test_verbatim_content_without_the_end_leaves_the_message_open() -> None:
    conn = at("DATA")
    body = b"Subject: x\n\nhello\n"
    assert conn.send_content(MessageContent(body, verbatim=True)) == body
    assert conn.last_sent is not None and not conn.last_sent.owes_reply
    assert conn.state is State.DATA and conn.pending == () and conn.message_open
    assert conn.projected_state is State.DATA
    assert conn.open_tail == body[-6:]
    # More of the message goes, still owing nothing, until the standard end is sent.
    conn.send_content(MessageContent(b"more\r\n", verbatim=True))
    assert conn.message_open and conn.open_tail == b"more\r\n"
    assert conn.ends_message(b".\r\n") and not conn.ends_message(b"x.\r\n")
    conn.send_content(MessageContent(b".\r\n", verbatim=True))
    assert conn.last_sent is not None and conn.last_sent.owes_reply
    assert not conn.message_open and len(conn.pending) == 1
    reply = one(conn, b"250 2.0.0 Ok: queued as 1\r\n")
    assert not reply.unsolicited and reply.expected and reply.ended_by is None
    assert reply.kind == Kind.CONTENT and DATA_ENDED_EARLY not in reply.warnings
    assert conn.state is State.IDENT


def test_the_end_split_across_sends_and_the_empty_message() -> None:
    conn = at("DATA")
    conn.send_content(MessageContent(b"hello\r", verbatim=True))
    assert conn.message_open
    conn.send_raw(b"\n.\r\n", expect_reply=False)  # the engine decides: this ends it
    assert conn.last_sent is not None and conn.last_sent.owes_reply
    assert one(conn, b"250 ok\r\n").kind == Kind.CONTENT
    empty = at("DATA")
    empty.send_content(MessageContent(b".\r\n", verbatim=True))  # the DATA line's CRLF before
    assert not empty.message_open and len(empty.pending) == 1


def test_a_dot_after_an_unfinished_line_does_not_end_it() -> None:
    conn = at("DATA")
    conn.send_content(MessageContent(b"no line end", verbatim=True))
    assert not conn.ends_message(b".\r\n")  # "no line end.\r\n" is one line
    conn.send_raw(b".\r\n")
    assert conn.message_open and conn.last_sent is not None
    assert not conn.last_sent.owes_reply and conn.open_tail == b"end.\r\n"[-6:]


@pytest.mark.parametrize("variant", ["lflf", "crcr", "crlflf", "nullbefore"])
def test_a_reply_to_an_open_message_is_its_end_of_data_reply(variant: str) -> None:
    conn = at("DATA")
    content = MessageContent(b"Subject: x\r\n\r\nhi", terminator=variant)
    wire = conn.send_content(content)
    assert conn.message_open and conn.pending == ()
    with pytest.raises(LocalProtocolError, match="reading message content"):
        conn.send(Noop())  # the server still reads the message: commands would be content
    reply = one(conn, b"250 2.0.0 Ok: queued as 2\r\n")
    assert not reply.unsolicited and reply.kind == Kind.CONTENT and reply.command is content
    assert reply.expected is True and reply.ended_by == wire[-6:]
    assert end_variant(reply.ended_by) == variant
    assert DATA_ENDED_EARLY in reply.warnings
    assert any(variant in warning for warning in reply.warnings)
    # The engine followed the server out of the message: a new transaction goes.
    assert conn.state is State.IDENT and conn.projected_state is State.IDENT
    assert conn.send(MailFrom("a@example.test")) == b"MAIL FROM:<a@example.test>\r\n"


def test_raw_bytes_in_an_open_message_and_what_the_server_then_runs() -> None:
    """Raw bytes inside DATA, no standard end: the server ends at the bare-LF dot and runs
    the NOOP hidden after it; the first reply is the message's, the second nobody's."""
    conn = at("RCPT", POSTFIX_EHLO)
    conn.send(Data())
    one(conn, b"354 go ahead\r\n")
    conn.send_raw(b"hello\n.\nNOOP\r\n")
    assert conn.message_open
    queued, noop = feed(conn, b"250 2.0.0 Ok: queued as 1234\r\n250 2.0.0 Ok\r\n")
    assert isinstance(queued.command, Raw) and queued.ended_by == b"NOOP\r\n"
    assert not queued.unsolicited and DATA_ENDED_EARLY in queued.warnings
    assert noop.unsolicited and DATA_ENDED_EARLY not in noop.warnings  # type: ignore[union-attr]
    assert conn.state is State.IDENT


def test_a_reply_before_any_content_is_not_a_message_end() -> None:
    conn = at("DATA")
    reply = one(conn, b"451 4.3.0 timeout\r\n")
    assert reply.unsolicited and reply.ended_by is None
    assert conn.state is State.IDENT


def test_421_in_an_open_message_closes_it() -> None:
    conn = at("DATA")
    conn.send_content(MessageContent(b"hi", verbatim=True))
    reply = one(conn, b"421 4.4.2 bye\r\n")
    assert reply.closes and reply.ended_by is None and conn.state is State.CLOSED


def test_content_holding_the_end_before_more_bytes_owes_one_reply() -> None:
    """A smuggling body with the standard end last: the reply is owed as before."""
    conn = at("DATA")
    conn.send_content(MessageContent(b"hi\n.\nMAIL FROM:<x@y>\r\n.\r\n", verbatim=True))
    assert len(conn.pending) == 1
    assert one(conn, b"250 ok\r\n").ended_by is None


def test_lmtp_open_message_owes_a_reply_per_recipient_once_the_server_ends_it() -> None:
    conn = at("RCPT", POSTFIX_EHLO, lmtp=True)
    conn.send(RcptTo("carol@example.test"))
    one(conn, b"250 2.1.5 Ok\r\n")
    conn.send(Data())
    one(conn, b"354 go\r\n")
    conn.send_content(MessageContent(b"hi\n.\n", verbatim=True))
    assert conn.message_open
    first, last = feed(conn, b"250 2.0.0 <bob> ok\r\n250 2.0.0 <carol> ok\r\n")
    assert (first.recipient, last.recipient) == (  # type: ignore[union-attr]
        "bob@example.test", "carol@example.test")
    assert first.more and first.ended_by == b"\nhi\n.\n"  # type: ignore[union-attr]
    assert not last.unsolicited and last.kind == Kind.CONTENT  # type: ignore[union-attr]
    assert conn.state is State.IDENT and conn.pending == ()


def test_a_new_message_starts_fresh() -> None:
    conn = at("DATA")
    conn.send_content(MessageContent(b"x\r", verbatim=True))
    one(conn, b"250 ok\r\n")  # ended at the bare CR, per this server
    conn.send(MailFrom("a@example.test"))
    one(conn, b"250 ok\r\n")
    conn.send(RcptTo("b@example.test"))
    one(conn, b"250 ok\r\n")
    conn.send(Data())
    one(conn, b"354 go\r\n")
    assert conn.open_tail == b"\r\n" and conn.ends_message(b".\r\n")


def test_the_reply_owed_to_a_message_ended_in_raw_bytes_is_the_contents() -> None:
    # Whether the message ended in content or in raw bytes typed a line at a time, the reply
    # owed is the reply to the message: the session waits for it as long as for content.
    conn = at("DATA")
    assert conn.last_owed is None
    conn.send_raw(b"Subject: x\r\n\r\nhello\r\n", expect_reply=False)
    assert conn.message_open and conn.last_owed is None
    conn.send_raw(b".\r\n", expect_reply=False)
    assert conn.last_owed == Kind.CONTENT
    one(conn, b"250 2.0.0 queued\r\n")
    assert conn.last_owed is None
    conn.send(MailFrom("a@x.test"))
    assert conn.last_owed == Kind.MAIL
