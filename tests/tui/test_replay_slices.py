"""A slice of replay's "show all" ends on time counting the layout too, not only the reading:
entries already parsed come fast, and laying out all of them in one slice held every key up
for as long as that took."""

from __future__ import annotations

from typing import Any

from smtpscope.record import read_recording
from smtpscope.tui.app import create_app
from smtpscope.tui.screens import replay
from smtpscope.tui.widgets import transcript_rows
from smtpscope.tui.widgets.status import StatusBar
from tests.tui.sample import write_sample
from tests.tui.test_replay_steps import fresh_text, replay_panes
from tests.tui.waiting import until


async def test_each_slice_stops_once_its_layout_took_the_time(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    clock = [0.0]
    monkeypatch.setattr(replay, "perf_counter", lambda: clock[0])
    monkeypatch.setattr(replay, "SLICE_SECONDS", 2.5)
    monkeypatch.setattr(replay, "_CHECK_EVERY", 1)
    block = transcript_rows._display_block

    def slow_block(text: str, end: int) -> str:  # laying out an entry takes a "second"
        clock[0] += 1.0
        return block(text, end)

    monkeypatch.setattr(transcript_rows, "_display_block", slow_block)
    path = write_sample(tmp_path / "s.jsonl")
    entries = read_recording(path).entries
    total = len(entries)
    app = create_app(replay_path=str(path))
    async with app.run_test(size=(60, 30)) as pilot:
        screen, view, _ = replay_panes(app)
        status = screen.query_one(StatusBar)
        sizes: list[int] = []
        add_entries = view.add_entries

        def counted(batch: Any) -> None:
            before = view.entry_count
            add_entries(batch)
            sizes.append(view.entry_count - before)

        view.add_entries = counted  # type: ignore[method-assign]
        paints = [0]
        display = app._display

        def painted(screen: Any, renderable: Any) -> None:
            display(screen, renderable)
            paints[0] += renderable is not None

        app._display = painted  # type: ignore[method-assign]
        for key in ("a", "s", "a"):  # the second "show all" finds every entry parsed
            sizes.clear()
            paints[0] = 0
            await pilot.press(key)
            if key == "a":
                await until(pilot, lambda: status.state == f"entry {total}/{total}",
                            what="all shown")
                assert sum(sizes) == total
                # A slice is over once 2.5 "seconds" of layout went by: three plain entries,
                # and the others (a handshake, a note) among them, which take no "time" here.
                assert len(sizes) >= 4 and max(sizes) <= 6, sizes
                # Each slice took longer than PAINT_SECONDS: the pane was painted after each.
                assert paints[0] >= len(sizes) - 1, (paints[0], sizes)
        assert view.to_text() == await fresh_text(list(entries))


async def test_a_long_catch_up_is_frozen_for_the_collector_until_the_screen_goes(
        tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import gc

    monkeypatch.setattr(replay, "FREEZE_AFTER", 10)
    gc.unfreeze()
    path = write_sample(tmp_path / "s.jsonl")
    total = len(read_recording(path).entries)
    app = create_app(replay_path=str(path))
    try:
        async with app.run_test(size=(60, 30)) as pilot:
            screen, view, _ = replay_panes(app)
            status = screen.query_one(StatusBar)
            await pilot.press("space", "space")  # steps: a few objects, left to the collector
            await until(pilot, lambda: view.entry_count == 2, what="two entries")
            assert gc.get_freeze_count() == 0
            await pilot.press("a")  # 16 entries at once: what they made is frozen
            await until(pilot, lambda: status.state == f"entry {total}/{total}", what="all")
            assert gc.isenabled() and gc.get_freeze_count() > 0
        # The screen went: everything frozen goes back to the collector.
        assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()
