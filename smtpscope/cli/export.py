"""``smtpscope export FILE --as swaks``: a swaks command line that repeats a recorded session."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from smtpscope.cli import common
from smtpscope.sanitize import terminal_safe, visible


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "export",
        help="turn a recording into a swaks command line",
        description="Print a swaks command line that repeats the client side of a recording. "
        "Secrets are left out: swaks prompts for the password when --auth-password is "
        "omitted. What swaks cannot express is listed on stderr.",
    )
    p.add_argument("file", metavar="FILE", help="a recording (.jsonl)")
    p.add_argument("--as", dest="fmt", choices=("swaks",), default="swaks",
                   help="output format (swaks)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run ``smtpscope export``; returns the exit code."""
    from smtpscope.cli.replay import load
    from smtpscope.record.swaks import swaks_command_line

    recording = load("export", args.file)
    if recording is None:
        return common.EXIT_USAGE
    if not recording.entries:
        # A command line made from the header alone would only connect and quit: not a repeat.
        common.error_line("export", f"{visible(args.file)}: no entries could be loaded, "
                          "so there is nothing to repeat")
        return common.EXIT_USAGE
    entries = recording.entries
    seams = [i for i, entry in enumerate(entries) if "recording" in (entry.info or {})]
    if seams:  # one swaks run repeats one session: the first
        entries = entries[: seams[0]]
    line, notes = swaks_command_line(recording.header, entries)
    if seams:
        notes.append(f"the file holds {len(seams) + 1} recordings: this repeats the first")
    for note in notes:
        print(terminal_safe(f"smtpscope export: note: {note}"), file=sys.stderr)
    print(terminal_safe(line))
    return common.EXIT_OK
