"""The message editor after a typed DATA, drafts that survive, verbatim envelopes and SIZE=."""

from __future__ import annotations

import pytest
from textual.widgets import Checkbox, TextArea

from smtpscope.tui.widgets.composer import Composer
from smtpscope.tui.widgets.data_editor import DataEditor
from tests.tui.test_key_order import SIZE, app_for, burst, greeted, replies, until
from tests.tui.wire_server import WireServer


async def ehlo(pilot) -> None:
    await greeted(pilot)
    await pilot.press("f2")
    await until(pilot, lambda: len(replies(pilot.app)) == 2)


async def open_editor(pilot) -> DataEditor:
    app = pilot.app
    await pilot.press("ctrl+n")
    await until(pilot, lambda: isinstance(app.screen, DataEditor)
                and bool(app.screen.query("#data-text")))
    return app.screen


def area(editor: DataEditor) -> TextArea:
    return editor.query_one("#data-text", TextArea)


async def test_ctrl_n_in_data_mode_prefills_the_envelope_actually_sent(wire: WireServer) -> None:
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await ehlo(pilot)
        burst(app, *"MAIL FROM:<ann@x.test>", "enter", *"RCPT TO:<bob@x.test>", "enter",
              *"RCPT TO:<nobody@x.test>", "enter", *"RCPT TO:<cy@x.test>", "enter",
              *"DATA", "enter")
        await until(pilot, lambda: app.screen.query_one(Composer).data_mode
                    and 354 in replies(app))
        editor = await open_editor(pilot)
        assert editor.after_354
        text = editor.text
        assert "From: ann@x.test" in text and "To: bob@x.test, cy@x.test" in text
        assert "nobody" not in text and "example.test" not in text
        await pilot.press("ctrl+s")
        await until(pilot, lambda: replies(app)[-1] == 250 and len(wire.messages) == 1)
        assert b"To: bob@x.test, cy@x.test" in wire.messages[0]


async def test_escape_keeps_the_draft_and_ctrl_n_brings_it_back(wire: WireServer) -> None:
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await ehlo(pilot)
        editor = await open_editor(pilot)
        area(editor).load_text("From: ann@x.test\nTo: bob@x.test\nSubject: keep me\n\nwork\n")
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, DataEditor))
        editor = await open_editor(pilot)
        assert editor.text == "From: ann@x.test\nTo: bob@x.test\nSubject: keep me\n\nwork\n"


async def test_a_refused_transaction_keeps_the_draft(wire: WireServer) -> None:
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await ehlo(pilot)
        editor = await open_editor(pilot)
        draft = "From: ann@x.test\nTo: nobody@x.test\nSubject: refused\n\nstill here\n"
        area(editor).load_text(draft)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: 550 in replies(app))
        await until(pilot, lambda: wire.commands()[-1] == "RSET")
        editor = await open_editor(pilot)
        assert editor.text == draft
        # Delivered, the draft is done with: the next Ctrl+N starts afresh.
        area(editor).load_text(draft.replace("nobody@", "bob@"))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: len(wire.messages) == 1)
        await until(pilot, lambda: replies(app)[-1] == 250)
        editor = await open_editor(pilot)
        assert "still here" not in editor.text


async def test_partial_delivery_names_the_recipient_refused(wire: WireServer) -> None:
    # The message went to bob only: as `smtpscope send` does, the transcript says who will
    # not get it, not just a 550 among the RCPTs above a 250 to the dot.
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await ehlo(pilot)
        editor = await open_editor(pilot)
        area(editor).load_text("From: ann@x.test\nTo: bob@x.test, nobody@x.test\n\nhi\n")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: len(wire.messages) == 1 and replies(app)[-1] == 250)
        entries = app.screen.session.transcript.entries
        await until(pilot, lambda: "partial delivery" in entries[-1].text)
        notes = [e.text for e in entries if e.direction == "local"]
        assert notes[-2:] == ["nobody@x.test: refused (550 5.1.1 no such user)",
                              "partial delivery: 1 of 2 recipients accepted the message"]


async def test_verbatim_reads_recipients_and_size_is_declared(wire: WireServer) -> None:
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await ehlo(pilot)
        editor = await open_editor(pilot)
        # Verbatim is exact bytes: the line ends and the terminator are the typist's job.
        text = "From: ann@x.test\r\nTo: bob@x.test\r\nCc: cy@x.test\r\n\r\nexact\r\n.\r\n"
        area(editor).load_text(text)
        editor.query_one("#data-verbatim", Checkbox).value = True
        await pilot.pause()
        await pilot.press("ctrl+s")
        await until(pilot, lambda: len(wire.messages) == 1)
        assert wire.commands()[1:4] == [f"MAIL FROM:<ann@x.test> SIZE={len(text.encode())}",
                                        "RCPT TO:<bob@x.test>", "RCPT TO:<cy@x.test>"]
        assert wire.messages == [text.encode()[:-3]]


