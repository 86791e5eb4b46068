"""visible_lines(): many lines through the sanitizer at once, exactly as each line alone."""

from __future__ import annotations

import random

import pytest

from smtpscope.sanitize import visible, visible_lines

# Every character the rule treats specially, its neighbours, and ordinary ones.
_SPECIAL = [chr(c) for c in (*range(0x00, 0x21), *range(0x7E, 0xA1))] + [
    "\\", "\u2028", "\u2029", "\u202a", "\u202e", "\u202f", "\u2065", "\u2066", "\u2069",
    "\u206a", "\udc7f", "\udc80", "\udcff", "\udd00", "é", "中", "\U0001f600", "x", " ",
]


@pytest.mark.parametrize("keep", [False, True])
def test_each_character_alone_as_visible_gives_it(keep: bool) -> None:
    for ch in _SPECIAL:
        if ch != "\n":
            assert visible_lines(ch, keep_backslashes=keep) == visible(ch, keep_backslashes=keep)


@pytest.mark.parametrize("keep", [False, True])
def test_joined_lines_come_out_as_each_line_would(keep: bool) -> None:
    rng = random.Random(7)
    alphabet = [c for c in _SPECIAL if c != "\n"]
    for _ in range(2000):
        lines = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12)))
                 for _ in range(rng.randrange(1, 6))]
        assert visible_lines("\n".join(lines), keep_backslashes=keep).split("\n") == [
            visible(line, keep_backslashes=keep) for line in lines]


def test_only_the_line_feed_is_left_alone() -> None:
    assert visible_lines("a\r\nb\x1b[31m\\") == "a\\x0d\nb\\x1b[31m\\\\"
    assert visible_lines("\n\n") == "\n\n"
