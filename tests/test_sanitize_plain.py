"""The sanitizer's quick answer for text with nothing to escape gives exactly what its
patterns give: for every character there is, and for long mixed text."""

from __future__ import annotations

import random
import re
import sys

import pytest

from smtpscope import sanitize
from smtpscope.protocol.errors import escape_char

# (function, the pattern it applies, characters it leaves alone before asking isprintable,
# whether backslashes stay as they are)
EVERY_CHARACTER = "".join(map(chr, range(sys.maxunicode + 1)))
CASES = [
    (lambda t: sanitize.visible(t), sanitize._UNSAFE.pattern, "\t", False),
    (lambda t: sanitize.visible(t, keep_backslashes=True), sanitize._UNSAFE_KEEP_BACKSLASH,
     "\t", True),
    (lambda t: sanitize.visible_lines(t), sanitize._UNSAFE_BUT_LF, "\t\n", False),
    (lambda t: sanitize.visible_lines(t, keep_backslashes=True),
     sanitize._UNSAFE_BUT_LF_KEEP_BACKSLASH, "\t\n", True),
    (sanitize.terminal_safe, sanitize._UNSAFE_LINES, "\t\n", True),
]


NAMES = ["visible", "visible-keep", "lines", "lines-keep", "terminal"]


@pytest.mark.parametrize(("pattern", "kept", "backslashes"), [c[1:] for c in CASES], ids=NAMES)
def test_every_character_a_pattern_escapes_is_unprintable_or_a_backslash(
        pattern: str, kept: str, backslashes: bool) -> None:
    matched = re.findall(pattern, EVERY_CHARACTER)
    assert len(matched) > 60  # C0, DEL, C1 and the rest
    for char in matched:
        assert char not in kept, repr(char)
        assert not char.isprintable() or (char == "\\" and not backslashes), repr(char)


@pytest.mark.parametrize(("shown", "pattern"), [(c[0], c[1]) for c in CASES], ids=NAMES)
def test_quick_answer_and_pattern_agree(shown, pattern: str) -> None:  # type: ignore[no-untyped-def]
    compiled = re.compile(pattern)
    rng = random.Random(11)
    # Mostly printable, so that both answers are asked for often.
    alphabet = ["a", "Z", " ", "é", "中", "\U0001f600", "\t", "\n", "\r", "\\", "\x1b",
                "\x85", "\u00a0", "\u2028", "\u202e", "\udc80", "\x7f"]
    weights = [30, 10, 10, 5, 5, 2, 3, 5, 2, 1, 1, 1, 1, 1, 1, 1, 1]
    for _ in range(20_000):
        text = "".join(rng.choices(alphabet, weights, k=rng.randrange(0, 30)))
        assert shown(text) == compiled.sub(escape_char, text), repr(text)
    # Long text (its own path when ASCII), with none or a few of the characters above.
    for _ in range(3_000):
        chars = list("ordinary text, ASCII " * rng.randrange(13, 30))
        for _ in range(rng.randrange(0, 3)):
            chars.insert(rng.randrange(len(chars) + 1), rng.choice(alphabet))
        text = "".join(chars)
        assert shown(text) == compiled.sub(escape_char, text), repr(text)
    big = "Subject: hi\r\n\r\n" + "a line of a long message\tok\r\n" * 50_000
    assert shown(big) == compiled.sub(escape_char, big)
    assert shown(big + "\x1b[2J") == compiled.sub(escape_char, big + "\x1b[2J")


def test_shown_as_is_only_when_visible_changes_nothing_and_there_is_no_tab() -> None:
    """What the transcript pane asks before it skips a line's processing (and tab expansion)."""
    rng = random.Random(12)
    alphabet = ["a", " ", "é", "中", "\t", "\\", "\x1b", "\x85", "\u202e", "\udc80", "\x7f"]
    weights = [40, 10, 5, 5, 1, 1, 1, 1, 1, 1, 1]
    seen = {True: 0, False: 0}
    for _ in range(20_000):
        text = "".join(rng.choices(alphabet, weights, k=rng.randrange(0, 40)))
        as_is = sanitize.shown_as_is(text)
        seen[as_is] += 1
        if as_is:
            assert sanitize.visible(text) == text and "\t" not in text, repr(text)
        else:  # something to escape or expand
            assert sanitize.visible(text) != text or "\t" in text, repr(text)
    assert min(seen.values()) > 1000
