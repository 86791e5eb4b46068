"""Pilot tests of the untrusted-certificate dialog: continue (marked) and disconnect."""

from __future__ import annotations

import math

from smtpscope.server.demo import DemoServer
from smtpscope.session import SessionOptions
from smtpscope.tui.app import create_app
from smtpscope.tui.keys import ARM_AFTER
from smtpscope.tui.screens.certificate import UntrustedCertificateScreen
from smtpscope.tui.screens.session import SessionScreen
from smtpscope.tui.widgets.status import StatusBar
from smtpscope.tui.widgets.transcript import TranscriptView
from tests.tui.test_key_order import burst
from tests.tui.test_session_screen import SIZE, replies, screen_of, shown, until


def untrusted_app(demo: DemoServer):  # type: ignore[no-untyped-def]
    # No cafile: the demo server's private CA is unknown here, as on a first visit.
    options = SessionOptions(host=demo.host, port=demo.port, security="plain")
    return create_app(options=options, target_label="demo")


async def after_ehlo(pilot):  # type: ignore[no-untyped-def]
    """The session screen once the greeting and the EHLO (F2) have been answered."""
    screen = screen_of(pilot.app)
    await until(pilot, lambda: replies(screen) == [220])
    await pilot.press("f2")
    await until(pilot, lambda: len(replies(screen)) == 2)
    return screen


async def open_dialog(pilot) -> UntrustedCertificateScreen:  # type: ignore[no-untyped-def]
    await after_ehlo(pilot)
    await pilot.press("f3")
    await until(pilot, lambda: isinstance(pilot.app.screen, UntrustedCertificateScreen))
    dialog = pilot.app.screen
    assert isinstance(dialog, UntrustedCertificateScreen)
    await armed(pilot, dialog)
    return dialog


async def armed(pilot, dialog: UntrustedCertificateScreen) -> None:  # type: ignore[no-untyped-def]
    """Wait out the moment a person needs to notice the dialog: keys count from then on."""
    from textual._time import get_time

    await until(pilot, lambda: dialog.keys_from < get_time())


def press_at(app, key: str, when: float) -> None:  # type: ignore[no-untyped-def]
    """A key stamped as pressed at ``when`` (Textual's clock), sent as the terminal would."""
    from textual import events

    event = events.Key(key, None)
    event.set_sender(app)
    event.time = when
    app._driver.send_message(event)


async def go_on(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("tab", "enter")  # from the focused Disconnect to Continue


async def gone_on(pilot):  # type: ignore[no-untyped-def]
    """The dialog answered Continue and the EHLO over TLS answered: the session screen."""
    await open_dialog(pilot)
    await go_on(pilot)
    screen = screen_of(pilot.app)
    await until(pilot, lambda: len(replies(screen)) == 4)
    return screen


async def test_continue_keeps_the_session_marked_untrusted(demo: DemoServer) -> None:
    app = untrusted_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        dialog = await open_dialog(pilot)
        reason = shown(dialog.query_one("#cert-reason"))
        assert "Untrusted TLS connection" in reason and "issued by a CA" in reason
        chain = shown(dialog.query_one("#cert-chain"))
        assert "CN=localhost" in chain and "SPKI SHA-256" in chain
        await go_on(pilot)
        screen = screen_of(app)
        # EHLO after TLS follows only once the user chose to go on.
        await until(pilot, lambda: len(replies(screen)) == 4)
        session = screen.session
        assert session is not None and session.is_open and session.tls is not None
        assert session.tls.trust == "untrusted" and session.tls.trust_reason_code == "unknown-ca"
        status = screen.query_one(StatusBar)
        assert "UNTRUSTED" in status.tls and not status.tls_ok
        text = screen.query_one(TranscriptView).to_text()
        assert "Untrusted TLS connection" in text
        assert "Continuing over TLS although the certificate is not verified (" in text
        assert "stays marked untrusted" in text and "certificate is untrusted:" not in text
        tls_entry = next(e for e in session.transcript if e.kind == "tls")
        assert tls_entry.info["trust"] == "untrusted"


async def test_the_replay_shows_the_tls_word_the_session_showed(demo: DemoServer) -> None:
    """Replayed, an untrusted connection is not painted as a good one."""
    from smtpscope.record import read_recording
    from smtpscope.tui.screens.replay import ReplayScreen

    app = untrusted_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await gone_on(pilot)
        live = screen.query_one(StatusBar)
        seen = (live.tls, live.tls_ok)
        assert screen.recording_path is not None
        app.push_screen(ReplayScreen(read_recording(screen.recording_path), step_mode=False))
        await until(pilot, lambda: isinstance(app.screen, ReplayScreen)
                    and bool(app.screen.query(StatusBar)))
        replayed = app.screen.query_one(StatusBar)
        await until(pilot, lambda: replayed.tls != "plain")
        assert (replayed.tls, replayed.tls_ok) == seen
        assert "UNTRUSTED" in replayed.tls


async def test_disconnect_closes_without_ehlo(demo: DemoServer) -> None:
    app = untrusted_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot)
        await pilot.press("enter")  # Disconnect has the focus: Enter is the safe answer
        screen = screen_of(app)
        await until(pilot, lambda: screen.session is not None and not screen.session.is_open)
        assert len(replies(screen)) == 3  # banner, EHLO, STARTTLS: no EHLO over TLS
        text = screen.query_one(TranscriptView).to_text()
        assert "not trusted" in text
        # The TLS line gives the level's verdict; it must not say the session goes on.
        [tls_line] = [line for line in text.splitlines() if "TLS started" in line]
        assert "level may: allowed, marked untrusted" in tls_line
        assert "continu" not in text.lower()
        # The status bar and the recording (the history's outcome) say why it closed.
        assert screen.session.closed_reason == "closed: certificate not trusted"
        await pilot.pause()
        assert screen.query_one(StatusBar).state == "closed: certificate not trusted"


