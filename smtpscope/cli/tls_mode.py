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


#: Where the parsed arguments keep every ``(option, mode)`` given on the command line.
GIVEN = "tls_modes_given"


class _Mode(argparse.Action):
    """Stores the mode, as ``store``/``store_const`` would, and notes which option gave it:
    two options that ask for different modes are a contradiction, not "the last one wins"
    (see ``conflict``)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        mode = self.const if self.nargs == 0 or values is None else values
        setattr(namespace, self.dest, mode)
        given = list(getattr(namespace, GIVEN, None) or ())
        given.append((option_string or self.dest, mode))
        setattr(namespace, GIVEN, given)


def add_arguments(p: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """``--tls MODE`` plus aliases: ``--no-tls``, swaks' ``--tls-on-connect`` and ``-tlso``.

    A bare ``--tls`` means STARTTLS required, as it does in swaks.
    """
    suggest(p.add_argument("--tls", type=parse_mode, nargs="?", const="starttls", default=None,
                           action=_Mode, metavar="none|starttls|implicit|auto", help=TLS_HELP),
            lambda: TLS_MODES)
    p.add_argument("--no-tls", dest="tls", action=_Mode, nargs=0, const="none",
                   help="same as --tls none")
    p.add_argument("--tls-on-connect", "-tlsc", dest="tls", action=_Mode, nargs=0,
                   const="implicit", help="same as --tls implicit (swaks' spelling)")
    p.add_argument("--tls-optional", "-tlso", dest="tls", action=_Mode, nargs=0, const="auto",
                   help="same as --tls auto (swaks' spelling)")


def conflict(args: argparse.Namespace) -> str | None:
    """Why the TLS mode options given contradict each other (None: they do not)."""
    given: list[tuple[str, str]] = getattr(args, GIVEN, None) or []
    first_option, first = given[0] if given else ("", "")
    for option, mode in given[1:]:
        if mode != first:
            return (f"{spelled(first_option, first)} and {spelled(option, mode)} contradict "
                    "each other: give one")
    return None


def spelled(option: str, mode: str) -> str:
    """How the user asked for ``mode``: ``--tls MODE``, or an option that means one."""
    return f"{option} {mode}" if option == "--tls" else option


def session_security(mode: str | None) -> str | None:
    """The session's word for a mode: the session calls a cleartext connection "plain"."""
    return "plain" if mode == "none" else mode
