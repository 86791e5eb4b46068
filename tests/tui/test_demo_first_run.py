"""`smtpscope demo` as a newcomer meets it: the welcome text and what carries over between runs."""

from __future__ import annotations

from smtpscope.cli.demo import build_demo_app
from smtpscope.server.demo import open_demo_server
from smtpscope.tui.widgets.composer import Composer
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
