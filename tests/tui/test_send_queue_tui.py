"""Type-ahead, paste and telnet-style DATA in the TUI, checked byte for byte on the wire."""

from __future__ import annotations

import asyncio
import socket

import pytest
from textual import events

from smtpscope.conversation.send_queue import DATA_REFUSED
from smtpscope.session import SessionOptions
from smtpscope.tui.app import create_app
from smtpscope.tui.widgets.composer import Composer
from smtpscope.tui.widgets.data_editor import DataEditor
from tests.tui.test_key_order import SIZE, app_for, burst, greeted, replies, until
from tests.tui.wire_server import LoopbackServer, WireServer


def paste(app, text: str) -> None:
    """A bracketed paste, as the terminal delivers it."""
    driver = app._driver
    event = events.Paste(text)
    event.set_sender(app)
    driver.send_message(event)


def composer(app) -> Composer:
    return app.screen.query_one(Composer)


def errors(app) -> list[str]:
    return [n.message for n in app._notifications if n.severity == "error"]


async def ehlo(pilot) -> None:
    await greeted(pilot)
    await pilot.press("f2")
    await until(pilot, lambda: len(replies(pilot.app)) == 2)


async def test_mail_then_rcpt_in_one_press_both_reach_the_wire(wire: WireServer) -> None:
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await ehlo(pilot)
        await pilot.press(*"MAIL FROM:<a@x.test>", "enter", *"RCPT TO:<b@x.test>", "enter")
        await until(pilot, lambda: len(replies(app)) == 4)
        burst(app, *"RSET", "enter", *"MAIL FROM:<c@x.test>", "enter",
              *"RCPT TO:<d@x.test>", "enter", *"NOOP", "enter")
        await until(pilot, lambda: len(replies(app)) == 8)
        assert wire.commands()[1:] == [
            "MAIL FROM:<a@x.test>", "RCPT TO:<b@x.test>",
            "RSET", "MAIL FROM:<c@x.test>", "RCPT TO:<d@x.test>", "NOOP"]
        assert replies(app)[2:] == [250] * 6
        assert composer(app).input.value == "" and len(composer(app).queue or ()) == 0


async def test_lines_typed_ahead_of_a_slow_server_are_shown_queued_then_sent(
        wire: WireServer) -> None:
    wire.pipelining = False
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await ehlo(pilot)
        wire.hold = asyncio.Event()  # the NOOP's reply waits until the queue has been seen
        burst(app, *"NOOP", "enter", *"RSET", "enter", *"NOOP", "enter")
        await until(pilot, lambda: "queued (2)" in str(
            composer(app).query_one("#composer-queue").render()))
        assert wire.commands()[1:] == ["NOOP"]
        wire.hold.set()
        await until(pilot, lambda: len(replies(app)) == 5)
        assert wire.commands()[1:] == ["NOOP", "RSET", "NOOP"]
        assert composer(app).query_one("#composer-queue").has_class("-empty")


async def test_ctrl_z_takes_a_queued_line_back_into_the_composer(wire: WireServer) -> None:
    wire.pipelining = False
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await ehlo(pilot)
        wire.hold = asyncio.Event()  # RSET stays queued until Ctrl+Z has been handled
        # The "!" after Ctrl+Z: "RSET!" is there only once Ctrl+Z has brought RSET back ("RSET"
        # alone is also what typing it gave, before its Enter).
        burst(app, *"NOOP", "enter", *"RSET", "enter", "ctrl+z", "!")
        await until(pilot, lambda: composer(app).input.value == "RSET!")
        wire.hold.set()
        await until(pilot, lambda: len(replies(app)) == 3)
        await pilot.pause(0.6)
        assert wire.commands()[1:] == ["NOOP"]


async def test_bracketed_paste_of_a_whole_transaction(wire: WireServer) -> None:
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await ehlo(pilot)
        paste(app, "MAIL FROM:<a@x.test>\nRCPT TO:<b@x.test>\nDATA\nSubject: pasted\n\n"
                   "body line\n..dot-stuffed by hand\n.\nQUIT\n")
        await until(pilot, lambda: 221 in replies(app))
        assert wire.messages == [b"Subject: pasted\r\n\r\nbody line\r\n..dot-stuffed by hand\r\n"]
        assert replies(app)[2:] == [250, 250, 354, 250, 221]
        await pilot.pause(0.3)
        assert errors(app) == []


