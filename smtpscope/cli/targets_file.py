"""``--targets-file``: more targets for ``probe``, one a line."""

from __future__ import annotations

import sys


class TargetsFileError(ValueError):
    """--targets-file holds something that is not text (the message names the line)."""


def targets(given: list[str], path: str | None) -> list[str]:
    """``given`` and then the targets in ``path`` (``-``: standard input), a line each, with
    ``#`` comments; raises ``TargetsFileError`` for what is not a text file."""
    targets = list(given)
    if path:
        if path == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(path, "rb") as handle:
                data = handle.read()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line_no = data.count(b"\n", 0, exc.start) + 1
            raise TargetsFileError(
                f"line {line_no} is not UTF-8 text (byte 0x{data[exc.start]:02x}); a host name "
                "is ASCII or UTF-8 (IDN)") from None
        if "\0" in text:
            line_no = text.count("\n", 0, text.index("\0")) + 1
            raise TargetsFileError(f"line {line_no} holds a NUL byte: not a text file")
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                targets.append(line)
    return targets
