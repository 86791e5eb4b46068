"""The conversation layer against scripted peers: LMTP per-recipient replies, greetings,
typed errors, route attempts, the session view, and UNIX-socket and pipe transports."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from smtpscope.cli.common import classify
from smtpscope.conversation import (
    Conversation,
    Dialect,
    Envelope,
    Rejected,
    Stage,
    TLSMode,
    greet,
    send_message,
)
from smtpscope.conversation.auth import make_mechanism
from smtpscope.mx import Candidate
from smtpscope.protocol import Data, MailFrom, Noop, RcptTo, State
from smtpscope.record import Recorder, make_header
from smtpscope.session import (
    ConnectFailed,
    ProtocolFailure,
    ReplyTimeout,
    Session,
    SessionClosed,
    SessionOptions,
    TLSFailed,
)

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
LOOPBACK = "127.0.0.1"


@contextlib.asynccontextmanager
async def tcp_peer(script: Script) -> AsyncIterator[int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
                await script(reader, writer)
        finally:  # also when the test's loop ends a script still stalling: no socket left open
            writer.close()

    server = await asyncio.start_server(handle, LOOPBACK, 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()


@contextlib.asynccontextmanager
async def unix_peer(script: Script, path: Path) -> AsyncIterator[str]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
                await script(reader, writer)
        finally:  # also when the test's loop ends a script still stalling: no socket left open
            writer.close()

    server = await asyncio.start_unix_server(handle, str(path))
    try:
        yield str(path)
    finally:
        server.close()
        await server.wait_closed()


async def lmtp_script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """LHLO, MAIL, two RCPT, DATA; then both per-recipient replies in ONE write, then NOOP."""
    writer.write(b"220 lmtp.test LMTP ready\r\n")
    assert (await reader.readline()).startswith(b"LHLO ")
    writer.write(b"250-lmtp.test\r\n250 PIPELINING\r\n")
    assert (await reader.readline()).startswith(b"MAIL FROM:")
    writer.write(b"250 2.1.0 ok\r\n")
    for _ in range(2):
        assert (await reader.readline()).startswith(b"RCPT TO:")
        writer.write(b"250 2.1.5 ok\r\n")
    assert await reader.readline() == b"DATA\r\n"
    writer.write(b"354 go\r\n")
    while await reader.readline() != b".\r\n":
        pass
    writer.write(b"250 2.0.0 <a@x.test> saved\r\n452 4.2.2 <b@x.test> mailbox full\r\n")
    assert await reader.readline() == b"NOOP\r\n"
    writer.write(b"250 2.0.0 noop ok\r\n")
    assert await reader.readline() == b"QUIT\r\n"
    writer.write(b"221 bye\r\n")


async def test_lmtp_over_unix_socket_one_reply_per_recipient(tmp_path: Path) -> None:
    async with unix_peer(lmtp_script, tmp_path / "lmtp.sock") as path:
        session = Session(SessionOptions("localhost", security="plain", lmtp=True,
                                         unix_path=path, reply_timeout=30))
        conv = Conversation(session)
        assert conv.dialect is Dialect.LMTP
        await conv.open()
        await conv.greet()
        delivery = await conv.send(Envelope("s@x.test", ("a@x.test", "b@x.test")), b"hi\r\n")
        assert [r.delivery.code for r in delivery.recipients if r.delivery] == [250, 452]
        assert delivery.accepted == ["a@x.test"] and delivery.refused == ["b@x.test"]
        assert delivery.partial
        # The second reply went to its recipient, not to the next command's waiter.
        assert (await session.command(Noop())).text == "2.0.0 noop ok"
        assert session.view.peer == f"unix:{path}" and session.view.lmtp
        await session.quit()


async def test_lmtp_nobody_delivered_is_refused_at_the_dot(tmp_path: Path) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 lmtp.test\r\n")
        await reader.readline()
        writer.write(b"250 lmtp.test\r\n")
        for _ in range(3):  # MAIL, RCPT, DATA
            await reader.readline()
            writer.write(b"250 ok\r\n" if _ < 2 else b"354 go\r\n")
        while await reader.readline() != b".\r\n":
            pass
        writer.write(b"552 5.2.2 <b@x.test> over quota\r\n")
        await reader.readline()

    async with unix_peer(script, tmp_path / "s") as path:
        session = Session(SessionOptions("localhost", lmtp=True, unix_path=path, reply_timeout=30))
        conv = Conversation(session)
        await conv.open()
        await conv.greet()
        with pytest.raises(Rejected) as caught:
            await conv.send(Envelope("s@x.test", ("b@x.test",)), b"hi\r\n")
        # The RCPT was accepted; the message was not: the step after the dot failed (26).
        assert caught.value.stage is Stage.DOT and conv.stage is Stage.DOT
        assert caught.value.reply is not None and caught.value.reply.code == 552
        assert conv.delivery is not None and conv.delivery.refused == ["b@x.test"]
        assert classify(caught.value, conv.stage).exit_code == 26
        await session.close()


@pytest.mark.parametrize("then", ["hang up", "stall"])
async def test_lmtp_replies_before_the_end_still_count(tmp_path: Path, then: str) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 lmtp.test\r\n")
        await reader.readline()
        writer.write(b"250 lmtp.test\r\n")
        for reply in (b"250 ok", b"250 ok", b"250 ok", b"550 5.1.1 no such user", b"354 go"):
            await reader.readline()  # MAIL, three RCPTs, DATA
            writer.write(reply + b"\r\n")
        while await reader.readline() != b".\r\n":
            pass
        writer.write(b"250 2.0.0 <a@x.test> saved\r\n")  # one of the two owed, then no more
        if then == "stall":
            await reader.read()

    async with unix_peer(script, tmp_path / "s") as path:
        session = Session(SessionOptions("localhost", lmtp=True, unix_path=path,
                                         reply_timeout=0.5, data_timeout=0.5))
        conv = Conversation(session)
        await conv.open()
        await conv.greet()
        with pytest.raises(ReplyTimeout if then == "stall" else SessionClosed):
            await conv.send(Envelope("s@x.test", ("a@x.test", "b@x.test", "c@x.test")),
                            b"hi\r\n")
        delivery = conv.delivery
        assert delivery is not None
        # a@ has its message; b@ was refused at RCPT; c@'s fate is the server's to know, and
        # counting it as accepted (or refused) would say more than we know.
        assert delivery.accepted == ["a@x.test"] and delivery.refused == ["c@x.test"]
        assert delivery.unknown == ["b@x.test"] and delivery.partial
        assert [r.delivery.code if r.delivery else None for r in delivery.recipients] == \
            [250, None, None]
        await session.close()


async def test_each_lmtp_reply_after_the_data_gets_the_whole_message_limit(
        tmp_path: Path) -> None:
    """LMTP delivers to one mailbox after another: each reply after the data may take the
    limit for the reply to the message, not a share of one limit over all of them."""
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 lmtp.test\r\n")
        await reader.readline()
        writer.write(b"250 lmtp.test\r\n")
        for reply in (b"250 ok", b"250 ok", b"250 ok", b"354 go"):
            await reader.readline()  # MAIL, two RCPTs, DATA
            writer.write(reply + b"\r\n")
        while await reader.readline() != b".\r\n":
            pass
        for who in (b"a", b"b"):
            await asyncio.sleep(0.6)  # a mailbox's sieve script, say
            writer.write(b"250 2.0.0 <%b@x.test> saved\r\n" % who)
        await reader.readline()

    async with unix_peer(script, tmp_path / "s") as path:
        session = Session(SessionOptions("localhost", lmtp=True, unix_path=path,
                                         reply_timeout=0.3, data_timeout=1.0))
        conv = Conversation(session)
        await conv.open()
        await conv.greet()
        delivery = await conv.send(Envelope("s@x.test", ("a@x.test", "b@x.test")), b"hi\r\n")
        assert delivery.accepted == ["a@x.test", "b@x.test"] and not delivery.unknown
        await session.close()


async def test_a_message_typed_line_by_line_waits_as_long_as_a_whole_one() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 peer.test\r\n")
        for reply in (b"250 peer.test", b"250 ok", b"250 ok", b"354 go"):
            await reader.readline()  # EHLO, MAIL, RCPT, DATA
            writer.write(reply + b"\r\n")
        while await reader.readline() != b".\r\n":
            pass
        await asyncio.sleep(0.6)  # a content filter at work
        writer.write(b"250 2.0.0 queued\r\n")
        await reader.readline()

    async with tcp_peer(script) as port:
        # The last line is raw bytes; the engine says it ended the message, and its reply
        # waits RFC 5321's 10 minutes, not the 0.2 s every other reply gets.
        session = Session(SessionOptions(LOOPBACK, port, security="plain", reply_timeout=0.2))
        await session.connect()
        await session.ehlo()
        for command in (MailFrom("a@x.test"), RcptTo("b@x.test"), Data()):
            await session.command(command)
        assert await session.send_data_line(b"Subject: x\r\n") is None
        reply = await session.send_data_line(b".\r\n")
        assert reply is not None and reply.code == 250
        await session.close()


async def test_protocol_smtp_sends_helo_only_and_esmtp_falls_back() -> None:
    seen: list[bytes] = []

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 old.test\r\n")
        line = await reader.readline()
        seen.append(line)
        if line.startswith(b"EHLO"):
            writer.write(b"502 5.5.1 what?\r\n")
            seen.append(await reader.readline())
        writer.write(b"250 old.test\r\n")
        await reader.readline()

    for dialect, expected in ((Dialect.SMTP, [b"HELO"]), (Dialect.ESMTP, [b"EHLO", b"HELO"])):
        seen.clear()
        async with tcp_peer(script) as port:
            session = Session(SessionOptions(LOOPBACK, port, security="plain", reply_timeout=30))
            await session.connect()
            reply = await greet(session, dialect)
            assert reply.code == 250
            assert [line.split()[0] for line in seen] == expected
            assert session.view.capabilities is None  # HELO: no extensions
            await session.close()


async def test_refused_greeting_is_rejected_at_its_stage() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 picky.test\r\n")
        await reader.readline()
        writer.write(b"550 5.7.1 go away\r\n")
        await reader.readline()

    async with tcp_peer(script) as port:
        session = Session(SessionOptions(LOOPBACK, port, security="plain", reply_timeout=30))
        conv = Conversation(session, helo_fallback=False, tls=TLSMode.PLAIN)
        await conv.open()
        with pytest.raises(Rejected) as caught:
            await conv.greet()
        assert caught.value.stage is Stage.EHLO and conv.stage is Stage.EHLO
        assert classify(caught.value, conv.stage).exit_code == 22
        await session.close()


async def test_silent_banner_is_a_typed_timeout() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(2)

    async with tcp_peer(script) as port:
        session = Session(SessionOptions(LOOPBACK, port, security="plain", reply_timeout=0.2))
        conv = Conversation(session)
        with pytest.raises(ReplyTimeout) as caught:
            await conv.open()
        assert caught.value.stage is Stage.BANNER and caught.value.seconds == 0.2
        failure = classify(caught.value, conv.stage)
        assert (failure.status, failure.stage, failure.exit_code) == ("timeout", "banner", 21)
        await session.close()


@pytest.mark.parametrize("sent", [b"", b"220 tarpit"])
async def test_a_greeting_trickled_in_is_no_implicit_tls_hint(monkeypatch, sent) -> None:
    """A tarpit sends its banner a byte at a time: those are SMTP bytes, so no "expects TLS
    from the first byte"; a port that sends nothing keeps that hint."""
    monkeypatch.setattr("smtpscope.session_connect.GREETING_HINT_AFTER", 0.2)

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(sent)
        await asyncio.sleep(0.5)
        writer.write(b"220 tarpit ESMTP\r\n"[len(sent):])
        await asyncio.sleep(1)

    async with tcp_peer(script) as port:
        session = Session(SessionOptions(LOOPBACK, port, security="plain"))
        await Conversation(session).open()
        warned = [e.text for e in session.transcript if e.kind == "warning"]
        assert len(warned) == 1
        if sent:
            assert warned[0].startswith("The greeting has begun but not ended after 0.2 s "
                                        "(10 bytes so far)")
        else:
            assert "expects TLS from the first byte" in warned[0]
        await session.close()


