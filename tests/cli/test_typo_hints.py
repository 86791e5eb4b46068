"""A mistyped choice, option or command points at the likely one, on the one error line."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import pytest

from smtpscope.cli import build_parser, tui
from smtpscope.cli.suggest import suggested
from smtpscope.typos import close_match


def _checked_by_argparse(parser: argparse.ArgumentParser, path: tuple[str, ...]
                         ) -> Iterator[tuple[tuple[str, ...], argparse.Action]]:
    """Every action whose values argparse itself checks (choices, or a type that refuses),
    with the words that reach its parser."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            if path:  # a first word that is no command is a TUI target (tested below)
                yield path, action
            for name, sub in action.choices.items():
                yield from _checked_by_argparse(sub, (*path, name))
        elif action.choices is not None or (callable(action.type) and suggested(action)):
            yield path, action


def _cases() -> Iterator[object]:
    parsers = [(build_parser(), ()), (tui.build_parser(), ("(tui)",))]
    for parser, root in parsers:
        for path, action in _checked_by_argparse(parser, root):
            words = [v for v in suggested(action) if len(v) >= 4 and v.isalpha()]
            if not words:
                continue  # 1.0 .. 1.3, 0 .. 3, v1 and v2: nothing to mistype into a near one
            word = max(words, key=len)  # the longest is the least like the others
            typo = word[0] + word[2] + word[1] + word[3:]  # two letters swapped
            flag = action.option_strings[-1:] if action.option_strings else []
            name = " ".join((*path, *flag)) or "COMMAND"
            yield pytest.param(path, flag, typo, word, id=name)


@pytest.mark.parametrize(("path", "flag", "typo", "word"), list(_cases()))
def test_every_checked_choice_names_the_likely_one(cli, path: tuple[str, ...],
                                                   flag: list[str], typo: str,
                                                   word: str) -> None:
    words = [w for w in path if w != "(tui)"]
    result = cli(*words, *flag, typo)
    assert result.code == 1
    error = result.err.splitlines()[0]
    assert error.endswith(f"(did you mean '{word}'?)"), result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize("args", [
    ("send", "127.0.0.1:9", "--quit-after", "ehol"),
    ("send", "127.0.0.1:9", "--tls", "startls"),
    ("probe", "127.0.0.1:9", "--tls-level", "verfy"),
    ("send", "127.0.0.1:9", "--protocol", "lmpt"),
    ("127.0.0.1:9", "--tls-level", "verfy"),
])
def test_the_reported_typos(cli, args: tuple[str, ...]) -> None:
    result = cli(*args)
    hint = {"ehol": "ehlo", "startls": "starttls", "verfy": "verify", "lmpt": "lmtp"}[args[-1]]
    assert result.code == 1
    assert result.err.splitlines()[0].endswith(f"(did you mean '{hint}'?)")


def test_a_value_close_to_none_gets_no_guess(cli) -> None:
    result = cli("send", "127.0.0.1:9", "--quit-after", "zzz")
    assert result.code == 1
    assert result.err.splitlines()[0].endswith("(choose from connect, banner, first-helo, "
                                                "first-ehlo, first-lhlo, tls, starttls, helo, "
                                                "ehlo, lhlo, xclient, auth, mail, from, rcpt, to)")


def test_a_mistyped_option_is_named_by_its_subcommand(cli) -> None:
    result = cli("send", "127.0.0.1:9", "--quit-afer", "ehlo")
    assert result.code == 1
    assert result.err.splitlines()[0] == ("smtpscope send: error: unrecognized arguments: "
                                           "--quit-afer ehlo (did you mean '--quit-after'?)")
    assert cli("send", "127.0.0.1:9", "--quit-afer=ehlo").err.splitlines()[0].endswith(
        "(did you mean '--quit-after'?)")
    far = cli("mx", "example.test", "--zzzzzz")
    assert far.code == 1
    assert far.err.splitlines()[0] == "smtpscope mx: error: unrecognized arguments: --zzzzzz"


@pytest.mark.parametrize(("args", "hint"), [
    (("send", "--server", "127.0.0.1:9", "--to", "a@example.test"),
     "(swaks' --server: the server is the first argument here: smtpscope send HOST[:PORT] ...)"),
    (("probe", "--server=127.0.0.1:9"),
     "(swaks' --server: the server is the first argument here: smtpscope probe HOST[:PORT] ...)"),
    (("send", "127.0.0.1:9", "-t", "a@example.test"), "(swaks' -t: --to ADDRESS)"),
    (("send", "127.0.0.1:9", "-f", "a@example.test", "--to", "b@example.test"),
     "(swaks' -f: --from ADDRESS)"),
    (("probe", "127.0.0.1:9", "--tls-verify"),
     "(swaks' --tls-verify: certificates are verified by default; --tls-level verify refuses "
     "a session whose certificate does not verify)"),
])
def test_swaks_spellings_say_what_to_write_here(cli, args: tuple[str, ...], hint: str) -> None:
    result = cli(*args)
    assert result.code == 1
    assert result.err.splitlines()[0].endswith(hint), result.err


@pytest.mark.parametrize("args", [
    ("send", "127.0.0.1:9", "--to", "a@example.test", "--auth-password", "s3cr3t-pw"),
    ("send", "127.0.0.1:9", "--to", "a@example.test", "-ap", "s3cr3t-pw"),
    ("send", "127.0.0.1:9", "--to", "a@example.test", "--password=s3cr3t-pw"),
    # Once read as --password-env, and the password shown as the variable's name:
    ("send", "127.0.0.1:9", "--from", "a@example.test", "--to", "b@example.test", "--user",
     "alice", "--password", "s3cr3t-pw"),
    ("serve", "--user", "alice", "--pass", "s3cr3t-pw"),
    ("probe", "127.0.0.1:9", "--auth-password", "s3cr3t-pw"),  # no such option: not echoed
    ("mx", "example.test", "--password=s3cr3t-pw"),
])
def test_a_password_on_the_command_line_is_refused_and_never_repeated(
        cli, args: tuple[str, ...]) -> None:
    result = cli(*args)
    assert result.code == 1
    assert "s3cr3t-pw" not in result.err + result.out
    first = result.err.splitlines()[0]
    assert "no password on the command line" in first or "(hidden)" in first, first


