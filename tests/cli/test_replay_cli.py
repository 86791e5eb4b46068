"""``smtpscope replay`` / ``export``: formats, damaged recordings, files that are not recordings."""

from __future__ import annotations

import json
from pathlib import Path

from smtpscope.record import Recorder, Transcript, make_header


def record(path: Path) -> Path:
    recorder = Recorder(path, make_header("127.0.0.1:2525", role="client", security="auto"))
    t = Transcript()
    t.subscribe(recorder)
    t.add("server", "reply", b"220 mx \x1b[2J ESMTP\r\n",
          reply={"code": 220, "lines": [], "warnings": [], "unsolicited": False})
    t.add("client", "command", b"EHLO me.test\r\n")
    t.add("server", "reply", b"250 mx\r\n",
          reply={"code": 250, "lines": [], "warnings": [], "unsolicited": False})
    t.add("client", "command", b"QUIT\r\n")
    recorder.write_footer(outcome="closed")
    recorder.close()
    return path


def test_replay_formats(cli, tmp_path: Path) -> None:
    path = record(tmp_path / "r.jsonl")
    text = cli("replay", str(path))  # stdout is not a terminal: text, not the TUI
    assert text.code == 0 and text.err == ""
    assert text.out.splitlines() == ["S: 220 mx \\x1b[2J ESMTP", "C: EHLO me.test", "S: 250 mx",
                                     "C: QUIT"]
    swaks = cli("replay", str(path), "--format", "swaks")
    assert swaks.out.splitlines()[:3] == ["<-  220 mx \\x1b[2J ESMTP", " -> EHLO me.test",
                                          "<-  250 mx"]
    data = json.loads(cli("replay", str(path), "--format", "json").out)
    assert len(data["entries"]) == 4 and data["footer"]["outcome"] == "closed"


def with_extra(path: Path) -> Path:
    lines = path.read_text().splitlines()
    first = json.loads(lines[1])
    first["arrived_on"] = {"port": 25, "note": "\x1b[2J"}
    lines[1] = json.dumps(first)
    path.write_text("\n".join(lines) + "\n")
    return path


def test_replay_json_keeps_unknown_entry_fields(cli, tmp_path: Path) -> None:
    path = with_extra(record(tmp_path / "r.jsonl"))
    result = cli("replay", str(path), "--format", "json")
    assert "\x1b" not in result.out  # escaped as \u001b for the terminal
    data = json.loads(result.out)
    assert data["entries"][0]["arrived_on"] == {"port": 25, "note": "\x1b[2J"}
    assert "arrived_on" not in data["entries"][1]
    for fmt in ("text", "swaks"):  # the views show what they know only
        assert "arrived_on" not in cli("replay", str(path), "--format", fmt).out


def test_damaged_recording_loads_what_it_can(cli, tmp_path: Path) -> None:
    path = record(tmp_path / "r.jsonl")
    lines = path.read_text().splitlines()
    lines.insert(2, "{not json")
    path.write_text("\n".join(lines[:-1]) + "\n" + '{"seq": 9, "dir": "ser')  # cut mid-line
    result = cli("replay", str(path), "--format", "text")
    assert result.code == 0
    assert result.out.splitlines() == ["S: 220 mx \\x1b[2J ESMTP", "C: EHLO me.test",
                                       "S: 250 mx", "C: QUIT"]
    assert "line 3: not JSON, skipped" in result.err
    assert "cut off mid-line" in result.err
    assert "2 line(s) could not be loaded" in result.err


def test_not_a_recording(cli, tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("hello\n")
    result = cli("replay", str(other))
    assert result.code == 1
    assert result.err.count("\n") == 1 and "not a smtpscope recording" in result.err
    missing = cli("export", str(tmp_path / "missing.jsonl"))
    assert missing.code == 1 and "cannot read" in missing.err


def test_export_minimal_session(cli, tmp_path: Path) -> None:
    path = record(tmp_path / "r.jsonl")
    result = cli("export", str(path), "--as", "swaks")
    assert result.code == 0
    assert result.out == "swaks --server 127.0.0.1:2525 --helo me.test --quit-after HELO\n"


def test_export_of_a_recording_without_entries_fails(cli, tmp_path: Path) -> None:
    path = record(tmp_path / "r.jsonl")
    lines = path.read_text().splitlines()
    path.write_text(lines[0] + "\n{not json\n")  # the header, then nothing loadable
    result = cli("export", str(path), "--as", "swaks")
    assert result.code == 1 and result.out == ""
    assert "no entries could be loaded" in result.err and "swaks" not in result.err


def test_replay_of_a_header_only_recording_says_so(cli, tmp_path: Path) -> None:
    path = record(tmp_path / "r.jsonl")
    path.write_text(path.read_text().splitlines()[0] + "\n")
    result = cli("replay", str(path), "--format", "text")
    assert result.code == 0 and result.out == ""
    assert "holds only its header" in result.err and result.err.count("\n") == 1


def test_joined_recordings_replay_both_and_export_the_first(cli, tmp_path: Path) -> None:
    first = record(tmp_path / "a.jsonl").read_text()
    second = record(tmp_path / "b.jsonl").read_text().replace("me.test", "other.test")
    path = tmp_path / "joined.jsonl"
    path.write_text(first + second)
    text = cli("replay", str(path), "--format", "text")
    assert text.code == 0 and "could not be loaded" not in text.err
    assert "holds 2 recordings" in text.err
    lines = text.out.splitlines()
    assert lines[4] == "-- line 6: the recording above ends here (closed)"
    assert lines[5].startswith("-- line 7: another recording starts here: 127.0.0.1:2525, ")
    assert lines[6:8] == ["S: 220 mx \\x1b[2J ESMTP", "C: EHLO other.test"]
    export = cli("export", str(path))
    assert export.out == "swaks --server 127.0.0.1:2525 --helo me.test --quit-after HELO\n"
    assert "the file holds 2 recordings: this repeats the first" in export.err
