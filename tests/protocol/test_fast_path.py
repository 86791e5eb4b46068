"""The engine's fast paths (remembered replies, outcome tables) agree with the slow ones."""

from __future__ import annotations

import pytest

from smtpscope.protocol import (
    NEED_DATA,
    Connection,
    Data,
    MailFrom,
    Noop,
    RcptTo,
    Reply,
    reply_memory,
)
from smtpscope.protocol import replies as replies_module
from smtpscope.protocol.expect import SPECIAL, fast_outcomes, outcomes
from smtpscope.protocol.replies import ReplyReader
from smtpscope.protocol.state import RULES, State, is_expected, next_state


def frames_of(data: bytes) -> list[tuple[object, ...]]:
    reader = ReplyReader()
    reader.receive_data(data)
    out = []
    while (frame := reader.next_frame()) is not None:
        out.append(frame)
    return out


def test_outcome_table_matches_next_state_for_every_kind_and_code() -> None:
    for kind, rule in RULES.items():
        if kind in SPECIAL:
            continue
        table, failure = outcomes(kind)
        for state in rule.valid_in or set(State):
            for code in range(200, 600):
                if code == 421:
                    continue  # handled before the table, as in next_state
                target, expected, _ = table.get(code, failure)
                after = state if target is None else target
                assert after is next_state(state, kind, code, State.IDENT), (kind, state, code)
                assert expected == is_expected(kind, code), (kind, code)


def test_hot_path_table_leaves_421_closing_and_special_replies_to_the_slow_path() -> None:
    for kind in RULES:
        fast = fast_outcomes(kind)
        # Indexed by the reply code: every three-digit code has its entry (the careful path
        # frames codes outside 2xx-5xx too, with a warning).
        assert type(fast) is tuple and len(fast) == 1000, kind
        if kind in SPECIAL:
            assert set(fast) == {None}, kind
            continue
        table, failure = outcomes(kind)
        assert fast[421] is None
        for code in range(1000):
            if code == 421:
                continue
            full = table.get(code, failure)
            assert fast[code] == (None if full[0] is State.CLOSED else full), (kind, code)
    assert fast_outcomes("QUIT")[221] is None  # 221 to QUIT closes: never the hot path


@pytest.mark.parametrize("code", [b"199", b"000", b"999", b"600"])
def test_codes_outside_2xx_5xx_are_matched_with_a_warning(code: bytes) -> None:
    conn = Connection()
    conn.receive_data(b"220 hi\r\n")
    conn.next_event()
    conn.send(MailFrom("a@example.test"), force=True)
    conn.send(Noop(), force=True)
    conn.receive_data(code + b" odd\r\n" + code + b" odd\r\n")
    mail, noop = conn.next_events()
    assert isinstance(mail, Reply) and isinstance(noop, Reply)
    assert (mail.code, mail.kind, mail.expected) == (int(code), "MAIL", False)
    assert (noop.code, noop.kind, noop.expected) == (int(code), "NOOP", False)
    assert any("outside the 2xx-5xx range" in w for w in mail.warnings)
    assert conn.state is State.READY and not conn.pending


def test_owed_replies_are_exact_tuples() -> None:
    # The hot path indexes each one; CPython does that at full speed only for an exact tuple
    # (a named tuple goes through the generic protocol, several times the cost per reply).
    conn = Connection(lmtp=True)
    conn.send(MailFrom("a@example.test"), force=True)
    conn.send(RcptTo("b@example.test"), force=True)
    conn.send(Data(), force=True)
    assert conn._pending and all(type(exp) is tuple for exp in conn._pending)


def test_remembered_replies_equal_freshly_parsed_ones() -> None:
    reply_memory.FINALS.clear()
    reply_memory.GROUPS.clear()
    data = b"250 2.1.5 Ok\r\n250-mx\r\n250-PIPELINING\r\n250 SIZE 10\r\n"
    first = frames_of(data)
    second = frames_of(data)  # now served from memory
    assert first == second
    assert second[0] == (250, (b"2.1.5 Ok",), b"250 2.1.5 Ok\r\n", second[0][3], ())
    assert str(second[0][3]) == "2.1.5"
    assert second[1][1] == (b"mx", b"PIPELINING", b"SIZE 10")


def test_reply_needing_a_warning_is_never_served_from_memory() -> None:
    # An enhanced code of the wrong class warns every time, however often it comes.
    for _ in range(3):
        (frame,) = frames_of(b"250 5.1.1 odd\r\n")
        assert any("does not match" in w for w in frame[4])  # type: ignore[union-attr]
    for _ in range(3):
        (frame,) = frames_of(b"250-5.1.1 a\r\n250 5.1.1 odd\r\n")
        assert any("does not match" in w for w in frame[4])  # type: ignore[union-attr]


