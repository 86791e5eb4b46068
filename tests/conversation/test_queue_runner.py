"""The send queue without a UI: a whole pipelined transaction typed as lines, over loopback."""

from __future__ import annotations

import pytest

from smtpscope.conversation.queue_runner import run_queue, send_message_lines
from smtpscope.conversation.send_queue import LineKind, QueuedLine, SendQueue
from smtpscope.protocol import Data, Ehlo, MailFrom, Quit, RcptTo
from smtpscope.session import Session, SessionOptions
from tests.tui.wire_server import WireServer


def queue_message(queue: SendQueue, recipients: tuple[str, ...], lines: tuple[str, ...]) -> None:
    """EHLO, MAIL, a RCPT per recipient, DATA, the message's lines (its "." too), QUIT."""
    queue.add_command(Ehlo("cli.test"), "EHLO cli.test")
    queue.add_command(MailFrom("a@x.test"), "MAIL")
    for address in recipients:
        queue.add_command(RcptTo(address), f"RCPT {address.split('@')[0]}")
    queue.add_command(Data(), "DATA")
    for line in lines:
        queue.add_content(line)
    queue.add_command(Quit(), "QUIT")


async def test_queued_lines_make_a_pipelined_transaction_and_a_message() -> None:
    server = await WireServer().start()
    session = Session(SessionOptions(host="127.0.0.1", port=server.port, security="plain"))
    queue = SendQueue()
    try:
        await session.connect()
        queue_message(queue, ("b@x.test", "nobody@x.test"),
                      ("Subject: from a script", "", "..one dot kept", ".dot lost", "."))
        sent = await run_queue(session, queue)
    finally:
        await session.close()
        await server.stop()
    assert [(s.line.text, s.reply.code if s.reply else None) for s in sent] == [
        ("EHLO cli.test", 250), ("MAIL", 250), ("RCPT b", 250), ("RCPT nobody", 550),
        ("DATA", 354), ("Subject: from a script", None), ("", None), ("..one dot kept", None),
        (".dot lost", None), (".", 250), ("QUIT", 221)]
    assert server.messages == [b"Subject: from a script\r\n\r\n..one dot kept\r\n"
                               b".dot lost\r\n"]
    # The line that loses its dot is warned about where it is recorded; the stuffed one not.
    notes = {e.raw: e.notes for e in session.transcript if e.kind == "content"}
    assert notes[b"..one dot kept\r\n"] == ()
    assert "stores 'dot lost'" in notes[b".dot lost\r\n"][0]
    assert len(queue) == 0


async def test_a_refused_line_stops_the_run_and_stays_at_the_head() -> None:
    server = await WireServer().start()
    session = Session(SessionOptions(host="127.0.0.1", port=server.port, security="plain"))
    queue = SendQueue()
    try:
        await session.connect()
        queue.add_command(Ehlo("cli.test"), "EHLO")
        queue.add_command(RcptTo("b@x.test"), "RCPT before MAIL")
        queue.add_command(Quit(), "QUIT")
        sent = await run_queue(session, queue)
    finally:
        await session.close()
        await server.stop()
    assert [s.line.text for s in sent] == ["EHLO"]
    assert [(i.text, bool(i.blocked)) for i in queue] == [("RCPT before MAIL", True),
                                                          ("QUIT", False)]
    assert server.commands() == ["EHLO cli.test"]


@pytest.mark.parametrize(("params", "warned"), [((), True), ((("BODY", "8BITMIME"),), False),
                                                ((("SMTPUTF8", None),), False)])
async def test_an_8bit_line_is_warned_unless_its_mail_from_declared_it(
        params: tuple[tuple[str, str | None], ...], warned: bool) -> None:
    # RFC 6152 §3: without BODY=8BITMIME (or SMTPUTF8, RFC 6531) the content is 7-bit.
    server = await WireServer(smtputf8=True).start()
    session = Session(SessionOptions(host="127.0.0.1", port=server.port, security="plain"))
    queue = SendQueue()
    try:
        await session.connect()
        queue.add_command(Ehlo("cli.test"), "EHLO")
        queue.add_command(MailFrom("a@x.test", params), "MAIL")
        queue.add_command(RcptTo("b@x.test"), "RCPT")
        queue.add_command(Data(), "DATA")
        for line in ("Subject: 8bit", "", "héllo", "."):
            queue.add_content(line)
        # The next transaction declares the opposite: the lines above keep their own.
        queue.add_command(MailFrom("a@x.test", () if params else (("BODY", "8BITMIME"),)),
                          "MAIL again")
        await run_queue(session, queue)
    finally:
        await session.close()
        await server.stop()
    assert server.messages == ["Subject: 8bit\r\n\r\nhéllo\r\n".encode()]  # sent as typed
    notes = {e.raw: " ".join(e.notes) for e in session.transcript if e.kind == "content"}
    assert ("8-bit" in notes["héllo\r\n".encode()]) is warned
    assert "8-bit" not in notes[b"Subject: 8bit\r\n"]


async def test_a_message_goes_in_one_write_with_every_line_recorded() -> None:
    server = await WireServer().start()
    session = Session(SessionOptions(host="127.0.0.1", port=server.port, security="plain"))
    queue = SendQueue()
    body = [f"line {n} " + "x" * (n % 50) for n in range(2000)]
    writes: list[bytes] = []
    write = session._write

    async def counted(data: bytes) -> None:
        writes.append(data)
        await write(data)

    session._write = counted  # type: ignore[method-assign]
    try:
        await session.connect()
        queue_message(queue, ("b@x.test",), ("Subject: long", "", *body, ".x", "."))
        sent = await run_queue(session, queue)
    finally:
        await session.close()
        await server.stop()
    message = "".join(f"{line}\r\n" for line in ("Subject: long", "", *body, ".x")).encode()
    assert server.messages == [message]
    assert message + b".\r\n" in writes  # the message and its end: one write
    assert [s.reply.code for s in sent if s.reply is not None] == [250, 250, 250, 354, 250, 221]
    content = [e for e in session.transcript if e.kind == "content"]
    assert b"".join(e.raw for e in content) == message + b".\r\n"
    assert len(content) == len(body) + 4  # one entry per line, as typed
    assert "drops the first dot" in " ".join(content[-2].notes)


async def test_lines_after_one_the_engine_ends_the_message_with_go_back_to_the_queue() -> None:
    # The engine, not the queue's own reading, says where a message ends: lines after that
    # one are not sent as message content but put back, unsent, in their place.
    server = await WireServer().start()
    session = Session(SessionOptions(host="127.0.0.1", port=server.port, security="plain"))
    queue = SendQueue()
    lines = [QueuedLine(n, LineKind.CONTENT, text, data=f"{text}\r\n".encode())
             for n, text in enumerate(("Subject: x", "", "body", ".", "late"), 1)]
    try:
        await session.connect()
        for command in (Ehlo("cli.test"), MailFrom("a@x.test"), RcptTo("b@x.test"), Data()):
            await session.command(command)
        went, reply = await send_message_lines(session, queue, lines, lambda line: None)
    finally:
        await session.close()
        await server.stop()
    assert went == lines[:4]
    assert reply is not None and reply.code == 250
    assert server.messages == [b"Subject: x\r\n\r\nbody\r\n"]
    assert list(queue) == [lines[4]] and lines[4].blocked is None
