"""A slice of replay's "show all" ends on time counting the layout too, not only the reading:
entries already parsed come fast, and laying out all of them in one slice held every key up
for as long as that took."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
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


COUNT = 10_000


async def test_slices_let_the_event_loop_run_between_them_when_the_pane_does_not_follow(
        tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A line selected during "show all" stops the pane following the end, and then nothing
    on the screen waits to be painted: Textual ran each next slice straight from the screen's
    idle handler, and "show all" held the event loop (keys, paints) until it was over."""
    import asyncio

    from textual import events

    path = long_recording(tmp_path / "long.jsonl")
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


def long_recording(path: Path, count: int = COUNT) -> Path:
    """``count`` command and reply pairs: "show all" takes some dozens of slices."""
    from smtpscope.record import Recorder, Transcript, make_header

    transcript = Transcript()
    recorder = Recorder(path, make_header("mx.example.test:25"))
    transcript.subscribe(recorder)
    for n in range(count):
        transcript.add("client", "command", f"RCPT TO:<user{n}@example.test>\r\n".encode())
        transcript.add("server", "reply", b"550 5.1.1 <u@example.test>: User unknown\r\n",
                       reply={"code": 550})
    recorder.close()
    return path


async def test_a_key_pressed_during_show_all_is_painted_before_the_next_slice(
        tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A key that arrives while a slice runs is handled after it; the slice after that waits
    for the key's paint, or the key waited a whole slice more to be seen."""
    import asyncio

    from textual import events

    path = long_recording(tmp_path / "long.jsonl", 4 * COUNT)
    total = len(read_recording(path).entries)
    app = create_app(replay_path=str(path))
    async with app.run_test(size=(60, 12)):
        screen, view, _ = replay_panes(app)
        status = screen.query_one(StatusBar)
        log: list[str] = []
        add_entries, select_row, display = view.add_entries, view.select_row, app._display

        def sliced(batch: Any) -> None:
            log.append("slice")
            add_entries(batch)

        def moved(*args: Any, **kwargs: Any) -> None:
            log.append("moved")
            select_row(*args, **kwargs)

        def painted(screen: Any, renderable: Any) -> None:
            display(screen, renderable)
            if renderable is not None:
                log.append("paint")

        view.add_entries = sliced  # type: ignore[method-assign]
        view.select_row = moved  # type: ignore[method-assign]
        app._display = painted  # type: ignore[method-assign]
        def done() -> bool:
            return status.state == f"entry {total}/{total}"

        async def until_logged(condition: Any) -> None:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 30
            while not condition() and loop.time() < deadline:
                await asyncio.sleep(0.005)

        app._driver.send_message(events.Key("a", None))
        checked = 0
        while checked < 3 and not done():
            # Keys as a terminal sends them: pilot.press would wait for the app to go idle.
            await until_logged(lambda: log.count("slice") >= 2 or done())
            log.clear()
            app._driver.send_message(events.Key("up", None))
            await until_logged(lambda: "moved" in log)
            # Then a paint or a slice first: the paint (a paint also ends "show all").
            await until_logged(lambda: {"paint", "slice"} & set(log[log.index("moved"):]))
            after = [e for e in log[log.index("moved"):] if e != "moved"]
            assert after[0] == "paint", log
            checked += 1
        assert checked, "show all ended before a key could be pressed during it"
        await until_logged(done)
        assert done()


async def test_keys_held_down_do_not_stop_show_all(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Keys always on their way (auto-repeat) hold each slice back for KEY_WAIT_MAX at most."""
    monkeypatch.setattr(replay, "keys_waiting", lambda app: True)
    monkeypatch.setattr(replay, "SLICE_SECONDS", 0.0)  # a slice per _CHECK_EVERY entries
    monkeypatch.setattr(replay, "KEY_WAIT_MAX", 0.02)
    path = long_recording(tmp_path / "long.jsonl")
    total = len(read_recording(path).entries)
    app = create_app(replay_path=str(path))
    async with app.run_test(size=(60, 12)) as pilot:
        screen, view, _ = replay_panes(app)
        status = screen.query_one(StatusBar)
        await pilot.press("a")
        await until(pilot, lambda: status.state == f"entry {total}/{total}", what="all shown")
        assert view.entry_count == total


def test_keys_waiting_says_whether_a_key_is_on_its_way() -> None:
    from collections import deque

    from textual import events

    from smtpscope.tui import keys

    class App:
        _key_gate: object = None
        _held_keys: deque[events.Event] | None = None

    app = App()
    assert not keys.keys_waiting(app)
    app._key_gate = keys._Gated(events.Key("up", None), object(), object())
    assert keys.keys_waiting(app)
    app._key_gate = keys._Held()  # a screen on its way holds keys: nothing is being handled
    assert not keys.keys_waiting(app)
    app._held_keys = deque([events.Key("up", None)])
    assert keys.keys_waiting(app)