async def test_paste_keeps_an_unfinished_last_line_in_the_composer(wire: WireServer) -> None:
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await ehlo(pilot)
        paste(app, "NOOP\r\nRSET\r\nNOO")
        await until(pilot, lambda: len(replies(app)) == 4)
        assert wire.commands()[1:] == ["NOOP", "RSET"]
        assert composer(app).input.value == "NOO"


async def test_hand_typed_message_in_data_mode(wire: WireServer) -> None:
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await ehlo(pilot)
        burst(app, *"MAIL FROM:<a@x.test>", "enter", *"RCPT TO:<b@x.test>", "enter",
              *"DATA", "enter")
        await until(pilot, lambda: composer(app).data_mode and 354 in replies(app))
        assert not isinstance(app.screen, DataEditor)  # only when asked
        # Headers, the empty line, a body with a line that only looks like a command, a
        # dot line (warned, sent as typed), the end, then QUIT: all at paste speed.
        burst(app, *"Subject: typed", "enter", "enter", *"rcpt to:<not a command>", "enter",
              *".x", "enter", ".", "enter", *"QUIT", "enter")
        await until(pilot, lambda: 221 in replies(app))
        assert wire.messages == [b"Subject: typed\r\n\r\nrcpt to:<not a command>\r\n.x\r\n"]
        screen = app.screen
        [dot_line] = [e for e in screen.session.transcript if e.raw == b".x\r\n"]
        assert "drops the first dot" in " ".join(dot_line.notes)
        assert not any(e.off_script for e in screen.session.transcript
                       if e.direction == "client")
        await pilot.pause(0.3)
        assert errors(app) == []


async def test_an_over_long_data_line_is_warned_and_sent_as_typed(wire: WireServer) -> None:
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await ehlo(pilot)
        burst(app, *"MAIL FROM:<a@x.test>", "enter", *"RCPT TO:<b@x.test>", "enter",
              *"DATA", "enter")
        await until(pilot, lambda: composer(app).data_mode and 354 in replies(app))
        long = "y" * 1100
        burst(app, *long)
        # Warned while typed, before Enter: the limit is in octets with the CRLF.
        await until(pilot, lambda: "1102 octets" in composer(app).hint, what="the warning")
        burst(app, "enter", ".", "enter")
        await until(pilot, lambda: len(wire.messages) == 1, what="the message")
        assert wire.messages == [long.encode() + b"\r\n"]
        [line] = [e for e in app.screen.session.transcript if e.raw == long.encode() + b"\r\n"]
        assert "limit of 1000" in " ".join(line.notes)


_RAW_MAIL = ("ctrl+r", *"MAIL FROM:<a@x.test> BODY=8BITMIME\\r\\n", "enter", "ctrl+r")


@pytest.mark.parametrize(("mail", "offered", "warning"), [
    ((*"MAIL FROM:<a@x.test>", "enter"), True, "declared neither BODY=8BITMIME"),
    ((*"MAIL FROM:<a@x.test>", "enter"), False, "did not advertise 8BITMIME"),
    ((*"MAIL FROM:<a@x.test> BODY=8BITMIME", "enter"), True, None),
    ((*"MAIL FROM:<a@x.test> SMTPUTF8", "enter"), True, None),
    (_RAW_MAIL, True, "went as raw bytes"),  # what it declared is unknown: 7-bit
])
async def test_an_8bit_data_line_is_warned_unless_the_mail_from_declared_it(
        wire: WireServer, mail: tuple[str, ...], offered: bool, warning: str | None) -> None:
    wire.eightbitmime = wire.smtputf8 = offered
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await ehlo(pilot)
        burst(app, *mail, *"RCPT TO:<b@x.test>", "enter", *"DATA", "enter")
        await until(pilot, lambda: composer(app).data_mode and 354 in replies(app))
        burst(app, *"héllo")
        await until(pilot, lambda: composer(app).input.value == "héllo")
        await pilot.pause()
        assert (warning in composer(app).hint) if warning else "8-bit" not in composer(app).hint
        burst(app, "enter", ".", "enter")
        await until(pilot, lambda: len(wire.messages) == 1, what="the message")
        assert wire.messages == ["héllo\r\n".encode()]  # sent as typed all the same
        [line] = [e for e in app.screen.session.transcript if e.raw == "héllo\r\n".encode()]
        notes = " ".join(line.notes)
        assert (warning in notes) if warning else "8-bit" not in notes


