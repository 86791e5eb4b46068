"""wrap_starts: its shortcut for rows whose every character takes one cell."""

from __future__ import annotations

import random
from bisect import bisect_right
from itertools import accumulate

from rich.cells import get_character_cell_size

from smtpscope.tui.widgets import transcript_wrap
from smtpscope.tui.widgets.transcript_wrap import wrap_starts


def by_cells(text: str, room: int) -> list[int]:
    """The definition, by running totals: each line takes as many characters as fit in
    ``room`` cells (one at least), then moves back to a space if one is near."""
    room = max(8, room)
    before = [0, *accumulate(get_character_cell_size(c) for c in text)]  # cells before i
    starts, pos = [0], 0
    while True:
        end = max(bisect_right(before, before[pos] + room) - 1, pos + 1)
        if end >= len(text):
            return starts
        space = text.rfind(" ", pos + 1, end + 1)
        pos = space + 1 if space > pos + room // 3 else end
        starts.append(pos)


# One-cell signs our rows use, two-cell and zero-cell characters, and the joiners.
ALPHABET = [*"abcdefgh   .:-", "↳", "·", "─", "é", "界", "🙂", "\u0301", "\u200d", "\ufe0f",
            "\u200b"]


def test_one_cell_rows_wrap_as_by_cells() -> None:
    rng = random.Random(1234)
    for _ in range(3000):
        length = rng.randrange(0, 200)
        text = "".join(rng.choice(ALPHABET[:18]) for _ in range(length))  # one cell each
        room = rng.randrange(4, 90)
        assert wrap_starts(text, room) == by_cells(text, room), (text, room)


def test_any_row_wraps_as_by_cells() -> None:
    rng = random.Random(4321)
    for _ in range(3000):
        length = rng.randrange(0, 160)
        text = "".join(rng.choice(ALPHABET) for _ in range(length))
        room = rng.randrange(4, 70)
        assert wrap_starts(text, room) == by_cells(text, room), (text, room)


def test_the_shortcut_is_taken_only_when_every_character_is_one_cell() -> None:
    assert transcript_wrap._one_cell_each("↳ 550 5.1.1 — Bad destination mailbox address")
    assert transcript_wrap._one_cell_each("TLSv1.3 · TLS_AES_256_GCM_SHA384 · verified")
    assert not transcript_wrap._one_cell_each("↳ 界")  # two cells
    assert not transcript_wrap._one_cell_each("e\u0301")  # a combining mark: none
    assert not transcript_wrap._one_cell_each("a\u200db")  # a joiner
    # A wide character is counted as two: the row breaks before it goes past the room.
    assert wrap_starts("↳ " + "界" * 10, 8) == [0, 5, 9]
