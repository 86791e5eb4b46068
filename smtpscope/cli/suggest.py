"""What an option accepts, for shell completion and for a "did you mean" after a typo.

A type that normalises (``--tls``'s aliases, any case of a mechanism) or a list made on demand
is declared here as a function, called only when a completion script is made or a value is
mistyped: the commands that declare one import nothing more at start-up. :class:`HintingParser`
points at the likely value, option or command when one is mistyped, from the same lists.
"""

from __future__ import annotations

import argparse
import sys
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NoReturn

from smtpscope.typos import did_you_mean

_SUGGESTED: weakref.WeakKeyDictionary[argparse.Action, Callable[[], Iterable[str]]] = (
    weakref.WeakKeyDictionary())


def suggest(action: argparse.Action, values: Callable[[], Iterable[str]]) -> None:
    """Declare the values completion offers for ``action``."""
    _SUGGESTED[action] = values


def suggested(action: argparse.Action) -> tuple[str, ...]:
    """The values declared for ``action``, else its ``choices`` (``()`` for neither)."""
    if (values := _SUGGESTED.get(action)) is not None:
        return tuple(values())
    return tuple(str(c) for c in action.choices or ())


_FIRST_ARGUMENT = "the server is the first argument here: {prog} HOST[:PORT] ..."
# swaks' spellings that smtpscope spells otherwise: (the options this needs, what to write).
_SWAKS: dict[str, tuple[str, str]] = {
    "--server": ("", _FIRST_ARGUMENT),
    "-s": ("", _FIRST_ARGUMENT),
    "-t": ("--to", "--to ADDRESS"),
    "-f": ("--from", "--from ADDRESS"),
    "--tls-verify": ("--tls-level", "certificates are verified by default; --tls-level verify "
                     "refuses a session whose certificate does not verify"),
}


# Where a password would go on the command line (ours guessed, and swaks'): never taken.
_PASSWORD_OPTIONS = ("--password", "--pass", "--auth-password", "-ap")


def _unechoed(extras: list[str]) -> list[str]:
    """The arguments as an error may repeat them: a password given to an option we do not
    take (swaks' --auth-password) is not written back to the terminal or a log."""
    shown: list[str] = []
    for arg in extras:
        name, eq, _ = arg.partition("=")
        if shown and shown[-1] in _PASSWORD_OPTIONS:
            shown.append("(hidden)")
        else:
            shown.append(f"{name}=(hidden)" if eq and name in _PASSWORD_OPTIONS else arg)
    return shown


class _NoPassword(argparse.Action):
    """A password given on the command line, where the shell's history and the process list
    keep it: refused, and never written back. Without this option a guessed ``--password``
    would be read as ``--password-env`` and the password shown as a variable's name."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        self.instead: str = kwargs.pop("instead")
        super().__init__(option_strings, dest=argparse.SUPPRESS, nargs="?",
                         default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        parser.error(f"{option_string}: no password on the command line ({self.instead})")


def refuse_passwords(parser: argparse.ArgumentParser | Any, instead: str) -> None:
    """Refuse ``--password``, ``--pass`` and swaks' ``--auth-password``/``-ap`` on ``parser``
    (or an argument group), naming ``instead`` where the password comes from."""
    parser.add_argument(*_PASSWORD_OPTIONS, action=_NoPassword, instead=instead)


class HintingParser(argparse.ArgumentParser):
    """argparse's parser that points at the likely choice, option or command after a typo.

    A value outside an option's choices (or refused by its type, when the option declares its
    values with :func:`suggest`) gets the closest one; an unknown option the closest of this
    parser's (the subcommand's own, not the top-level's); ``commands`` are names of commands
    a first word may have been meant as. Errors stay one line, with argparse's usage above.
    """

    def __init__(self, *args: Any, commands: Sequence[str] = (), help_words: str = "",
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = tuple(commands)
        #: What to run for this parser's help, when not ``prog --help``.
        self.help_words = help_words

    def _get_values(self, action: argparse.Action, arg_strings: list[str]) -> Any:
        try:
            return super()._get_values(action, arg_strings)
        except argparse.ArgumentError as exc:
            candidates = suggested(action)
            hint = next((h for arg in arg_strings if (h := did_you_mean(arg, candidates))), "")
            if not hint:
                raise
            raise argparse.ArgumentError(action, f"{exc.message}{hint}") from None

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        """As argparse's, but arguments left over are an error here, in this parser: a
        subcommand names its own mistyped option, with its own usage."""
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            given = list(sys.argv[1:] if args is None else args)
            self.error(f"unrecognized arguments: {' '.join(_unechoed(extras))}"
                       f"{self._unknown_hint(given, extras)}")
        return parsed, extras

    def _unknown_hint(self, args: list[str], extras: list[str]) -> str:
        # A first word close to a command's name explains the rest: the command was meant.
        first = args[0] if args else "-"
        if not first.startswith("-") and (
                hint := did_you_mean(first, self.commands, prefix=f"{self.prog} ")):
            return hint
        for extra in extras:
            if hint := self._swaks_hint(extra):
                return hint
        options = [name for name in self._option_string_actions if len(name) > 2]
        for extra in extras:
            if extra.startswith("-") and (hint := did_you_mean(extra.split("=")[0], options)):
                return hint
        return ""

    def _swaks_hint(self, option: str) -> str:
        """What swaks' spelling ``option`` is written as here ("" when it is not one)."""
        needs, instead = _SWAKS.get(option.split("=")[0], ("-", ""))
        if not instead or (needs and needs not in self._option_string_actions):
            return ""
        return f" (swaks' {option.split('=')[0]}: {instead.format(prog=self.prog)})"

    def error(self, message: str) -> NoReturn:
        """The error line, then where the options are; not argparse's usage block above it
        (thirty lines for ``send``, which bury the one that matters)."""
        from smtpscope.sanitize import terminal_safe

        if message.startswith("ambiguous option: "):  # swaks' -t matches -tlsc and -tlso
            message += self._swaks_hint(message.split()[2])
        self.exit(2, f"{self.prog}: error: {terminal_safe(message)}\n"  # it quotes the typed
                     f"(see '{self.help_words or self.prog} --help' for the options)\n")
