"""Property tests: parsers raise only their documented errors; helpers round-trip."""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from smtpscope.protocol import (
    NEED_DATA,
    Auth,
    AuthCancel,
    AuthResponse,
    Bdat,
    Capabilities,
    Closed,
    CommandSyntaxError,
    Connection,
    Data,
    Ehlo,
    Helo,
    LocalProtocolError,
    MailFrom,
    MessageContent,
    Noop,
    Quit,
    Raw,
    RcptTo,
    RemoteProtocolError,
    Reply,
    Rset,
    StartTLS,
    State,
    dot_stuff,
    dot_unstuff,
    normalize_line_endings,
    parse_command,
)
from smtpscope.protocol.replies import ReplyReader, parse_enhanced

# Bytes biased towards what makes reply framing interesting.
_TOKENS = st.sampled_from([b"250", b"-", b" ", b"\r", b"\n", b"\r\n", b"2.1.5", b"421", b"x",
                           b"\xff", b"\x00", b"5"])
FUZZ = st.one_of(st.binary(max_size=300), st.lists(_TOKENS, max_size=60).map(b"".join))


@given(st.binary())
def test_dot_stuffing_round_trips(body: bytes) -> None:
    assert dot_unstuff(dot_stuff(body)) == body


@given(st.binary())
def test_stuffed_normalised_body_has_no_lone_dot_line(body: bytes) -> None:
    wire = dot_stuff(normalize_line_endings(body))
    assert b"\r\n.\r\n" not in wire
    assert not wire.startswith(b".\r\n")


@given(st.binary())
def test_normalize_leaves_only_crlf(body: bytes) -> None:
    out = normalize_line_endings(body)
    assert out.count(b"\r") == out.count(b"\n") == out.count(b"\r\n")
    assert normalize_line_endings(out) == out


@given(FUZZ, st.integers(min_value=1, max_value=17))
def test_reply_parser_raises_only_remote_protocol_error(data: bytes, step: int) -> None:
    conn = Connection()
    try:
        for i in range(0, len(data), step):
            conn.receive_data(data[i : i + step])
            while (event := conn.next_event()) is not NEED_DATA:
                assert isinstance(event, Reply)
                assert isinstance(event.text, str)  # decoding never raises
        conn.receive_data(b"")
        while not isinstance(conn.next_event(), Closed):
            pass
    except RemoteProtocolError:
        pass


_TEXT = st.binary(max_size=40).filter(lambda b: b"\r" not in b and b"\n" not in b)


@given(st.integers(200, 599), st.lists(_TEXT, min_size=1, max_size=6),
       st.integers(min_value=1, max_value=9))
def test_well_formed_replies_parse_identically_in_any_chunking(
    code: int, texts: list[bytes], step: int
) -> None:
    wire = b"".join(b"%d-%s\r\n" % (code, t) for t in texts[:-1]) + b"%d %s\r\n" % (code, texts[-1])
    stream = wire * 3
    whole = ReplyReader()
    whole.receive_data(stream)
    pieces = ReplyReader()
    got_whole, got_pieces = [], []
    while (f := whole.next_frame()) is not None:
        got_whole.append(f)
    for i in range(0, len(stream), step):
        pieces.receive_data(stream[i : i + step])
        while (f := pieces.next_frame()) is not None:
            got_pieces.append(f)
    assert got_whole == got_pieces
    assert len(got_whole) == 3
    first = got_whole[0]
    assert first[0] == code and first[1] == tuple(texts) and first[2] == wire


@given(st.integers(0, 999), st.lists(st.binary(max_size=60), max_size=12))
def test_capability_parsing_never_raises(code: int, lines: list[bytes]) -> None:
    reply = Reply(code, tuple(lines), b"")
    caps = Capabilities.parse(reply)
    caps.size, caps.auth_mechanisms, caps.limits  # noqa: B018
    assert caps.diff(caps).added == ()


@given(st.text(max_size=80))
def test_parse_command_raises_only_syntax_errors(text: str) -> None:
    try:
        parsed = parse_command(text)
    except CommandSyntaxError as exc:
        assert exc.message
        return
    wire = parsed.command.to_bytes()
    assert wire.endswith(b"\r\n") or not wire
    if not isinstance(parsed.command, Raw):
        # A validated command is one line: nothing could smuggle a second command.
        assert b"\r" not in wire[:-2] and b"\n" not in wire[:-2]


@settings(max_examples=200)
@given(st.sampled_from(["mail from:", "rcpt to:", "ehlo ", "auth ", "bdat ", "MAIL FROM:<"]),
       st.text(max_size=40))
def test_parse_command_prefixed_fuzz(prefix: str, rest: str) -> None:
    with contextlib.suppress(CommandSyntaxError):
        parse_command(prefix + rest)