async def test_step_timeout_bounds_the_banner_once_not_twice() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(2)

    async with tcp_peer(script) as port:
        session = Session(SessionOptions(LOOPBACK, port, security="plain"))
        conv = Conversation(session, step_timeout=0.3)
        started = asyncio.get_running_loop().time()
        with pytest.raises(ReplyTimeout) as caught:
            await conv.open()
        # Timed from the connection, as each reply is: not connect and banner as one, doubled.
        assert asyncio.get_running_loop().time() - started < 0.55
        assert caught.value.stage is Stage.BANNER and conv.stage is Stage.BANNER
        assert [e.text for e in session.transcript if e.kind == "error"] == [
            "Timeout: no reply within 0.3 s"]
        failure = classify(caught.value, conv.stage)
        assert "firewall" not in failure.hint and "accepted the connection" in failure.hint
        await session.close()


async def test_a_stalled_starttls_handshake_gets_the_connect_limit() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 tls.test\r\n")
        await reader.readline()
        writer.write(b"250-tls.test\r\n250 STARTTLS\r\n")
        await reader.readline()
        writer.write(b"220 go ahead\r\n")  # and then no handshake at all
        await asyncio.sleep(2)

    async with tcp_peer(script) as port:
        session = Session(SessionOptions(LOOPBACK, port, security="starttls",
                                         connect_timeout=0.3))
        conv = Conversation(session, tls=TLSMode.STARTTLS, step_timeout=0.3)
        await conv.open()
        await conv.greet()
        started = asyncio.get_running_loop().time()
        with pytest.raises(TLSFailed) as caught:
            await conv.secure()
        assert asyncio.get_running_loop().time() - started < 0.55
        assert conv.stage is Stage.TLS and classify(caught.value, conv.stage).exit_code == 29
        await session.close()


