"""Reply framing: multi-line assembly, warnings, limits, garbage, EOF; fed whole and bytewise."""

from __future__ import annotations

import pytest

from smtpscope.protocol import (
    MAX_LINE_LENGTH,
    NEED_DATA,
    Closed,
    Connection,
    EnhancedCode,
    RemoteProtocolError,
    Reply,
    parse_reply,
)
from smtpscope.protocol.replies import ReplyReader, parse_enhanced

from .servers import (
    EXCHANGE_EHLO,
    EXCHANGE_GREETING,
    EXIM_GREETING,
    MULTILINE_GREETING,
    POSTFIX_EHLO,
    SENDMAIL_GREETING,
)


def events_of(data: bytes, chunk: int | None = None) -> list[Reply | Closed]:
    """All events a fresh connection yields for ``data`` fed in ``chunk``-byte pieces."""
    conn = Connection()
    out: list[Reply | Closed] = []
    step = chunk or len(data) or 1
    for i in range(0, len(data), step):
        conn.receive_data(data[i : i + step])
        while (event := conn.next_event()) is not NEED_DATA:
            assert not isinstance(event, type(NEED_DATA))
            out.append(event)
            if isinstance(event, Closed):
                return out
    return out


def frames(data: bytes, chunk: int | None = None) -> list[Reply]:
    reader = ReplyReader()
    out = []
    step = chunk or len(data) or 1
    for i in range(0, len(data), step):
        reader.receive_data(data[i : i + step])
        while (frame := reader.next_frame()) is not None:
            out.append(Reply(*frame))
    return out


STREAMS = [
    EXIM_GREETING + POSTFIX_EHLO + b"250 2.1.0 Ok\r\n",
    MULTILINE_GREETING + EXCHANGE_EHLO,
    EXCHANGE_GREETING + b"250-a\n250-b\r\n" + b"250 ok\n",
    SENDMAIL_GREETING + b"550-5.1.1 first\r\n550 5.1.1 second\r\n" + b"421 4.3.2 bye\r\n",
]


@pytest.mark.parametrize("stream", STREAMS)
@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, None])
def test_chunking_does_not_change_the_result(stream: bytes, chunk: int | None) -> None:
    whole = frames(stream)
    assert frames(stream, chunk) == whole
    assert b"".join(r.raw for r in whole) == stream


def test_byte_at_a_time_multiline_reply() -> None:
    data = POSTFIX_EHLO
    reader = ReplyReader()
    for i, byte in enumerate(data):
        reader.receive_data(bytes([byte]))
        frame = reader.next_frame()
        if i < len(data) - 1:
            assert frame is None
    assert frame is not None
    reply = Reply(*frame)
    assert reply.code == 250
    assert reply.lines[0] == b"mx.example.test"
    assert reply.lines[-1] == b"CHUNKING"
    assert len(reply.lines) == 11
    assert reply.raw == data
    assert reply.warnings == ()


def test_greeting_fields() -> None:
    (reply,) = events_of(EXIM_GREETING)
    assert isinstance(reply, Reply)
    assert reply.code == 220
    assert reply.text == "mail.example.org ESMTP Exim 4.96 Fri, 27 Nov 2026 15:00:00 +0000"
    assert reply.command is None and not reply.unsolicited
    assert reply.is_success and reply.reply_class == 2
    assert not reply.is_permanent and not reply.is_transient and not reply.is_intermediate


def test_multiline_greeting_is_one_event() -> None:
    (reply,) = events_of(MULTILINE_GREETING)
    assert isinstance(reply, Reply)
    assert reply.text_lines == (
        "smtp.example.com ESMTP",
        "Unsolicited bulk email is prohibited here.",
        "Ready",
    )


def test_enhanced_code_split_out() -> None:
    reply = parse_reply(b"535 5.7.8 Error: authentication failed: (reason unavailable)\r\n")
    assert reply.enhanced == EnhancedCode(5, 7, 8)
    assert str(reply.enhanced) == "5.7.8"
    assert reply.lines == (b"5.7.8 Error: authentication failed: (reason unavailable)",)
    assert reply.is_permanent


