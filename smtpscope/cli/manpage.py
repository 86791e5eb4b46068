"""``smtpscope man``: a roff man page generated from the parsers, printed or installed."""

from __future__ import annotations

import argparse
import datetime
import os
import sys
from pathlib import Path
from typing import Any

from smtpscope.cli.common import PARTIAL_EXIT, exit_codes
from smtpscope.cli.introspect import Command, all_commands


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "man",
        help="print the man page (generated from the option parsers), or install it",
        description="Print smtpscope(1) in roff; read it with: smtpscope man | man -l -",
    )
    p.add_argument("--install", nargs="?", const="", metavar="DIR",
                   help="write smtpscope.1 into DIR/man1 (default: $XDG_DATA_HOME/man, "
                   "~/.local/share/man, which man(1) searches)")
    p.set_defaults(handler=run)


def _esc(text: str) -> str:
    """roff-safe text: backslashes and dashes escaped, no line starting a request."""
    out = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join("\\&" + line if line[:1] in (".", "'") else line
                     for line in out.split("\n"))


def _options(cmd: Command) -> list[str]:
    lines: list[str] = []
    for opt in cmd.options:
        flags = ", ".join(f"\\fB{_esc(f)}\\fR" for f in opt.flags)
        value = f" \\fI{_esc(opt.metavar)}\\fR" if opt.takes_value else ""
        lines += [".TP", flags + value, _esc(opt.help) or "(no description)"]
        if opt.choices:
            lines.append("One of: " + _esc(", ".join(opt.choices)) + ".")
    return lines


_FILES = """\
.SH FILES
.TP
\\fI$XDG_CONFIG_HOME/smtpscope/config.toml\\fR (\\fI~/.config/smtpscope/config.toml\\fR)
Option defaults: a [defaults] table for every command, a table per command ([send], [probe],
[tui] ...) and named profiles [profiles.NAME] chosen with \\fB\\-\\-profile\\fR NAME (target,
TLS mode, CA file, AUTH user and where the password is, never the password itself).
\\fB$SMTPSCOPE_CONFIG\\fR names another file.
.TP
\\fI$XDG_DATA_HOME/smtpscope/\\fR (\\fI~/.local/share/smtpscope/\\fR)
Recordings, history and certificates; \\fB$SMTPSCOPE_HOME\\fR moves them.
.SH ENVIRONMENT
.TP
\\fBSMTPSCOPE_\\fR\\fIOPTION\\fR
A default for the option of that name on every command that has it, e.g.
\\fBSMTPSCOPE_TLS=starttls\\fR, \\fBSMTPSCOPE_CAFILE\\fR, \\fBSMTPSCOPE_HELO\\fR.
The config file is read first, these override it, \\fB\\-\\-profile\\fR overrides both and the
command line wins over everything.
.TP
\\fBSMTPSCOPE_PROFILE\\fR
The profile to use when \\fB\\-\\-profile\\fR is not given.
.TP
\\fBSMTPSCOPE_CERT_HELPER=off\\fR
\\fBprobe\\fR and \\fBsend\\fR read and judge certificates in a helper process they fork
as they start (with two CPUs or more), so that loading that code overlaps their own work;
\\fBoff\\fR does it all in the one process.
.SH EXIT STATUS
As swaks: {exit_codes}.
{partial}
.SH SEE ALSO
\\fBswaks\\fR(1), \\fBposttls\\-finger\\fR(1)
"""


def render(commands: list[Command] | None = None) -> str:
    """The whole page."""
    from smtpscope import __version__

    commands = commands if commands is not None else all_commands()
    root, rest = commands[0], commands[1:]
    date = datetime.date.today().isoformat()
    lines = [f'.TH SMTPSCOPE 1 "{date}" "smtpscope {_esc(__version__)}" "User Commands"',
             ".SH NAME", "smtpscope \\- " + _esc(root.description or "SMTP client"),
             ".SH SYNOPSIS", ".B smtpscope", "[\\fITARGET\\fR] [\\fIoptions\\fR]", ".br",
             ".B smtpscope", "\\fICOMMAND\\fR [\\fIoptions\\fR]",
             ".SH DESCRIPTION",
             _esc("Without a command smtpscope opens the interactive TUI, connected to TARGET "
                  "when one is given. The commands below run headless, print transcripts or "
                  "JSON, and exit with swaks' exit codes."),
             ".SH OPTIONS (TUI)", *_options(root), ".SH COMMANDS"]
    for cmd in rest:
        lines += [f".SS smtpscope {_esc(' '.join(cmd.path))}"]
        if cmd.description:
            lines.append(_esc(cmd.description))
        lines += [".PP", "Usage: " + _esc(cmd.usage), *_options(cmd)]
    tail = _FILES.replace("{exit_codes}", _esc(exit_codes()))
    return "\n".join(lines) + "\n" + tail.replace("{partial}", _esc(PARTIAL_EXIT))


def install_dir(given: str) -> Path:
    """Where --install writes: DIR/man1, by default the per-user man directory."""
    if given:
        return Path(given).expanduser() / "man1"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "man" / "man1"


def run(args: argparse.Namespace) -> int:
    page = render()
    if args.install is None:
        sys.stdout.write(page)
        return 0
    target = install_dir(args.install)
    try:
        target.mkdir(parents=True, exist_ok=True)
        (target / "smtpscope.1").write_text(page, encoding="utf-8")
    except OSError as exc:
        print(f"smtpscope man: cannot write {target}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"installed {target / 'smtpscope.1'}")
    return 0
