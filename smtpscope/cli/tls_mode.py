"""The one ``--tls none|starttls|implicit|auto`` flag of every command, with its old spellings."""

from __future__ import annotations

import argparse

from smtpscope.cli.suggest import suggest

TLS_MODES = ("none", "starttls", "implicit", "auto")

# Old spellings and swaks' words for the same modes.
_ALIASES = {"plain": "none", "no": "none", "off": "none", "tls": "implicit", "smtps": "implicit",
            "optional": "auto"}

TLS_HELP = ("none: never; starttls: STARTTLS required; implicit: TLS from the first byte "
            "(smtps); auto: STARTTLS when offered (default: from the target)")


def parse_mode(text: str) -> str:
    """A --tls value in the common vocabulary; argparse shows the error for anything else."""
    value = text.strip().lower()
    value = _ALIASES.get(value, value)
    if value not in TLS_MODES:
        raise argparse.ArgumentTypeError(
            f"invalid TLS mode {text!r} (choose from {', '.join(TLS_MODES)})")
    return value


def add_arguments(p: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """``--tls MODE`` plus aliases: ``--no-tls``, swaks' ``--tls-on-connect`` and ``-tlso``.

    A bare ``--tls`` means STARTTLS required, as it does in swaks.
    """
    suggest(p.add_argument("--tls", type=parse_mode, nargs="?", const="starttls", default=None,
                           metavar="none|starttls|implicit|auto", help=TLS_HELP),
            lambda: TLS_MODES)
    p.add_argument("--no-tls", dest="tls", action="store_const", const="none",
                   help="same as --tls none")
    p.add_argument("--tls-on-connect", "-tlsc", dest="tls", action="store_const",
                   const="implicit", help="same as --tls implicit (swaks' spelling)")
    p.add_argument("--tls-optional", "-tlso", dest="tls", action="store_const", const="auto",
                   help="same as --tls auto (swaks' spelling)")


def session_security(mode: str | None) -> str | None:
    """The session's word for a mode: the session calls a cleartext connection "plain"."""
    return "plain" if mode == "none" else mode