def test_a_timeout_hint_blames_a_firewall_only_before_connecting() -> None:
    from smtpscope.transport import ConnectError

    cause = ConnectError("no answer from 192.0.2.1:25 within 3 s", host="192.0.2.1", port=25,
                         kind="timeout")
    never = ConnectFailed(str(cause), Stage.CONNECT)
    never.__cause__ = cause
    assert "firewall" in classify(never, Stage.CONNECT).hint
    silent = classify(ReplyTimeout("no reply within 3 s", Stage.EHLO, 3.0), Stage.EHLO)
    assert "firewall" not in silent.hint and "did not reply" in silent.hint


async def test_route_attempts_are_values() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 second.test\r\n")
        await reader.readline()

    async with tcp_peer(script) as closed_after:
        dead = closed_after  # a port that was just listening and no longer is
    async with tcp_peer(script) as live:
        route = (Candidate("mx1.test", LOOPBACK, dead, 10, "MX 10 mx1.test"),
                 Candidate("mx2.test", LOOPBACK, live, 20, "MX 20 mx2.test"))
        session = Session(SessionOptions("mx1.test", 25, security="plain", route=route))
        await session.connect()
        assert [a.candidate.host for a in session.attempts] == ["mx1.test", "mx2.test"]
        assert [a.ok for a in session.attempts] == [False, True]
        await session.close()
        only_dead = Session(SessionOptions("mx1.test", 25, security="plain", route=route[:1]))
        with pytest.raises(ConnectFailed) as caught:
            await only_dead.connect()
        assert caught.value.stage is Stage.CONNECT and len(caught.value.attempts) == 1
        assert classify(caught.value, "connect").status == "connection-refused"
        both_dead = (route[0], Candidate("mx3.test", LOOPBACK, dead, 30, "MX 30 mx3.test"))
        none = Session(SessionOptions("mx1.test", 25, security="plain", route=both_dead))
        with pytest.raises(ConnectFailed) as caught:
            await none.connect()
        assert str(caught.value).startswith("no candidate answered: mx1.test [127.0.0.1]")
        assert [a.ok for a in caught.value.attempts] == [False, False]