@pytest.mark.parametrize(
    ("data", "summary"),
    [
        # Gmail's: the code repeats on every line (RFC 2034 §4), two spaces after the last.
        (b"535-5.7.8 Username and Password not accepted. For more information, go to\r\n"
         b"535 5.7.8  https://support.google.com/mail/?p=BadCredentials\r\n",
         "535 5.7.8 Username and Password not accepted. For more information, go to "
         "https://support.google.com/mail/?p=BadCredentials"),
        # A line that names another code, or none, keeps what it says.
        (b"550-5.1.1 <a@x.test> unknown\r\n550-5.1.10 null MX\r\n550 see 5.1.1\r\n",
         "550 5.1.1 <a@x.test> unknown 5.1.10 null MX see 5.1.1"),
        (b"250-mx.example.test\r\n250 2.0.0 HELP\r\n", "250 mx.example.test 2.0.0 HELP"),
        (b"554 \r\n", "554"),
        (b"550-5.7.1 refus\xe9\r\n550 5.7.1 \x1b[2J\r\n", "550 5.7.1 refus\udce9 \x1b[2J"),
    ],
)
def test_a_summary_quotes_a_reply_on_one_line(data: bytes, summary: str) -> None:
    assert parse_reply(data).shown_summary == summary  # raw for the sanitizer, as shown_lines


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"2.0.0 Ok", EnhancedCode(2, 0, 0)),
        (b"5.1.10 null MX", EnhancedCode(5, 1, 10)),
        (b"4.7.999", EnhancedCode(4, 7, 999)),
        (b"5.7.1000 too long", None),
        (b"3.0.0 bad class", None),
        (b"2.0 short", None),
        (b"2.0.0.1 an address", None),
        (b"1.2.3.4 is your IP", None),
        (b"", None),
        (b"2.x.0", None),
        (b"2.0.0\tOk", EnhancedCode(2, 0, 0)),
    ],
)
def test_enhanced_syntax(text: bytes, expected: EnhancedCode | None) -> None:
    assert parse_enhanced(text) == expected


def test_enhanced_class_mismatch_is_kept_with_warning() -> None:
    reply = parse_reply(b"250 5.1.1 odd but seen\r\n")
    assert reply.enhanced == EnhancedCode(5, 1, 1)
    assert any("does not match the class" in w for w in reply.warnings)


def test_bare_lf_understood_with_warning() -> None:
    reply = parse_reply(b"250-first\n250 second\n")
    assert reply.lines == (b"first", b"second")
    assert reply.raw == b"250-first\n250 second\n"
    assert any("bare LF" in w for w in reply.warnings)


def test_inconsistent_codes_warn() -> None:
    reply = parse_reply(b"250-one\r\n251 two\r\n")
    assert reply.code == 250
    assert any("inconsistent codes" in w for w in reply.warnings)


def test_reply_without_text_and_without_space() -> None:
    assert parse_reply(b"250\r\n").lines == (b"",)
    odd = parse_reply(b"250Ok\r\n")
    assert odd.lines == (b"Ok",)
    assert any("no space" in w for w in odd.warnings)


def test_invalid_utf8_is_replaced_never_raised() -> None:
    reply = parse_reply(b"550 5.1.1 caf\xc3 \xff\xfe unknown\r\n")
    assert reply.lines == (b"5.1.1 caf\xc3 \xff\xfe unknown",)
    assert "\ufffd" in reply.text
    assert reply.text.startswith("5.1.1 caf")


def test_utf8_text_decoded() -> None:
    assert parse_reply("250 2.1.5 Empfänger ok\r\n".encode()).text == "2.1.5 Empfänger ok"


@pytest.mark.parametrize(
    "data",
    [b"hello world\r\n", b"25 short\r\n", b"abc-def\r\n250 x\r\n", b"2500 ok\r\n", b"\r\n",
     b"250-ok\r\nxyz-nope\r\n"],
)
def test_garbage_raises_remote_protocol_error(data: bytes) -> None:
    conn = Connection()
    conn.receive_data(data)
    with pytest.raises(RemoteProtocolError) as info:
        conn.next_event()
    assert "not an SMTP reply" in str(info.value)
    # The error is sticky: the stream position is unknown from now on.
    with pytest.raises(RemoteProtocolError):
        conn.next_event()


def test_garbage_message_shows_bytes_safely() -> None:
    with pytest.raises(RemoteProtocolError) as info:
        parse_reply(b"\x1b[31mEVIL\x07 " + b"x" * 500 + b"\r\n")
    message = str(info.value)
    assert "\x1b" not in message and "\x07" not in message
    assert "\\x1b" in message and "\\\\" not in message
    assert "(511 bytes)" in message
    assert len(message) < 300


