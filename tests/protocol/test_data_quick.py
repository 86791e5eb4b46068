"""The quick paths for whole messages give what the plain definitions give: line endings
made CRLF, long lines found, and a message's transcript lines."""

from __future__ import annotations

import random

from smtpscope.protocol import data
from smtpscope.record.export import entry_lines
from smtpscope.record.transcript import Entry
from smtpscope.sanitize import visible


def reference_normalized(body: bytes) -> bytes:
    return body.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")


def reference_long_lines(message: bytes) -> list[tuple[int, int]]:
    return [(n, len(line) + 2) for n, line in enumerate(message.split(b"\r\n"), 1)
            if len(line) + 2 > data.MAX_TEXT_LINE]


def reference_entry_lines(entry: Entry) -> list[str]:
    text = entry.shown_text
    if text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith("\n"):
        text = text[:-1]
    own = entry.direction == "local"
    return [visible(line.rstrip("\r"), keep_backslashes=own) for line in text.split("\n")]


def test_line_endings_as_the_three_replacements_give_them() -> None:
    rng = random.Random(3)
    for _ in range(50_000):
        body = bytes(rng.choice(b"a\r\n.") for _ in range(rng.randrange(0, 10)))
        assert data.normalize_line_endings(body) == reference_normalized(body), body
    crlf = b"line\r\n" * 1000
    assert data.normalize_line_endings(crlf) is crlf  # nothing to change: no copy


def test_the_same_body_asked_again_gets_the_same_answer() -> None:
    body = b"a\nb\rc\r\n" * 100
    first = data.normalize_line_endings(body)
    assert data.normalize_line_endings(body) is first
    other = b"x\ny"
    assert data.normalize_line_endings(other) == b"x\r\ny"
    assert data.normalize_line_endings(body) == reference_normalized(body)


def test_long_lines_as_a_walk_over_every_line_finds_them() -> None:
    rng = random.Random(5)
    for _ in range(3_000):
        parts = [b"x" * rng.choice([0, 5, 997, 998, 999, 1000, 2000])
                 for _ in range(rng.randrange(1, 6))]
        message = rng.choice([b"\r\n", b"\n", b"\r"]).join(parts)
        assert data.long_lines(message) == reference_long_lines(message)


def test_transcript_lines_of_an_entry_as_line_by_line_gives_them() -> None:
    rng = random.Random(9)
    alphabet = ["a", "\r", "\n", "\\", "\x1b", "\t", "é", "\u2028", "\x85", " ", "\x00"]
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 14)))
        for direction in ("client", "server", "local"):
            entry = Entry(1, 0.0, 0.0, direction, "content", text.encode())  # type: ignore[arg-type]
            assert entry_lines(entry) == reference_entry_lines(entry), (text, direction)
