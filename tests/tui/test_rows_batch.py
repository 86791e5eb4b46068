"""TranscriptRows.add_many lays out entries exactly as add() does one entry at a time."""

from __future__ import annotations

import random
from typing import Any

import pytest

from smtpscope.record.transcript import Entry
from smtpscope.tui.explain import explain_entry
from smtpscope.tui.widgets.transcript_rows import MAX_LINE_CHARS, TranscriptRows

PIECES = ["250", "550 5.1.1", "334 VXNlcm5hbWU6", "hello", "\x1b[31m", "\t", "a\tb", "\\x1b",
          "\r", "\r\r", "é", "中文", "\u202e", "\x85", "\x7f", " ", "<x@y>", "\\"]
BAD_BYTES = [b"\xe9", b"\xff\xfe", b"\xc3"]
REPLIES: list[Any] = [
    None, {"code": 250}, {"code": 550, "enhanced": "5.1.1", "lines": ["5.1.1 no"]},
    {"code": 451}, {"code": 334}, {"code": 235}, {"code": 354}, {"code": "421"},
    {"code": 250, "unsolicited": True}, {"code": 250, "warnings": ["bare LF"]},
    {"code": 250, "recipient": "b\x1b@x"}, {"code": 999}, {"code": 0},
]


def random_raw(rng: random.Random, long: bool) -> bytes:
    lines = []
    for _ in range(rng.choice([1, 1, 1, 2, 3, 8, 25])):
        parts = [rng.choice(PIECES) for _ in range(rng.randrange(0, 5))]
        line = "".join(parts).encode("utf-8", "surrogateescape")
        if rng.random() < 0.1:
            line += rng.choice(BAD_BYTES)
        if long and rng.random() < 0.02:
            line += b"y" * (MAX_LINE_CHARS + rng.randrange(-3, 3))
        lines.append(line)
    ending = rng.choice([b"", b"\n", b"\r\n", b"\r\r\n", b"\n\n", b"\r"])
    return rng.choice([b"\r\n", b"\n", b"\r\r\n"]).join(lines) + ending


def random_entry(rng: random.Random, seq: int, long: bool = True) -> Entry:
    direction = rng.choice(["client", "client", "server", "server", "server", "local"])
    if direction == "client":
        kind = rng.choice(["command", "command", "content", "raw"])
    elif direction == "server":
        kind = rng.choice(["reply", "reply", "reply", "raw", "tls"])
    else:
        kind = rng.choice(["note", "warning", "error", "tls"])
    extra: dict[str, Any] = {}
    if rng.random() < 0.1:
        extra["text"] = "AUTH PLAIN <redacted>"
        extra["redacted"] = True
    if rng.random() < 0.05:
        extra["notes"] = ("a note \x1b", "another")
    if rng.random() < 0.05:
        extra["off_script"] = True
    if kind == "tls" or rng.random() < 0.03:
        extra["info"] = rng.choice([{"verified": False}, {"insecure": True}, {}])
    reply = rng.choice(REPLIES) if direction == "server" else None
    return Entry(seq=seq, mono=seq * 0.5, wall=1_700_000_000.0 + seq, direction=direction,
                 kind=kind, raw=random_raw(rng, long), reply=reply,
                 latency=rng.choice([None, 0.004]), **extra)


def columns(rows: TranscriptRows) -> tuple[Any, ...]:
    return (rows.text, rows.look.tobytes(), rows.prefix.tobytes(), rows.owner.tobytes(),
            rows.seq.tobytes(), rows.wall.tobytes(), rows.latency.tobytes(),
            {k: vars(v) for k, v in rows.folds.items()}, rows.max_cells,
            rows.wrappable.tobytes())


@pytest.mark.parametrize("long", [True, False])  # without lines to cut: a narrower widest row
@pytest.mark.parametrize("fold_after", [0, 2, 20])
@pytest.mark.parametrize("seed", range(3))
def test_many_at_once_as_one_by_one(seed: int, fold_after: int, long: bool) -> None:
    rng = random.Random(seed)
    entries = [random_entry(rng, i, long) for i in range(1500)]
    one = TranscriptRows(fold_after=fold_after, fold_keep=1)
    for entry in entries:
        one.add(entry, explain_entry)
    many = TranscriptRows(fold_after=fold_after, fold_keep=1)
    start = 0
    while start < len(entries):  # in batches of varied size, as replay's slices come
        stop = start + rng.randrange(1, 200)
        many.add_many(entries[start:stop], explain_entry)
        start = stop
    assert len(one) > len(entries)
    assert columns(many) == columns(one)


def test_without_an_explainer_too() -> None:
    rng = random.Random(99)
    entries = [random_entry(rng, i) for i in range(800)]
    one = TranscriptRows()
    for entry in entries:
        one.add(entry)
    many = TranscriptRows()
    many.add_many(entries)
    assert columns(many) == columns(one)
