"""Where a line ends in smtpscope's text fields: at CR, LF or CRLF, nowhere else.

Python's ``str.splitlines`` also ends a line at VT, FF, FS, GS, RS, NEL, U+2028 and U+2029,
and Textual splits with it: a one-line ``Input`` kept a paste only up to the first of those,
and the message editor's ``Document`` turned each into a line break, which goes out as CRLF.
A form feed in a pasted text, or a U+2028 copied from a web page, then changed the message.
SMTP ends lines with CRLF only; the fields here keep those characters as part of the line and
show them as pictures (see :mod:`.field_text`).
"""

from __future__ import annotations

import re

from textual.widgets.text_area import Document, EditResult, Location

_LINE_END = re.compile(r"\r\n|\r|\n")


def first_line(text: str) -> str:
    """What comes before the first CR or LF of ``text``."""
    found = _LINE_END.search(text)
    return text if found is None else text[: found.start()]


class _MailLines(str):
    """A string whose ``splitlines`` ends lines only at CR, LF and CRLF (what ``Document``
    calls on the text it is given, and nothing else of it)."""

    __slots__ = ()

    def splitlines(self, keepends: bool = False) -> list[str]:
        parts = _LINE_END.split(self)
        if not keepends:
            if parts[-1] == "":  # as str.splitlines: no empty line after a final line end
                parts.pop()
            return parts
        ends = _LINE_END.findall(self)
        lines = [part + end for part, end in zip(parts, ends, strict=False)]
        if parts[-1]:
            lines.append(parts[-1])
        return lines


def mail_lines(text: str) -> str:
    """``text``, read by ``Document`` with CR, LF and CRLF as its only line ends."""
    return _MailLines(text)


class MailDocument(Document):
    """A ``Document`` whose every edit (typing, a paste, undo, redo) splits its text into
    lines at CR, LF and CRLF only."""

    def __init__(self, text: str) -> None:
        super().__init__(mail_lines(text))

    def replace_range(self, start: Location, end: Location, text: str) -> EditResult:
        return super().replace_range(start, end, mail_lines(text))
