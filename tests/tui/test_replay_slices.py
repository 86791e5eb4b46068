"""A slice of replay's "show all" ends on time counting the layout too, not only the reading:
entries already parsed come fast, and laying out all of them in one slice held every key up
for as long as that took."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from smtpscope.record import read_recording
from smtpscope.record.transcript import Entry
from smtpscope.tui.app import create_app
from smtpscope.tui.screens import replay
from smtpscope.tui.widgets.status import StatusBar
from tests.tui.sample import write_sample
from tests.tui.test_replay_steps import fresh_text, replay_panes
from tests.tui.waiting import until


async def test_each_slice_stops_once_its_layout_took_the_time(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    clock = [0.0]
    monkeypatch.setattr(replay, "perf_counter", lambda: clock[0])
    monkeypatch.setattr(replay, "SLICE_SECONDS", 2.5)
    monkeypatch.setattr(replay, "_CHECK_EVERY", 1)
    shown_text = Entry.shown_text

    def slow_text(entry: Entry) -> str:  # laying out an entry takes a "second"
        clock[0] += 1.0
        return str(shown_text.fget(entry))

    monkeypatch.setattr(Entry, "shown_text", property(slow_text))
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
                # A slice is over once 2.5 "seconds" of layout went by: three entries.
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


COUNT = 10_000  # command and reply pairs: "show all" takes some dozens of slices


async def test_slices_let_the_event_loop_run_between_them_when_the_pane_does_not_follow(
        tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A line selected during "show all" stops the pane following the end, and then nothing
    on the screen waits to be painted: Textual ran each next slice straight from the screen's
    idle handler, and "show all" held the event loop (keys, paints) until it was over."""
    import asyncio

    from textual import events

    from smtpscope.record import Recorder, Transcript, make_header

    path = tmp_path / "long.jsonl"
    transcript = Transcript()
    recorder = Recorder(path, make_header("mx.example.test:25"))
    transcript.subscribe(recorder)
    for n in range(COUNT):
        transcript.add("client", "command", f"RCPT TO:<user{n}@example.test>\r\n".encode())
        transcript.add("server", "reply", b"550 5.1.1 <u@example.test>: User unknown\r\n",
                       reply={"code": 550})
    recorder.close()
    total = len(read_recording(path).entries)
    app = create_app(replay_path=str(path))
    async with app.run_test(size=(60, 12)):
        screen, view, _ = replay_panes(app)
        status = screen.query_one(StatusBar)
        turns = [0]

        async def other_task() -> None:  # what keys and paints need: a turn of the loop
            while True:
                turns[0] += 1
                await asyncio.sleep(0)

        seen: list[tuple[int, bool]] = []
        add_entries = view.add_entries

        def counted(batch: Any) -> None:
            seen.append((turns[0], view.follow))
            add_entries(batch)

        view.add_entries = counted  # type: ignore[method-assign]
        ticker = asyncio.ensure_future(other_task())
        try:
            # Keys as a terminal sends them: pilot.press would wait for the app to go idle.
            app._driver.send_message(events.Key("a", None))
            while view.entry_count < 2000:
                await asyncio.sleep(0.01)
            for _ in range(3):
                app._driver.send_message(events.Key("up", None))
            while status.state != f"entry {total}/{total}":
                await asyncio.sleep(0.01)
        finally:
            ticker.cancel()
        # The Up keys took effect while "show all" went on (the pane stopped following),
        # and the loop ran between every two slices after that.
        after = [t for t, follow in seen if not follow]
        assert len(after) >= 2, seen[-3:]
        assert all(b > a for a, b in pairwise(after)), after
