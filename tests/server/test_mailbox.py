"""MAIL and RCPT paths in RFC 5321 syntax, checked as sent (aiosmtpd's parser rewrites them)."""

from __future__ import annotations

import pytest

from smtpscope.server.mailbox import is_path, is_unreadable, split_path

from .conftest import Raw

VALID = ["<a@b.test>", '<"a b"@b.test>', '<"a\\"b"@b.test>', "<a.b+c@b.test>", "a@b.test",
         "<a@[192.0.2.1]>", "<a@[IPv6:2001:db8::1]>", "<@r1.test,@r2.test:a@b.test>",
         "<ü@bü.test>", "<>", "<x-y@s-1.b.test>"]
INVALID = ["<a b@b.test>", '<a"b"@b.test>', "<a..b@b.test>", "<.a@b.test>", "<a@>", "<@b.test>",
           "<a>", "<a@-b.test>", "<a@b..test>", "<a@b.test.>", "<a@[foo]>", "<a@[256.0.0.1]>",
           "<a(c)@b.test>", "<a@b.test", "<a\udcff@b.test>", "<postmaster>", '<"a@b.test>']


@pytest.mark.parametrize("path", VALID)
def test_valid_paths(path: str) -> None:
    assert is_path(path, forward=False) and is_path(path, forward=True)


@pytest.mark.parametrize("path", INVALID)
def test_invalid_reverse_paths(path: str) -> None:
    assert not is_path(path, forward=False)


def test_postmaster_alone_is_a_forward_path_only() -> None:
    assert is_path("<Postmaster>", forward=True) and not is_path("<Postmaster>", forward=False)


def test_the_path_ends_at_its_bracket_outside_quotes() -> None:
    assert split_path("<a@b.test> SIZE=10") == "<a@b.test>"
    assert split_path('<"a> b"@b.test> BODY=8BITMIME') == '<"a> b"@b.test>'
    assert split_path("<a b@b.test> SIZE=10") == "<a b@b.test>"
    assert split_path("a@b.test SIZE=10") == "a@b.test"


def test_an_unquoted_space_is_refused_as_postfix_does(serve) -> None:
    running = serve()
    raw = Raw(running.host, running.port)
    raw.send(b"EHLO ok.test\r\n")
    raw.reply()
    # aiosmtpd's parser took <a b@b.test> as "a b"@b.test, and 250 OK followed.
    exchange = [(b"MAIL FROM:<a b@b.test>", b"501 5.1.7 Bad sender address syntax\r\n"),
                (b"MAIL FROM:<a b@b.test> SIZE=10", b"501 5.1.7 Bad sender address syntax\r\n"),
                (b'MAIL FROM:<"a b"@b.test>', b"250 2.1.0 OK\r\n"),
                (b"RCPT TO:<c d@b.test>", b"501 5.1.3 Bad recipient address syntax\r\n"),
                (b"RCPT TO:<@relay.test:c@b.test>", b"250 2.1.5 OK\r\n"),
                (b"DATA", b"354 End data with <CR><LF>.<CR><LF>\r\n"),
                (b"Subject: x\r\n\r\nx\r\n.", b"250 2.0.0 Ok: queued as ")]
    for command, reply in exchange:
        raw.send(command + b"\r\n")
        assert raw.reply().startswith(reply), command
    raw.send(b"RSET\r\nMAIL FROM:<>\r\n")
    assert [raw.reply(), raw.reply()] == [b"250 2.0.0 OK\r\n", b"250 2.1.0 OK\r\n"]
    raw.close()
    assert b"Return-Path: <\"a b\"@b.test>" in running.stored_files()[0]
    notes = [e.text for e in running.wait_closed()]
    assert "MAIL refused: <a b@b.test> is not an RFC 5321 path" in notes
    assert "RCPT refused: <c d@b.test> is not an RFC 5321 path" in notes


@pytest.mark.parametrize(("path", "unreadable"), [
    ("<a b@b.test>", True), ('<"a@b.test>', True), ("<a@b.test", True),
    ("<a\udcff@b.test>", True), ("<a\tb@b.test>", True),
    ("<a>", False), ("<a..b@b.test>", False), ("<a@b_c.test>", False), ("<postmaster>", False),
    ('<"a b"@b.test>', False),
])
def test_only_what_no_reading_takes_is_unreadable(path: str, unreadable: bool) -> None:
    assert is_unreadable(path) is unreadable


def test_what_postfix_takes_is_taken_with_a_note(serve) -> None:
    """RFC 5321 refuses <a> or a domain with '_'; Postfix takes them by default, and a client
    tested here must not fail where it works there: taken, and the live view says what is
    wrong. What no reading takes (<a@>) is refused, as Postfix refuses it."""
    running = serve()
    raw = Raw(running.host, running.port)
    raw.send(b"EHLO ok.test\r\n")
    raw.reply()
    for path, reply in ((b"<a>", b"250 2.1.0 OK\r\n"), (b"<a@b_c.test>", b"250 2.1.0 OK\r\n"),
                        (b"<a@>", b"501 5.1.7 Bad sender address syntax\r\n")):
        raw.send(b"MAIL FROM:" + path + b"\r\nRSET\r\n")
        assert [raw.reply(), raw.reply()] == [reply, b"250 2.0.0 OK\r\n"], path
    raw.close()
    notes = [e.text for e in running.wait_closed()]
    taken = "is not RFC 5321 path syntax (§4.1.2): accepted, as Postfix accepts it"
    assert [n.split(" is not")[0] for n in notes if taken in n] == ["MAIL <a>", "MAIL <a@b_c.test>"]
    assert "MAIL refused: <a@> is not an RFC 5321 path" in notes