def test_garbage_message_quotes_the_line_as_text_not_a_python_literal() -> None:
    with pytest.raises(RemoteProtocolError) as info:
        parse_reply(b"2200 weird\r\n")
    assert str(info.value).endswith(': "2200 weird"')  # no b'...', no line ending
    with pytest.raises(RemoteProtocolError) as info:
        parse_reply("22X caf\u00e9 \\x41 ".encode() + b"\xff\r\n")
    assert str(info.value).endswith('"22X caf\u00e9 \\\\x41 \\xff"')


@pytest.mark.parametrize("data", [
    b"\x1b[2J\x07\x00\x7f\xc2\x9b\\x1b \t end",
    "\u202e\u2066 bidi \u2028 \u00e9".encode(),
    b"\xff\xfe\xc3\x28 \xed\xa0\x80",
])
def test_show_bytes_escapes_like_the_sanitizer(data: bytes) -> None:
    from smtpscope.protocol.errors import show_bytes
    from smtpscope.sanitize import visible_bytes

    assert show_bytes(data) == f'"{visible_bytes(data)}"'


def test_replies_before_garbage_are_delivered_first() -> None:
    conn = Connection()
    conn.receive_data(EXIM_GREETING + b"garbage\r\n")
    first = conn.next_event()
    assert isinstance(first, Reply) and first.code == 220
    with pytest.raises(RemoteProtocolError):
        conn.next_event()


def test_overlong_complete_line() -> None:
    conn = Connection()
    conn.receive_data(b"250 " + b"x" * MAX_LINE_LENGTH + b"\r\n")
    with pytest.raises(RemoteProtocolError) as info:
        conn.next_event()
    assert str(info.value) == ("server sent a reply line of 65,542 bytes, over the "
                               "65,536-byte limit (RFC 5321 allows 512)")