async def test_pipe_transport_speaks_with_a_process() -> None:
    """A tiny SMTP responder on stdin/stdout: greeting, EHLO, MAIL/RCPT/DATA, QUIT."""
    server = (
        "import sys\n"
        "w = sys.stdout.buffer\n"
        "def say(t): w.write(t); w.flush()\n"
        "say(b'220 pipe.test ESMTP\\r\\n')\n"
        "data = False\n"
        "for line in sys.stdin.buffer:\n"
        "    if data:\n"
        "        if line == b'.\\r\\n': data = False; say(b'250 2.0.0 queued\\r\\n')\n"
        "        continue\n"
        "    verb = line[:4].upper()\n"
        "    if verb == b'EHLO': say(b'250-pipe.test\\r\\n250 8BITMIME\\r\\n')\n"
        "    elif verb == b'DATA': data = True; say(b'354 go\\r\\n')\n"
        "    elif verb == b'QUIT': say(b'221 bye\\r\\n'); break\n"
        "    else: say(b'250 ok\\r\\n')\n"
        "print('responder done', file=sys.stderr)\n"
    )
    command = f"{sys.executable} -c \"{server}\""
    session = Session(SessionOptions("localhost", security="plain", pipe_command=command,
                                     reply_timeout=30))
    conv = Conversation(session)
    await conv.open()
    await conv.greet()
    await conv.secure()  # AUTO: nothing offered, goes on in the clear
    delivery = await send_message(session, Envelope("a@x.test", ("b@x.test",)), b"hi\r\n")
    assert delivery.final[-1].code == 250 and delivery.accepted == ["b@x.test"]
    assert session.view.peer == f"pipe:{command}"
    await session.quit()
    notes = [e.text for e in session.transcript if e.kind == "note"]
    assert "responder done" in notes
    assert notes[-1] == f"{command!r} exited with status 0"
    assert session.view.state is State.CLOSED