def test_a_mistyped_command_is_named_when_the_tui_cannot_take_the_words(cli) -> None:
    result = cli("prboe", "127.0.0.1")
    assert result.code == 1
    assert result.err.splitlines()[0] == ("smtpscope: error: unrecognized arguments: 127.0.0.1 "
                                           "(did you mean 'smtpscope probe'?)")
    assert cli("replya", "--format", "json", "x.jsonl").err.splitlines()[0].endswith(
        "(did you mean 'smtpscope replay'?)")


def test_a_lone_word_close_to_a_command_is_still_a_host(cli) -> None:
    # "relay" is a fine host name: it opens the TUI on it, which needs a terminal here.
    result = cli("relay")
    assert result.code == tui.EXIT_NO_TERMINAL and "did you mean" not in result.err


def test_what_was_typed_is_shown_escaped(cli) -> None:
    result = cli("send", "127.0.0.1:9", "--zz\x1b[31m")
    assert result.code == 1 and "\x1b" not in result.err and "\\x1b[31m" in result.err


@pytest.mark.parametrize(("args", "line"), [
    (("send", "127.0.0.1:9", "--auth", "plian"),
     "smtpscope send: unknown --auth 'plian'; known: PLAIN, LOGIN, CRAM-MD5, DIGEST-MD5, "
     "SCRAM-SHA-1, SCRAM-SHA-256, XOAUTH2, OAUTHBEARER, auto (did you mean 'PLAIN'?)"),
    # The option typed is the one named, whichever of the three carried the mechanism.
    (("send", "127.0.0.1:9", "--auth-optional", "plian", "--user", "u"),
     "smtpscope send: unknown --auth-optional 'plian'; known: PLAIN, LOGIN, CRAM-MD5, "
     "DIGEST-MD5, SCRAM-SHA-1, SCRAM-SHA-256, XOAUTH2, OAUTHBEARER, auto (did you mean "
     "'PLAIN'?)"),
    (("send", "127.0.0.1:9", "-aos", "plian"),
     "smtpscope send: unknown --auth-optional-strict 'plian'; known: PLAIN, LOGIN, CRAM-MD5, "
     "DIGEST-MD5, SCRAM-SHA-1, SCRAM-SHA-256, XOAUTH2, OAUTHBEARER, auto (did you mean "
     "'PLAIN'?)"),
    (("send", "127.0.0.1:9", "--auth-optional", "plain"),
     "smtpscope send: --auth-optional needs --user"),
    (("auth", "decode", "-m", "plian", "AAAA"),
     "smtpscope auth decode: unknown mechanism 'plian' for --mechanism; known: PLAIN, LOGIN, "
     "CRAM-MD5, DIGEST-MD5, SCRAM-SHA-1, SCRAM-SHA-256, XOAUTH2, OAUTHBEARER "
     "(did you mean 'PLAIN'?)"),
    (("serve", "--auth-mechanisms", "PLAIN,scram-sha-265"),
     "smtpscope serve: unknown AUTH mechanism 'SCRAM-SHA-265'; choose from PLAIN, LOGIN, "
     "CRAM-MD5, SCRAM-SHA-256 (did you mean 'SCRAM-SHA-256'?)"),
])
def test_names_checked_after_parsing_get_the_hint_too(cli, args: tuple[str, ...],
                                                      line: str) -> None:
    result = cli(*args)
    assert result.code == 1
    assert result.err.splitlines() == [line]


def test_a_mistyped_value_in_a_profile_gets_the_hint(cli, tmp_path: Path, monkeypatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[send]\nquit-after = "ehol"\n[probe]\nprotocol = "lmpt"\n')
    monkeypatch.setenv("SMTPSCOPE_CONFIG", str(config))
    assert cli("send", "127.0.0.1:9").err.endswith("(did you mean 'ehlo'?)\n")
    assert cli("probe", "127.0.0.1:9").err.endswith("[probe] protocol: 'lmpt' is not one of "
                                                    "esmtp, smtp, lmtp (did you mean 'lmtp'?)\n")


def test_close_match_names_one_candidate_or_none() -> None:
    assert close_match("SMPT", ["smtp", "smtps", "lmtp"]) == "smtp"  # any case, swapped
    assert close_match("smtp", ["smtp", "smtps"]) is None  # already one
    assert close_match("ab", ["ax", "ay"]) is None  # two as close: no guess
    assert close_match("zzz", ["ehlo", "helo"]) is None


@pytest.mark.parametrize(("args", "help_words"), [
    (("send", "127.0.0.1:9", "--quit-after", "ehol"), "smtpscope send"),
    (("probe", "-x"), "smtpscope probe"),
    (("127.0.0.1:9", "--tls", "bogus"), "smtpscope TARGET"),
])
def test_an_error_is_its_line_and_where_the_options_are(cli, args: tuple[str, ...],
                                                         help_words: str) -> None:
    # Not argparse's usage block above it: thirty lines for send, burying the one that matters.
    result = cli(*args)
    assert result.code == 1 and result.out == ""
    error, hint = result.err.splitlines()
    assert error.startswith(f"{help_words.removesuffix(' TARGET')}: error: ")
    assert hint == f"(see '{help_words} --help' for the options)"
    assert "usage:" not in result.err
