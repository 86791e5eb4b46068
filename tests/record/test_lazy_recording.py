"""Recordings opened for replay parse entries on first use, and read as read_recording reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from smtpscope.record.lazy import open_recording
from smtpscope.record.store import RecordingError, read_recording
from tests.tui.sample import write_sample


def test_same_entries_header_and_footer_as_a_full_read(tmp_path: Path) -> None:
    path = write_sample(tmp_path / "s.jsonl")
    full, lazy = read_recording(path), open_recording(path)
    assert lazy.header == full.header and lazy.footer == full.footer is not None
    assert len(lazy.entries) == len(full.entries) > 10
    assert lazy.entries.parsed_count == 0  # type: ignore[attr-defined]  # nothing parsed yet
    assert lazy.entries[-1] == full.entries[-1] and lazy.entries[3] == full.entries[3]
    assert lazy.entries.parsed_count == 2  # type: ignore[attr-defined]
    assert list(lazy.entries) == full.entries
    assert lazy.entries[2:5] == full.entries[2:5]
    assert lazy.problems == full.problems == []


def test_damage_is_found_where_replay_reaches_it(tmp_path: Path) -> None:
    path = write_sample(tmp_path / "s.jsonl")
    lines = path.read_bytes().split(b"\n")
    lines[3] = b'{"not json'
    lines[5] = b'{"seq": "x"}'
    lines.insert(7, b"   ")  # blank lines are skipped, as read_recording skips them
    path.write_bytes(b"\n".join(lines))
    full, lazy = read_recording(path), open_recording(path)
    assert len(lazy.entries) == len(full.entries) + 2  # the two damaged lines keep their place
    assert lazy.problems == []
    shown = lazy.entries[2]
    assert shown.kind == "warning" and "line 4: not JSON" in shown.text
    assert lazy.problems == ["line 4: not JSON, skipped"]
    assert "line 6: " in lazy.entries[4].text and "skipped" in lazy.entries[4].text
    assert len(lazy.problems) == 2
    assert [e for e in lazy.entries if e.kind != "warning" or e.seq >= 0] == full.entries
    assert sorted(full.problems) == sorted(lazy.problems)


def test_cut_off_and_not_a_recording(tmp_path: Path) -> None:
    path = write_sample(tmp_path / "s.jsonl")
    data = path.read_bytes()
    path.write_bytes(data[:-200])
    full, lazy = read_recording(path), open_recording(path)
    assert lazy.truncated_line == full.truncated_line is not None
    assert lazy.problems == full.problems and "cut off" in lazy.problems[0]
    assert list(lazy.entries) == full.entries and lazy.footer is None
    (tmp_path / "e.jsonl").write_bytes(b"")
    with pytest.raises(RecordingError, match="empty"):
        open_recording(tmp_path / "e.jsonl")
    (tmp_path / "x.jsonl").write_bytes(b"hello\n")
    with pytest.raises(RecordingError, match="not a smtpscope recording"):
        open_recording(tmp_path / "x.jsonl")
