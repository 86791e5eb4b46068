"""Pilot tests of the session screen: composer → transcript → panes, against a real server."""

from __future__ import annotations

import io
import mailbox

import pytest

from smtpscope.protocol import State
from smtpscope.record import read_recording
from smtpscope.server.demo import DemoServer
from smtpscope.session import SessionOptions
from smtpscope.tui.app import SmtpScopeApp, create_app
from smtpscope.tui.screens.session import SessionScreen
from smtpscope.tui.widgets.capabilities import CapabilityInspector
from smtpscope.tui.widgets.composer import Composer
from smtpscope.tui.widgets.data_editor import DataEditor
from smtpscope.tui.widgets.status import StatusBar
from smtpscope.tui.widgets.transcript import TranscriptView
from tests.tui.waiting import until

SIZE = (120, 40)


def app_for(demo: DemoServer, **extra: object) -> SmtpScopeApp:
    options = SessionOptions(host=demo.host, port=demo.port, security="plain",
                             cafile=str(demo.cafile))
    return create_app(options=options, target_label="demo", **extra)  # type: ignore[arg-type]


def shown(widget) -> str:
    """What a widget renders, as plain text."""
    from rich.console import Console

    console = Console(width=100, record=True, file=io.StringIO())
    console.print(widget.render())
    return console.export_text()


def screen_of(app: SmtpScopeApp) -> SessionScreen:
    screen = app.screen
    assert isinstance(screen, SessionScreen)
    return screen


def replies(screen: SessionScreen) -> list[int]:
    assert screen.session is not None
    return [e.code for e in screen.session.transcript if e.kind == "reply" and e.code]


async def banner_then_ehlo(pilot, screen: SessionScreen) -> None:
    """Wait for the greeting, press F2 and wait for the EHLO reply."""
    await until(pilot, lambda: replies(screen) == [220])
    await pilot.press("f2")
    await until(pilot, lambda: len(replies(screen)) == 2)


async def banner_then_quit(pilot, screen: SessionScreen) -> None:
    """Wait for the greeting, press F8 (QUIT) and wait for the session to end."""
    await until(pilot, lambda: replies(screen) == [220])
    await pilot.press("f8")
    await until(pilot, lambda: screen.session.closed_reason is not None)


async def type_line(pilot, text: str) -> None:
    composer = pilot.app.screen.query_one(Composer)
    composer.input.value = text
    composer.input.cursor_position = len(text)
    await pilot.press("enter")


