"""Entry fields a newer smtpscope added: kept for JSON output, never shown, costing nothing else."""

from __future__ import annotations

import base64
from pathlib import Path

from smtpscope.record import Entry
from smtpscope.record.lazy import open_recording
from smtpscope.record.store import read_recording
from smtpscope.record.validate import entry_from_json
from tests.cli.test_replay_cli import record, with_extra

NEWER = {"seq": 0, "mono": 1.0, "wall": 2.0, "dir": "server", "kind": "reply", "text": "220 mx\r\n",
         "raw": base64.b64encode(b"220 mx\r\n").decode(), "arrived_on": {"port": 25},
         "colour\x1b[31m": "red\x1b[2J"}


def test_unknown_entry_fields_survive_a_round_trip() -> None:
    entry = entry_from_json(NEWER)
    out = entry.to_json()
    assert out["arrived_on"] == {"port": 25} and out["colour\x1b[31m"] == "red\x1b[2J"
    assert entry.replace(seq=5).to_json()["arrived_on"] == {"port": 25}
    assert Entry.from_json(out).to_json() == out


def test_an_entry_without_unknown_fields_holds_no_extra() -> None:
    known = {k: v for k, v in NEWER.items() if k not in ("arrived_on", "colour\x1b[31m")}
    entry = entry_from_json(known)
    assert entry.extra is None and entry._more is None  # nothing held for the common case


def test_an_extra_field_never_overrides_a_known_one() -> None:
    entry = Entry(0, 0.0, 0.0, "client", "command", b"QUIT\r\n", extra={"kind": "x", "new": 1})
    out = entry.to_json()
    assert out["kind"] == "command" and out["new"] == 1


def test_both_readers_keep_them(tmp_path: Path) -> None:
    path = with_extra(record(tmp_path / "r.jsonl"))
    assert read_recording(path).entries[0].extra == {"arrived_on": {"port": 25,
                                                                    "note": "\x1b[2J"}}
    assert open_recording(path).entries[0].extra == {"arrived_on": {"port": 25,
                                                                    "note": "\x1b[2J"}}