def test_overlong_line_without_a_line_end_yet() -> None:
    conn = Connection()
    for _ in range(MAX_LINE_LENGTH // 4096 + 1):
        conn.receive_data(b"2" * 4096)
    with pytest.raises(RemoteProtocolError) as info:
        conn.next_event()
    assert str(info.value) == ("server sent 69,632 bytes of a reply line without a line end, "
                               "over the 65,536-byte limit (RFC 5321 allows 512)")


def test_long_but_allowed_line() -> None:
    text = b"x" * (MAX_LINE_LENGTH - 6)
    reply = parse_reply(b"250 " + text + b"\r\n")
    assert reply.lines == (text,)
    assert MAX_LINE_LENGTH == 65536


def test_eof_gives_closed_with_partial_line() -> None:
    conn = Connection()
    conn.receive_data(EXIM_GREETING + b"250-partial\r\n250 unfini")
    conn.receive_data(b"")
    first = conn.next_event()
    assert isinstance(first, Reply)
    closed = conn.next_event()
    assert closed == Closed(b"250-partial\r\n250 unfini")
    assert conn.next_event() == closed  # stays closed
    assert conn.state.name == "CLOSED"


def test_eof_without_partial() -> None:
    conn = Connection()
    conn.receive_data(b"")
    assert conn.next_event() == Closed(b"")


def test_need_data_until_complete() -> None:
    conn = Connection()
    assert conn.next_event() is NEED_DATA
    conn.receive_data(b"220-a\r\n")
    assert conn.next_event() is NEED_DATA
    conn.receive_data(b"220 b\r")
    assert conn.next_event() is NEED_DATA
    conn.receive_data(b"\n")
    reply = conn.next_event()
    assert isinstance(reply, Reply) and reply.lines == (b"a", b"b")
    assert repr(NEED_DATA) == "NEED_DATA"


def test_parse_reply_rejects_incomplete_and_double() -> None:
    with pytest.raises(RemoteProtocolError, match="incomplete"):
        parse_reply(b"250 no line end")
    with pytest.raises(RemoteProtocolError, match="more than one"):
        parse_reply(b"250 a\r\n250 b\r\n")


def test_code_outside_range_warns() -> None:
    reply = parse_reply(b"199 preliminary\r\n")
    assert reply.code == 199
    assert any("outside" in w for w in reply.warnings)


def test_reply_is_immutable() -> None:
    reply = parse_reply(b"250 ok\r\n")
    with pytest.raises(AttributeError):
        reply.code = 500  # type: ignore[misc]
    with pytest.raises(AttributeError):
        reply.extra = 1  # type: ignore[attr-defined]
    assert reply._asdict()["code"] == 250
    changed = reply._replace(code=251)
    assert changed.code == 251 and reply.code == 250
    assert hash(reply) == hash(parse_reply(b"250 ok\r\n"))
    assert reply != changed


def test_trickled_long_reply_stays_linear() -> None:
    import time

    reader = ReplyReader()
    start = time.process_time()  # CPU time: the work done, whatever else runs
    for i in range(5000):
        reader.receive_data(b"250-line %d\r\n" % i)
        assert reader.next_frame() is None
    reader.receive_data(b"250 end\r\n")
    frame = reader.next_frame()
    elapsed = time.process_time() - start
    assert frame is not None and len(frame[1]) == 5001 and frame[1][4999] == b"line 4999"
    assert elapsed < 2.0  # quadratic rescanning would take far longer


def test_endless_multiline_reply_is_cut_off() -> None:
    from smtpscope.protocol import MAX_REPLY_LINES

    conn = Connection()
    conn.receive_data(b"250-x\r\n" * (MAX_REPLY_LINES + 2))
    with pytest.raises(RemoteProtocolError) as info:
        conn.next_event()
    assert str(info.value) == ("server sent a multi-line reply of more than 10,000 lines "
                               "(smtpscope's limit)")


def test_a_bad_line_of_an_unfinished_reply_is_reported_before_it_ends() -> None:
    """Lines of a multi-line reply are checked as they come, not only when its last line
    does (the remembered replies skip the check, and an unfinished one is not remembered)."""
    conn = Connection()
    conn.receive_data(b"250-first\r\n")
    assert conn.next_event() is NEED_DATA
    conn.receive_data(b"25x-garbage\r\n")
    with pytest.raises(RemoteProtocolError, match="not an SMTP reply"):
        conn.next_event()


@pytest.mark.parametrize("chunk", [None, 1, 9])
def test_a_remembered_multi_line_reply_keeps_its_checks(chunk: int | None) -> None:
    """The same lines again are the same frame; one code changed is a new reply, checked
    and warned about, however it arrives."""
    ehlo = b"250-mx.example.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n"
    for _ in range(2):
        [reply] = events_of(ehlo, chunk)
        assert reply.lines == (b"mx.example.test", b"PIPELINING", b"8BITMIME")
        assert reply.warnings == ()
    [odd] = events_of(ehlo.replace(b"250-PIPE", b"251-PIPE"), chunk)
    assert odd.warnings == ("inconsistent codes in one reply: 250 then 251",)


def test_mixed_line_endings_across_chunks() -> None:
    reader = ReplyReader()
    reader.receive_data(b"250-one\r\n250-two\r\n")
    assert reader.next_frame() is None
    reader.receive_data(b"250-three\n250 four\r\n")
    frame = reader.next_frame()
    assert frame is not None
    assert frame[1] == (b"one", b"two", b"three", b"four")
    assert frame[2] == b"250-one\r\n250-two\r\n250-three\n250 four\r\n"
    assert any("bare LF" in w for w in frame[4])


def test_overlong_line_that_ends_in_a_later_short_read() -> None:
    # Neither read alone is long; the line they make together is over the limit.
    conn = Connection()
    conn.receive_data(EXIM_GREETING + b"250 " + b"x" * (MAX_LINE_LENGTH - 10))
    conn.receive_data(b"x" * 20 + b"\r\n")
    assert isinstance(conn.next_event(), Reply)
    with pytest.raises(RemoteProtocolError, match="reply line of 65,552 bytes"):
        conn.next_event()


def test_overlong_line_among_short_ones_in_one_read() -> None:
    conn = Connection()
    conn.receive_data(EXIM_GREETING + b"250 ok\r\n" + b"250 " + b"x" * MAX_LINE_LENGTH + b"\r\n")
    assert isinstance(conn.next_event(), Reply)
    assert isinstance(conn.next_event(), Reply)
    with pytest.raises(RemoteProtocolError, match="over the 65,536-byte limit"):
        conn.next_event()


def test_longest_allowed_line_in_pieces_then_short_replies() -> None:
    # A long read that holds no overlong line leaves the short reads after it on the fast path.
    conn = Connection()
    conn.receive_data(EXIM_GREETING)
    conn.next_event()
    text = b"x" * (MAX_LINE_LENGTH - 6)
    conn.receive_data(b"250 " + text[:40_000])
    conn.receive_data(text[40_000:] + b"\r\n250 ok\r\n")
    long, short = conn.next_events()
    assert isinstance(long, Reply) and long.lines == (text,)
    assert isinstance(short, Reply) and short.lines == (b"ok",)