@pytest.mark.parametrize(("mail", "warned"), [("MAIL FROM:<a@x.test>", True),
                                              ("MAIL FROM:<a@x.test> BODY=8BITMIME", False)])
async def test_an_8bit_line_typed_ahead_of_the_354_is_checked_against_its_mail_from(
        wire: WireServer, mail: str, warned: bool) -> None:
    wire.delay = 0.4  # MAIL, RCPT and DATA go at once; the 354 comes last, 1.2 s later
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await ehlo(pilot)
        burst(app, *mail, "enter", *"RCPT TO:<b@x.test>", "enter", *"DATA", "enter",
              *"héllo")
        await until(pilot, lambda: composer(app).input.value == "héllo")
        await pilot.pause()
        hint = composer(app).hint
        assert 354 not in replies(app)  # typed ahead: the server has not answered DATA yet
        assert ("declared neither BODY=8BITMIME" in hint) is warned
        assert "8-bit" in hint or not warned
        burst(app, "enter", ".", "enter")
        await until(pilot, lambda: replies(app)[-2:] == [354, 250], what="the message taken")
        [line] = [e for e in app.screen.session.transcript if e.raw == "héllo\r\n".encode()]
        assert ("declared neither BODY=8BITMIME" in " ".join(line.notes)) is warned


async def test_notes_follow_the_lines_they_explain_in_a_pipelined_paste(
        wire: WireServer) -> None:
    from smtpscope.tui.screens.queue_flow import DATA_MODE_NOTE

    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await greeted(pilot)
        # The replies to MAIL, RCPT and DATA arrive together: the engine is in DATA before
        # the first of them reaches the transcript.
        paste(app, "EHLO me\nMAIL FROM:<a@x.test>\nRCPT TO:<b@x.test>\nDATA\nSubject: x\n\n"
                   "..dotted\n.hidden\n.\n")
        await until(pilot, lambda: replies(app)[-1:] == [250] and 354 in replies(app))
        entries = list(app.screen.session.transcript)
        shown = [(e.direction, e.text.rstrip("\r\n")) for e in entries]
        at = shown.index(("server", "354 go ahead"))
        assert shown[at - 2:at + 2] == [("server", "250 2.0.0 ok"), ("server", "250 2.0.0 ok"),
                                        ("server", "354 go ahead"), ("local", DATA_MODE_NOTE)]
        assert shown[at + 2:] == [("client", "Subject: x"), ("client", ""),
                                  ("client", "..dotted"), ("client", ".hidden"),
                                  ("client", "."), ("server", "250 2.0.0 queued")]
        # '..' is the typist's own dot-stuffing: sent as typed, no warning. A single dot is
        # warned about on the line itself.
        assert [e.notes for e in entries[at + 2:]][2:4] == [
            (), ("this line starts with '.': the server drops the first dot (RFC 5321 §4.5.2) "
                 "and stores 'hidden'; type '..hidden' to keep it",)]
        assert wire.messages == [b"Subject: x\r\n\r\n..dotted\r\n.hidden\r\n"]


async def test_tab_is_a_character_of_the_message_in_data_mode(wire: WireServer) -> None:
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await ehlo(pilot)
        # Typed ahead of the 354 at paste speed: a folded header and a tab inside a line.
        burst(app, *"MAIL FROM:<a@x.test>", "enter", *"RCPT TO:<b@x.test>", "enter",
              *"DATA", "enter", *"X-Folded: one", "enter", "tab", *"two", "enter", "enter",
              *"tab", "tab", *"here", "enter")
        await until(pilot, lambda: len(wire.lines()) >= 8, what="four message lines")
        # And with Pilot's own key pace.
        await pilot.press("tab", *"end", "enter", ".", "enter")
        await until(pilot, lambda: 250 in replies(app)[5:], what="the message accepted")
        assert wire.messages == [b"X-Folded: one\r\n\ttwo\r\n\r\ntab\there\r\n\tend\r\n"]
        assert composer(app).input.value == ""


