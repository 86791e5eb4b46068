"""What a text field shows of a value that holds characters a terminal would act on.

Typing puts none in a field, but a paste can (text with colour codes, a control byte): the
value keeps them, to be sent exactly as pasted, and the field shows each as one visible,
highlighted character (``sanitize.pictured``), so the cursor stays on the text and nothing
reaches the terminal as a control sequence.
"""

from __future__ import annotations

import re
from typing import Any

from rich.control import strip_control_codes
from rich.highlighter import Highlighter
from rich.text import Text
from textual.widgets import Input

from smtpscope.sanitize import FIELD_PICTURES, pictured

PICTURE_STYLE = "reverse"


def _mark(text: Text, shown: str) -> None:
    for found in re.finditer(FIELD_PICTURES, shown):
        text.stylize(PICTURE_STYLE, found.start(), found.end())


class PicturedHighlighter(Highlighter):
    """An ``Input`` highlighter: the value's unsafe characters shown as pictures.

    ``field``: the input it highlights. Rich's ``Text`` drops BEL, BS, VT, FF and CR from the
    value before a highlighter sees it, which would hide them and put the cursor past where it
    is; with the field at hand the highlighter pictures them from the value itself.
    """

    def __init__(self, field: Input | None = None) -> None:
        self.field = field

    def highlight(self, text: Text) -> None:
        plain = text.plain
        if self.field is not None:
            value = self.field.value
            if len(value) != len(plain) and strip_control_codes(value) == plain:
                plain = value
        shown = pictured(plain)
        if shown is text.plain:
            return
        text.plain = shown  # one for one with the value: the cursor stays on its character
        _mark(text, shown)


def pictured_line(line: str) -> Text | None:
    """A ``TextArea`` line as shown, or None when it has nothing to picture."""
    shown = pictured(line)
    if shown is line:
        return None
    text = Text(shown, end="", no_wrap=True)
    _mark(text, shown)
    return text


def picture_fields(screen: Any) -> None:
    """Give the inputs of a screen smtpscope did not build (Textual's command palette) the
    pictured display its own inputs have."""
    for field in screen.query(Input):
        if field.highlighter is None:
            field.highlighter = PicturedHighlighter(field)
