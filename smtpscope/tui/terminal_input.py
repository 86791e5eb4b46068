"""Escape followed at once by more keys: read as the Escape and the keys it was.

A terminal sends the Escape key as one ESC byte, and Alt (Meta) with a character as ESC then
that character, so the bytes alone cannot tell Escape-then-``N`` from Alt+N. Textual's parser
(8.x) decides by time: after an ESC it waits up to 100 ms for the rest of an escape sequence.
Keys that come in that time (sent with no pause by a script or ``tmux send-keys``, or read late
by a busy app) are collected as one would-be sequence of up to 32 characters, then handed out
with the ESC turned into a ``^`` key, or into Alt on the first character: the Escape is lost
and the text goes to whatever still has the focus (the dialog Escape was meant to close).

:class:`EscapeAwareParser` takes an ESC that is followed, in the same read, by a character
that begins no escape sequence and then more input, as the Escape key there and then (it
completes the ESC to the kitty protocol's Escape, which Textual reads at once); the characters
after it are read as usual. One Alt+character pressed on its own arrives alone in
its read and keeps Textual's reading (the key gate turns such a key into Escape and the
character when nothing is bound to it: see :mod:`.keys`). Inside a bracketed paste nothing is
changed: an ESC there is pasted text.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

from textual import constants
from textual._ansi_sequences import ANSI_SEQUENCES_KEYS
from textual._xterm_parser import XTermParser

ESC = "\x1b"
# After an ESC these begin a longer sequence a terminal sends (CSI, DCS, OSC, APC) or end one
# (ST): never read as a key of their own. An O begins one (SS3) only as a key the parser knows
# (ESC O P is F1 in many terminals); otherwise it is the O typed after Escape.
INTRODUCERS = frozenset("[P]_\\")
SS3 = "O"
PASTE_START = "\x1b[200~"
PASTE_END = "\x1b[201~"

# The Escape key as the kitty keyboard protocol sends it (CSI 27 u), which Textual's parser
# reads at once: an ESC that is a key is completed to it, so the parser, not this module, still
# puts every key in order (an ESC it holds from an earlier read included).
ESCAPE_COMPLETION = "[27u"


class EscapeSplitter:
    """Finds, read by read, the ESCs that are an Escape key followed by typed characters."""

    __slots__ = ("carry", "in_paste")

    def __init__(self) -> None:
        self.in_paste = False
        # The end of the last read when it may be the start of a paste marker split across
        # reads: the paste's end inside a paste, its start (a lone ESC included) outside one.
        self.carry = ""

    def rewrite(self, data: str) -> str:
        """``data`` with ``ESCAPE_COMPLETION`` after every ESC that is an Escape key typed
        before more keys (an ESC the last read ended with included, at the start)."""
        out: list[str] = []
        start, pos = 0, self._marker_across(data, out)
        while pos < len(data):
            if self.in_paste:
                pos = self._paste_end(data, pos)
                continue
            at = data.find(ESC, pos)
            if at == -1:
                break
            if data.startswith(PASTE_START, at):
                self.in_paste = True
                pos = at + len(PASTE_START)
                continue
            if PASTE_START.startswith(data[at:]):
                self.carry = data[at:]  # the read ends part way into a paste's start, or on ESC
                break
            if _typed_after(data, at):
                out += (data[start:at + 1], ESCAPE_COMPLETION)
                start = at + 1
            pos = at + 1
        out.append(data[start:])
        return "".join(out)

    def _marker_across(self, data: str, out: list[str]) -> int:
        """Finish what the last read's carry began; where the scan of ``data`` starts."""
        carry, self.carry = self.carry, ""
        if not carry or self.in_paste:
            self.carry = carry  # a paste's end: _paste_end looks for it
            return 0
        joined = carry + data
        if joined.startswith(PASTE_START):
            self.in_paste = True
            return len(PASTE_START) - len(carry)
        if PASTE_START.startswith(joined):
            self.carry = joined
            return len(data)
        if carry == ESC and _typed_after(joined, 0):
            out.append(ESCAPE_COMPLETION)  # the parser holds that ESC: complete it
        return 0

    def _paste_end(self, data: str, pos: int) -> int:
        """Inside a paste from ``pos``: where reading goes on (past the end marker, or the
        end of ``data`` when the paste goes on into the next read)."""
        carried = len(self.carry)
        seen = self.carry + data[pos:]
        end = seen.find(PASTE_END)
        if end == -1:
            self.carry = seen[-(len(PASTE_END) - 1):]
            return len(data)
        self.in_paste, self.carry = False, ""
        return pos + end + len(PASTE_END) - carried


def _typed_after(data: str, at: int) -> bool:
    """Whether the ESC at ``at`` is a key with typed characters after it in the same read: the
    next character begins no sequence and is printable, and there is more after it."""
    if at + 2 >= len(data):
        return False  # ESC alone, or ESC and one character (Alt+character pressed): Textual's
    char = data[at + 1]
    if char == SS3:
        return data[at:at + 3] not in ANSI_SEQUENCES_KEYS
    return char not in INTRODUCERS and char.isprintable()


class EscapeAwareParser(XTermParser):
    """Textual's terminal parser, with an ESC followed by typed keys read as Escape."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._escapes = EscapeSplitter()

    def feed(self, data: str) -> Iterable[Any]:
        return super().feed(self._escapes.rewrite(data) if data else data)


def use_escape_aware_parser(driver_module_name: str) -> bool:
    """Make the driver defined in that module read keys with :class:`EscapeAwareParser`.

    Textual's drivers build their parser from the ``XTermParser`` name in their own module,
    with no option to choose another; that name is the one place to put ours. True if it was
    there to replace (a driver that parses no terminal bytes, like the headless one, has none).
    """
    if constants.DISABLE_KITTY_KEY:
        return False  # the parser would not read the completed Escape
    module = sys.modules.get(driver_module_name)
    if module is None or getattr(module, "XTermParser", None) not in (XTermParser,
                                                                       EscapeAwareParser):
        return False
    module.XTermParser = EscapeAwareParser  # type: ignore[attr-defined]
    return True
