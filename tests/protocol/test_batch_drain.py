"""next_events() is next_event() called until NEED_DATA: the same events, states and errors.

Two connections get the same commands and the same server bytes in the same pieces; one is
drained event by event, the other in batches, and after every piece both must have handed
out the same events and be in the same state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smtpscope.protocol import (
    DATA_ENDED_EARLY,
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
    Lhlo,
    LocalProtocolError,
    MailFrom,
    MessageContent,
    Noop,
    Quit,
    RcptTo,
    RemoteProtocolError,
    Reply,
    Rset,
    StartTLS,
    State,
)

from .servers import EXIM_EHLO, EXIM_GREETING, POSTFIX_EHLO, POSTFIX_EHLO_TLS, POSTFIX_GREETING


@dataclass(frozen=True)
class Raised:
    """The error a drain ended with (a Reply is a tuple too, so not a bare tuple)."""

    kind: type[Exception]
    message: str


Outcome = list[Any]  # events handed out, then a Raised if the drain ended with an error


def drain_one_by_one(conn: Connection) -> Outcome:
    out: Outcome = []
    try:
        while (event := conn.next_event()) is not NEED_DATA:
            out.append(event)
            if isinstance(event, Closed):
                break  # next_event returns the same Closed forever
    except RemoteProtocolError as exc:
        out.append(Raised(type(exc), str(exc)))
    return out


def drain_batches(conn: Connection) -> Outcome:
    out: Outcome = []
    try:
        while events := conn.next_events():
            assert all(not isinstance(e, Closed) for e in events[:-1]), "Closed must be last"
            out.extend(events)
            if isinstance(events[-1], Closed):
                break
    except RemoteProtocolError as exc:
        out.append(Raised(type(exc), str(exc)))
    return out


def snapshot(conn: Connection) -> tuple[object, ...]:
    return (
        conn.state, conn.projected_state, conn.pending, conn.capabilities, conn.trailing_data,
        conn.authenticated, conn.auth_mechanism, conn.tls_active, conn._accepted,
        conn._greeted, conn._closed,
    )


class Pair:
    """The same conversation on two connections, one drained per event, one per batch."""

    def __init__(self, lmtp: bool = False) -> None:
        self.single = Connection(lmtp=lmtp)
        self.batch = Connection(lmtp=lmtp)
        self.events: Outcome = []

    def send(self, cmd: Command, force: bool = True) -> None:
        results = []
        for conn in (self.single, self.batch):
            try:
                results.append(("ok", conn.send(cmd, force=force)))
            except LocalProtocolError as exc:
                results.append(("refused", str(exc)))
        assert results[0] == results[1]

    def send_raw(self, data: bytes) -> None:
        assert self.single.send_raw(data) == self.batch.send_raw(data)

    def start_tls_done(self) -> None:
        self.single.start_tls_done()
        self.batch.start_tls_done()

    def receive(self, data: bytes, cuts: list[int] | None = None) -> Outcome:
        """Feed ``data`` in pieces (sizes cycle through ``cuts``); compare after each piece."""
        got: Outcome = []
        pieces = list(_pieces(data, cuts or [len(data) or 1]))
        for piece in pieces:
            for conn in (self.single, self.batch):
                if conn._closed is None:
                    conn.receive_data(piece)
            one = drain_one_by_one(self.single)
            many = drain_batches(self.batch)
            assert one == many
            assert snapshot(self.single) == snapshot(self.batch)
            got.extend(one)
            if one and isinstance(one[-1], Raised):
                break  # both are broken now; the rest of the bytes cannot be framed
        self.events.extend(got)
        return got


def _pieces(data: bytes, cuts: list[int]) -> list[bytes]:
    out, i, k = [], 0, 0
    while i < len(data):
        size = max(1, cuts[k % len(cuts)])
        out.append(data[i : i + size])
        i += size
        k += 1
    return out or [data]


CUTS = st.lists(st.integers(1, 64), min_size=1, max_size=8)


def replies(events: Outcome) -> list[Reply]:
    return [e for e in events if isinstance(e, Reply)]


@settings(max_examples=60)
@given(CUTS)
def test_pipelined_transaction(cuts: list[int]) -> None:
    pair = Pair()
    pair.send(Ehlo("client.example"))
    pair.send(MailFrom("alice@client.example"))
    for rcpt in ("bob@example.test", "carol@example.test", "nobody@example.test"):
        pair.send(RcptTo(rcpt))
    pair.send(Data())
    pair.send(MessageContent(b"Subject: hi\r\n\r\nhello\r\n"))
    pair.send(Quit())
    events = pair.receive(
        EXIM_GREETING + EXIM_EHLO + b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
        b"550 5.1.1 <nobody@example.test>: Recipient address rejected\r\n"
        b"354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as 4X1\r\n"
        b"221 2.0.0 Bye\r\n", cuts)
    got = replies(events)
    assert [r.code for r in got] == [220, 250, 250, 250, 250, 550, 354, 250, 221]
    assert [r.expected for r in got][-4:] == [False, True, True, True]
    assert [r.closes for r in got] == [False] * 8 + [True]
    assert pair.batch.state is State.CLOSED and pair.batch.capabilities is not None


@settings(max_examples=60)
@given(CUTS)
def test_ehlo_multiline_then_eof_mid_reply(cuts: list[int]) -> None:
    pair = Pair()
    pair.send(Ehlo("client.example"))
    pair.send(Noop())
    events = pair.receive(POSTFIX_GREETING + POSTFIX_EHLO + b"250-2.0.0 half\r\n250 2.0", cuts)
    assert [r.code for r in replies(events)] == [220, 250]
    events = pair.receive(b"")
    assert events == [Closed(b"250-2.0.0 half\r\n250 2.0")]
    assert pair.batch.next_events() == [Closed(b"250-2.0.0 half\r\n250 2.0")]  # and again


@settings(max_examples=60)
@given(CUTS)
def test_lmtp_three_recipients(cuts: list[int]) -> None:
    pair = Pair(lmtp=True)
    pair.receive(b"220 lmtp.example.test LMTP ready\r\n", cuts)
    pair.send(Lhlo("client.example"))
    pair.receive(b"250-lmtp.example.test\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES\r\n", cuts)
    pair.send(MailFrom("alice@client.example"), force=False)
    for rcpt in ("a@example.test", "b@example.test", "c@example.test"):
        pair.send(RcptTo(rcpt), force=False)
    pair.send(Data(), force=False)
    pair.receive(b"250 2.1.0 Ok\r\n" + b"250 2.1.5 Ok\r\n" * 3 + b"354 go ahead\r\n", cuts)
    content = MessageContent(b"hello\r\n")
    pair.send(content, force=False)
    assert pair.batch.pending == (content,)
    events = pair.receive(b"250 2.0.0 a ok\r\n452 4.2.2 b full\r\n250 2.0.0 c ok\r\n", cuts)
    got = replies(events)
    assert [r.code for r in got] == [250, 452, 250]
    assert [r.more for r in got] == [True, True, False]
    assert [r.expected for r in got] == [True, False, True]
    assert all(r.command is content for r in got)
    assert pair.batch.state is State.IDENT and pair.batch.pending == ()


@settings(max_examples=60)
@given(CUTS)
def test_lmtp_421_in_the_middle_of_the_recipients_replies(cuts: list[int]) -> None:
    pair = Pair(lmtp=True)
    pair.send(Lhlo("client.example"))
    pair.send(MailFrom("alice@client.example"))
    pair.send(RcptTo("a@example.test"))
    pair.send(RcptTo("b@example.test"))
    pair.send(Data())
    pair.receive(b"220 hi\r\n250 lmtp\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n", cuts)
    pair.send(MessageContent(b"x\r\n"))
    events = pair.receive(b"250 2.0.0 a ok\r\n421 4.3.0 bye\r\n250 late\r\n", cuts)
    got = replies(events)
    assert [(r.code, r.more, r.closes, r.unsolicited) for r in got] == [
        (250, True, False, False), (421, False, True, False), (250, False, False, True)]


@settings(max_examples=60)
@given(CUTS, st.sampled_from([b"", b"250 injected\r\n", b"250-PIPELINING\r\n250 x\r\nQUIT"]))
def test_starttls_keeps_bytes_after_the_220_out(cuts: list[int], injected: bytes) -> None:
    pair = Pair()
    pair.send(Ehlo("client.example"))
    pair.send(StartTLS())
    pair.send(Ehlo("client.example"))  # forced behind STARTTLS: answered inside TLS, if ever
    events = pair.receive(POSTFIX_GREETING + POSTFIX_EHLO + b"220 2.0.0 Ready to start TLS\r\n"
                          + injected, cuts)
    got = replies(events)
    assert [r.code for r in got] == [220, 250, 220]
    assert pair.batch.state is State.TLS_PENDING
    assert pair.batch.trailing_data == injected
    # Said on the 220 when the bytes came with it; bytes after it go to trailing_data anyway.
    assert INJECTION_WARNING not in got[-1].warnings or injected
    assert pair.batch.next_events() == []
    pair.start_tls_done()
    pair.send(Ehlo("client.example"), force=False)
    events = pair.receive(POSTFIX_EHLO_TLS, cuts)
    assert [r.code for r in replies(events)] == [250]
    assert pair.batch.capabilities is not None and pair.batch.capabilities.has("AUTH")


@pytest.mark.parametrize("injected", [b"", b"250 injected\r\n"])
def test_starttls_220_warns_of_bytes_read_with_it(injected: bytes) -> None:
    pair = Pair()
    pair.send(Ehlo("client.example"))
    pair.send(StartTLS())
    events = pair.receive(POSTFIX_GREETING + POSTFIX_EHLO + b"220 go\r\n" + injected)
    assert (INJECTION_WARNING in replies(events)[-1].warnings) == bool(injected)
    assert pair.batch.trailing_data == injected


@settings(max_examples=60)
@given(CUTS)
def test_421_mid_pipeline_then_unsolicited(cuts: list[int]) -> None:
    pair = Pair()
    pair.send(Ehlo("client.example"))
    pair.send(MailFrom("a@example.test"))
    pair.send(RcptTo("b@example.test"))
    pair.send(RcptTo("c@example.test"))
    events = pair.receive(POSTFIX_GREETING + b"250 mx\r\n250 2.1.0 Ok\r\n"
                          b"421 4.7.0 shutting down\r\n250 2.1.5 late\r\n", cuts)
    got = replies(events)
    assert [(r.code, r.closes, r.unsolicited) for r in got] == [
        (220, False, False), (250, False, False), (250, False, False), (421, True, False),
        (250, False, True)]
    assert pair.batch.state is State.CLOSED and pair.batch.pending == ()


@settings(max_examples=60)
@given(CUTS, st.sampled_from([b"xyz not a reply\r\n", b"25", b"250-a\r\n251 b\n\r\n",
                              b"2500 bad\r\n", b"250-ok\r\nnope\r\n"]))
def test_error_comes_after_the_good_replies(cuts: list[int], garbage: bytes) -> None:
    pair = Pair()
    pair.send(Ehlo("client.example"))
    pair.send(MailFrom("a@example.test"))
    stream = POSTFIX_GREETING + b"250 mx\n" + b"250 2.1.0 Ok\r\n" + garbage + b"\r\n250 more\r\n"
    events = pair.receive(stream, cuts)
    if isinstance(events[-1], Raised):
        assert events[-1].kind is RemoteProtocolError
        with pytest.raises(RemoteProtocolError):  # the reader stays broken
            pair.batch.next_events()


def test_good_replies_first_then_the_error_on_the_next_call() -> None:
    conn = Connection()
    conn.send(Ehlo("client.example"), force=True)
    conn.receive_data(POSTFIX_GREETING + b"250 mx\r\n\x00garbage\r\n")
    assert [r.code for r in conn.next_events()] == [220, 250]  # type: ignore[union-attr]
    assert conn.state is State.IDENT
    with pytest.raises(RemoteProtocolError, match="not an SMTP reply"):
        conn.next_events()
    with pytest.raises(RemoteProtocolError, match="not an SMTP reply"):
        conn.next_events()


@settings(max_examples=60)
@given(CUTS)
def test_unsolicited_replies_and_data_ended_early(cuts: list[int]) -> None:
    pair = Pair()
    pair.send(Ehlo("client.example"))
    pair.send(MailFrom("a@example.test"))
    pair.send(RcptTo("b@example.test"))
    pair.send(Data())
    events = pair.receive(POSTFIX_GREETING + b"250 mx\r\n250 ok\r\n250 ok\r\n354 go\r\n"
                          b"250 2.0.0 queued too early\r\n250 again\r\n", cuts)
    got = replies(events)
    assert [r.unsolicited for r in got] == [False] * 5 + [True, True]
    assert DATA_ENDED_EARLY in got[5].warnings and DATA_ENDED_EARLY not in got[6].warnings
    assert pair.batch.state is State.IDENT


@pytest.mark.parametrize("lmtp", [False, True], ids=["smtp", "lmtp"])
@pytest.mark.parametrize("cuts", [None, [1], [14, 40]])
def test_replies_queued_behind_the_first_change_state_as_one_by_one(
        cuts: list[int] | None, lmtp: bool) -> None:
    # In one read (cuts=None) every reply after the first is matched in a run that keeps the
    # state aside until it stops: at a special kind's reply (RSET) and at the end. The refused
    # RCPT at its end must still leave the projection to be worked out again (MAIL, not RCPT).
    # LMTP keeps the accepted RCPTs (it owes a reply per recipient after the data); SMTP,
    # which never reads them, keeps none.
    pair = Pair(lmtp=lmtp)
    pair.send(Ehlo("client.example"))
    pair.send(MailFrom("a@example.test"))
    pair.send(RcptTo("b@example.test"))
    pair.send(Rset())
    pair.send(MailFrom("a@example.test"))
    pair.send(RcptTo("c@example.test"))
    events = pair.receive(POSTFIX_GREETING + b"250 mx\r\n250 ok\r\n250 ok\r\n250 reset\r\n"
                          b"250 ok\r\n550 5.1.1 unknown\r\n", cuts)
    got = replies(events)
    assert [(r.code, r.kind, r.expected) for r in got][2:] == [
        (250, "MAIL", True), (250, "RCPT", True), (250, "RSET", True), (250, "MAIL", True),
        (550, "RCPT", False)]
    for conn in (pair.single, pair.batch):
        assert conn.state is State.MAIL and conn.projected_state is State.MAIL
        assert conn._accepted == []
    pair.send(RcptTo("d@example.test"))
    pair.send(MailFrom("a@example.test"))  # out of place (Pair forces): it forgets d
    pair.send(RcptTo("e@example.test"))
    pair.receive(b"250 ok\r\n250 ok\r\n250 ok\r\n250 late\r\n", cuts)
    for conn in (pair.single, pair.batch):
        assert conn.state is State.RCPT and conn.projected_state is State.RCPT
        assert [c.address for c in conn._accepted] == (  # type: ignore[union-attr]
            ["e@example.test"] if lmtp else [])


@settings(max_examples=60)
@given(CUTS)
def test_raw_batch_replies_say_more_until_the_last(cuts: list[int]) -> None:
    pair = Pair()
    pair.receive(POSTFIX_GREETING, cuts)
    pair.send(Ehlo("client.example"))
    pair.receive(POSTFIX_EHLO, cuts)
    pair.send_raw(b"MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n")
    pair.send(Noop())
    events = pair.receive(b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go\r\n250 noop\r\n", cuts)
    got = replies(events)
    assert [r.more for r in got] == [True, True, False, False]
    assert got[0].command is got[2].command and got[3].command == Noop()
    assert pair.batch.state is State.DATA


@settings(max_examples=60)
@given(CUTS)
def test_auth_exchange(cuts: list[int]) -> None:
    pair = Pair()
    pair.send(Ehlo("client.example"))
    pair.send(Auth("LOGIN"))
    events = pair.receive(POSTFIX_GREETING + POSTFIX_EHLO_TLS + b"334 VXNlcm5hbWU6\r\n", cuts)
    assert pair.batch.state is State.AUTH
    pair.send(AuthResponse(b"alice"))
    pair.send(AuthResponse(b"secret"))
    pair.send(Rset())
    events = pair.receive(b"334 UGFzc3dvcmQ6\r\n235 2.7.0 ok\r\n250 2.0.0 Ok\r\n", cuts)
    assert [r.code for r in replies(events)] == [334, 235, 250]
    assert pair.batch.authenticated and pair.batch.auth_mechanism == "LOGIN"


# Random conversations: whatever is sent (forced or not) and whatever the server says, in
# whatever pieces, both ways of draining agree.
_COMMANDS = [
    Ehlo("client.example"), MailFrom("a@b.test"), RcptTo("c@d.test"), Data(), Rset(), Noop(),
    StartTLS(), Auth("LOGIN"), AuthResponse(b"u"), Bdat(b"xy"), Bdat(b"z", last=True), Quit(),
    MessageContent(b"hi\r\n"),
]
_REPLIES = [
    b"220 mx.example.test ESMTP\r\n", b"250 2.0.0 Ok\r\n", POSTFIX_EHLO, b"354 go\r\n",
    b"334 VXNlcm5hbWU6\r\n", b"235 2.7.0 ok\r\n", b"550 5.1.1 no\r\n", b"421 4.3.2 bye\r\n",
    b"221 2.0.0 bye\r\n", b"452 4.2.2 full\r\n", b"250-a\r\n250 b\r\n", b"250 bare\n",
    b"250 2.1.5", b"\r\n", b"x\r\n", b"",
]
_ACTIONS = st.one_of(
    st.tuples(st.just("send"), st.sampled_from(_COMMANDS), st.booleans()),
    st.tuples(st.just("reply"), st.lists(st.sampled_from(_REPLIES), max_size=5), CUTS),
    st.tuples(st.just("raw"), st.sampled_from([b"DATA\r\n", b"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n",
                                               b"NOOP\r\n", b"x"]), st.none()),
    st.tuples(st.just("tls"), st.none(), st.none()),
)


@settings(max_examples=300)
@given(st.booleans(), st.lists(_ACTIONS, max_size=30))
def test_any_conversation_drains_the_same_both_ways(
        lmtp: bool, actions: list[tuple[str, Any, Any]]) -> None:
    pair = Pair(lmtp=lmtp)
    for action, arg, extra in actions:
        if action == "send":
            pair.send(arg, force=extra)
        elif action == "raw":
            pair.send_raw(arg)
        elif action == "tls":
            if pair.single.state is State.TLS_PENDING:
                pair.start_tls_done()
        elif pair.single._closed is None:
            outcome = pair.receive(b"".join(arg), extra)
            if outcome and isinstance(outcome[-1], Raised):
                return  # a framing error: both connections stay broken
        assert snapshot(pair.single) == snapshot(pair.batch)


def test_replies_a_421_and_the_close_read_before_one_drain() -> None:
    # Replies still queued when the drain starts are handed out without the NEED_DATA and
    # Closed checks: the Closed must still come once, last, after every one of them.
    stream = POSTFIX_GREETING + b"250 mx\r\n421 4.7.0 bye\r\n250 late\r\n"
    single, batch = Connection(), Connection()
    for conn in (single, batch):
        conn.send(Ehlo("client.example"), force=True)
        conn.send(MailFrom("a@example.test"), force=True)
        conn.receive_data(stream)
        conn.receive_data(b"")
    events = batch.next_events()
    assert events == drain_one_by_one(single)
    assert [type(e) for e in events] == [Reply] * 4 + [Closed]
    assert [(e.code, e.closes, e.unsolicited) for e in events[:4]] == [  # type: ignore[union-attr]
        (220, False, False), (250, False, False), (421, True, False), (250, False, True)]
    assert batch.next_events() == [Closed()]
    assert snapshot(single) == snapshot(batch)