async def test_lines_after_a_refused_data_are_held_not_sent_as_commands(
        wire: WireServer) -> None:
    wire.data_reply = "554 5.5.1 no valid recipients"
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await ehlo(pilot)
        paste(app, "MAIL FROM:<a@x.test>\nRCPT TO:<nobody@x.test>\nDATA\nSubject: x\n.\n")
        await until(pilot, lambda: 554 in replies(app))
        queue = composer(app).queue
        await until(pilot, lambda: queue is not None and len(queue) == 2
                    and all(i.blocked for i in queue), what="the content lines held")
        assert wire.commands()[1:] == ["MAIL FROM:<a@x.test>", "RCPT TO:<nobody@x.test>",
                                       "DATA"]
        assert queue is not None and [i.text for i in queue] == ["Subject: x", "."]
        assert all(i.blocked for i in queue)
        assert "⛔" in str(composer(app).query_one("#composer-queue").render())


@pytest.mark.parametrize(("body", "rows"), [
    ("one\ntwo\n", ["Subject: x", "(empty line)", "one", "two", "."]),
    ("1\n2\n3\n4\n5\n", ["Subject: x", "(empty line)", "1", "2", "3", "4", "… 2 more"]),
])
async def test_the_queue_view_shows_every_blocked_line_or_counts_them(
        wire: WireServer, body: str, rows: list[str]) -> None:
    wire.data_reply = "554 5.5.1 no valid recipients"
    app = app_for(wire)
    async with app.run_test(size=(80, 24)) as pilot:
        await ehlo(pilot)
        paste(app, f"MAIL FROM:<a@x.test>\nRCPT TO:<b@x.test>\nDATA\nSubject: x\n\n{body}.\n")
        queue = composer(app).queue
        assert queue is not None
        await until(pilot, lambda: len(queue) > 1 and all(i.blocked for i in queue),
                    what="the message lines held")
        await pilot.pause(0.1)
        # A long reason must not wrap the rows out of the box: one row a line, as on screen.
        view = composer(app).query_one("#composer-queue")
        screen = ["".join(seg.text for seg in strip)
                  for strip in app.screen._compositor.render_strips()]
        screen_rows = [row[view.region.x:view.region.right]
                       for row in screen[view.region.y:view.region.bottom]]
        assert len(screen_rows) == 1 + len(rows)
        assert screen_rows[0].strip().startswith(f"queued ({len(queue)})")
        for row, shown in zip(screen_rows[1:], rows, strict=True):
            assert row.strip().lstrip("⛔ ").startswith(shown), row
        # The reason is cut in the view, so the hint line gives the head's reason whole.
        assert DATA_REFUSED in composer(app).hint and "Ctrl+O" in composer(app).hint


@pytest.mark.parametrize("key", ["ctrl+o", "ctrl+enter"])
async def test_a_refused_line_is_held_visibly_and_ctrl_o_sends_it_anyway(
        wire: WireServer, key: str) -> None:
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await ehlo(pilot)
        paste(app, "RCPT TO:<b@x.test>\nNOOP\n")  # RCPT before MAIL: the engine refuses it
        queue = composer(app).queue
        assert queue is not None
        await until(pilot, lambda: queue.head is not None and queue.head.blocked is not None)
        assert "MAIL" in (queue.head.blocked or "")
        assert [i.text for i in queue] == ["RCPT TO:<b@x.test>", "NOOP"]
        assert wire.commands()[1:] == []
        await pilot.press(key)
        await until(pilot, lambda: len(replies(app)) == 4)
        assert wire.commands()[1:] == ["RCPT TO:<b@x.test>", "NOOP"]
        sent = [e for e in app.screen.session.transcript if e.direction == "client"]
        assert sent[-2].off_script and not sent[-1].off_script


async def test_ctrl_z_cancels_a_blocked_line(wire: WireServer) -> None:
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await ehlo(pilot)
        paste(app, "RCPT TO:<b@x.test>\n")
        queue = composer(app).queue
        await until(pilot, lambda: queue.head is not None and queue.head.blocked is not None)
        await pilot.press("ctrl+z")
        await until(pilot, lambda: len(queue) == 0)
        assert composer(app).input.value == "RCPT TO:<b@x.test>"
        assert wire.commands()[1:] == []