async def test_no_size_parameter_when_size_is_not_advertised(wire: WireServer) -> None:
    wire.size = None
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await ehlo(pilot)
        editor = await open_editor(pilot)
        area(editor).load_text("From: ann@x.test\nTo: bob@x.test\nSubject: s\n\nbody\n")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: len(wire.messages) == 1)
        assert wire.commands()[1] == "MAIL FROM:<ann@x.test>"


@pytest.mark.parametrize(("mail", "eightbit"), [("MAIL FROM:<ann@x.test>", False),
                                               ("MAIL FROM:<ann@x.test> BODY=8BITMIME", True)])
async def test_after_354_the_body_is_encoded_as_the_mail_from_sent_declared(
        wire: WireServer, mail: str, eightbit: bool) -> None:
    # 8BITMIME is advertised, but a MAIL FROM without BODY=8BITMIME has promised a 7-bit
    # body (RFC 6152 §3): after its 354 the editor can no longer declare it.
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await ehlo(pilot)
        burst(app, *mail, "enter", *"RCPT TO:<bob@x.test>", "enter", *"DATA", "enter")
        await until(pilot, lambda: app.screen.query_one(Composer).data_mode
                    and 354 in replies(app))
        editor = await open_editor(pilot)
        area(editor).load_text("From: ann@x.test\nTo: bob@x.test\nSubject: s\n\nhéllo\n")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: len(wire.messages) == 1 and replies(app)[-1] == 250)
        sent = wire.messages[0]
        assert ("héllo".encode() in sent) is eightbit
        assert (b"Content-Transfer-Encoding: 8bit" in sent) is eightbit
        if not eightbit:
            assert sent.isascii() and b"h=C3=A9llo" in sent


@pytest.mark.parametrize("ended_by", ["typed lines", "the editor"])
async def test_ctrl_n_after_a_raw_mail_never_brings_back_the_last_envelope(
        wire: WireServer, ended_by: str) -> None:
    # The envelope is the open transaction's: it goes when the 250 after the message ends it,
    # and a MAIL sent as raw bytes opens one whose envelope is unknown (7-bit, no prefill).
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await ehlo(pilot)
        burst(app, *"MAIL FROM:<ann@x.test> BODY=8BITMIME", "enter",
              *"RCPT TO:<bob@x.test>", "enter", *"DATA", "enter")
        await until(pilot, lambda: app.screen.query_one(Composer).data_mode
                    and 354 in replies(app))
        if ended_by == "typed lines":
            burst(app, *"Subject: one", "enter", "enter", *"first", "enter", ".", "enter")
        else:
            await open_editor(pilot)
            await pilot.press("ctrl+s")
        await until(pilot, lambda: len(wire.messages) == 1 and replies(app)[-1] == 250)
        burst(app, "ctrl+r", *"MAIL FROM:<cy@x.test>\\r\\n", "enter", "ctrl+r",
              *"RCPT TO:<dan@x.test>", "enter", *"DATA", "enter")
        await until(pilot, lambda: replies(app).count(354) == 2
                    and app.screen.query_one(Composer).data_mode)
        editor = await open_editor(pilot)
        assert editor.after_354 and editor.accepted is None
        assert "ann@x.test" not in editor.text and "bob@x.test" not in editor.text
        area(editor).load_text("From: cy@x.test\nTo: dan@x.test\nSubject: s\n\nhéllo\n")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: len(wire.messages) == 2 and replies(app)[-1] == 250)
        assert wire.messages[1].isascii()  # what the raw MAIL declared is unknown: 7-bit


async def test_f1_in_the_editor_shows_its_help_and_f1_closes_it(wire: WireServer) -> None:
    from textual.widgets import Markdown

    from smtpscope.tui.screens.help import HelpScreen

    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await ehlo(pilot)
        editor = await open_editor(pilot)
        text = editor.text
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert "Message editor" in app.screen.query_one(Markdown).source
        await pilot.press("f1")
        await until(pilot, lambda: app.screen is editor)
        assert editor.text == text  # F1 typed nothing into the message
