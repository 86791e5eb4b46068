"""The send queue without a UI: a whole pipelined transaction typed as lines, over loopback."""

from __future__ import annotations

from smtpscope.conversation.queue_runner import run_queue
from smtpscope.conversation.send_queue import SendQueue
from smtpscope.protocol import Data, Ehlo, MailFrom, Quit, RcptTo
from smtpscope.session import Session, SessionOptions
from tests.tui.wire_server import WireServer


async def test_queued_lines_make_a_pipelined_transaction_and_a_message() -> None:
    server = await WireServer().start()
    session = Session(SessionOptions(host="127.0.0.1", port=server.port, security="plain"))
    queue = SendQueue()
    try:
        await session.connect()
        queue.add_command(Ehlo("cli.test"), "EHLO cli.test")
        queue.add_command(MailFrom("a@x.test"), "MAIL")
        queue.add_command(RcptTo("b@x.test"), "RCPT b")
        queue.add_command(RcptTo("nobody@x.test"), "RCPT nobody")
        queue.add_command(Data(), "DATA")
        for line in ("Subject: from a script", "", "..one dot kept", ".dot lost", "."):
            queue.add_content(line)
        queue.add_command(Quit(), "QUIT")
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
