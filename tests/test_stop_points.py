"""swaks' stop points: every name and alias swaks 20201014 takes, in any case."""

from __future__ import annotations

import argparse

import pytest

from smtpscope.stop_points import DROP_POINTS, QUIT_POINTS, StopPoint, described, names, parser

# swaks' option normalisation (process_args): each word it accepts and what it becomes.
SWAKS_WORDS = {
    "connect": "connect", "banner": "connect", "first-helo": "first-helo",
    "first-ehlo": "first-helo", "first-lhlo": "first-helo", "xclient": "xclient",
    "tls": "tls", "starttls": "tls", "helo": "helo", "ehlo": "helo", "lhlo": "helo",
    "auth": "auth", "mail": "mail", "from": "mail", "rcpt": "rcpt", "to": "rcpt",
}


@pytest.mark.parametrize("word", SWAKS_WORDS)
def test_every_swaks_word_in_any_case_normalises_as_swaks_does(word: str) -> None:
    for spelling in (word, word.upper(), word.title()):
        assert parser(QUIT_POINTS)(spelling) == SWAKS_WORDS[word]
        assert parser(DROP_POINTS)(spelling) == SWAKS_WORDS[word]


def test_data_and_dot_are_drop_points_only() -> None:
    assert parser(DROP_POINTS)("DATA") is StopPoint.DATA
    assert parser(DROP_POINTS)("dot") is StopPoint.DOT
    for word in ("data", "DOT", "quit", "first", ""):
        with pytest.raises(argparse.ArgumentTypeError, match="choose from connect, banner"):
            parser(QUIT_POINTS)(word)


def test_the_help_names_every_word() -> None:
    assert set(names(QUIT_POINTS)) == set(SWAKS_WORDS)
    assert set(names(DROP_POINTS)) == {*SWAKS_WORDS, "data", "dot"}
    text = described(QUIT_POINTS)
    assert all(word in text for word in SWAKS_WORDS) and "dot" not in text
