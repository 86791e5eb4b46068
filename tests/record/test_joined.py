"""Recordings joined end to end (``cat a.jsonl b.jsonl``): both sessions load, the seam is a
typed note carrying the second header and the first footer, and the views start afresh there."""

from __future__ import annotations

from pathlib import Path

from smtpscope.record import read_recording, to_text
from smtpscope.record.lazy import open_recording
from smtpscope.record.swaks import to_swaks
from tests.tui.sample import write_sample


def joined(tmp_path: Path, *, crlf: bool = False) -> Path:
    first = write_sample(tmp_path / "a.jsonl").read_bytes()
    second = write_sample(tmp_path / "b.jsonl").read_bytes()
    second = second.replace(b'"mx.example.test:25"', b'"mx2.\\u001b[2Jexample.test:25"', 1)
    second = second.replace(b'"closed by server"', b'"second"')
    data = first + second
    path = tmp_path / "joined.jsonl"
    path.write_bytes(data.replace(b"\n", b"\r\n") if crlf else data)
    return path


def test_both_sessions_load_with_the_seam_typed(tmp_path: Path) -> None:
    one = read_recording(write_sample(tmp_path / "one.jsonl"))
    path = joined(tmp_path)
    rec = read_recording(path)
    assert rec.problems == []
    assert len(rec.entries) == 2 * len(one.entries) + 2
    n = len(one.entries)
    assert rec.entries[:n] == one.entries and rec.entries[n + 2:] == one.entries
    footer, header = rec.entries[n], rec.entries[n + 1]
    assert footer.info is not None and footer.info["footer"]["outcome"] == "closed by server"
    assert header.info is not None
    assert header.info["recording"]["target"] == "mx2.\x1b[2Jexample.test:25"
    assert header.direction == "local" and "\x1b" not in header.text  # foreign text escaped
    assert f"line {n + 3}: another recording starts here" in header.text
    assert rec.footer is not None and rec.footer["outcome"] == "second"  # the file's last


def test_lazy_reader_reads_the_seam_as_the_full_reader(tmp_path: Path) -> None:
    path = joined(tmp_path, crlf=True)
    lazy, full = open_recording(path), read_recording(path)
    assert list(lazy.entries) == full.entries and lazy.problems == full.problems == []
    assert lazy.footer == full.footer


def test_views_start_afresh_at_the_seam(tmp_path: Path) -> None:
    rec = read_recording(joined(tmp_path))
    swaks = to_swaks(rec.entries).splitlines()
    greetings = [line for line in swaks if "220 mx.example.test ESMTP" in line]
    assert greetings == ["<-  220 mx.example.test ESMTP Postfix (Debian/GNU)"] * 2
    text = to_text(rec.entries, timestamps=True).splitlines()
    starts = [line for line in text if line.endswith("Connecting to mx.example.test port 25")]
    assert starts == ["[   0.000] -- Connecting to mx.example.test port 25"] * 2
