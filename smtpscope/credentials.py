"""Where passwords and tokens come from: environment, ~/.netrc, stdin, or a no-echo prompt."""

from __future__ import annotations

import getpass
import netrc
import os
import sys
from typing import TextIO


class CredentialError(Exception):
    """No usable secret source; the message says what was tried and what to do instead."""


COMMAND_LINE_WARNING = (
    "warning: a {what} on the command line lands in shell history and is visible to other "
    "users in the process list; prefer {sources}"
)
# Where each kind of secret can come from instead (a token has no netrc entry).
_BETTER_SOURCES = {"password": "--password-env VAR, ~/.netrc or the prompt",
                   "token": "--token-env VAR or the prompt"}


def warn_command_line_secret(what: str = "password", stream: TextIO | None = None) -> None:
    """Print the shell-history warning for a secret given as a command-line argument."""
    text = COMMAND_LINE_WARNING.format(what=what, sources=_BETTER_SOURCES[what])
    print(text, file=stream if stream is not None else sys.stderr)


def utf8_text(value: str, where: str) -> str:
    """``value``, or CredentialError when it holds bytes that are not UTF-8.

    The environment, the command line and stdin hand such bytes over as lone surrogates
    (PEP 383): SASL user names, passwords and tokens are UTF-8 (RFC 4616 §2, RFC 5802 §5.1,
    RFC 7628 §3.1), and a string with surrogates cannot even be encoded to be sent.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # Which byte, and where, is not said: the value may be a password.
        raise CredentialError(f"{where} is not UTF-8 text; SASL sends UTF-8: convert it "
                              "(iconv -f latin1 -t utf-8)") from None
    return value


def from_env(var: str) -> str:
    """The secret in environment variable ``var``; CredentialError when unset, empty or not
    UTF-8."""
    value = os.environ.get(var)
    if value is None:
        raise CredentialError(f"environment variable {var} is not set")
    if value == "":
        raise CredentialError(f"environment variable {var} is empty")
    return utf8_text(value, f"environment variable {var}")


def from_netrc(host: str, user: str | None, path: str | None = None) -> tuple[str, str]:
    """``(login, password)`` for ``host`` from ~/.netrc (or ``path``).

    When ``user`` is given the entry's login must match it: a netrc entry for another account
    must not be sent silently.
    """
    try:
        entries = netrc.netrc(path)
    except FileNotFoundError as exc:
        raise CredentialError(f"no netrc file ({exc.filename})") from None
    except netrc.NetrcParseError as exc:
        # Its str() ends in "(file, line)", "(None, line None)" for the permission check.
        where = f" ({exc.filename}, line {exc.lineno})" if exc.lineno else ""
        raise CredentialError(f"cannot use netrc: {exc.msg}{where}") from None
    except UnicodeDecodeError as exc:
        raise CredentialError(f"cannot read netrc: not UTF-8 ({exc.reason})") from None
    except OSError as exc:
        raise CredentialError(f"cannot read netrc: {exc}") from None
    found = entries.authenticators(host)
    if found is None:
        raise CredentialError(f"no netrc entry for machine {host} (and no default entry)")
    login, _account, password = found
    if user is not None and login and login != user:
        raise CredentialError(f"the netrc entry for {host} is for login {login!r}, not {user!r}")
    if not password:
        raise CredentialError(f"the netrc entry for {host} has no password")
    return login, password


def from_stdin(stream: TextIO | None = None) -> str:
    """Read the secret from the first line of stdin (for ``--password-stdin`` in scripts)."""
    line = (stream if stream is not None else sys.stdin).readline()
    secret = line.rstrip("\r\n")
    if not secret:
        raise CredentialError("--password-stdin: stdin gave an empty line")
    return utf8_text(secret, "--password-stdin: the line on stdin")


def get_secret(
    *,
    env: str | None,
    netrc_host: str | None,
    user: str | None,
    prompt: str,
    allow_prompt: bool,
    netrc_path: str | None = None,
    stdin: TextIO | None = None,
    what: str = "password",
    hint: str = "--password-env VAR, --netrc-host HOST or --password-stdin",
) -> str:
    """Return a password or token from the first source that is configured.

    Order: ``env`` (environment variable name), then ``netrc_host``, then a no-echo prompt when
    ``allow_prompt`` and stdin is a terminal. Never blocks on a non-terminal stdin: without a
    source CredentialError is raised instead. ``what`` and ``hint`` word the error message.
    """
    if env:
        return from_env(env)
    if netrc_host:
        return from_netrc(netrc_host, user, netrc_path)[1]
    stream = stdin if stdin is not None else sys.stdin
    interactive = stream is not None and not stream.closed and stream.isatty()
    if allow_prompt and interactive:
        try:
            secret = getpass.getpass(prompt)
        except EOFError:
            raise CredentialError(f"no input at the {what} prompt") from None
        if not secret:
            raise CredentialError(f"empty input at the {what} prompt")
        return utf8_text(secret, f"the {what} typed at the prompt")
    if allow_prompt:
        raise CredentialError(
            f"no {what} given and stdin is not a terminal (cannot prompt): use {hint}"
        )
    raise CredentialError(f"no {what} given: use {hint}")
