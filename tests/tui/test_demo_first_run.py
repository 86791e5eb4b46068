"""`smtpscope demo` as a newcomer meets it: the welcome text and what carries over between runs."""

from __future__ import annotations

import pytest

from smtpscope.cli.demo import build_demo_app
from smtpscope.server.demo import open_demo_server, start_demo_server
from smtpscope.tui.widgets.composer import Composer
from smtpscope.tui.widgets.transcript import TranscriptView
from tests.tui.test_session_screen import SIZE, replies, screen_of, type_line
from tests.tui.waiting import until


async def test_the_composer_history_of_one_demo_run_is_there_in_the_next() -> None:
    # Each run listens on new free ports; the history must not be keyed by them.
    first = await open_demo_server()
    try:
        app = build_demo_app(first)
        async with app.run_test(size=SIZE) as pilot:
            screen = screen_of(app)
            await until(pilot, lambda: replies(screen) == [220])
            await type_line(pilot, "noop from the first run")
            await until(pilot, lambda: replies(screen) == [220, 250])
    finally:
        await first.aclose()
    second = await open_demo_server()
    try:
        assert second.port != first.port
        app = build_demo_app(second)
        async with app.run_test(size=SIZE) as pilot:
            screen = screen_of(app)
            await until(pilot, lambda: replies(screen) == [220])
            await pilot.press("up")
            composer = screen.query_one(Composer)
            assert composer.input.value.lower() == "noop from the first run"
    finally:
        await second.aclose()


@pytest.mark.parametrize("implicit_tls", [True, False])
async def test_the_welcome_offers_starttls_only_where_it_works(implicit_tls: bool) -> None:
    # With --implicit-tls TLS is on from the first byte, and without a certificate there is
    # none: F3 does nothing in either, so the welcome must not send the newcomer to it.
    demo = start_demo_server(tls=implicit_tls)
    try:
        app = build_demo_app(demo, implicit_tls=implicit_tls)
        async with app.run_test(size=SIZE) as pilot:
            screen = screen_of(app)
            await until(pilot, lambda: screen.session is not None and replies(screen) == [220])
            text = screen.query_one(TranscriptView).to_text()
            assert "Log in as" in text and "F2 EHLO" in text and "F4 the auth helper" in text
            assert "F3" not in text and "STARTTLS then EHLO" not in text
    finally:
        demo.stop()


async def test_the_welcome_offers_starttls_on_the_starttls_port() -> None:
    demo = await open_demo_server()
    try:
        app = build_demo_app(demo)
        async with app.run_test(size=SIZE) as pilot:
            screen = screen_of(app)
            await until(pilot, lambda: replies(screen) == [220])
            assert "F3 STARTTLS then EHLO" in screen.query_one(TranscriptView).to_text()
    finally:
        await demo.aclose()


async def test_f5_at_80x24_shows_the_dialog_title_and_the_port_label() -> None:
    from textual.widgets import Input

    demo = await open_demo_server()
    try:
        app = build_demo_app(demo)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = screen_of(app)
            await until(pilot, lambda: replies(screen) == [220])
            await pilot.press("f5")
            await until(pilot, lambda: bool(app.screen.query("#reconnect-box")))
            await pilot.pause(0.3)
            box = app.screen.query_one("#reconnect-box")
            port = app.screen.query_one("#reconnect-port", Input)
            assert port.has_focus
            assert box.scroll_y == 0  # "Reconnect to 127.0.0.1" and "Port" above the field
            assert box.content_region.contains_region(port.region)
            before = screen.session
            await pilot.press(*str(demo.port))  # typing still replaces the port
            assert port.value == str(demo.port)
            await pilot.press("enter")
            await until(pilot, lambda: screen.session is not before and replies(screen) == [220])
    finally:
        await demo.aclose()
