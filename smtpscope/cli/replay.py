"""``smtpscope replay FILE``: print a recording as text, swaks or JSON, or open it in the TUI."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from smtpscope.cli import common
from smtpscope.sanitize import terminal_safe, visible

if TYPE_CHECKING:
    from smtpscope.record import Recording


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "replay",
        help="print a recording (text, swaks, json) or step through it in the TUI",
        description="Print a recording made with --record. Without --format the TUI replay "
        "opens when stdout is a terminal; otherwise the text format is printed. A damaged or "
        "cut-off recording loads as far as it can, and stderr says what was lost.",
    )
    p.add_argument("file", metavar="FILE", help="a recording (.jsonl)")
    p.add_argument("--format", choices=("text", "swaks", "json"), default=None,
                   help="text: S:/C: transcript; swaks: swaks' prefixes; json: header, entries")
    p.add_argument("--timestamps", action="store_true",
                   help="(text) prefix each line with seconds since the start")
    p.set_defaults(handler=run)


def load(command: str, path: str) -> Recording | None:
    """Read a recording, saying on stderr what could not be loaded; None when nothing could."""
    from smtpscope.record import RecordingError, read_recording

    try:
        recording = read_recording(path)
    except RecordingError as exc:
        common.error_line(command, str(exc), "give a file written by --record")
        return None
    for problem in recording.problems:
        print(terminal_safe(f"smtpscope {command}: warning: {visible(path)}: {problem}"),
              file=sys.stderr)
    if recording.problems:
        print(f"smtpscope {command}: loaded {len(recording.entries)} entries; "
              f"{len(recording.problems)} line(s) could not be loaded", file=sys.stderr)
    elif recording.footer is None and recording.entries:
        print(f"smtpscope {command}: note: {visible(path)} has no closing line: the session may "
              "have ended abruptly (everything written before was loaded)", file=sys.stderr)
    joined = [entry for entry in recording.entries if "recording" in (entry.info or {})]
    if joined:
        print(f"smtpscope {command}: note: {visible(path)} holds {len(joined) + 1} recordings one "
              "after another; a note marks where each starts", file=sys.stderr)
    if recording.header.get("secrets_recorded") or any(
            (entry.info or {}).get("recording", {}).get("secrets_recorded")
            for entry in recording.entries):
        print(f"smtpscope {command}: warning: this recording contains authentication secrets "
              "in clear; do not share it", file=sys.stderr)
    return recording


def run(args: argparse.Namespace) -> int:
    """Run ``smtpscope replay``; returns the exit code."""
    fmt = args.format
    if fmt is None and sys.stdout.isatty():
        # The TUI parses entries as replay reaches them (a huge recording opens at once) and
        # says there what it could not read; only the header is checked here.
        from smtpscope.record.lazy import open_recording
        from smtpscope.record.store import RecordingError

        try:
            header = open_recording(args.file).header
        except RecordingError as exc:
            common.error_line("replay", str(exc), "give a file written by --record")
            return common.EXIT_USAGE
        if header.get("secrets_recorded"):
            print("smtpscope replay: warning: this recording contains authentication secrets "
                  "in clear; do not share it", file=sys.stderr)
        from smtpscope.tui.app import create_app, run_app

        return run_app(create_app(replay_path=args.file))
    recording = load("replay", args.file)
    if recording is None:
        return common.EXIT_USAGE
    if not recording.entries and not recording.problems:
        # Else an empty stdout and exit 0 look like a replay that printed nothing by mistake.
        print(f"smtpscope replay: note: {visible(args.file)} holds only its header: the session "
              "recorded no entry", file=sys.stderr)
    if fmt == "json":
        sys.stdout.write(common.dumps({
            "schema_version": common.SCHEMA_VERSION,
            "header": recording.header,
            "entries": [entry.to_json() for entry in recording.entries],
            "footer": recording.footer,
            "problems": recording.problems,
        }) + "\n")
    elif fmt == "swaks":
        from smtpscope.record.swaks import to_swaks

        sys.stdout.write(terminal_safe(to_swaks(recording.entries)))
    else:
        from smtpscope.record import to_text

        sys.stdout.write(terminal_safe(to_text(recording.entries, timestamps=args.timestamps)))
    return common.EXIT_OK
