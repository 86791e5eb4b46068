"""Exports of a transcript: a plain S:/C: text transcript people can paste anywhere."""

from __future__ import annotations

import re
from collections.abc import Iterable

from smtpscope.record.transcript import Entry
from smtpscope.sanitize import visible_lines

PREFIX = {"client": "C: ", "server": "S: ", "local": "-- "}
_LINE_END_CRS = "\r+(?=\n|\\Z)"  # compiled by re on first use


def entry_lines(entry: Entry) -> list[str]:
    """The visible text lines of one entry (control characters and undecodable bytes
    escaped)."""
    text = entry.shown_text
    if text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith("\n"):
        text = text[:-1]
    if "\r" in text:  # the CRs that end each line go, as rstrip("\r") would take them
        crlf_cut = text.replace("\r\n", "\n")  # the usual case, in a fraction of the time
        text = crlf_cut if "\r" not in crlf_cut else re.sub(_LINE_END_CRS, "", text)
    own = entry.direction == "local"  # smtpscope's words: foreign parts already escaped
    # All lines in one pass: a message body can have a hundred thousand.
    return visible_lines(text, keep_backslashes=own).split("\n")


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
