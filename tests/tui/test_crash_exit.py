"""A crash inside the TUI is a non-zero exit, never a silent 0."""

from __future__ import annotations

from pathlib import Path

import pytest

from smtpscope.tui.app import create_app, run_app
from tests.tui.sample import write_sample


def test_a_crash_exits_non_zero(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from smtpscope.tui.screens.replay import ReplayScreen

    def boom(self: ReplayScreen) -> None:
        raise RuntimeError("an unexpected bug")

    monkeypatch.setattr(ReplayScreen, "on_mount", boom)
    app = create_app(replay_path=str(write_sample(tmp_path / "s.jsonl")))
    from smtpscope.cli.crash import EXIT_CRASH

    assert run_app(app, headless=True) == EXIT_CRASH
    assert app.crash_report is not None and "an unexpected bug" in app.crash_report.read_text()


def test_a_normal_exit_is_zero(tmp_path: Path) -> None:
    app = create_app(replay_path=str(write_sample(tmp_path / "s.jsonl")))

    async def quit_soon(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause(0.1)
        pilot.app.exit()

    assert run_app(app, headless=True, auto_pilot=quit_soon) == 0