def test_memory_stays_bounded_under_endless_unique_replies() -> None:
    lines = b"".join(b"250 2.0.0 queued as %012d\r\n" % i for i in range(20_000))
    assert len(frames_of(lines)) == 20_000
    assert len(reply_memory.FINALS) <= reply_memory.MEMO_MAX
    groups = b"".join(b"250-host%d\r\n250 OK\r\n" % i for i in range(5_000))
    assert len(frames_of(groups)) == 5_000
    assert len(reply_memory.GROUPS) <= reply_memory.MEMO_MAX


def test_full_memory_keeps_what_it_holds_until_it_has_missed_long_enough() -> None:
    # One-off replies (queue ids) must not push out the ones that come again; a memory that
    # keeps missing starts over, so a new server's replies get remembered in time.
    memo, size, patience = reply_memory.FINALS, reply_memory.MEMO_MAX, \
        reply_memory.MEMO_PATIENCE
    memo.clear()
    memo.misses = 0
    frames_of(b"250 2.1.5 Ok\r\n")
    unique = b"".join(b"250 2.0.0 queued as %012d\r\n" % i for i in range(size - 1 + patience))
    frames_of(unique[: -len(b"250 2.0.0 queued as 000000000000\r\n")])
    assert len(memo) == size and b"250 2.1.5 Ok" in memo
    assert memo.misses == patience - 1
    (frame,) = frames_of(b"250 2.1.5 Ok\r\n")  # found while full
    assert frame is memo[b"250 2.1.5 Ok"]
    frames_of(unique[-len(b"250 2.0.0 queued as 000000000000\r\n"):])
    assert len(memo) == 0 and memo.misses == 0
    frames_of(b"250 2.1.5 Ok\r\n")
    assert b"250 2.1.5 Ok" in memo


def test_same_bytes_twice_give_two_replies_each_matched_to_its_command() -> None:
    conn = Connection()
    conn.receive_data(b"220 hi\r\n")
    assert isinstance(conn.next_event(), Reply)
    conn.send(MailFrom("a@example.test"), force=True)
    conn.send(RcptTo("b@example.test"), force=True)
    conn.send(RcptTo("c@example.test"), force=True)
    conn.receive_data(b"250 2.1.0 Ok\r\n250 2.1.0 Ok\r\n550 5.1.1 no\r\n")
    events = []
    while (event := conn.next_event()) is not NEED_DATA:
        events.append(event)
    assert [type(e.command).__name__ for e in events] == ["MailFrom", "RcptTo", "RcptTo"]
    assert [e.expected for e in events] == [True, True, False]
    assert events[0] is not events[1] and events[0].raw == events[1].raw
    assert conn.state is State.RCPT
    assert [e.command for e in events if isinstance(e.command, RcptTo) and e.expected] == [
        RcptTo("b@example.test")]


# Lines alike up to the 14th byte (or shorter), where that byte decides whether the text
# starts with an enhanced code: a remembered head must never answer for a line it does not fit.
HEAD_EDGES = [
    b"250 2.999.999 longest code", b"250 2.999.9990 four digits", b"250 2.999.999\ttab",
    b"250 2.999.999", b"250 2.999.999x", b"250 2.999.99", b"250 2.999.99 ok", b"250 2.1.5",
    b"250 2.1.5x", b"250 2.1.5 Ok", b"250 2.1.50 Ok", b"250 2.1.5000 Ok", b"550 2.999.999 odd",
    b"550 5.999.999 ok", b"250 ", b"250 x", b"250 2", b"250 x.y", b"250 OK id=1rXyZ-000a",
    b"250 OK id=2.1.5", b"250 2.1.5 OK id=1", b"250 2 2.1.5", b"250 2.1.5-x",
]


@pytest.mark.parametrize("order", [1, -1])
def test_remembered_heads_read_each_line_as_the_careful_path_does(order: int) -> None:
    reply_memory.FINALS.clear()
    reply_memory.HEADS.clear()
    for line in HEAD_EDGES[::order] * 2:  # the second round meets remembered heads
        careful = replies_module._build([line + b"\r"])
        (single,) = frames_of(line + b"\r\n")
        assert single == careful, line
        first = line[:3] + b"-" + line[4:]
        (group,) = frames_of(first + b"\r\n" + line + b"\r\n")
        assert group == replies_module._build([first + b"\r", line + b"\r"]), line
