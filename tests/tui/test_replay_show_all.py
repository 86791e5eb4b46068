""""Show all" lays a recording out exactly as stepping through it to the end does: the same
lines (sanitized, secrets hidden as recorded), the same damage reported, the same status."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from smtpscope.tui.app import create_app
from smtpscope.tui.screens import replay
from smtpscope.tui.screens.replay import ReplayScreen
from smtpscope.tui.widgets.status import StatusBar
from smtpscope.tui.widgets.transcript import TranscriptView
from tests.tui.sample import write_sample
from tests.tui.waiting import until

SIZE = (70, 30)


def damaged_sample(tmp_path: Path) -> Path:
    """The sample recording with a control character in a reply and a broken line mid-way."""
    path = write_sample(tmp_path / "s.jsonl")
    lines = path.read_bytes().split(b"\n")
    bye = next(i for i, line in enumerate(lines) if b"221 2.0.0" in line)
    lines[bye] = lines[bye].replace(b'"text":"221 2.0.0 Bye\\r\\n"',
                                    b'"text":"221 2.0.0 Bye \\u001b[31mred\\r\\n"')
    middle = len(lines) // 2
    lines.insert(middle, b'{"seq": 9, "mono": 1.0, "wall": "cut')  # not JSON
    path.write_bytes(b"\n".join(lines))
    return path


async def panes_after(path: Path, keys: list[str]) -> dict[str, Any]:
    """What the replay shows once ``keys`` are pressed and it has got where they lead."""
    app = create_app(replay_path=str(path))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        view = screen.query_one(TranscriptView)
        status = screen.query_one(StatusBar)
        total = len(screen.recording.entries)
        await pilot.press(*keys)
        await until(pilot, lambda: status.state.startswith(f"entry {total}/{total}")
                    and view.entry_count == total, what="the end")
        await pilot.pause()
        return {"text": view.to_text(), "rows": view.row_count, "state": status.state,
                "auth": status.auth, "tls": (status.tls, status.tls_ok),
                "problems": list(screen.recording.problems),
                "told": [n.message for n in app._notifications]}


@pytest.mark.parametrize("tiny_slices", [False, True])
async def test_show_all_shows_what_stepping_to_the_end_shows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_slices: bool) -> None:
    path = damaged_sample(tmp_path)
    stepped = await panes_after(path, ["space"] * 40)
    if tiny_slices:  # one entry a slice: the layout goes on across many paints
        monkeypatch.setattr(replay, "SLICE_SECONDS", -1.0)
        monkeypatch.setattr(replay, "_CHECK_EVERY", 1)
    shown = await panes_after(path, ["a"])
    assert shown == stepped
    text = shown["text"]
    assert "[PLAIN credentials" in text and "AGFsaWNl" not in text  # hidden as recorded
    assert "AUTH PLAIN [PLAIN credentials for alice hidden]" in text
    assert shown["auth"] is None  # the 221 closed the connection, as it did live
    assert "!! recording damaged: line " in text and "not JSON, skipped" in text
    assert "S: 221 2.0.0 Bye \\x1b[31mred" in text and "\x1b" not in text  # after the damage
    assert len(shown["problems"]) == 1 and "not JSON" in shown["problems"][0]
    assert len(shown["told"]) == 1
