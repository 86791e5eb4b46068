"""A pane holding a huge transcript freezes its objects for the collector as it grows, so the
collector's full pass does not walk every entry; it lets go when the pane goes."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from smtpscope.record import read_recording
from smtpscope.tui import collector
from smtpscope.tui.widgets.transcript import TranscriptView
from tests.tui.sample import write_sample
from tests.tui.test_replay_steps import SIZE, Fresh


@pytest.fixture(autouse=True)
def _thawed() -> Iterator[None]:
    gc.unfreeze()
    collector._holders.clear()
    yield
    gc.unfreeze()
    collector._holders.clear()


def test_growth_freezes_every_so_many_entries_and_counts_again_after_a_cut(
        monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(collector, "FREEZE_EVERY", 10)
    freezer = collector.GrowthFreezer()
    freezer.count(9)
    assert gc.get_freeze_count() == 0
    freezer.count(10)
    assert gc.get_freeze_count() > 0
    gc.unfreeze()
    freezer.count(19)  # 9 more since the freeze
    assert gc.get_freeze_count() == 0
    freezer.count(4)  # cut: growth counts from here
    freezer.count(13)
    assert gc.get_freeze_count() == 0
    freezer.count(14)
    assert gc.get_freeze_count() > 0


def test_everything_stays_frozen_until_the_last_holder_lets_go() -> None:
    first, second = object(), object()
    collector.freeze(first)
    collector.freeze(second)
    collector.release(first)
    assert gc.get_freeze_count() > 0
    collector.release(first)  # twice: no effect
    assert gc.get_freeze_count() > 0
    collector.release(second)
    assert gc.get_freeze_count() == 0
    collector.release(object())  # never froze: no effect, nothing to unfreeze
    assert gc.get_freeze_count() == 0


def test_young_cycles_are_collected_before_a_freeze() -> None:
    class Node:
        pass

    gc.collect()
    node = Node()
    node.me = node  # type: ignore[attr-defined]
    gone = weakref.ref(node)
    del node
    collector.freeze(object())  # frozen, the cycle would live on until unfrozen
    assert gone() is None


async def test_a_live_pane_freezes_as_it_grows_and_lets_go_when_it_goes(
        tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(collector, "FREEZE_EVERY", 10)
    entries = read_recording(write_sample(tmp_path / "s.jsonl")).entries
    assert len(entries) >= 12
    app = Fresh()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(TranscriptView)
        for entry in entries[:9]:
            view.add_entry(entry)
        await pilot.pause()
        assert gc.get_freeze_count() == 0
        for entry in entries[9:12]:  # one at a time, as a live session adds them
            view.add_entry(entry)
        await pilot.pause()
        frozen = gc.get_freeze_count()
        assert frozen > 0
        # The entries are frozen, not kept: a cut frees them by reference counting as ever.
        view.truncate(0)
        await pilot.pause()
        assert view.entry_count == 0
    assert gc.get_freeze_count() == 0