async def test_ctrl_z_never_overwrites_the_input(wire: WireServer) -> None:
    wire.data_reply = "554 5.5.1 no valid recipients"
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await ehlo(pilot)
        paste(app, "MAIL FROM:<a@x.test>\nRCPT TO:<b@x.test>\nDATA\nSubject: x\n\none\n"
                   "two\n.\n")
        queue = composer(app).queue
        assert queue is not None
        await until(pilot, lambda: len(queue) == 5 and all(i.blocked for i in queue),
                    what="the message lines held")
        await pilot.press("ctrl+z", "ctrl+z", "ctrl+z")
        # The first comes back; the others stay queued rather than vanish behind it.
        assert composer(app).input.value == "."
        assert [i.text for i in queue] == ["Subject: x", "", "one", "two"]
        assert composer(app).has_class("-warning") and "nothing was taken" in composer(app).hint
        burst(app, "ctrl+u", "ctrl+z", "ctrl+z")
        await until(pilot, lambda: len(queue) == 3, what="the next line taken back")
        await pilot.pause(0.1)
        assert composer(app).input.value == "two" and len(queue) == 3


async def test_raw_mode_paste_keeps_the_line_breaks_visible_for_one_send(
        wire: WireServer) -> None:
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await ehlo(pilot)
        await pilot.press("ctrl+r")
        paste(app, "NOOP\nRSET\n")
        await until(pilot, lambda: composer(app).input.value == "NOOP\\r\\nRSET\\r\\n")
        await pilot.press("enter")
        await until(pilot, lambda: len(replies(app)) == 4)
        assert bytes(wire.received).endswith(b"NOOP\r\nRSET\r\n")


async def test_function_keys_queue_behind_typed_lines(wire: WireServer) -> None:
    wire.pipelining, wire.delay = False, 0.2
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await greeted(pilot)
        burst(app, "f2", *"NOOP", "enter", "f6", "f7", *"RSET", "enter", "f8")
        await until(pilot, lambda: 221 in replies(app))
        assert wire.commands()[1:] == ["NOOP", "RSET", "NOOP", "RSET", "QUIT"]
        assert wire.commands()[0].startswith("EHLO ")
        await pilot.pause(0.3)
        assert errors(app) == []


async def test_line_feeds_from_an_unbracketed_paste_end_lines_too(wire: WireServer) -> None:
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await ehlo(pilot)
        burst(app, *"NOOP", "ctrl+j", *"RSET", "ctrl+j")
        await until(pilot, lambda: len(replies(app)) == 4)
        assert wire.commands()[1:] == ["NOOP", "RSET"]


async def test_lines_typed_after_the_connection_closed_wait_for_a_reconnect(
        wire: WireServer) -> None:
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await ehlo(pilot)
        burst(app, *"QUIT", "enter", *"NOOP", "enter")
        await until(pilot, lambda: 221 in replies(app))
        # Typed ahead of the 221 at paste speed, NOOP waits in the queue, not in the input.
        # (The reply can reach the transcript before the composer has taken the last keys.)
        await until(pilot, lambda: [i.text for i in composer(app).queue or ()] == ["NOOP"],
                    what="NOOP in the queue")
        assert composer(app).input.value == ""
        view = composer(app).query_one("#composer-queue")
        await until(pilot, lambda: "not connected" in str(view.render()))
        await pilot.press("f5")
        from smtpscope.tui.screens.reconnect import ReconnectDialog

        await until(pilot, lambda: isinstance(app.screen, ReconnectDialog))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: wire.commands()[-1] == "NOOP")
        assert wire.commands() == ["NOOP"]  # on the new connection, before anything else
        assert bytes(wire.received).endswith(b"QUIT\r\nNOOP\r\n")
        assert len(composer(app).queue or ()) == 0


class BannerCutServer(LoopbackServer):
    """Half a banner after ``delay`` seconds, then the connection closes."""

    def __init__(self, delay: float) -> None:
        self.delay = delay

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(self.delay)
        writer.write(b"220-wire.test\r\n220-more")
        writer.close()


