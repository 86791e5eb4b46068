"""Follow mode: the transcript keeps the newest line in view unless the user looked away."""

from __future__ import annotations

from smtpscope.server.demo import DemoServer
from smtpscope.tui.widgets.composer import Composer
from smtpscope.tui.widgets.transcript import TranscriptView
from tests.tui.test_session_screen import app_for, banner_then_ehlo, replies, screen_of, until


def visible_rows(view: TranscriptView) -> list[str]:
    return [view.render_line(y).text.rstrip()
            for y in range(view.scrollable_content_region.height)]


async def fill(pilot, screen, count: int = 40) -> None:
    assert screen.session is not None
    for i in range(count):
        screen.session.transcript.note(f"filler {i}")
    await pilot.pause()


async def test_escape_home_escape_then_new_lines_are_visible(demo: DemoServer) -> None:
    app = app_for(demo)
    async with app.run_test(size=(100, 24)) as pilot:
        screen = screen_of(app)
        await banner_then_ehlo(pilot, screen)
        await fill(pilot, screen)
        view = screen.query_one(TranscriptView)
        await pilot.press("escape", "home", "escape")
        assert screen.query_one(Composer).input.has_focus
        await pilot.press("f7")
        await until(pilot, lambda: replies(screen)[-1:] == [250] and len(replies(screen)) == 3)
        await pilot.pause()
        assert view.follow
        assert visible_rows(view)[-1].startswith("S: 250")


async def test_scrolled_up_shows_a_new_lines_marker_and_end_resumes(demo: DemoServer) -> None:
    app = app_for(demo)
    async with app.run_test(size=(100, 24)) as pilot:
        screen = screen_of(app)
        await banner_then_ehlo(pilot, screen)
        await fill(pilot, screen)
        view = screen.query_one(TranscriptView)
        await pilot.press("escape", "up", "up", "up", "pageup")
        top = view.scroll_offset.y
        assert not view.follow
        await fill(pilot, screen, 3)
        assert view.scroll_offset.y == top  # the user's place is kept
        assert view.unseen == 3
        assert "3 new lines (End)" in visible_rows(view)[-1]
        await pilot.press("end")
        await pilot.pause()
        assert view.follow and view.unseen == 0
        assert visible_rows(view)[-1].endswith("filler 2")
        # Resize keeps following.
        await pilot.resize_terminal(100, 16)
        await pilot.pause()
        await fill(pilot, screen, 1)
        await pilot.pause()
        assert visible_rows(view)[-1].endswith("filler 0")
        await pilot.resize_terminal(90, 30)
        await pilot.pause()
        assert visible_rows(view)[-1].endswith("filler 0")


async def test_explanation_panel_tracks_the_selection(demo: DemoServer) -> None:
    from textual.widgets import Static

    app = app_for(demo)
    async with app.run_test(size=(100, 24)) as pilot:
        screen = screen_of(app)
        await banner_then_ehlo(pilot, screen)
        explain = screen.query_one("#explain", Static)
        await pilot.press("escape", "home", "down", "down")
        await pilot.pause()
        assert "220" in str(explain.render())
        await pilot.press("escape")
        await pilot.pause()
        assert str(explain.render()) == ""
