"""Verbatim content without <CRLF>.<CRLF> in the TUI: the message stays open, the composer goes
on with it, and a server that ends it anyway is shown doing so; checked on the wire."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from textual.widgets import Checkbox, TextArea

from smtpscope.protocol import DATA_ENDED_EARLY, State
from smtpscope.tui.screens.message_flow import LEFT_OPEN_NOTE
from smtpscope.tui.widgets.composer import Composer
from smtpscope.tui.widgets.data_editor import DataEditor
from smtpscope.tui.widgets.open_end_dialog import OpenEndDialog
from tests.tui.test_key_order import SIZE, app_for, burst, greeted, replies, until
from tests.tui.wire_server import WireServer


@pytest.fixture
async def lenient() -> AsyncIterator[WireServer]:
    server = await WireServer(lf_end=True).start()
    try:
        yield server
    finally:
        await server.stop()


async def send_verbatim_as_is(pilot, text: str) -> None:
    """MAIL, RCPT, DATA typed; after the 354 the editor, verbatim ``text``, sent as is."""
    app = pilot.app
    await greeted(pilot)
    burst(app, *"EHLO c.test", "enter", *"MAIL FROM:<a@x.test>", "enter",
          *"RCPT TO:<b@x.test>", "enter", *"DATA", "enter")
    await until(pilot, lambda: 354 in replies(app) and app.screen.query_one(Composer).data_mode)
    await pilot.press("ctrl+n")
    await until(pilot, lambda: isinstance(app.screen, DataEditor)
                and bool(app.screen.query("#data-text")))
    editor = app.screen
    editor.query_one("#data-text", TextArea).load_text(text)
    editor.query_one("#data-verbatim", Checkbox).value = True
    await pilot.pause()
    await pilot.press("ctrl+s")
    await until(pilot, lambda: isinstance(app.screen, OpenEndDialog))
    await pilot.press("tab", "tab", "enter")  # Send as is
    await until(pilot, lambda: not isinstance(app.screen, OpenEndDialog | DataEditor))


def session(app):
    return app.screen.session


async def test_open_message_goes_on_in_the_composer_and_ends_with_a_dot(
        wire: WireServer) -> None:
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await send_verbatim_as_is(pilot, "Subject: v\n\nhello")
        composer = app.screen.query_one(Composer)
        await until(pilot, lambda: any(e.text == LEFT_OPEN_NOTE
                                       for e in session(app).transcript))
        # Nothing is owed: no reply awaited, lines typed now are message content.
        assert session(app).conn.message_open and session(app).conn.pending == ()
        assert composer.data_mode and "no CRLF yet" in composer.hint
        # The last line has no CRLF: an empty line ends it, then "." ends the message; the
        # QUIT after it is a command again. All at paste speed.
        burst(app, "enter", ".", "enter", *"QUIT", "enter")
        await until(pilot, lambda: 221 in replies(app))
        assert wire.messages == [b"Subject: v\n\nhello\r\n"]
        assert wire.lines()[-3:] == [b"hello\r\n", b".\r\n", b"QUIT\r\n"]
        ends = [e for e in session(app).transcript if e.kind == "reply" and e.code == 250][-1]
        assert not ends.reply["unsolicited"] and "ended_by" not in ends.reply
        assert not len(composer.queue)  # nothing left waiting behind a reply


async def test_a_dot_after_an_unfinished_line_is_more_of_that_line(wire: WireServer) -> None:
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await send_verbatim_as_is(pilot, "Subject: v\n\nhello")
        await until(pilot, lambda: session(app).conn.message_open)
        burst(app, ".", "enter")  # "hello.\r\n": one line, not the end
        await until(pilot, lambda: wire.lines()[-1:] == [b"hello.\r\n"])
        assert session(app).conn.message_open
        assert app.screen.query_one(Composer).data_mode  # still message content
        burst(app, ".", "enter")
        await until(pilot, lambda: len(wire.messages) == 1 and 250 in replies(app)[-1:])
        assert wire.messages == [b"Subject: v\n\nhello.\r\n"]


async def test_a_server_that_takes_a_bare_lf_end_is_shown_doing_so(
        lenient: WireServer) -> None:
    app = app_for(lenient)
    async with app.run_test(size=SIZE) as pilot:
        await send_verbatim_as_is(pilot, "Subject: v\n\nhello\n.\n")
        await until(pilot, lambda: session(app).view.state is State.IDENT)
        [reply] = [e for e in session(app).transcript if e.kind == "reply"
                   and e.reply.get("ended_by") is not None]
        assert reply.code == 250 and not reply.reply["unsolicited"]
        assert reply.reply["ended_by"].encode("latin-1") == b"llo\n.\n"
        assert DATA_ENDED_EARLY in reply.notes
        assert any("lflf" in note for note in reply.notes)
        composer = app.screen.query_one(Composer)
        await until(pilot, lambda: not composer.data_mode)
        burst(app, *"NOOP", "enter")  # a command again
        await until(pilot, lambda: lenient.commands()[-1:] == ["NOOP"]
                    and replies(app)[-1:] == [250])
        assert lenient.messages == [b"Subject: v\n\nhello\n"]


async def test_an_end_of_data_variant_from_the_palette_keeps_a_strict_server_waiting(
        wire: WireServer) -> None:
    """The line-ending lab's lflf on a server that only takes <CRLF>.<CRLF>: no reply is owed,
    nothing waits behind one, and the hint says a "." now would not end the message."""
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await greeted(pilot)
        burst(app, *"EHLO c.test", "enter", *"MAIL FROM:<a@x.test>", "enter",
              *"RCPT TO:<b@x.test>", "enter", *"DATA", "enter")
        composer = app.screen.query_one(Composer)
        await until(pilot, lambda: 354 in replies(app) and composer.data_mode)
        burst(app, *"Subject: lab", "enter", "enter", *"hi", "enter")
        await until(pilot, lambda: wire.lines()[-1:] == [b"hi\r\n"])
        app.screen.send_raw(b"\n.\n", "lflf")
        await until(pilot, lambda: wire.lines()[-1:] == [b".\n"])
        await until(pilot, lambda: "no CRLF yet" in composer.hint)
        assert session(app).conn.message_open and composer.data_mode
        burst(app, "enter", ".", "enter")
        await until(pilot, lambda: len(wire.messages) == 1 and replies(app)[-1:] == [250])
        assert wire.messages == [b"Subject: lab\r\n\r\nhi\r\n\n.\n\r\n"]
