"""The ``smtpscope`` command line: subcommands register lazily so headless commands start fast."""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from smtpscope.cli.suggest import HintingParser

# Subcommand name -> module under smtpscope.cli that defines ``add_parser(subparsers)`` and
# ``run(args) -> int``. Modules are imported only when their command runs (and for --help).
SUBCOMMANDS: dict[str, str] = {
    "probe": "probe",
    "send": "send",
    "mx": "mx",
    "replay": "replay",
    "export": "export",
    "auth": "auth",
    "serve": "serve",
    "demo": "demo",
    "completion": "completion",
    "man": "manpage",
    "keys": "keys",
}

EXIT_USAGE = 1

# Commands whose only output is standard output and error: once both are flushed, the process
# ends without tearing the interpreter down. Freeing every module and object one by one costs
# a short run such as a probe about 9 ms of 70; the system takes the memory back at once. A
# command that writes files (recordings, exports) is not listed: its files close on the way out.
QUICK_EXIT = frozenset({"mx", "probe"})


def _known_subcommand(argv: Sequence[str]) -> str | None:
    for arg in argv:
        if arg in SUBCOMMANDS:
            return arg
        if not arg.startswith("-"):
            return None
    return None


# True while build_parser runs: see _Parser.
_building = False


class _Parser(HintingParser):
    """The hinting parser (:class:`~smtpscope.cli.suggest.HintingParser`), measuring the
    terminal only for text it prints (help, usage, errors).

    ``add_argument`` makes a formatter for every option only to check its metavar, and making
    one measures the terminal, which loads ``shutil`` (and with it zlib, bz2 and lzma): about
    1.7 ms of a probe that prints no help. The formatters made while the parser is built get a
    set width instead, which that check never reads. Subcommand parsers are of this class too.
    """

    def _get_formatter(self) -> argparse.HelpFormatter:
        if _building:
            # every argparse formatter takes a width; typeshed's protocol names prog alone
            return self.formatter_class(prog=self.prog, width=80)  # type: ignore[call-arg]
        return super()._get_formatter()


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """Build the parser; with ``only`` just that subcommand's module is imported."""
    global _building
    _building = True
    try:
        return _build_parser(only)
    finally:
        _building = False


def _build_parser(only: str | None) -> argparse.ArgumentParser:
    from smtpscope import __version__

    parser = _Parser(
        prog="smtpscope",
        description="Interactive SMTP client, recorder and debugging server.",
        epilog="Without a command, smtpscope opens the TUI: 'smtpscope' shows the connect "
        "screen, 'smtpscope TARGET' connects at once (see 'smtpscope TARGET --help' for "
        "--tls, --cafile, --insecure, --record, --history ...).",
    )
    parser.add_argument("--version", action="version", version=f"smtpscope {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    names = [only] if only else list(SUBCOMMANDS)
    for name in names:
        try:
            module = importlib.import_module(f"smtpscope.cli.{SUBCOMMANDS[name]}")
        except ModuleNotFoundError as exc:  # a subcommand not built yet must not break the rest
            if exc.name != f"smtpscope.cli.{SUBCOMMANDS[name]}":
                raise
            continue
        module.add_parser(sub)
        if name in sub.choices:
            from smtpscope.cli.defaults import add_profile_option

            add_profile_option(sub.choices[name])
    return parser


def subcommand_parser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    """The parser of one subcommand inside the main parser."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[name]  # type: ignore[no-any-return]
    raise KeyError(name)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    name = _known_subcommand(args_list)
    if name is None and args_list and args_list[0] not in ("-h", "--help", "--version"):
        # ``smtpscope TARGET [options]`` and ``smtpscope --history``: the TUI's own parser.
        from smtpscope.cli import tui

        return tui.run_target(args_list)
    if name is None and not args_list:
        from smtpscope.cli import tui

        return tui.run_target([])
    # Loading the command's modules and building its parser allocate many objects and free
    # few: the cyclic collector would scan them all again and again for nothing (several ms).
    # It is off until the command runs; then those objects are frozen out of later scans.
    # Only for a real command line: a caller in a longer-lived process keeps its collector.
    process = argv is None and gc.isenabled()
    if process:
        gc.disable()
    try:
        code = _run_command(name, args_list, process=process)
    finally:
        if process:
            gc.enable()
    if process and name in QUICK_EXIT:
        _exit_now(code)
    return code


def _exit_now(code: int) -> NoReturn:
    """Flush standard output and error, then end the process with ``code`` at once."""
    import os

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:
            from smtpscope.cli.output import EXIT_PIPE, closed_outputs

            if closed_outputs((stream,)):
                code = EXIT_PIPE  # as when the reader goes away while the command runs
        except (OSError, ValueError):
            pass  # closed or gone: nothing more can be said on it
    checker = sys.modules.get("smtpscope.security.checker")
    if checker is not None:
        checker.finish()  # the certificate helper ends with us, and leaves no zombie
    os._exit(code)


def _run_command(name: str | None, args_list: list[str], *, process: bool = False) -> int:
    from smtpscope.sanitize import terminal_safe

    if name == "send":
        from smtpscope.cli.send_message import MessageUsage, rewrite_argv

        try:
            args_list = rewrite_argv(args_list)
        except MessageUsage as exc:
            print(terminal_safe(f"smtpscope send: {exc}"), file=sys.stderr)
            return EXIT_USAGE
    parser = build_parser(only=name)
    if name is not None:
        from smtpscope.cli.defaults import ConfigError, apply

        try:
            apply(subcommand_parser(parser, name), name, args_list)
        except ConfigError as exc:
            print(terminal_safe(f"smtpscope {name}: {exc}"), file=sys.stderr)
            return EXIT_USAGE
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # argparse exits 2 on usage errors; swaks' usage code is 1
        return EXIT_USAGE if exc.code not in (0, None) else 0
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    if process:
        gc.freeze()
        gc.enable()
    try:
        return int(handler(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError as exc:  # "| head": the reader went away; not a bug to report
        from smtpscope.cli.output import EXIT_PIPE, closed_outputs

        if closed_outputs((sys.stdout, sys.stderr)):
            return EXIT_PIPE
        from smtpscope.cli.crash import report_crash

        return report_crash(exc)
    except Exception as exc:  # a bug: name the file with the traceback, exit non-zero
        from smtpscope.cli.crash import report_crash

        return report_crash(exc)
