"""smtpscope.credentials: env, netrc, stdin, prompt only on a terminal, clear errors otherwise."""

from __future__ import annotations

import io
import os
import pathlib

import pytest

from smtpscope import credentials
from smtpscope.credentials import CredentialError, get_secret


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_env_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTPSCOPE_TEST_PW", "pw1")
    assert (
        get_secret(
            env="SMTPSCOPE_TEST_PW", netrc_host=None, user=None, prompt="", allow_prompt=False
        )
        == "pw1"
    )
    monkeypatch.setenv("SMTPSCOPE_TEST_PW", "")
    with pytest.raises(CredentialError, match="empty"):
        credentials.from_env("SMTPSCOPE_TEST_PW")
    monkeypatch.delenv("SMTPSCOPE_TEST_PW")
    with pytest.raises(CredentialError, match="not set"):
        credentials.from_env("SMTPSCOPE_TEST_PW")


def _netrc(tmp_path: pathlib.Path) -> str:
    path = tmp_path / "netrc"
    path.write_text("machine mx.test login alice password pw2\ndefault login bob password pw3\n")
    os.chmod(path, 0o600)
    return str(path)


def test_netrc_source(tmp_path: pathlib.Path) -> None:
    path = _netrc(tmp_path)
    assert (
        get_secret(
            env=None,
            netrc_host="mx.test",
            user="alice",
            prompt="",
            allow_prompt=False,
            netrc_path=path,
        )
        == "pw2"
    )
    assert credentials.from_netrc("other.test", None, path) == ("bob", "pw3")
    with pytest.raises(CredentialError, match="not 'carol'"):
        credentials.from_netrc("mx.test", "carol", path)
    with pytest.raises(CredentialError, match="no netrc file"):
        credentials.from_netrc("mx.test", None, str(tmp_path / "missing"))


def test_netrc_parse_error(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "netrc"
    path.write_text("machine\n")
    with pytest.raises(CredentialError, match="parse"):
        credentials.from_netrc("mx.test", None, str(path))


def test_no_tty_no_source_raises_instead_of_hanging() -> None:
    with pytest.raises(CredentialError, match="not a terminal"):
        get_secret(
            env=None,
            netrc_host=None,
            user="u",
            prompt="pw: ",
            allow_prompt=True,
            stdin=io.StringIO("would-block"),
        )
    with pytest.raises(CredentialError, match="no token given"):
        get_secret(env=None, netrc_host=None, user="u", prompt="", allow_prompt=False, what="token")


def test_prompt_used_on_tty(monkeypatch: pytest.MonkeyPatch) -> None:
    prompts: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return "typed"

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    assert (
        get_secret(
            env=None,
            netrc_host=None,
            user="u",
            prompt="Password: ",
            allow_prompt=True,
            stdin=FakeTTY(),
        )
        == "typed"
    )
    assert prompts == ["Password: "]


def test_stdin_source_and_warning() -> None:
    assert credentials.from_stdin(io.StringIO("pw4\nrest\n")) == "pw4"
    with pytest.raises(CredentialError):
        credentials.from_stdin(io.StringIO(""))
    err = io.StringIO()
    credentials.warn_command_line_secret("token", err)
    assert "a token on the command line lands in shell history" in err.getvalue()


# Bytes that are not UTF-8 reach Python as lone surrogates (PEP 383); SASL sends UTF-8.
LATIN1_PW = "p\udce4ss"


def test_secret_that_is_not_utf8_is_refused_without_quoting_it(
        monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    monkeypatch.setenv("SMTPSCOPE_TEST_PW", LATIN1_PW)
    with pytest.raises(CredentialError, match="SMTPSCOPE_TEST_PW is not UTF-8") as env_error:
        credentials.from_env("SMTPSCOPE_TEST_PW")
    with pytest.raises(CredentialError, match="stdin is not UTF-8") as stdin_error:
        credentials.from_stdin(io.StringIO(LATIN1_PW + "\n"))
    for error in (env_error, stdin_error):  # not even the offending byte is quoted
        assert "e4" not in str(error.value) and LATIN1_PW not in str(error.value)
    path = tmp_path / "netrc"
    path.write_bytes(b"machine mx.test login alice password p\xe4ss\n")
    os.chmod(path, 0o600)
    with pytest.raises(CredentialError, match="netrc: not UTF-8"):
        credentials.from_netrc("mx.test", None, str(path))


def test_command_line_token_warning_names_token_sources() -> None:
    err = io.StringIO()
    credentials.warn_command_line_secret("token", err)
    assert "--token-env VAR" in err.getvalue() and "netrc" not in err.getvalue()