@pytest.mark.parametrize("failure", ["refused", "cut", "cut while typing"])
async def test_lines_queued_after_a_failed_banner_say_they_wait_for_f5(failure: str) -> None:
    if failure == "refused":
        with socket.socket() as probe:  # a port nobody listens on
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = None
    else:
        server = await BannerCutServer(0.5 if failure == "cut while typing" else 0).start()
        port = server.port
    options = SessionOptions(host="127.0.0.1", port=port, security="plain")
    app = create_app(options=options, target_label="wire")
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            if failure != "cut while typing":
                await until(pilot, lambda: screen.session is not None
                            and screen.session.view.ended, what="the connection failed")
            burst(app, *"NOOP", "enter", *"RSET", "enter")
            await until(pilot, lambda: [i.text for i in composer(app).queue or ()]
                        == ["NOOP", "RSET"], what="both lines queued")
            view = composer(app).query_one("#composer-queue")
            if not screen.session.view.ended:  # still connecting: they go once greeted
                assert "not connected" not in str(view.render())
            await until(pilot, lambda: screen.session.view.ended, what="the connection failed")
            await until(pilot, lambda: "not connected: they go after F5" in str(view.render()),
                        what="the note")
    finally:
        if server is not None:
            await server.stop()


async def test_a_held_warning_follows_the_state_instead_of_going_stale(wire: WireServer) -> None:
    from smtpscope.protocol import MailFrom

    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await ehlo(pilot)
        await pilot.press(*"RCPT TO:<b@x.test>", "enter")  # no MAIL yet: held, warned
        c = composer(app)
        assert c.has_class("-warning") and c.input.value == "RCPT TO:<b@x.test>"
        app.screen.queue_command(MailFrom("a@x.test"))  # now it would be valid
        await until(pilot, lambda: not c.has_class("-warning"))
        await pilot.press("enter")  # one Enter: an ordinary line now, not off-script
        await until(pilot, lambda: len(replies(app)) == 4)
        assert wire.commands()[1:] == ["MAIL FROM:<a@x.test>", "RCPT TO:<b@x.test>"]
        sent = [e for e in app.screen.session.transcript if e.direction == "client"]
        assert not sent[-1].off_script


async def test_an_unbracketed_paste_never_runs_lines_together(wire: WireServer) -> None:
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await ehlo(pilot)
        # RCPT before MAIL would be held if typed; pasted, it is queued (and blocked by the
        # engine) so that NOOP stays a line of its own.
        burst(app, *"RCPT TO:<b@x.test>", "enter", *"NOOP", "enter")
        queue = composer(app).queue
        await until(pilot, lambda: queue is not None and len(queue) == 2
                    and queue.head is not None and queue.head.blocked is not None)
        assert [i.text for i in queue] == ["RCPT TO:<b@x.test>", "NOOP"]
        assert composer(app).input.value == ""
        # Typed by hand (keys far apart) the same line is held with a warning instead.
        await pilot.press("ctrl+z", "ctrl+u", "ctrl+z")
        await until(pilot, lambda: len(queue) == 0)
        composer(app).input.value = ""
        for key in (*"RCPT TO:<b@x.test>", "enter"):
            await pilot.press(key)
            await pilot.pause(0.04)
        assert composer(app).has_class("-warning") and len(queue) == 0


async def test_ctrl_n_after_mail_and_rcpt_typed_at_once_waits_for_their_replies(
        wire: WireServer) -> None:
    # MAIL, RCPT, Ctrl+N, Ctrl+S in one burst: the editor starts from the envelope the server
    # accepted, so the message goes in that transaction. It used to open before the replies,
    # with the placeholder recipient, and Ctrl+S then sent RSET and RCPT TO that placeholder.
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await greeted(pilot)
        wire.hold = asyncio.Event()  # the replies wait until every key has been read
        burst(app, *"EHLO me.example", "enter", *"MAIL FROM:<a@example.test>", "enter",
              *"RCPT TO:<b@example.test>", "enter", "ctrl+n", "ctrl+s")
        await pilot.pause(0.3)
        wire.hold.set()
        await until(pilot, lambda: len(wire.messages) == 1)
        assert wire.commands() == ["EHLO me.example", "MAIL FROM:<a@example.test>",
                                   "RCPT TO:<b@example.test>", "DATA"]
        assert b"\r\nTo: b@example.test\r\n" in wire.messages[0]