async def test_banner_ehlo_and_typed_command_reach_every_pane(demo: DemoServer) -> None:
    app = app_for(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await banner_then_ehlo(pilot, screen)
        inspector = screen.query_one(CapabilityInspector)
        assert inspector.capabilities is not None
        assert "STARTTLS" in [c.keyword for c in inspector.capabilities.keywords]
        # The demo server's recipient limit, advertised (RFC 9422) and explained.
        assert "LIMITS RCPTMAX=1000 (at most 1000 recipients per transaction)" in shown(inspector)
        await type_line(pilot, "mail from:<alice@example.test>")
        await until(pilot, lambda: len(replies(screen)) == 3)
        assert replies(screen)[-1] == 250
        assert screen.session is not None and screen.session.conn.state is State.MAIL
        view = screen.query_one(TranscriptView)
        text = view.to_text()
        assert "C: MAIL FROM:<alice@example.test>" in text
        assert "S: 250" in text
        assert screen.query_one(StatusBar).state == "mail"


async def test_starttls_shows_the_capability_diff(demo: DemoServer) -> None:
    app = app_for(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await banner_then_ehlo(pilot, screen)
        await pilot.press("f3")  # STARTTLS, then EHLO again
        await until(pilot, lambda: len(replies(screen)) == 4)
        assert screen.session is not None and screen.session.tls is not None
        assert screen.session.tls.verified
        inspector = screen.query_one(CapabilityInspector)
        assert inspector.previous is not None
        diff = inspector.previous.diff(inspector.capabilities)
        assert [c.keyword for c in diff.removed] == ["STARTTLS"]
        rendered = shown(inspector)
        assert "gone after STARTTLS" in rendered
        status = screen.query_one(StatusBar)
        assert status.tls.startswith("TLSv1") and status.tls_ok
        assert "TLS started" in screen.query_one(TranscriptView).to_text()


async def test_error_reply_is_explained_inline_and_on_selection(demo: DemoServer) -> None:
    app = app_for(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await banner_then_ehlo(pilot, screen)
        # RCPT before MAIL: held as invalid in this state, then sent anyway (off-script).
        await type_line(pilot, "rcpt to:<bob@example.test>")
        composer = screen.query_one(Composer)
        assert composer.has_class("-warning")
        await pilot.press("enter")
        await until(pilot, lambda: len(replies(screen)) == 3)
        assert replies(screen)[-1] == 503
        view = screen.query_one(TranscriptView)
        text = view.to_text()
        assert "C! RCPT TO:<bob@example.test>" in text
        assert "↳ 503" in text  # the catalogue's explanation, inline under the reply
        view.focus()
        await pilot.press("end")
        await until(pilot, lambda: view.selected_entry is not None)
        while view.selected_entry is not None and view.selected_entry.code != 503:
            await pilot.press("up")
        await until(pilot, lambda: "503" in shown(screen.query_one("#explain")))
        explanation = shown(screen.query_one("#explain"))
        assert "503" in explanation and "sequence" in explanation.lower()


async def test_new_message_walks_the_envelope_and_delivers(demo: DemoServer) -> None:
    app = app_for(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await banner_then_ehlo(pilot, screen)
        await pilot.press("ctrl+n")
        await until(pilot, lambda: isinstance(app.screen, DataEditor))
        editor = app.screen
        assert isinstance(editor, DataEditor)
        text = editor.text.replace("Subject: smtpscope test", "Subject: 안녕하세요 테스트")
        text = text.replace("recipient@example.test", "bob@example.test")
        editor.query_one("#data-text").load_text(text)  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await until(pilot, lambda: len(replies(screen)) >= 6)
        assert replies(screen)[2:] == [250, 250, 354, 250]
        box = mailbox.Maildir(str(demo.maildir), create=False)
        messages = [box.get_bytes(key) for key in box.iterkeys()]
        assert any("안녕하세요 테스트".encode() in m for m in messages)


async def test_session_is_recorded_for_history(demo: DemoServer, tmp_path) -> None:
    extra = tmp_path / "copy.jsonl"
    app = app_for(demo, record_to=str(extra))
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await until(pilot, lambda: replies(screen) == [220])
        await pilot.press("f8")  # QUIT
        await until(pilot, lambda: screen.session is not None
                    and screen.session.closed_reason is not None)
        path = screen.recording_path
    assert path is not None
    for recording in (read_recording(path), read_recording(extra)):
        assert [e.code for e in recording.entries if e.kind == "reply"] == [220, 221]
        assert recording.footer is not None


async def test_each_connection_gets_its_own_recording_after_f5(demo: DemoServer,
                                                                 tmp_path) -> None:
    """A recording holds one connection: F5 writes the next one beside --record FILE, says
    where, and overwrites neither file (nor the automatic one, even within the same second)."""
    from smtpscope.tui.screens.reconnect import ReconnectDialog

    extra = tmp_path / "rec.json"
    app = app_for(demo, record_to=str(extra))
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await until(pilot, lambda: replies(screen) == [220])
        await pilot.press(*"EHLO first.example", "enter")
        await until(pilot, lambda: replies(screen) == [220, 250])
        first, first_auto = screen.session, screen.recording_path
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, ReconnectDialog))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: screen.session is not first and replies(screen) == [220])
        await pilot.press(*"EHLO second.example", "enter")
        await until(pilot, lambda: replies(screen) == [220, 250])
        second = tmp_path / "rec-2.json"
        assert screen.record_copy == second
        assert f"Recording this connection to {second} ({extra} holds the one before)" \
            in screen.query_one(TranscriptView).to_text()
        second_auto = screen.recording_path
        assert second_auto is not None and second_auto != first_auto
        # Ctrl+Y copies what the pane shows: both connections, in order.
        await pilot.press("ctrl+y")
        await until(pilot, lambda: "EHLO second.example" in app.clipboard, what="copied")
        copied = app.clipboard
        assert copied.index("C: EHLO first.example") < copied.index("C: EHLO second.example")
    for path, name in ((extra, "first"), (first_auto, "first"), (second, "second"),
                       (second_auto, "second")):
        sent = [e.text for e in read_recording(path).entries if e.direction == "client"]
        assert sent == [f"EHLO {name}.example\r\n"], path


@pytest.mark.parametrize(("target", "explained"), [
    ("smpt://mx.example.test", "did you mean smtp"),
    # The foreign text quoted escaped once: not \\\\x1b.
    ("a\x1bb\\c.test", "host name 'a\\x1bb\\\\c.test' contains '\\x1b'"),
])
async def test_connect_screen_explains_a_bad_target(target: str, explained: str) -> None:
    app = create_app(initial_target=target)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await until(pilot, lambda: bool(app.screen.query("#connect-error"))
                    and explained in shown(app.screen.query_one("#connect-error")))


async def test_demo_command_app_reaches_banner_and_ehlo() -> None:
    from smtpscope.cli.demo import build_demo_app
    from smtpscope.server.demo import start_demo_server

    demo = start_demo_server()  # threaded, as `smtpscope demo` runs it
    try:
        app = build_demo_app(demo)
        async with app.run_test(size=SIZE) as pilot:
            screen = screen_of(app)
            await until(pilot, lambda: screen.session is not None and replies(screen) == [220])
            text = screen.query_one(TranscriptView).to_text()
            assert f"Log in as {demo.user} / {demo.password}" in text
            await pilot.press("f2")
            await until(pilot, lambda: replies(screen) == [220, 250])
            caps = screen.query_one(CapabilityInspector).capabilities
            assert caps is not None and "SCRAM-SHA-256" in caps.auth_mechanisms
    finally:
        demo.stop()


async def test_demo_without_a_certificate_still_runs() -> None:
    from smtpscope.cli.demo import build_demo_app
    from smtpscope.server.demo import start_demo_server

    demo = start_demo_server(tls=False)
    try:
        assert demo.tls_port is None and demo.cafile is None
        app = build_demo_app(demo)
        async with app.run_test(size=SIZE) as pilot:
            screen = screen_of(app)
            await until(pilot, lambda: screen.session is not None and replies(screen) == [220])
            await pilot.press("f2")
            await until(pilot, lambda: replies(screen) == [220, 250])
            caps = screen.query_one(CapabilityInspector).capabilities
            assert caps is not None and not caps.has("STARTTLS")
    finally:
        demo.stop()


async def test_refused_command_is_shown_not_a_crash(demo: DemoServer) -> None:
    app = app_for(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await banner_then_ehlo(pilot, screen)
        await type_line(pilot, "mail from:<a@example.test>")
        await until(pilot, lambda: len(replies(screen)) == 3)
        # The engine refuses a second MAIL inside a transaction; the app must say so and live.
        from smtpscope.protocol import MailFrom

        screen._spawn(screen._run(MailFrom("b@example.test")))
        await until(pilot, lambda: "Not sent:" in screen.query_one(TranscriptView).to_text())
        assert app.is_running
        assert "Not sent:" in screen.query_one(TranscriptView).to_text()
        # A new message while a transaction is open resets it first, then delivers.
        await pilot.press("ctrl+n")
        await until(pilot, lambda: isinstance(app.screen, DataEditor))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: replies(screen)[-1:] == [250] and len(replies(screen)) >= 8)
        assert replies(screen)[3:] == [250, 250, 250, 354, 250]  # RSET, MAIL, RCPT, DATA, dot


async def test_escape_moves_between_composer_and_transcript(demo: DemoServer) -> None:
    app = app_for(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await until(pilot, lambda: replies(screen) == [220])
        view = screen.query_one(TranscriptView)
        await pilot.press("escape")
        assert view.has_focus and view.selected_entry is not None
        await pilot.press("escape")
        assert screen.query_one(Composer).input.has_focus


async def test_line_ending_lab_awaits_a_reply_only_after_the_standard_terminator(
        demo: DemoServer) -> None:
    app = app_for(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await banner_then_ehlo(pilot, screen)
        for count, line in enumerate(("mail from:<a@example.test>", "rcpt to:<b@example.test>",
                                      "data"), start=3):
            await type_line(pilot, line)
            await until(pilot, lambda count=count: len(replies(screen)) == count)
        # A hand-typed DATA puts the composer in data mode; the editor opens only when asked.
        await until(pilot, lambda: screen.query_one(Composer).data_mode)
        assert not isinstance(app.screen, DataEditor)
        screen.send_raw(b"Subject: lab\r\n\r\nhello\n.\n", "bare LF dot bare LF (lflf)")
        await pilot.pause(0.3)
        assert replies(screen)[-1] == 354  # aiosmtpd rightly keeps reading data
        assert screen.session is not None and not screen.session.conn.pending
        screen.send_raw(b"\r\n.\r\n", "standard")
        await until(pilot, lambda: replies(screen)[-1] == 250)
        assert screen.session.conn.state is State.IDENT


async def _envelope_then_editor(pilot, screen: SessionScreen) -> DataEditor:
    await banner_then_ehlo(pilot, screen)
    await pilot.press(*"mail from:<a@example.test>", "enter", *"rcpt to:<b@example.test>",
                      "enter", *"rcpt to:<c@example.test>", "enter")
    await until(pilot, lambda: replies(screen) == [220, 250, 250, 250, 250])
    await pilot.press("ctrl+n")
    await until(pilot, lambda: isinstance(pilot.app.screen, DataEditor))
    editor = pilot.app.screen
    assert isinstance(editor, DataEditor)
    return editor


def _sent_verbs(screen: SessionScreen) -> list[str]:
    assert screen.session is not None
    return [e.text.split()[0].upper() for e in screen.session.transcript
            if e.direction == "client" and e.kind == "command"]


async def test_ctrl_n_in_an_open_transaction_goes_on_with_data(demo: DemoServer) -> None:
    app = app_for(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        editor = await _envelope_then_editor(pilot, screen)
        assert "a@example.test" in editor.text and "b@example.test, c@example.test" in editor.text
        assert "recipient@example.test" not in editor.text
        assert "goes on in the open transaction: DATA next" in editor.status_text()[0].plain
        await pilot.press("ctrl+s")
        await until(pilot, lambda: replies(screen)[-1:] == [250] and len(replies(screen)) == 7)
        assert _sent_verbs(screen)[-1] == "DATA" and "RSET" not in _sent_verbs(screen)
        assert replies(screen)[5:] == [354, 250]


async def test_ctrl_n_with_other_addresses_says_it_resets_first(demo: DemoServer) -> None:
    app = app_for(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        editor = await _envelope_then_editor(pilot, screen)
        area = editor.query_one("#data-text")
        area.text = area.text.replace("b@example.test, ", "")
        assert "RSET first: the message's From/To/Cc/Bcc differ" in editor.status_text()[0].plain
        await pilot.press("ctrl+s")
        await until(pilot, lambda: replies(screen)[-1:] == [250] and len(replies(screen)) == 10)
        assert _sent_verbs(screen)[-4:] == ["RSET", "MAIL", "RCPT", "DATA"]
