"""Rows cut off the transcript are freed after the cut has painted, a slice at a time; what
the pane shows is what a fresh layout of the entries kept shows."""

from __future__ import annotations

from smtpscope.record import read_recording
from smtpscope.tui.explain import explain_entry
from smtpscope.tui.widgets import leftovers
from smtpscope.tui.widgets.leftovers import Leftovers
from smtpscope.tui.widgets.transcript import TranscriptView
from tests.tui.sample import write_sample
from tests.tui.test_replay_steps import SIZE, Fresh, fresh_text
from tests.tui.waiting import until


def test_cut_keeps_the_head_either_way(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(leftovers, "FREE_SLICE", 3)
    later = Leftovers()
    items = list(range(20))
    tail_cut = later.cut(items, 15)  # removes less than it keeps: in place
    assert tail_cut is items and items == list(range(15)) and not later
    head_kept = later.cut(items, 2)  # keeps less than it removes: a new list
    assert head_kept == [0, 1] and head_kept is not items and later
    assert items == list(range(15))  # untouched until freed
    slices = 1
    while later.free_some():
        slices += 1
    assert items == [] and not later and slices == 5  # 15 items, 3 a slice
    later.keep([1, 2])  # a list shorter than a slice is not remembered
    assert not later


async def test_cut_rows_are_freed_after_the_paint_and_the_pane_is_right(
        tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(leftovers, "FREE_SLICE", 2)  # every cut below takes the later path
    entries = read_recording(write_sample(tmp_path / "s.jsonl")).entries
    app = Fresh()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(TranscriptView)
        for keep in (len(entries) - 1, 3, 1, 0):
            view.add_entries(entries[view.entry_count:])
            await pilot.pause()
            rows_before = list(view._rows.text)
            view.truncate(keep)
            assert view.entry_count == keep
            # The cut-off rows wait to be freed (the key's paint does not pay for them) ...
            if keep < len(entries) / 2:
                assert view._leftovers
            await pilot.pause()
            assert view.to_text() == await fresh_text(list(entries[:keep])), keep
            # ... and are freed within a few timer ticks, leaving the rows kept alone.
            await until(pilot, lambda: not view._leftovers, what="leftovers freed")
            assert view._rows.text == rows_before[:len(view._rows.text)]
        view.add_entries(entries)
        await pilot.pause()
        view.clear()
        assert view._leftovers and view.entry_count == 0
        await until(pilot, lambda: not view._leftovers, what="leftovers freed")
        view.add_entries(entries[:2])
        await pilot.pause()
        assert view.to_text() == await fresh_text(list(entries[:2]))


def test_a_view_not_mounted_frees_at_once(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(leftovers, "FREE_SLICE", 2)
    entries = read_recording(write_sample(tmp_path / "s.jsonl")).entries
    view = TranscriptView(explain=explain_entry)
    view.add_entries(entries)
    view.truncate(1)
    assert view.entry_count == 1 and not view._leftovers
