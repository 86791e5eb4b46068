"""The wire tap on its own: lines in, transcript entries and warnings out (no sockets)."""

from __future__ import annotations

import itertools

from smtpscope.protocol import parse_reply
from smtpscope.record import Redactor, Transcript
from smtpscope.record.transcript import reply_fields
from smtpscope.server.observe import (
    SessionTap,
    command_warnings,
    content_warnings,
    parse_reply_group,
)


def _tap() -> SessionTap:
    ticks = itertools.count()
    transcript = Transcript(redactor=Redactor(), clock=lambda: float(next(ticks)))
    return SessionTap(transcript, clock=lambda: float(next(ticks)))


def test_clean_command_has_no_warnings() -> None:
    assert command_warnings(b"MAIL FROM:<a@b>\r\n") == []


def test_command_warnings() -> None:
    assert command_warnings(b"NOOP\n")[0].startswith("bare LF ends this command line")
    assert "NUL byte" in command_warnings(b"NO\x00OP\r\n")[0]
    assert "over the RFC 5321 limit of 512" in command_warnings(b"X" * 600 + b"\r\n")[0]
    assert "without any line ending" in command_warnings(b"QUIT")[0]
    # An over-long line is judged by its true length, not by the part that was kept.
    assert command_warnings(b"A" * 100 + b"\r\n", 1_000_002) == [
        "command line is 1000002 octets, over the RFC 5321 limit of 512 (CRLF included)"]


def test_content_warnings() -> None:
    assert content_warnings(b"Subject: ok\r\n\r\nfine\r\n") == []
    found = content_warnings(b"a\nb\r.\r\nc\x00\r\n")
    assert found[0].startswith("bare LF in the message content (1x)")
    assert found[1].startswith("bare CR in the message content (1x)")
    assert found[2].startswith("NUL bytes in the message content (1x)")
    assert r"\x0d.\x0d\x0a" in found[3]
    # A look-alike at the very start of the content counts too (DATA ended with CRLF).
    assert any("look-alike" in w for w in content_warnings(b".\nrest\r\n"))
    # hannob/smtpsmug's "nullbefore" and "nullafter": a NUL next to the dot is a look-alike too.
    for variant, shown in ((b"\r\n\x00.\r\n", r"\x0d\x0a\x00.\x0d\x0a"),
                           (b"\r\n.\x00\r\n", r"\x0d\x0a.\x00\x0d\x0a")):
        found = content_warnings(b"a" + variant + b"MAIL FROM:<evil@x>\r\n")
        assert any(w.startswith(f"end-of-data look-alike in the content ({shown})")
                   for w in found), found
    long_line = content_warnings(b"y" * 1200 + b"\r\n")
    assert long_line == ["a content line is 1202 octets, over the RFC 5321 limit of 1000"]


def test_multiline_reply_becomes_one_entry() -> None:
    tap = _tap()
    assert tap.server_line(b"250-mx.test") is None
    assert tap.server_line(b"250-SIZE 1000") is None
    entry = tap.server_line(b"250 HELP")
    assert entry is not None
    assert entry.raw == b"250-mx.test\r\n250-SIZE 1000\r\n250 HELP\r\n"
    assert entry.text == "250-mx.test\n250-SIZE 1000\n250 HELP"
    # The same shape as the client's entries: what the engine parses from those bytes.
    assert entry.reply == {"code": 250, "enhanced": None, "lines": ["mx.test", "SIZE 1000", "HELP"],
                           "warnings": [], "unsolicited": False}
    assert entry.reply == reply_fields(parse_reply(entry.raw))


def test_reply_group_enhanced_code() -> None:
    parsed = parse_reply_group([b"535 5.7.8 Authentication credentials invalid"])
    assert parsed["code"] == 535 and parsed["enhanced"] == "5.7.8"
    assert parse_reply_group([b"334 "])["lines"] == [""]


def test_reply_group_the_engine_cannot_read_keeps_its_lines_and_says_why() -> None:
    tap = _tap()
    assert tap.server_line(b"250-first") is None
    entry = tap.flush_reply()  # the connection ended inside a multi-line reply
    assert entry is not None and entry.reply is not None
    assert entry.reply["code"] == 250 and entry.reply["lines"] == ["first"]
    assert entry.reply["warnings"] and "not one complete reply" in entry.reply["warnings"][0]
    garbage = parse_reply_group([b"hello there"])
    assert garbage["code"] == 0 and garbage["warnings"]


def test_data_lines_become_one_content_entry_at_the_terminator() -> None:
    tap = _tap()
    assert tap.data_line(b"Subject: x\r\n") is None
    assert tap.data_line(b"..stuffed\r\n") is None
    entry = tap.data_line(b".\r\n")
    assert entry is not None and entry.kind == "content"
    assert entry.raw == b"Subject: x\r\n..stuffed\r\n.\r\n"
    assert not tap.in_data


def test_overlong_line_fragments_join_the_next_line() -> None:
    tap = _tap()
    tap.drained(b"A" * 10)
    entry = tap.client_line(b"BC\r\n")
    assert entry.raw == b"A" * 10 + b"BC\r\n"
    assert entry.notes == ("longer than aiosmtpd's line buffer",)


def test_auth_answers_are_redacted_and_latency_measured() -> None:
    tap = _tap()
    tap.client_line(b"AUTH LOGIN dXNlcg==\r\n")
    reply = tap.server_line(b"334 UGFzc3dvcmQ6")
    assert reply is not None and reply.latency is not None and reply.latency > 0
    entry = tap.client_line(b"c2VjcmV0\r\n")  # "secret"
    assert entry.redacted and b"c2VjcmV0" not in entry.raw


def test_connection_closed_flushes_unfinished_content() -> None:
    tap = _tap()
    tap.data_line(b"half a message\r\n")
    tap.connection_closed(b"tail")
    kinds = [(e.kind, e.text) for e in tap.transcript]
    assert kinds[0] == ("content", "half a message\r\n")
    assert any(text.startswith("message content without end of data") for _, text in kinds)
    assert any("4 octets from the client were never read" in text for _, text in kinds)


def test_unread_complete_lines_at_close_are_not_called_unterminated() -> None:
    tap = _tap()
    tap.connection_closed(b"NOOP\r\n")
    warnings = [e.text for e in tap.transcript if e.kind == "warning"]
    assert warnings == ["6 octets from the client were never read as a line (the connection "
                        r"closed before the server read them): NOOP\x0d\x0a"]


def test_plaintext_after_starttls_is_named_as_injection() -> None:
    tap = _tap()
    tap.after_starttls(b"MAIL FROM:<a@x>\r\n", handshake_done=False)
    (entry,) = tap.transcript
    assert entry.kind == "warning"
    assert entry.text == (
        "17 octets of plaintext were pipelined after STARTTLS (the STARTTLS command-injection "
        "pattern, CVE-2011-0411): discarded with the connection (the handshake did not "
        r"complete), never executed: MAIL FROM:<a@x>\x0d\x0a")
