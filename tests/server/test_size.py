"""--size as RFC 1870 counts a message (no stuffing dots), refused with 552 5.3.4 and a note."""

from __future__ import annotations

import pytest

from smtpscope.protocol import Capabilities, parse_reply
from smtpscope.record import read_recording
from smtpscope.server.size import MessageSize, declared_size, stuffed_bound
from tests.server.conftest import Raw

LIMIT = 120
REFUSED = b"552 5.3.4 Message size exceeds fixed maximum message size\r\n"


def _stuffed(content: bytes) -> bytes:
    """``content`` as DATA puts it on the wire (RFC 5321 4.5.2), with the terminator."""
    lines = content.split(b"\r\n")
    return b"\r\n".join(b"." + line if line.startswith(b".") else line for line in lines) + b".\r\n"


def _dotted(size: int) -> bytes:
    """A message of exactly ``size`` octets whose lines mostly start with a dot."""
    head = b"Subject: dots\r\n\r\n"
    content = head + b".x\r\n" * ((size - len(head) - 2) // 4)
    content += b"y" * (size - len(content) - 2) + b"\r\n"
    assert len(content) == size
    return content


def _transaction(raw: Raw, content: bytes, mail: bytes = b"MAIL FROM:<a@x.test>") -> bytes:
    for command in (mail, b"RCPT TO:<b@x.test>", b"DATA"):
        raw.send(command + b"\r\n")
        assert raw.reply()[:1] in (b"2", b"3")
    raw.send(_stuffed(content))
    return raw.reply()


def test_message_size_counts_neither_stuffing_dots_nor_the_terminator() -> None:
    content = _dotted(LIMIT)
    size = MessageSize()
    wire = _stuffed(content)
    pieces = wire.splitlines(keepends=True)
    assert [size.feed(piece) for piece in pieces] == [False] * (len(pieces) - 1) + [True]
    assert size.octets == len(content) == LIMIT
    assert len(wire) - 3 > LIMIT  # what aiosmtpd counted, and refused


def test_message_size_follows_a_line_drained_in_pieces() -> None:
    # aiosmtpd drains a line longer than its buffer in pieces: only the first piece can hold a
    # stuffing dot, and ".\r\n" after a piece continues that line rather than ending DATA.
    size = MessageSize()
    assert not size.feed(b"..abc")
    assert not size.feed(b".def")
    assert not size.feed(b".\r\n")
    assert size.feed(b".\r\n")
    assert size.octets == len(b".abc.def.\r\n")


def test_stuffed_bound_holds_the_worst_case() -> None:
    for limit in range(0, 200):
        lines = limit // 3  # every line ".\r\n", each stuffed
        assert lines * 4 + (limit - lines * 3) <= stuffed_bound(limit)


@pytest.mark.parametrize(("options", "size"), [
    ([], None), (["BODY=8BITMIME"], None), (["SIZE=0"], 0), (["BODY=7BIT", "SIZE=120"], 120)])
def test_declared_size(options: list[str], size: int | None) -> None:
    assert declared_size(options) == size


def test_declared_size_takes_only_ascii_digits() -> None:
    with pytest.raises(ValueError):
        declared_size(["SIZE=\u00b2"])


def test_a_message_exactly_at_the_limit_with_dot_lines_is_stored(serve) -> None:
    running = serve(size=LIMIT)
    raw = Raw(running.host, running.port)
    raw.send(b"EHLO size.test\r\n")
    assert Capabilities.parse(parse_reply(raw.reply())).size == LIMIT
    content = _dotted(LIMIT)
    assert _transaction(raw, content, b"MAIL FROM:<a@x.test> SIZE=%d" % LIMIT).startswith(
        b"250 2.0.0 Ok: queued as ")
    raw.close()
    assert running.stored() == [content]


@pytest.mark.parametrize("size", [LIMIT + 1, stuffed_bound(LIMIT) * 2],
                         ids=["one-over", "past-aiosmtpd-bound"])
def test_a_message_over_the_limit_gets_5_3_4_and_a_note(serve, size: int) -> None:
    running = serve(size=LIMIT)
    raw = Raw(running.host, running.port)
    raw.send(b"EHLO size.test\r\n")
    raw.reply()
    assert _transaction(raw, _dotted(size)) == REFUSED
    # The session goes on: the next message is taken.
    assert _transaction(raw, b"Subject: small\r\n\r\nfits\r\n").startswith(b"250 ")
    raw.send(b"QUIT\r\n")
    raw.reply()
    raw.close()
    assert running.stored() == [b"Subject: small\r\n\r\nfits\r\n"]
    running.wait_closed()
    texts = [e.text for e in read_recording(running.recordings()[0]).entries]
    note = (f"message not stored: {size} octets (RFC 1870 count, without stuffing dots) "
            f"exceed the --size limit of {LIMIT}")
    at = texts.index(note)
    assert texts[at + 1] == REFUSED.decode().rstrip()


def test_mail_size_over_the_limit_gets_5_3_4(serve) -> None:
    running = serve(size=LIMIT)
    raw = Raw(running.host, running.port)
    raw.send(b"EHLO size.test\r\n")
    raw.reply()
    raw.send(b"MAIL FROM:<a@x.test> SIZE=%d\r\n" % (LIMIT + 1))
    assert raw.reply() == REFUSED
    raw.send("MAIL FROM:<a@x.test> SIZE=\u00b2\r\n".encode())
    assert raw.reply().startswith(b"501 5.5.4 ")
    raw.send(b"MAIL FROM:<a@x.test> SIZE=%d\r\n" % LIMIT)
    assert raw.reply() == b"250 2.1.0 OK\r\n"
    raw.close()
    entries = running.wait_closed()
    assert f"MAIL refused: its SIZE={LIMIT + 1} exceeds the --size limit of {LIMIT}" in [
        e.text for e in entries]


def test_without_a_limit_nothing_is_advertised_or_refused(serve) -> None:
    running = serve(size=0)
    raw = Raw(running.host, running.port)
    raw.send(b"EHLO size.test\r\n")
    assert Capabilities.parse(parse_reply(raw.reply())).size is None
    content = _dotted(4 * LIMIT)
    assert _transaction(raw, content, b"MAIL FROM:<a@x.test> SIZE=99999999").startswith(b"250 ")
    raw.close()
    assert running.stored() == [content]


def test_a_content_line_over_1000_octets_is_stored_with_a_warning(serve) -> None:
    # RFC 5321 4.5.3.1.6: 1000 octets is the least a server must take, and Postfix stores such
    # a line; aiosmtpd refused the message, "500 Line too long".
    running = serve(size=100_000)
    raw = Raw(running.host, running.port)
    raw.send(b"EHLO size.test\r\n")
    raw.reply()
    content = b"Subject: long\r\n\r\n" + b"y" * 50_000 + b"\r\n.z" + b"w" * 5_000 + b"\r\n"
    assert _transaction(raw, content).startswith(b"250 2.0.0 Ok: queued as ")
    # Command lines keep their limit once DATA is over.
    raw.send(b"NOOP " + b"x" * 2_000 + b"\r\n")
    assert raw.reply() == b"500 5.5.2 Command line too long\r\n"
    # A line past the size bound is refused for the message's size, not for its length.
    assert _transaction(raw, b"Subject: huge\r\n\r\n" + b"y" * 200_000 + b"\r\n") == REFUSED
    raw.close()
    assert running.stored() == [content]
    warnings = [e.text for e in running.wait_closed() if e.kind == "warning"]
    assert "a content line is 50002 octets, over the RFC 5321 limit of 1000" in warnings


def test_a_content_line_is_bounded_however_large_the_size_limit(serve) -> None:
    """One line without an end must not take the memory --size allows the whole message:
    past LINE_BOUND (1 MiB) the message is refused for the line, and the session goes on."""
    from smtpscope.server.size import LINE_BOUND

    running = serve(size=8 * LINE_BOUND)
    raw = Raw(running.host, running.port)
    raw.send(b"EHLO size.test\r\n")
    raw.reply()
    near = b"Subject: near\r\n\r\n" + b"y" * (LINE_BOUND - 10) + b"\r\n"
    assert _transaction(raw, near).startswith(b"250 2.0.0 Ok: queued as ")
    reply = _transaction(raw, b"Subject: far\r\n\r\n" + b"y" * (LINE_BOUND + 10) + b"\r\n")
    assert reply.startswith(b"500 5.5.2 Line too long"), reply
    raw.send(b"NOOP\r\n")
    assert raw.reply() == b"250 2.0.0 OK\r\n"
    raw.close()
    assert running.stored() == [near]


def test_a_message_ten_times_over_keeps_nothing_past_the_limit(serve) -> None:
    """Past --size nothing more of the message is kept, in aiosmtpd or the transcript: the
    rest is read and counted to the end of data, then refused with 5.3.4; nothing stored."""
    running = serve(size=LIMIT)
    raw = Raw(running.host, running.port)
    raw.send(b"EHLO size.test\r\n")
    raw.reply()
    line = b"y" * 10 + b"\r\n"
    over = b"Subject: big\r\n\r\n" + line * (10 * LIMIT // len(line))
    assert _transaction(raw, over) == REFUSED
    exact = _dotted(LIMIT)  # then one exactly at the limit is taken
    assert _transaction(raw, exact).startswith(b"250 2.0.0 Ok: queued as ")
    raw.close()
    assert running.stored() == [exact]
    entries = running.wait_closed()
    texts = [e.text for e in entries]
    note = (f"message over the --size limit of {LIMIT} octets: no longer kept, read to the "
            "end of data to be refused (552 5.3.4)")
    assert texts.count(note) == 1
    first = next(e for e in entries if e.kind == "content")
    # The transcript kept the message up to the line that went past the limit, no more.
    assert LIMIT < len(first.raw) <= LIMIT + len(line) + len(b".\r\n")
    assert f"{len(over) - len(first.raw) + 3} further octets not kept in the transcript" \
        in first.notes
    assert texts.index(note) < texts.index(first.text)  # said live, before the end of data


def test_memory_for_a_message_far_over_the_limit_stays_near_the_limit(serve) -> None:
    import tracemalloc

    limit = 64 * 1024
    running = serve(size=limit)
    raw = Raw(running.host, running.port)
    raw.send(b"EHLO size.test\r\n")
    raw.reply()
    for command in (b"MAIL FROM:<a@x.test>", b"RCPT TO:<b@x.test>", b"DATA"):
        raw.send(command + b"\r\n")
        raw.reply()
    chunk = (b"x" * 76 + b"\r\n") * 800
    tracemalloc.start()
    try:
        for _ in range(40 * limit // len(chunk)):  # 40 times the limit, a chunk at a time
            raw.send(chunk)
        raw.send(b".\r\n")
        assert raw.reply() == REFUSED
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    raw.close()
    assert running.stored() == []
    # About 10 times the limit (fixed costs of a session); it was over 300 times (the whole
    # message kept in the transcript, and a third over the limit in aiosmtpd).
    assert peak < 30 * limit, peak
