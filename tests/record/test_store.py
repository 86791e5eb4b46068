"""Recordings: round trip, truncated files, damaged lines, foreign files."""

from __future__ import annotations

import json

import pytest

from smtpscope.record import (
    Recorder,
    RecordingError,
    Redactor,
    Transcript,
    make_header,
    read_recording,
    to_text,
)


def _transcript(path):
    t = Transcript(redactor=Redactor())
    rec = Recorder(path, make_header("mx.example.test:25", role="client"))
    t.subscribe(rec)
    t.add("server", "reply", b"220 mx.example.test ESMTP\r\n", reply={"code": 220})
    t.add("client", "command", b"EHLO client.test\r\n")
    t.add("server", "reply", b"250-mx.example.test\r\n250 SIZE 1000\r\n", reply={"code": 250},
          latency=0.012)
    t.note("a local note")
    return t, rec


def test_round_trip_keeps_exact_bytes(tmp_path):
    path = tmp_path / "s.jsonl"
    t, rec = _transcript(path)
    rec.write_footer(outcome="closed")
    rec.close()
    loaded = read_recording(path)
    assert loaded.header["schema"] == "smtpscope-recording"
    assert loaded.header["target"] == "mx.example.test:25"
    assert [e.raw for e in loaded.entries] == [e.raw for e in t.entries]
    assert loaded.entries[2].latency == pytest.approx(0.012)
    assert loaded.footer is not None and loaded.footer["outcome"] == "closed"
    assert loaded.truncated_line is None and loaded.problems == []


def test_entries_are_flushed_as_they_happen(tmp_path):
    path = tmp_path / "s.jsonl"
    t, rec = _transcript(path)
    # Not closed: a crash now must still leave every entry on disk.
    lines = path.read_text().splitlines()
    assert len(lines) == 1 + len(t.entries)
    rec.close()


def test_file_cut_mid_line_loads_everything_before(tmp_path):
    path = tmp_path / "s.jsonl"
    _t, rec = _transcript(path)
    rec.close()
    data = path.read_bytes()
    cut = data[: data.rindex(b"\n", 0, len(data) - 1) + 20]  # into the last entry
    path.write_bytes(cut)
    loaded = read_recording(path)
    assert len(loaded.entries) == 3
    assert loaded.truncated_line is not None
    assert any("cut off mid-line" in p for p in loaded.problems)


def test_damaged_line_is_skipped_and_reported(tmp_path):
    path = tmp_path / "s.jsonl"
    _t, rec = _transcript(path)
    rec.close()
    lines = path.read_text().splitlines()
    lines[2] = "{not json"
    path.write_text("\n".join(lines) + "\n")
    loaded = read_recording(path)
    assert len(loaded.entries) == 3
    assert loaded.problems == ["line 3: not JSON, skipped"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"hello world\n", "first line is not JSON"),
        (json.dumps({"schema": "other"}).encode() + b"\n", "no smtpscope-recording header"),
        (json.dumps({"schema": "smtpscope-recording", "version": 99}).encode() + b"\n",
         "newer than this smtpscope"),
    ],
)
def test_foreign_files_are_refused_clearly(tmp_path, content, message):
    path = tmp_path / "x.jsonl"
    path.write_bytes(content)
    with pytest.raises(RecordingError, match=message):
        read_recording(path)


def test_missing_file_is_a_recording_error(tmp_path):
    with pytest.raises(RecordingError, match="cannot read"):
        read_recording(tmp_path / "nope.jsonl")


def test_text_export_prefixes_and_escapes(tmp_path):
    t = Transcript()
    t.add("server", "reply", b"220 hi \x1b[31mred\r\n", reply={"code": 220})
    t.add("client", "command", b"NOOP\r\n")
    t.add("client", "raw", b"XYZ\r\n", off_script=True)
    t.note("note")
    text = to_text(t)
    assert text.splitlines() == ["S: 220 hi \\x1b[31mred", "C: NOOP", "C! XYZ", "-- note"]
    assert "\x1b" not in text


def test_secrets_header_warns_and_restricts_permissions(tmp_path):
    path = tmp_path / "s.jsonl"
    rec = Recorder(path, make_header("h:25", secrets_recorded=True))
    rec.close()
    header = json.loads(path.read_text().splitlines()[0])
    assert "secrets in clear" in header["warning"]
    assert path.stat().st_mode & 0o077 == 0


def test_recorder_creates_no_missing_directory(tmp_path):
    path = tmp_path / "typo" / "deeper" / "s.jsonl"
    with pytest.raises(FileNotFoundError):
        Recorder(path, make_header("h:25"))
    assert not (tmp_path / "typo").exists()


def test_text_export_marks_unsolicited_replies_and_stray_bytes():
    t = Transcript()
    t.add("server", "reply", b"421 4.4.2 bye\r\n", reply={"code": 421, "unsolicited": True})
    t.add("server", "raw", b"250 injected\r\n")
    assert to_text(t).splitlines() == ["S! 421 4.4.2 bye", "S! 250 injected"]


def test_unused_path_numbers_beside_a_taken_name_and_never_reuses_one(tmp_path):
    from smtpscope.record.store import unused_path

    path = tmp_path / "rec.json"
    assert unused_path(path) == path
    path.write_text("first")
    assert unused_path(path) == tmp_path / "rec-2.json"
    (tmp_path / "rec-2.json").write_text("an earlier run")
    (tmp_path / "rec-3.json").symlink_to(tmp_path / "elsewhere")  # dangling: still taken
    assert unused_path(path) == tmp_path / "rec-4.json"
    assert unused_path(tmp_path / "plain") == tmp_path / "plain"
    (tmp_path / "plain").write_text("")
    assert unused_path(tmp_path / "plain") == tmp_path / "plain-2"