async def test_selected_tls_line_shows_the_chain(demo: DemoServer) -> None:
    from smtpscope.tui.explain import selection_text

    app = untrusted_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await gone_on(pilot)
        assert screen.session is not None
        entry = next(e for e in screen.session.transcript if e.kind == "tls")
        shown_text = selection_text(entry, 80).plain
        leaf = screen.session.tls.peer_chain[0]  # type: ignore[union-attr]
        assert f"SPKI SHA-256 {leaf.spki_sha256}" in shown_text
        assert "[1] subject" in shown_text  # the CA certificate the demo server sends too


async def test_implicit_tls_asks_right_after_connecting(demo: DemoServer) -> None:
    options = SessionOptions(host=demo.host, port=demo.tls_port, security="implicit")
    app = create_app(options=options, target_label="demo")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(pilot.app.screen, UntrustedCertificateScreen))
        await armed(pilot, pilot.app.screen)
        await pilot.press("escape")  # Escape is the safe answer: disconnect
        screen = screen_of(app)
        await until(pilot, lambda: screen.session is not None and not screen.session.is_open)
        assert screen.session.tls is not None and screen.session.tls.trust == "untrusted"


async def test_keys_typed_ahead_never_answer_the_dialog(demo: DemoServer) -> None:
    # STARTTLS and, in the same read from the terminal, a line whose 'c', 'd' and Enter would
    # answer the dialog: none of it does; the line waits for the session instead.
    app = untrusted_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await after_ehlo(pilot)
        burst(app, "f3", *"MAIL FROM:<cd@example.test>", "enter")
        await until(pilot, lambda: isinstance(app.screen, UntrustedCertificateScreen))
        dialog = app.screen
        await armed(pilot, dialog)
        await pilot.pause()
        assert app.screen is dialog and not dialog._answered
        assert screen.session is not None and screen.session.is_open
        await go_on(pilot)
        await until(pilot, lambda: len(replies(screen)) == 5)
        sent = [e.text.rstrip() for e in screen.session.transcript if e.kind == "command"]
        assert sent[-2:] == ["EHLO smtpscope.localhost", "MAIL FROM:<cd@example.test>"]
        assert replies(screen)[-1] == 250


async def test_a_key_pressed_as_the_dialog_opens_waits_for_it_to_close(demo: DemoServer) -> None:
    app = untrusted_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await after_ehlo(pilot)
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, UntrustedCertificateScreen))
        dialog = app.screen
        await until(pilot, lambda: dialog.keys_from < math.inf)  # shown
        # Enter pressed as it appears is too soon to be an answer: nobody has read it yet.
        press_at(app, "enter", dialog.keys_from - ARM_AFTER / 2)
        await armed(pilot, dialog)
        await pilot.pause()
        assert app.screen is dialog
        await pilot.press("escape")
        await until(pilot, lambda: screen.session is not None and not screen.session.is_open)
        assert app.screen is screen


async def test_the_dialog_answers_once(demo: DemoServer) -> None:
    app = untrusted_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        dialog = await open_dialog(pilot)
        dialog.action_disconnect()
        dialog.action_go_on()  # a second answer must not pop the session screen too
        await pilot.pause()
        assert isinstance(app.screen, SessionScreen)
        screen = screen_of(app)
        await until(pilot, lambda: screen.session is not None and not screen.session.is_open)
