"""Session against scripted peers that put several replies in one write: each reply still
reaches the command that earned it, and the session ends exactly at a 221 or 421."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from smtpscope.protocol import Data, Lhlo, MailFrom, MessageContent, Noop, Quit, RcptTo
from smtpscope.record import to_text
from smtpscope.session import Session, SessionOptions

from .test_session_local import LOOPBACK, Script, greet_and_ehlo, scripted


@contextlib.asynccontextmanager
async def greeted(script: Script) -> AsyncIterator[Session]:
    """A plain session to the scripted peer, connected and past EHLO; closed afterwards."""
    async with scripted(script) as port:
        session = Session(SessionOptions(LOOPBACK, port, security="plain"))
        try:
            await session.connect()
            await session.ehlo()
            yield session
        finally:
            await session.close()


async def test_lmtp_replies_in_one_write_all_reach_the_message() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 lmtp.test LMTP\r\n")
        await writer.drain()
        assert (await reader.readline()).upper().startswith(b"LHLO")
        writer.write(b"250-lmtp.test\r\n250 PIPELINING\r\n")
        for _ in range(5):  # MAIL, three RCPT, DATA: one write with all five replies
            await reader.readline()
        writer.write(b"250 2.1.0 ok\r\n" + b"250 2.1.5 ok\r\n" * 3 + b"354 go\r\n")
        while (await reader.readline()) not in (b".\r\n", b""):
            pass
        # One reply per recipient, and the reply to the NOOP after it, in one write.
        await reader.readline()
        writer.write(b"250 2.0.0 a\r\n452 4.2.2 b full\r\n250 2.0.0 c\r\n250 2.0.0 noop\r\n")
        await writer.drain()
        await reader.read()

    async with scripted(script) as port:
        session = Session(SessionOptions(LOOPBACK, port, security="plain", lmtp=True))
        try:
            await session.connect()
            assert (await session.command(Lhlo("client.test"))).code == 250
            replies = await session.pipeline(
                [MailFrom("a@x.test"), RcptTo("a@y.test"), RcptTo("b@y.test"),
                 RcptTo("c@y.test"), Data()])
            assert [r.code for r in replies] == [250, 250, 250, 250, 354]
            _, delivered = session.submit(MessageContent(b"hi\r\n"))
            _, noop = session.submit(Noop(), force=True)  # pipelined behind the data on purpose
            await session._write(b"hi\r\n.\r\nNOOP\r\n")
            assert [(r.code, r.more) for r in await delivered] == [
                (250, True), (452, True), (250, False)]
            assert [r.code for r in await noop] == [250]
            assert [r.text for r in await noop] == ["2.0.0 noop"]
        finally:
            await session.close()


async def test_session_ends_at_the_221_and_shows_nothing_after_it() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await greet_and_ehlo(reader, writer)
        assert (await reader.readline()).upper().startswith(b"QUIT")
        writer.write(b"221 2.0.0 bye\r\n250 after the goodbye\r\n")
        await writer.drain()
        await reader.read()

    async with greeted(script) as session:
        reply = await session.command(Quit())
        assert reply.code == 221 and reply.closes
        assert session.closed_reason == "closed after QUIT (221)"
    text = to_text(session.transcript)
    assert "221 2.0.0 bye" in text and "after the goodbye" not in text
    assert "Connection closed (after QUIT)" in text


async def test_raw_lines_read_as_commands_get_all_their_replies() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await greet_and_ehlo(reader, writer)
        await reader.readline()
        await reader.readline()
        await reader.readline()
        writer.write(b"250 first\r\n250 second\r\n250 third\r\n")
        await writer.drain()
        await reader.read()

    async with greeted(script) as session:
        wire, noop = session.submit(Noop())
        await session._write(wire)
        last = await session.send_raw(b"NOOP\r\nNOOP\r\n")
        assert last is not None and last.text == "third" and not last.more
        assert [r.text for r in await noop] == ["first"]
        assert [e.text.strip() for e in session.transcript if e.kind == "reply"][-3:] == [
            "250 first", "250 second", "250 third"]


async def test_the_same_command_object_sent_twice_gets_one_reply_each() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await greet_and_ehlo(reader, writer)
        await reader.readline()
        await reader.readline()
        writer.write(b"250 2.0.0 one\r\n250 2.0.0 two\r\n")
        await writer.drain()
        await reader.read()

    async with greeted(script) as session:
        noop = Noop()
        first_wire, first = session.submit(noop, force=True)
        second_wire, second = session.submit(noop, force=True)
        await session._write(first_wire + second_wire)
        assert [r.text for r in await asyncio.wait_for(first, 10)] == ["2.0.0 one"]
        assert [r.text for r in await asyncio.wait_for(second, 10)] == ["2.0.0 two"]