_COMMANDS = [
    Ehlo("client.example"), Helo("client.example"), MailFrom("a@b.test"),
    MailFrom("a@b.test", (("SIZE", "99999999"),)), RcptTo("c@d.test"), Data(), Rset(), Noop(),
    StartTLS(), Auth("PLAIN", b"\0u\0p"), Auth("LOGIN"), AuthResponse(b"u"), AuthCancel(),
    Bdat(b"xy"), Bdat(b"z", last=True), Quit(), MessageContent(b"hi\n.\n"),
]
_REPLIES = [
    b"220 mx.example.test ESMTP\r\n", b"250 2.0.0 Ok\r\n", b"250-mx\r\n250-PIPELINING\r\n"
    b"250-STARTTLS\r\n250-CHUNKING\r\n250 AUTH PLAIN LOGIN\r\n", b"354 go\r\n",
    b"334 VXNlcm5hbWU6\r\n", b"235 2.7.0 ok\r\n", b"535 5.7.8 no\r\n", b"550 5.1.1 no\r\n",
    b"421 4.3.2 bye\r\n", b"221 2.0.0 bye\r\n", b"501 5.5.4 huh\r\n", b"503 5.5.1 order\r\n",
]
_ACTIONS = st.one_of(
    st.tuples(st.just("send"), st.sampled_from(_COMMANDS), st.booleans()),
    st.tuples(st.just("reply"), st.sampled_from(_REPLIES), st.booleans()),
    st.tuples(st.just("raw"), st.sampled_from([b"DATA\r\n", b"NOOP\n", b"*\r\n", b"x"]),
              st.booleans()),
    st.tuples(st.just("tls"), st.none(), st.booleans()),
)


@settings(max_examples=300)
@given(st.lists(_ACTIONS, max_size=40))
def test_connection_survives_any_sequence(actions: list[tuple[str, object, bool]]) -> None:
    conn = Connection()
    for action, arg, flag in actions:
        before = conn.state
        try:
            if action == "send":
                conn.send(arg, force=flag)  # type: ignore[arg-type]
            elif action == "raw":
                conn.send_raw(arg, expect_reply=flag)  # type: ignore[arg-type]
            elif action == "tls":
                conn.start_tls_done()
            else:
                conn.receive_data(arg)  # type: ignore[arg-type]
                while (event := conn.next_event()) is not NEED_DATA:
                    if isinstance(event, Closed):
                        break
        except LocalProtocolError:
            pass
        assert isinstance(conn.state, State)
        assert isinstance(conn.projected_state, State)
        if before is not State.CLOSED and conn.state is State.CLOSED:
            assert conn.pending == ()  # nothing can be owed once the server has gone
        if conn.state is State.TLS_PENDING:
            assert conn.capabilities is None


_LINE_TEXT = st.one_of(
    st.sampled_from([b"", b"2.1.5 Ok", b"5.7.8 no", b"4.2.2 full", b"Ok", b"2.0.0", b"x y z"]),
    st.binary(max_size=20).filter(lambda b: b"\r" not in b and b"\n" not in b),
)
_REPLY = st.tuples(
    st.integers(200, 599),
    st.lists(st.tuples(_LINE_TEXT, st.sampled_from([b"\r\n", b"\r\n", b"\n"])),
             min_size=1, max_size=4),
)


def _reference(stream: bytes) -> list[tuple[int, tuple[bytes, ...], bytes]]:
    """A slow, obvious framer to compare the fast one with."""
    out, cur = [], []
    for piece in stream.split(b"\n")[:-1]:
        cur.append(piece)
        if piece[3:4] != b"-":
            texts = tuple((p[:-1] if p.endswith(b"\r") else p)[4:] for p in cur)
            out.append((int(cur[0][:3]), texts, b"".join(p + b"\n" for p in cur)))
            cur = []
    return out


@given(st.lists(_REPLY, min_size=1, max_size=8), st.integers(1, 23))
def test_fast_framer_matches_reference(replies: list[tuple[int, list[tuple[bytes, bytes]]]],
                                       step: int) -> None:
    stream = b""
    for code, lines in replies:
        for i, (text, end) in enumerate(lines):
            sep = b" " if i == len(lines) - 1 else b"-"
            stream += b"%d%s%s%s" % (code, sep, text, end)
    reader = ReplyReader()
    got = []
    for i in range(0, len(stream), step):
        reader.receive_data(stream[i : i + step])
        while (frame := reader.next_frame()) is not None:
            got.append(frame)
    assert [(f[0], f[1], f[2]) for f in got] == _reference(stream)
    for frame, (_, lines) in zip(got, replies, strict=True):
        bare = any(end == b"\n" for _, end in lines)
        assert any("bare LF" in w for w in frame[4]) == bare
        assert frame[3] == parse_enhanced(frame[1][0])
