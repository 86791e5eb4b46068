"""Where ``smtpscope send`` output goes: --silent levels, --suppress-data, time lapse, a file."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, TextIO

from smtpscope.cli import common
from smtpscope.cli.output import write_or_discard
from smtpscope.sanitize import terminal_safe

if TYPE_CHECKING:
    from smtpscope.record import Entry

SILENT_HELP = ("1: nothing unless an error occurs, then everything; 2: only errors; "
               "3: nothing at all (swaks' meanings; no value means 1)")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The output options shared by commands that print a live transcript."""
    out = p.add_argument_group("output")
    out.add_argument("-S", "--silent", type=int, nargs="?", const=1, default=0,
                     choices=(0, 1, 2, 3), metavar="1|2|3", help=SILENT_HELP)
    out.add_argument("-n", "--suppress-data", action="store_true",
                     help="summarise the message as N lines / N bytes instead of printing it")
    out.add_argument("--show-time-lapse", "-stl", action="store_true",
                     help="print the time each reply took, as it arrives")
    out.add_argument("--output-file", "--output", dest="output_file", metavar="FILE",
                     help="write the transcript and errors to FILE instead of stdout/stderr")


def data_summary(entry: Entry) -> str | None:
    """``N lines, N bytes`` for an entry carrying message content (DATA or BDAT), else None."""
    raw = entry.raw
    if entry.direction != "client":
        return None
    if entry.kind == "content":
        body = raw
    elif entry.kind == "command" and raw[:5].upper() == b"BDAT ":
        body = raw.partition(b"\r\n")[2]
    else:
        return None
    lines = body.count(b"\n") + (0 if body.endswith(b"\n") or not body else 1)
    return f"{lines} lines, {len(body)} bytes"


class Output:
    """A transcript listener and error sink honouring the output options."""

    def __init__(self, args: argparse.Namespace, stream: TextIO | None = None) -> None:
        self.silent = int(getattr(args, "silent", 0) or 0)
        self.suppress = bool(getattr(args, "suppress_data", False))
        self.lapse = bool(getattr(args, "show_time_lapse", False))
        self.file: TextIO | None = None
        path = getattr(args, "output_file", None)
        if path:
            self.file = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self.stream = self.file or stream or sys.stdout
        self.errors = self.file or sys.stderr
        self.held: list[str] = []

    def text(self, entry: Entry) -> str:
        """What the transcript shows of ``entry``: its lines, each ended by LF."""
        summary = data_summary(entry) if self.suppress else None
        if summary is not None:
            first = "" if entry.kind == "content" else \
                entry.raw.partition(b"\r\n")[0].decode("ascii", "replace") + " "
            out = f"{common.prefix_for(entry)}{first}[message not shown: {summary}]\n"
        else:
            out = common.format_entry(entry) + "\n"
        if self.lapse and entry.direction == "server" and entry.latency is not None:
            out += f"{common.PREFIX_NOTE}{entry.latency * 1000:.3f} ms\n"
        return out

    def __call__(self, entry: Entry) -> None:
        text = terminal_safe(self.text(entry))
        if self.silent == 1:
            self.held.append(text)
        elif self.silent == 0:
            write_or_discard(self.stream, text)  # "| head" must not read as a network error

    def error(self, command: str, message: str, hint: str = "") -> None:
        """The failure line: held output first under --silent 1, nothing under --silent 3."""
        if self.silent == 3:
            return
        if self.held:
            write_or_discard(self.stream, "".join(self.held))
            self.held.clear()
        common.error_line(command, message, hint, stream=self.errors)

    def print(self, text: str) -> None:
        """A result line (JSON): always shown except under --silent 3."""
        if self.silent != 3:
            write_or_discard(self.stream, terminal_safe(text) + "\n")

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


def open_output(args: argparse.Namespace) -> Output:
    """The output for ``args``; OSError when --output-file cannot be written."""
    return Output(args)

