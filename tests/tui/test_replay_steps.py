"""Replay steps by adding or removing only the entries stepped over, with the same result as
laying the recording out afresh up to that point."""

from __future__ import annotations

import gc
from typing import Any

from textual.app import App, ComposeResult

from smtpscope.record import read_recording
from smtpscope.tui.app import create_app
from smtpscope.tui.explain import capabilities_from_entry, explain_entry
from smtpscope.tui.screens import replay
from smtpscope.tui.screens.replay import ReplayScreen
from smtpscope.tui.widgets.capabilities import CapabilityInspector
from smtpscope.tui.widgets.status import StatusBar
from smtpscope.tui.widgets.transcript import TranscriptView
from tests.tui.sample import write_sample
from tests.tui.waiting import until

SIZE = (60, 30)  # narrow: long lines wrap, so truncation must undo wraps too


def inspector_state(entries: list[Any]) -> tuple[Any, Any, str]:
    """The capability pane after ``entries``, worked out from scratch (the old way)."""
    caps = previous = None
    stage, tls_seen, last_command = "", False, ""
    for entry in entries:
        if entry.kind == "tls":
            tls_seen = True
        if entry.direction == "client" and entry.kind in ("command", "raw"):
            last_command = entry.text.strip()
        parsed = capabilities_from_entry(entry, last_command)
        if parsed is not None:
            if caps is not None:
                previous, stage = caps, ("after STARTTLS" if tls_seen else "again")
            caps = parsed
    return caps, previous, stage


class Fresh(App[None]):
    def compose(self) -> ComposeResult:
        yield TranscriptView(explain=explain_entry)


async def fresh_text(entries: list[Any]) -> str:
    app = Fresh()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(TranscriptView)
        view.add_entries(entries)
        await pilot.pause()
        return view.to_text()



def replay_panes(app: Any) -> tuple[ReplayScreen, TranscriptView, CapabilityInspector]:
    """The replay screen the app opened, its transcript pane and its capability inspector."""
    screen = app.screen
    assert isinstance(screen, ReplayScreen)
    return screen, screen.query_one(TranscriptView), screen.query_one(CapabilityInspector)

async def test_every_position_matches_a_fresh_layout_forward_and_back(tmp_path) -> None:
    path = write_sample(tmp_path / "s.jsonl")
    entries = read_recording(path).entries
    total = len(entries)
    expected = {k: await fresh_text(list(entries[:k])) for k in range(total + 1)}
    app = create_app(replay_path=str(path))
    async with app.run_test(size=SIZE) as pilot:
        _, view, inspector = replay_panes(app)

        async def check(k: int) -> None:
            await pilot.pause()
            assert view.entry_count == k
            assert view.to_text() == expected[k], k
            caps, previous, stage = inspector_state(list(entries[:k]))
            assert (inspector.capabilities, inspector.previous, inspector.stage) == (
                caps, previous, stage), k

        for k in range(1, total + 1):
            await pilot.press("space")
            await check(k)
        for k in range(total - 1, -1, -1):
            await pilot.press("p")
            await check(k)
        await pilot.press("a")
        await check(total)
        await pilot.press("s")
        await check(0)
        await pilot.press("space", "space", "space", "space", "p", "space", "space")
        await check(5)


async def test_show_all_in_slices_answers_keys_and_ends_as_laid_out_afresh(
        tmp_path, monkeypatch) -> None:
    """"Show all" adds one entry per slice here (as a million would go, a slice at a time):
    keys pressed meanwhile act at once, and each run ends where a fresh layout would."""
    monkeypatch.setattr(replay, "SLICE_SECONDS", -1.0)
    monkeypatch.setattr(replay, "_CHECK_EVERY", 1)
    path = write_sample(tmp_path / "s.jsonl")
    entries = read_recording(path).entries
    total = len(entries)
    app = create_app(replay_path=str(path))
    async with app.run_test(size=SIZE) as pilot:
        screen, view, inspector = replay_panes(app)
        status = screen.query_one(StatusBar)
        states: set[str] = set()
        status.watch(status, "state", lambda state: states.add(state), init=False)

        async def ends_at(k: int) -> None:
            await until(pilot, lambda: status.state == f"entry {k}/{total}", what=f"entry {k}")
            assert view.entry_count == k
            assert view.to_text() == await fresh_text(list(entries[:k]))
            assert (inspector.capabilities, inspector.previous, inspector.stage) == \
                inspector_state(list(entries[:k]))

        collecting: set[bool] = set()  # whether the collector ran while the panes caught up
        status.watch(status, "state", lambda state: "going" in state
                     and collecting.add(gc.isenabled()), init=False)
        assert gc.isenabled()
        await pilot.press("a")
        await ends_at(total)
        assert collecting == {False}  # paused on the way
        assert gc.isenabled()  # and on again once there
        assert view.scroll_y == view.max_scroll_y  # at the newest line, as before
        assert f"entry 1/{total}  (going to {total})" in states  # painted on the way
        await pilot.press("s", "a", "p", "p")  # no pause: the steps back are not lost
        await ends_at(total - 2)
        await pilot.press("a", "s")  # starting again stops "show all"
        await ends_at(0)
        await pilot.press("a", "escape")  # closing in the middle leaves nothing running
        await pilot.pause()
    assert gc.isenabled()  # the collector is not left off by a screen that went mid-way


async def test_joined_recordings_start_the_inspector_afresh(tmp_path) -> None:
    """At the seam of two recordings the capability pane forgets the first session."""
    one = write_sample(tmp_path / "a.jsonl").read_bytes()
    path = tmp_path / "joined.jsonl"
    path.write_bytes(one + one)
    entries = read_recording(path).entries
    seam = next(i for i, e in enumerate(entries) if "recording" in (e.info or {}))
    first_ehlo = next(i for i, e in enumerate(entries) if i > seam and e.code == 250) + 1
    app = create_app(replay_path=str(path))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        inspector = screen.query_one(CapabilityInspector)
        for _ in range(seam + 1):
            await pilot.press("space")
        await pilot.pause()
        assert inspector.capabilities is None
        for _ in range(first_ehlo - seam - 1):
            await pilot.press("space")
        await pilot.pause()
        assert inspector.capabilities is not None
        assert (inspector.previous, inspector.stage) == (None, "")  # not "again"
        assert screen.recording.problems == []