async def _authenticate(port: int, name: str, password: str, record: Path,
                        ) -> tuple[Session, BaseException | None]:
    """EHLO then AUTH ``name`` as alice over plain TCP, recorded; QUIT whatever happens."""
    session = Session(SessionOptions(LOOPBACK, port, security="plain", reply_timeout=30))
    recorder = Recorder(record, make_header(f"{LOOPBACK}:{port}"))
    session.transcript.subscribe(recorder)
    conv = Conversation(session, tls=TLSMode.PLAIN)
    await conv.open()
    await conv.greet()
    failure: BaseException | None = None
    try:
        await conv.authenticate(make_mechanism(name, session, user="alice", secret=password))
    except Exception as exc:
        failure = exc
    await session.quit()
    recorder.close()
    return session, failure


async def test_a_334_answering_the_cancel_is_a_protocol_error(tmp_path: Path) -> None:
    """AUTH PLAIN <ir>, 334, "*", and 334 again instead of RFC 4954's 501: a protocol error
    at AUTH saying so, and the QUIT that follows is shown as QUIT, not as credentials."""
    got: list[bytes] = []

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await greet_plain(reader, writer)
        for answer in (b"334 \r\n", b"334 \r\n", b"221 bye\r\n"):
            got.append(await reader.readline())
            writer.write(answer)
        await reader.readline()

    async with tcp_peer(script) as port:
        session, failure = await _authenticate(port, "PLAIN", "s3cret-pw", tmp_path / "r.jsonl")
    assert [line.split(b" ")[0] for line in got] == [b"AUTH", b"*\r\n", b"QUIT\r\n"]
    assert isinstance(failure, ProtocolFailure) and failure.stage is Stage.AUTH
    assert "334" in str(failure) and "cancelled" in str(failure)
    result = classify(failure, Stage.AUTH)
    assert result.status == "protocol-error" and result.exit_code == 28
    client = [e for e in session.transcript.entries if e.direction == "client"]
    assert [e.redacted for e in client] == [False, True, False, False]
    assert client[-1].text == "QUIT\r\n"
    disk = (tmp_path / "r.jsonl").read_text()
    assert "UVVJVA0K" in disk  # QUIT, base64, as sent
    assert "s3cret" not in disk and "czNjcmV0" not in disk


async def test_login_asked_twice_for_the_user_name(tmp_path: Path) -> None:
    """Each answer is what it carries: the user name (public) twice, then the password."""
    got: list[bytes] = []

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await greet_plain(reader, writer)
        for answer in (b"334 VXNlcm5hbWU6\r\n", b"334 VXNlcm5hbWU6\r\n",
                       b"334 UGFzc3dvcmQ6\r\n", b"535 5.7.8 no\r\n", b"221 bye\r\n"):
            got.append(await reader.readline())
            writer.write(answer)

    password = "Sup3r-S3cret-pw"
    async with tcp_peer(script) as port:
        session, failure = await _authenticate(port, "LOGIN", password, tmp_path / "r.jsonl")
    user = base64.b64encode(b"alice")
    assert got[1:4] == [user + b"\r\n"] * 2 + [base64.b64encode(password.encode()) + b"\r\n"]
    assert isinstance(failure, Rejected) and failure.stage is Stage.AUTH
    client = [e.text for e in session.transcript.entries if e.direction == "client"][1:]
    assert client == [f"AUTH LOGIN {user.decode()}\r\n", f"{user.decode()}\r\n",
                      f"{user.decode()}\r\n", "[LOGIN password hidden]", "QUIT\r\n"]
    disk = (tmp_path / "r.jsonl").read_text()
    for secret in (password, base64.b64encode(password.encode()).decode(),
                   base64.b64encode(base64.b64encode(password.encode())).decode()):
        assert secret not in disk


