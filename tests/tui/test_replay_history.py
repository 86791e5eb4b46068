"""Replay and history screens: a recording reopened read-only, stepped entry by entry."""

from __future__ import annotations

import os

from smtpscope.config import recordings_dir
from smtpscope.tui.app import create_app
from smtpscope.tui.screens.history import HistoryScreen, list_sessions
from smtpscope.tui.screens.replay import ReplayScreen
from smtpscope.tui.widgets.capabilities import CapabilityInspector
from smtpscope.tui.widgets.transcript import TranscriptView
from tests.tui.sample import write_sample
from tests.tui.waiting import until

SIZE = (120, 40)


async def test_replay_steps_and_rebuilds_the_panes(tmp_path) -> None:
    path = write_sample(tmp_path / "s.jsonl")
    app = create_app(replay_path=str(path))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        view = screen.query_one(TranscriptView)
        assert view.entry_count == 0
        await pilot.press("space", "space", "space")
        assert view.entry_count == 3
        await pilot.press("p")
        assert view.entry_count == 2
        await pilot.press("a")
        total = len(screen.recording.entries)
        assert view.entry_count == total
        inspector = screen.query_one(CapabilityInspector)
        assert inspector.capabilities is not None and inspector.previous is not None
        diff = inspector.previous.diff(inspector.capabilities)
        assert [c.keyword for c in diff.removed] == ["STARTTLS"]
        assert [c.keyword for c in diff.added] == ["AUTH"]
        text = view.to_text()
        assert "AGFsaWNl" not in text and "alice-secret-pw" not in text  # redacted at record
        assert "↳ 550 5.1.1" in text
        await pilot.press("s")
        assert view.entry_count == 0


async def test_replay_of_a_cut_recording_loads_what_it_can(tmp_path) -> None:
    path = write_sample(tmp_path / "s.jsonl")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 200])
    app = create_app(replay_path=str(path))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        assert screen.recording.truncated_line is not None
        await pilot.press("a")
        assert "cut off" in screen.query_one("StatusBar").state
        assert screen.query_one(TranscriptView).entry_count == len(screen.recording.entries) > 10


async def test_history_lists_sessions_and_opens_one() -> None:
    folder = recordings_dir()
    older = write_sample(folder / "20261101-000000-old.jsonl")
    newer = write_sample(folder / "20261102-000000-new.jsonl")
    os.utime(older, (1, 1))
    (folder / "junk.jsonl").write_text("not json\n")
    sessions = list_sessions()
    assert [s.path.name for s in sessions] == [newer.name, older.name]
    assert sessions[0].outcome == "closed by server"
    app = create_app(history=True)
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, HistoryScreen)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ReplayScreen), what="the replay")
        assert app.screen.recording.path == newer
        await pilot.press("escape")
        assert isinstance(app.screen, HistoryScreen)


def _recorded(path, target: str, started: float, written: float):
    from smtpscope.record import Recorder, make_header

    header = make_header(target, role="client")
    header["started_wall"] = started
    Recorder(path, header).close()
    os.utime(path, (written, written))
    return path


async def test_history_lists_by_start_and_keeps_the_outcome_in_view_at_80_columns() -> None:
    from textual.widgets import DataTable

    folder = recordings_dir()
    pipe = "pipe:python3 /srv/smtp/fake-server.py --with --many --arguments --here"
    # The first started first but was written to last (a long session): it is still older.
    long_one = _recorded(folder / "a.jsonl", "127.0.0.1:2525", 1_000.0, 9_000.0)
    short_one = _recorded(folder / "b.jsonl", pipe, 2_000.0, 3_000.0)
    assert [s.path for s in list_sessions()] == [short_one, long_one]
    app = create_app(history=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        assert table.virtual_size.width <= table.size.width  # the outcome column is in view
        cell = str(table.get_row_at(0)[1])
        assert cell.startswith("pipe:python3 ") and cell.endswith("--here") and "…" in cell


async def test_replay_of_an_lmtp_session_says_lmtp(tmp_path) -> None:
    from smtpscope.record import Recorder, make_header

    path = tmp_path / "l.jsonl"
    Recorder(path, make_header("127.0.0.1:2528", role="client", protocol="lmtp")).close()
    app = create_app(replay_path=str(path))
    async with app.run_test(size=SIZE):
        assert app.screen.query_one("StatusBar").target == "replay of LMTP 127.0.0.1:2528"


def test_a_recording_still_written_elsewhere_is_running_not_cut_off(tmp_path) -> None:
    """Another window's session has no footer yet: it holds its file, so it is not listed as
    cut off; once it ends without one (killed), it is."""
    from smtpscope.record import Recorder, make_header
    from smtpscope.tui.screens.history import RUNNING, UNFINISHED

    writer = Recorder(tmp_path / "live.jsonl", make_header("127.0.0.1:2525", role="client"))
    try:
        [listed] = list_sessions(tmp_path)
        assert listed.outcome == RUNNING
    finally:
        writer.close()  # as when its process dies: no footer
    [listed] = list_sessions(tmp_path)
    assert listed.outcome == UNFINISHED
