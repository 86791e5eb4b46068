"""The replay's footer says how to leave it: Escape is the transcript's only while a line is
selected (Unselect, not shown), so with none the footer shows the replay's "esc Close"."""

from __future__ import annotations

from smtpscope.tui.app import create_app
from smtpscope.tui.screens.replay import ReplayScreen
from smtpscope.tui.widgets.transcript import TranscriptView
from tests.tui.test_replay_auth import SIZE, _write


async def test_escape_is_shown_as_close_unless_a_line_is_selected(tmp_path) -> None:
    path, _ = _write(tmp_path / "auth.jsonl")
    app = create_app(replay_path=str(path))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        await pilot.press("space", "space", "space")
        await pilot.pause()
        view = screen.query_one(TranscriptView)
        assert view.cursor_row < 0
        assert screen.active_bindings["escape"].binding.action == "close"
        view.select_row(1)
        await pilot.pause()
        assert screen.active_bindings["escape"].binding.action == "clear_selection"
        await pilot.press("escape")  # unselects: the replay stays
        await pilot.pause()
        assert app.screen is screen and view.cursor_row < 0
        assert screen.active_bindings["escape"].binding.action == "close"
