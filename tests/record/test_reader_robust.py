"""Malformed recordings: a bad line is reported and skipped, an unusable file is a clear error
(exit 1), and nothing ends in a traceback: replay, export, TUI replay, the history screen."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smtpscope.record import Recorder, RecordingError, Transcript, make_header, read_recording
from smtpscope.record.validate import LineError, entry_from_json, loads

REPO = Path(__file__).resolve().parents[2]
GOOD = {"seq": 0, "mono": 1.0, "wall": 1_700_000_000.0, "dir": "server", "kind": "reply",
        "text": "220 ok", "raw": "MjIwIG9rDQo=", "reply": {"code": 220, "lines": ["ok"]}}


def _header(**extra: Any) -> str:
    header = {"schema": "smtpscope-recording", "version": 1, "target": "mx.test:25",
              "started_wall": 1_700_000_000.0}
    header.update(extra)
    return json.dumps(header)


def _write(path: Path, *lines: str) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _with(**changes: Any) -> str:
    entry = dict(GOOD)
    entry.update(changes)
    return json.dumps(entry)


BAD_LINES = {
    "reply is a string": _with(reply="250 ok"),
    "reply code is a string": _with(reply={"code": "250"}),
    "reply lines hold a number": _with(reply={"code": 250, "lines": [1]}),
    "reply recipient is a list": _with(reply={"code": 250, "recipient": ["a@b"]}),
    "info is a list": _with(info=[1, 2]),
    "info chain is a string": _with(info={"peer_chain": "CN=x"}),
    "mono is 1e999": _with(mono=1e999).replace("Infinity", "1e999"),
    "wall is 1e300": _with(wall=1e300),
    "seq of 5000 digits": _with(seq=0).replace('"seq": 0', '"seq": ' + "9" * 5000),
    "seq of 400 digits": _with(seq=int("9" * 400)),
    "deeply nested": '{"seq": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "kind holding markup": _with(kind="[/]"),
    "dir is null": _with(dir=None),
    "raw is not base64": _with(raw="!!"),
    "notes is a string": _with(notes="x"),
    "tls is a string": _with(tls="yes"),
    "an array": "[1, 2, 3]",
    "a number": "42",
    "not JSON": "{nope",
}


@pytest.mark.parametrize("name", list(BAD_LINES))
def test_a_bad_line_is_skipped_with_its_number_and_reason(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path / "r.jsonl", _header(), json.dumps(GOOD), BAD_LINES[name],
                  _with(seq=2, text="250 later"))
    recording = read_recording(path)
    assert [e.text for e in recording.entries] == ["220 ok", "250 later"]  # the rest loads
    assert len(recording.problems) == 1
    assert recording.problems[0].startswith("line 3: ")
    assert "[/]" not in recording.problems[0]  # the foreign value itself is not repeated


def test_a_line_taken_out_or_moved_by_hand_is_reported(tmp_path: Path) -> None:
    """Entries are numbered from 0, one a line: a jump means lines were deleted or moved."""
    from smtpscope.record.lazy import open_recording

    lines = [_with(seq=n, text=f"250 n{n}") for n in range(5)]
    deleted = _write(tmp_path / "d.jsonl", _header(), *lines[:2], *lines[4:])
    moved = _write(tmp_path / "m.jsonl", _header(), lines[1], lines[0], *lines[2:])
    first = _write(tmp_path / "f.jsonl", _header(), *lines[1:])
    for path, problems in [
        (deleted, ["line 4: entry 4 follows entry 1, so 2 entry line(s) are missing before it"]),
        (moved, ["line 2: the first entry is entry 1, so 1 entry line(s) are missing before it",
                 "line 3: entry 0 follows entry 1, out of order"]),
        (first, ["line 2: the first entry is entry 1, so 1 entry line(s) are missing before it"]),
    ]:
        full, lazy = read_recording(path), open_recording(path)
        assert full.problems == problems, path.name
        assert list(lazy.entries) == full.entries and lazy.problems == problems
    # A line skipped as damaged already explains the jump after it: said once, not twice.
    damaged = _write(tmp_path / "x.jsonl", _header(), lines[0], "{nope", *lines[2:])
    assert read_recording(damaged).problems == ["line 3: not JSON, skipped"]


UNUSABLE = {
    "version is a string": _header(version="1"),
    "version is a list": _header(version=[1]),
    "version is null": _header(version=None),
    "version is newer": _header(version=99),
    "version of 5000 digits": _header().replace('"version": 1', '"version": ' + "9" * 5000),
    "target is a list": _header(target=["a"]),
    "listen is a number": _header(role="server", listen=2525),
    "header nested deeply": "[" * 100_000,
    "header is a list": "[]",
    "not a recording": '{"hello": 1}',
    "empty": "",
}


@pytest.mark.parametrize("name", list(UNUSABLE))
def test_an_unusable_file_is_a_clear_error(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path / "r.jsonl", UNUSABLE[name], json.dumps(GOOD))
    if name == "empty":
        path.write_bytes(b"")
    with pytest.raises(RecordingError) as info:
        read_recording(path)
    assert str(path) in str(info.value)


def test_started_wall_out_of_range_is_dropped_not_fatal(tmp_path: Path) -> None:
    path = _write(tmp_path / "r.jsonl", _header(started_wall=1e300), json.dumps(GOOD))
    recording = read_recording(path)
    assert "started_wall" not in recording.header and len(recording.entries) == 1


@pytest.mark.parametrize("command", ["replay", "export"])
@pytest.mark.parametrize("name", ["version is a string", "header nested deeply", "empty"])
def test_cli_exits_1_without_a_traceback(tmp_path: Path, command: str, name: str) -> None:
    path = _write(tmp_path / "r.jsonl", UNUSABLE[name])
    args = [command, str(path)] + (["--format", "text"] if command == "replay" else [])
    proc = subprocess.run([sys.executable, "-m", "smtpscope", *args], capture_output=True,
                          text=True, cwd=REPO, timeout=60)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"smtpscope {command}: ")


@pytest.mark.parametrize("command", ["replay", "export"])
def test_cli_loads_the_rest_of_a_damaged_file(tmp_path: Path, command: str) -> None:
    path = _write(tmp_path / "r.jsonl", _header(), json.dumps(GOOD),
                  *BAD_LINES.values())
    args = [command, str(path)] + (["--format", "swaks"] if command == "replay" else [])
    proc = subprocess.run([sys.executable, "-m", "smtpscope", *args], capture_output=True,
                          text=True, cwd=REPO, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"{len(BAD_LINES)} line(s) could not be loaded" in proc.stderr


async def test_tui_replay_and_history_survive_bad_files(tmp_path: Path) -> None:
    from smtpscope.config import recordings_dir
    from smtpscope.tui.app import create_app
    from smtpscope.tui.screens.history import HistoryScreen
    from smtpscope.tui.screens.replay import ReplayScreen

    folder = recordings_dir()
    _write(folder / "a-1e300.jsonl", _header(started_wall=1e300), json.dumps(GOOD))
    _write(folder / "b-version.jsonl", _header(version="1"), json.dumps(GOOD))
    _write(folder / "c-nested.jsonl", "[" * 100_000)
    _write(folder / "d-bad-lines.jsonl", _header(), json.dumps(GOOD), *BAD_LINES.values())
    app = create_app(history=True)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.pause(0.2)
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        assert len(screen._sessions) == 2  # the two usable files
        assert any("2 recording(s) could not be read" in n.message
                   for n in app._notifications)
        await pilot.press("end", "enter")  # the newest one with bad lines, or the 1e300 one
        await pilot.pause(0.2)
        assert isinstance(app.screen, ReplayScreen)
        await pilot.press("a")
        await pilot.pause(0.1)
    assert app.return_code in (None, 0)
    app = create_app(replay_path=str(folder / "d-bad-lines.jsonl"))
    async with app.run_test(size=(120, 40)) as pilot:
        assert isinstance(app.screen, ReplayScreen)
        await pilot.press("a")
        await pilot.pause(0.1)
        # Replay parses lines as it reaches them: each bad line is shown, in its place, as a
        # warning that says what was wrong with it; the one good entry is there as recorded.
        view = app.screen.query_one("TranscriptView")
        assert view.entry_count == 1 + len(BAD_LINES)
        shown = list(app.screen.recording.entries)
        assert [e.kind for e in shown].count("warning") == len(BAD_LINES)
        assert all(e.text.startswith("recording damaged: line ") for e in shown[1:])
        assert len(app.screen.recording.problems) == len(BAD_LINES)


def test_a_real_recording_reads_back(tmp_path: Path) -> None:
    transcript = Transcript()
    recorder = Recorder(tmp_path / "r.jsonl", make_header("mx.test:25", security="starttls"))
    transcript.subscribe(recorder)
    transcript.add("server", "reply", b"220 hi\r\n",
                   reply={"code": 220, "enhanced": None, "lines": ["hi"], "warnings": [],
                          "unsolicited": False})
    transcript.add("local", "tls", b"", "TLS", info={"version": "TLSv1.3", "bits": 256,
                                                     "peer_chain": [{"subject": "CN=x"}]})
    transcript.note("a note")
    recorder.write_footer(outcome="ok")
    recorder.close()
    recording = read_recording(tmp_path / "r.jsonl")
    assert recording.problems == [] and len(recording.entries) == 3
    assert recording.footer is not None and recording.footer["outcome"] == "ok"


# -- fuzz ---------------------------------------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from([*list(GOOD), "info", "notes", "x"]), children,
                      max_size=6),
    max_leaves=20,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from([*list(GOOD), "info", "notes", "tls", "latency"]),
                       _JSON, max_size=12))
def test_entry_validation_raises_only_line_errors(data: dict[str, Any]) -> None:
    merged = dict(GOOD)
    merged.update(data)
    try:
        entry = entry_from_json(merged)
    except LineError as exc:
        assert str(exc)
        return
    assert isinstance(entry.text, str) and isinstance(entry.raw, bytes)
    assert entry.reply is None or isinstance(entry.reply["code"], int)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow,
                                                   HealthCheck.function_scoped_fixture])
@given(st.lists(st.binary(max_size=60) | _JSON.map(json.dumps).map(str.encode), max_size=6),
       st.booleans())
def test_reader_never_raises_more_than_a_recording_error(
    tmp_path: Path, lines: list[bytes], with_header: bool
) -> None:
    path = tmp_path / "fuzz.jsonl"
    head = [_header().encode()] if with_header else []
    data = b"\n".join(head + lines)
    path.write_bytes(data)
    try:
        recording = read_recording(path)
    except RecordingError:
        assert not with_header or not lines
        return
    assert len(recording.entries) + len(recording.problems) <= data.count(b"\n") + 1
    for problem in recording.problems:
        assert problem.startswith("line ")


@given(st.binary(max_size=200))
def test_loads_raises_only_line_errors(data: bytes) -> None:
    with contextlib.suppress(LineError):
        loads(data)


def test_replay_finds_what_a_full_read_finds_in_any_cut_and_shuffle(tmp_path: Path) -> None:
    """Lines deleted, moved, damaged, a footer or a second recording spliced in: opened for
    replay and read in order, the same entries and the same problems as a full read."""
    import random

    from smtpscope.record.lazy import open_recording

    rng = random.Random(7)
    footer = json.dumps({"footer": True, "ended_wall": 1_700_000_001.0})
    for case in range(120):
        lines = [_with(seq=n, text=f"250 n{n}") for n in range(rng.randrange(1, 14))]
        for _ in range(rng.randrange(0, 4)):
            i = rng.randrange(len(lines))
            action = rng.choice(["delete", "move", "damage", "join", "footer", "repeat"])
            if action == "delete" and len(lines) > 1:
                del lines[i]
            elif action == "move":
                lines.insert(rng.randrange(len(lines)), lines.pop(i))
            elif action == "damage":
                lines[i] = "{nope"
            elif action == "join":
                lines[i:i] = [footer, _header(), _with(seq=rng.choice([0, 1, 5]))]
            elif action == "footer":
                lines.insert(i, footer)
            else:
                lines.insert(i, lines[i])
        path = _write(tmp_path / f"c{case}.jsonl", _header(), *lines)
        full, lazy = read_recording(path), open_recording(path)
        shown = list(lazy.entries)  # a skipped line is a warning in its place
        assert [e for e in shown if e.kind != "warning"] == full.entries, lines
        assert len(shown) - len(full.entries) == sum(
            problem.endswith(", skipped") for problem in full.problems)
        assert lazy.problems == full.problems, lines


def test_a_footer_that_entries_follow_is_not_the_recordings_end(tmp_path: Path) -> None:
    """A footer moved up by hand: the session went on after it, so it is reported and skipped,
    and the recording has no footer (it was not closed) unless one comes at the end."""
    footer = json.dumps({"footer": True, "ended_wall": 1_700_000_001.0, "outcome": "quit"})
    lines = [_with(seq=n, text=f"250 n{n}") for n in range(3)]
    moved = _write(tmp_path / "m.jsonl", _header(), lines[0], footer, *lines[1:])
    rec = read_recording(moved)
    assert rec.footer is None
    assert rec.problems == ["line 3: a footer before the end, skipped"]
    assert [e.seq for e in rec.entries] == [0, 1, 2]
    twice = _write(tmp_path / "t.jsonl", _header(), *lines, footer, footer)
    rec = read_recording(twice)
    assert rec.footer is not None and rec.footer["outcome"] == "quit"
    assert rec.problems == ["line 5: a footer before the end, skipped"]