async def test_a_refusal_quotes_a_multi_line_reply_on_one_line(tmp_path: Path) -> None:
    """Gmail's refusal repeats its enhanced code on each line (RFC 2034 §4): the one-line
    message says it once, and keeps every word of the text."""
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await greet_plain(reader, writer)
        await reader.readline()
        writer.write(b"535-5.7.8 Username and Password not accepted. For more information,\r\n"
                     b"535 5.7.8  https://support.google.com/mail/?p=BadCredentials\r\n")
        await reader.readline()
        writer.write(b"221 bye\r\n")

    async with tcp_peer(script) as port:
        _, failure = await _authenticate(port, "PLAIN", "pw", tmp_path / "r.jsonl")
    assert isinstance(failure, Rejected) and failure.reply is not None
    assert str(failure) == ("AUTH PLAIN failed: 535 5.7.8 Username and Password not accepted. "
                            "For more information, https://support.google.com/mail/?p=BadCredentials")


async def greet_plain(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"220 auth.test ESMTP\r\n")
    assert (await reader.readline()).startswith(b"EHLO")
    writer.write(b"250-auth.test\r\n250 AUTH PLAIN LOGIN\r\n")


def scram_peer(after_client_final: list[bytes], got: list[bytes]) -> Script:
    """A SCRAM-SHA-1 server that extends the client's nonce properly, then answers each
    following client line with the next of ``after_client_final`` (no password check)."""
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 auth.test ESMTP\r\n")
        assert (await reader.readline()).startswith(b"EHLO")
        writer.write(b"250-auth.test\r\n250 AUTH SCRAM-SHA-1\r\n")
        client_first = base64.b64decode((await reader.readline()).split()[2])
        nonce = client_first.rpartition(b"r=")[2]
        server_first = b"r=" + nonce + b"srv,s=QSXCR+Q6sek8bf92,i=4096"
        writer.write(b"334 " + base64.b64encode(server_first) + b"\r\n")
        for answer in after_client_final:
            got.append(await reader.readline())
            writer.write(answer)
    return script


async def test_a_235_to_the_cancel_after_a_false_server_signature_is_no_success(
        tmp_path: Path) -> None:
    """The server's v= does not verify, so the client cancels; a 235 to that "*" must not
    count as authenticated (RFC 4954 §4 wants 501): a protocol error at AUTH, and the reason
    for the cancel is in the transcript and the recording, not only a bare "*"."""
    got: list[bytes] = []
    forged = b"v=" + base64.b64encode(bytes(20))
    answers = [b"334 " + base64.b64encode(forged) + b"\r\n", b"235 2.7.0 welcome anyway\r\n",
               b"221 bye\r\n"]
    async with tcp_peer(scram_peer(answers, got)) as port:
        session, failure = await _authenticate(port, "SCRAM-SHA-1", "pencil-pw",
                                               tmp_path / "r.jsonl")
    assert got[1:] == [b"*\r\n", b"QUIT\r\n"]
    assert isinstance(failure, ProtocolFailure) and failure.stage is Stage.AUTH
    assert "accepted the exchange with 235" in str(failure)
    assert classify(failure, Stage.AUTH).exit_code == 28
    warnings = [e.text for e in session.transcript if e.kind == "warning"]
    assert any("SERVER VERIFICATION FAILED" in text for text in warnings)
    disk = (tmp_path / "r.jsonl").read_text()
    assert "SERVER VERIFICATION FAILED" in disk and "pencil-pw" not in disk


async def test_a_scram_server_that_skips_its_proof_is_warned_about(tmp_path: Path) -> None:
    """235 straight after client-final: authenticated, but the server never proved it knows
    the password, and the transcript says so."""
    got: list[bytes] = []
    answers = [b"235 2.7.0 ok\r\n", b"221 bye\r\n"]
    async with tcp_peer(scram_peer(answers, got)) as port:
        session, failure = await _authenticate(port, "SCRAM-SHA-1", "pencil-pw",
                                               tmp_path / "r.jsonl")
    assert failure is None and got[-1] == b"QUIT\r\n"
    warnings = [e.text for e in session.transcript if e.kind == "warning"]
    assert warnings == ["SCRAM-SHA-1: The server never proved that it knows the password "
                        "(no server signature)."]
