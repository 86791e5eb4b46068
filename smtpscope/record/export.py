"""Exports of a transcript: a plain S:/C: text transcript people can paste anywhere."""

from __future__ import annotations

from collections.abc import Iterable

from smtpscope.record.transcript import Entry
from smtpscope.sanitize import visible

PREFIX = {"client": "C: ", "server": "S: ", "local": "-- "}


def entry_lines(entry: Entry) -> list[str]:
    """The visible text lines of one entry (control characters and undecodable bytes
    escaped)."""
    text = entry.shown_text
    if text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith("\n"):
        text = text[:-1]
    lines = text.split("\n") if text else [""]
    own = entry.direction == "local"  # smtpscope's words: foreign parts already escaped
    return [visible(line.rstrip("\r"), keep_backslashes=own) for line in lines]


def to_text(entries: Iterable[Entry], *, timestamps: bool = False) -> str:
    """Render entries as an ``S:``/``C:`` transcript; local notes are prefixed ``--``."""
    out: list[str] = []
    start: float | None = None
    for entry in entries:
        if start is None:
            start = entry.mono
        prefix = PREFIX[entry.direction]
        if entry.off_script and entry.direction == "client":
            prefix = "C! "
        elif entry.direction == "server" and (
            entry.kind == "raw" or (entry.reply or {}).get("unsolicited")
        ):
            prefix = "S! "  # bytes outside a reply, or a reply nobody asked for
        stamp = f"[{entry.mono - start:8.3f}] " if timestamps else ""
        for line in entry_lines(entry):
            out.append(f"{stamp}{prefix}{line}")
        if entry.info and "recording" in entry.info:
            start = None  # another recording joined on: its own clock, from its own start
    return "\n".join(out) + ("\n" if out else "")
