"""Defaults from the TOML config file, named profiles and SMTPSCOPE_* variables."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest


@pytest.fixture
def config(tmp_path: Path, monkeypatch) -> Path:
    path = tmp_path / "smtpscope" / "config.toml"
    path.parent.mkdir()
    monkeypatch.setenv("SMTPSCOPE_CONFIG", str(path))
    return path


def test_xdg_config_home_is_the_default_place(monkeypatch, tmp_path: Path) -> None:
    from smtpscope.cli.defaults import config_file

    assert config_file({"XDG_CONFIG_HOME": str(tmp_path)}) == \
        tmp_path / "smtpscope" / "config.toml"
    assert config_file({"SMTPSCOPE_CONFIG": "/x/y.toml"}) == Path("/x/y.toml")


def _ehlo(out: str) -> str:
    return next(line for line in out.splitlines() if line.startswith("C: EHLO "))[8:]


def test_precedence_file_env_profile_command_line(make_server, cli, config: Path,
                                                  monkeypatch) -> None:
    server = make_server()
    config.write_text('[defaults]\nhelo = "from-defaults"\n[send]\nfrom = "a@x.test"\n'
                      f'[profiles.p]\ntarget = "{server.target}"\nhelo = "from-profile"\n')
    base = ("send", server.target, "--to", "b@y.test", "--quit-after", "ehlo")
    assert _ehlo(cli(*base).out) == "from-defaults"
    monkeypatch.setenv("SMTPSCOPE_HELO", "from-env")
    assert _ehlo(cli(*base).out) == "from-env"
    result = cli("send", "--profile", "p", "--to", "b@y.test", "--quit-after", "ehlo")
    assert result.code == 0, result.err
    assert _ehlo(result.out) == "from-profile"  # and the target came from the profile
    assert _ehlo(cli(*base, "--helo", "from-cli", "--profile", "p").out) == "from-cli"


def test_a_password_in_the_file_is_refused(cli, config: Path) -> None:
    config.write_text('[profiles.work]\ntarget = "127.0.0.1:9"\npassword = "hunter2"\n')
    result = cli("send", "--profile", "work", "--from", "a@x.test", "--to", "b@y.test")
    assert result.code == 1
    assert "'password' is not allowed" in result.err and "hunter2" not in result.err


def test_unknown_profile_and_unknown_key(cli, config: Path) -> None:
    config.write_text('[profiles.a]\ntls = "none"\n[probe]\nbogus = 1\n')
    result = cli("send", "127.0.0.1:9", "--profile", "b", "--from", "a", "--to", "b")
    assert result.code == 1 and "no profile 'b'" in result.err and "profiles: a" in result.err
    result = cli("probe", "127.0.0.1:9")
    assert result.code == 1 and "unknown option 'bogus'" in result.err


@pytest.mark.parametrize("value", ["nan", "inf", "-5", "0"])
def test_a_number_from_the_file_meets_the_options_own_checks(cli, config: Path,
                                                             value: str) -> None:
    # TOML numbers (nan and inf among them) get the same checks as the command line's text.
    config.write_text(f"[probe]\ntimeout = {value}\n")
    result = cli("probe", "127.0.0.1:9")
    assert result.code == 1, result
    assert "timeout" in result.err and "above 0 and at most 3600" in result.err


@pytest.mark.parametrize("text, command, words", [
    ('[probe]\nprotocol = "bogus"\n', ("probe", "127.0.0.1:9"),
     "[probe] protocol: 'bogus' is not one of esmtp, smtp, lmtp"),
    ('[replay]\nformat = "bogus"\n', ("replay", "x.jsonl"),
     "[replay] format: 'bogus' is not one of text, swaks, json"),
    ('[probe]\ntimeout = "soon"\n', ("probe", "127.0.0.1:9"),
     "[probe] timeout: 'soon' is not a number of seconds"),
    ('[profiles]\nwork = 5\n', ("mx", "example.test", "--profile", "work"),
     "[profiles.work] must be a table"),
    ('profiles = "work"\n', ("mx", "example.test", "--profile", "work"),
     "profiles must be tables"),
])
def test_a_text_value_from_the_file_meets_the_options_own_checks(
        cli, config: Path, text: str, command: tuple[str, ...], words: str) -> None:
    # argparse checks neither the type nor the choices of a default: the file's text would
    # reach the command unchecked (a crash for the protocol, a silent fallback for the format).
    config.write_text(text)
    result = cli(*command)
    assert result.code == 1, result
    assert words in result.err and "crashed" not in result.err
    assert len(result.err.splitlines()) == 1


def test_a_good_number_from_the_file_is_used(make_server, cli, config: Path) -> None:
    server = make_server()
    config.write_text("[probe]\ntimeout = 7\nconcurrency = 3\n")
    result = cli("probe", server.target, "--json")
    assert result.code == 0, result.err


def test_env_flag_and_list_values(make_server, cli, config: Path, monkeypatch) -> None:
    server = make_server()
    config.write_text('[send]\nto = ["b@y.test", "c@y.test"]\nfrom = "a@x.test"\n')
    monkeypatch.setenv("SMTPSCOPE_SUPPRESS_DATA", "yes")
    result = cli("send", server.target)
    assert result.code == 0, result.err
    assert server.handler.messages[0][1] == ["b@y.test", "c@y.test"]
    assert "message not shown" in result.out


@pytest.mark.peer
def test_profile_sends_over_submission_with_auth(mta, cli, config: Path,
                                                 monkeypatch) -> None:
    config.write_text(
        f'[profiles.lab]\ntarget = "{mta.host}:{mta.submission}"\ntls = "starttls"\n'
        f'cafile = "{mta.ca_file}"\nauth = "SCRAM-SHA-256"\nuser = "alice"\n'
        'password-env = "LAB_PW"\n')
    monkeypatch.setenv("LAB_PW", mta.password("alice"))
    token = uuid.uuid4().hex
    result = cli("send", "--profile", "lab", "--from", mta.address("alice"),
                 "--to", mta.address("bob"), "--h-Subject", token)
    assert result.code == 0, result.out + result.err
    assert "S: 235 2.7.0 Authentication successful" in result.out
    assert mta.read_delivered("bob", match=token.encode())


def test_a_key_no_command_takes_is_a_typo_wherever_it_is(cli, config: Path) -> None:
    """[defaults] and a profile are shared: another command's key is skipped (maildir is
    serve's), but one that no command takes would be skipped by all of them, silently."""
    config.write_text('[defaults]\nmaildir = "m"\n[profiles.p]\ntarget = "127.0.0.1:9"\n'
                      'from = "a@x.test"\ncafle = "corp-ca.pem"\n[send]\ntimout = 5\n')
    for command in ("probe", "send"):
        result = cli(command, "--profile", "p", "--to", "b@y.test") if command == "send" \
            else cli(command, "--profile", "p")
        assert result.code == 1
        where = "[send]: unknown option 'timout' for this command (did you mean 'timeout'?)" \
            if command == "send" else \
            "[profiles.p]: 'cafle' is an option of no command (did you mean 'cafile'?)"
        assert result.err.strip().endswith(where), result.err
    config.write_text('[defaults]\nverifyname = "mx.example.test"\n')
    result = cli("probe", "127.0.0.1:9")
    assert result.code == 1 and "(did you mean 'verify-name'?)" in result.err


def test_every_option_key_is_known_to_the_typo_check() -> None:
    """option_keys.ALL_OPTIONS is every command's option keys: a key a command takes is
    never refused as a typo, and the list holds nothing that no command takes."""
    import argparse

    from smtpscope.cli import build_parser
    from smtpscope.cli.defaults import _options
    from smtpscope.cli.option_keys import ALL_OPTIONS
    from smtpscope.cli.tui import build_parser as tui_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    keys = {key for command in (*sub.choices.values(), tui_parser()) for key in _options(command)}
    assert keys == ALL_OPTIONS
