"""What the argument parsers declare, for the generated completion scripts and man page."""

from __future__ import annotations

import argparse

from smtpscope.cli.suggest import suggested
from smtpscope.values import Frozen


class Option(Frozen):
    """One option: every spelling, whether it takes a value, its choices, its help text."""

    __slots__ = ("choices", "flags", "help", "is_file", "metavar", "takes_value")
    flags: tuple[str, ...]
    takes_value: bool
    choices: tuple[str, ...]
    is_file: bool
    metavar: str
    help: str

    def __init__(self, flags: tuple[str, ...], takes_value: bool, choices: tuple[str, ...],
                 is_file: bool, metavar: str, help: str) -> None:
        self._set(flags=flags, takes_value=takes_value, choices=choices, is_file=is_file,
                  metavar=metavar, help=help)


class Command(Frozen):
    """A command (``()`` is the TUI's ``smtpscope [TARGET]``) with its options and children."""

    __slots__ = ("arguments", "children", "description", "options", "path", "usage")
    path: tuple[str, ...]
    description: str
    usage: str
    options: tuple[Option, ...]
    children: tuple[str, ...]
    arguments: tuple[str, ...]  # the values its positional arguments accept, if listed

    def __init__(self, path: tuple[str, ...], description: str, usage: str,
                 options: tuple[Option, ...], children: tuple[str, ...],
                 arguments: tuple[str, ...] = ()) -> None:
        self._set(path=path, description=description, usage=usage, options=options,
                  children=children, arguments=arguments)


_FILE_WORDS = ("FILE", "PATH", "DIR")
_FILE_DESTS = {"cafile", "record", "output_file", "targets_file", "netrc_file", "file"}


def _help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    if not action.help or action.help == argparse.SUPPRESS:
        return ""
    formatter = parser._get_formatter()
    return " ".join(formatter._expand_help(action).split())


def _option(parser: argparse.ArgumentParser, action: argparse.Action) -> Option:
    takes = action.nargs != 0 and not isinstance(
        action, argparse._StoreConstAction | argparse._StoreTrueAction | argparse._StoreFalseAction
        | argparse._CountAction | argparse._HelpAction | argparse._VersionAction
        | argparse._AppendConstAction)
    metavar = action.metavar if isinstance(action.metavar, str) else (action.dest.upper())
    choices = suggested(action) if takes else ()
    is_file = takes and (action.dest in _FILE_DESTS or any(w in metavar for w in _FILE_WORDS))
    return Option(tuple(action.option_strings), takes, choices, is_file,
                  metavar if takes else "", _help(parser, action))


def describe(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[Command]:
    """This parser and every subcommand below it, depth first."""
    options: list[Option] = []
    children: dict[str, argparse.ArgumentParser] = {}
    arguments: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            children.update(action.choices)
        elif action.option_strings and action.help != argparse.SUPPRESS:  # (refused ones)
            options.append(_option(parser, action))
        else:
            arguments.extend(suggested(action))
    usage = " ".join(parser.format_usage().split()).removeprefix("usage: ")
    out = [Command(path, parser.description or "", usage, tuple(options), tuple(children),
                   tuple(arguments))]
    for name, child in children.items():
        out.extend(describe(child, (*path, name)))
    return out


def all_commands() -> list[Command]:
    """The TUI parser's options under ``()`` and every subcommand's under its name."""
    from smtpscope.cli import build_parser
    from smtpscope.cli import tui as tui_cli

    main = build_parser()
    tui = tui_cli.build_parser()
    from smtpscope.cli.defaults import add_profile_option

    add_profile_option(tui)
    top = describe(main)
    [tui_cmd] = describe(tui)[:1]
    merged_options = tuple(o for o in top[0].options) + tuple(
        o for o in tui_cmd.options if o.flags[0] not in ("-h", "--help"))
    root = Command((), main.description or "", tui_cmd.usage, merged_options, top[0].children)
    return [root, *top[1:]]
