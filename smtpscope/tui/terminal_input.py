"""Escape followed at once by more keys, and ESC inside a paste: read as what they were.

A terminal sends the Escape key as one ESC byte, and Alt (Meta) with a character as ESC then
that character, so the bytes alone cannot tell Escape-then-``N`` from Alt+N. Textual's parser
(8.x) decides by time: after an ESC it waits up to 100 ms for the rest of an escape sequence.
Keys that come in that time (sent with no pause by a script or ``tmux send-keys``, or read late
by a busy app) are collected as one would-be sequence of up to 32 characters, then handed out
with the ESC turned into a ``^`` key, or into Alt on the first character: the Escape is lost
and the text goes to whatever still has the focus (the dialog Escape was meant to close). The
same happens to an ESC inside a bracketed paste (text with colour codes, say): the text after
it is typed as keys, its line ends as Enter, before the paste itself arrives.

:class:`EscapeAwareParser` rewrites each read before Textual's parser sees it:

- an ESC followed, in the same read, by a character that begins no escape sequence and then
  more input is the Escape key there and then: it is completed to the kitty protocol's Escape,
  which the parser reads at once, and the characters after it are read as usual. One
  Alt+character pressed on its own arrives alone in its read and keeps Textual's reading (the
  key gate turns such a key into Escape and the character when nothing is bound to it: see
  :mod:`.keys`);
- an ESC inside a paste passes the parser marked (``PASTE_MARK``) and is put back in the
  paste's text, so the paste arrives whole, with its ESC, as one paste.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from typing import Any

from textual import constants, events
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
# An ESC inside a paste goes through the parser, which would otherwise take it as the start of
# a key sequence and type the pasted text after it as keys ahead of the paste, as this mark and
# "e"; the mark itself, pasted, as the mark and "m". The mark is a Unicode noncharacter (kept
# for a program's internal use), but a paste holding one still arrives as it was.
PASTE_MARK = "\ufdd0"
_IN_PASTE = str.maketrans({ESC: PASTE_MARK + "e", PASTE_MARK: PASTE_MARK + "m"})
_MARKED = re.compile(PASTE_MARK + "([em])")
_UNMARKED = {"e": ESC, "m": PASTE_MARK}


class EscapeRewriter:
    """Rewrites reads so that Textual's parser reads each ESC as what it was: an Escape key
    followed by typed characters (completed to ``ESCAPE_COMPLETION``), pasted text (marked
    with ``PASTE_MARK``), or the start of a sequence (left as it is)."""

    __slots__ = ("in_paste", "pending")

    def __init__(self) -> None:
        self.in_paste = False
        # The end of the last read when it may begin a paste marker that goes on in the next:
        # outside a paste, its start (or a lone ESC), already passed on (the parser holds it);
        # inside a paste, its end, held back and passed on with the next read.
        self.pending = ""

    def rewrite(self, data: str) -> str:
        """``data`` as the parser should read it."""
        out: list[str] = []
        if self.in_paste:
            data, self.pending, pos = self.pending + data, "", 0
        else:
            pos = self._after_pending(data, out)
        while pos < len(data):
            pos = self._paste(data, pos, out) if self.in_paste else self._keys(data, pos, out)
        return "".join(out)

    def parser_gave_up(self) -> None:
        """The parser stopped waiting for the rest of what it held (see
        ``EscapeAwareParser.tick``): outside a paste, that was the last read's end, which no
        longer begins anything."""
        if not self.in_paste:
            self.pending = ""

    def _after_pending(self, data: str, out: list[str]) -> int:
        """Finish what the last read's end began outside a paste; where ``data`` goes on."""
        pending, self.pending = self.pending, ""
        if not pending:
            return 0
        joined = pending + data
        if joined.startswith(PASTE_START):
            self.in_paste = True
            rest = len(PASTE_START) - len(pending)
            out.append(data[:rest])
            return rest
        if PASTE_START.startswith(joined):
            self.pending = joined
            out.append(data)
            return len(data)
        if pending == ESC and _typed_after(joined, 0):
            out.append(ESCAPE_COMPLETION)  # the parser holds that ESC: complete it
        return 0

    def _keys(self, data: str, pos: int, out: list[str]) -> int:
        """Keys from ``pos``, up to a paste's start (passed on with it) or the end of
        ``data``; returns where that is."""
        start = pos
        while (at := data.find(ESC, pos)) != -1:
            if data.startswith(PASTE_START, at):
                self.in_paste = True
                end = at + len(PASTE_START)
                out.append(data[start:end])
                return end
            if PASTE_START.startswith(data[at:]):
                self.pending = data[at:]  # the read ends part way into a paste's start, or on ESC
                break
            if _typed_after(data, at):
                out += (data[start:at + 1], ESCAPE_COMPLETION)
                start = at + 1
            pos = at + 1
        out.append(data[start:])
        return len(data)

    def _paste(self, data: str, pos: int, out: list[str]) -> int:
        """Pasted text from ``pos``, up to the paste's end (passed on with it) or the end of
        ``data``; returns where that is."""
        end = data.find(PASTE_END, pos)
        if end == -1:
            cut = _end_begins(data, pos)
            self.pending = data[cut:]
            out.append(data[pos:cut].translate(_IN_PASTE))
            return len(data)
        self.in_paste = False
        out += (data[pos:end].translate(_IN_PASTE), PASTE_END)
        return end + len(PASTE_END)


def _end_begins(data: str, pos: int) -> int:
    """Where, in its last few characters, ``data`` (from ``pos``) ends with the beginning of a
    paste's end marker; ``len(data)`` if it does not."""
    for at in range(max(pos, len(data) - len(PASTE_END) + 1), len(data)):
        if data[at] == ESC and PASTE_END.startswith(data[at:]):
            return at
    return len(data)


def _typed_after(data: str, at: int) -> bool:
    """Whether the ESC at ``at`` is a key with typed characters after it in the same read: the
    next character begins no sequence and is printable, and there is more after it."""
    if at + 2 >= len(data):
        return False  # ESC alone, or with one character (Alt+character): Textual's timing
    char = data[at + 1]
    if char == SS3:
        return data[at:at + 3] not in ANSI_SEQUENCES_KEYS
    return char not in INTRODUCERS and char.isprintable()


class EscapeAwareParser(XTermParser):
    """Textual's terminal parser, with an ESC followed by typed keys read as Escape and an ESC
    inside a paste kept in the paste."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._escapes = EscapeRewriter()

    def tick(self) -> Iterable[Any]:
        # Waiting for the rest of a sequence, the parser gives up after ESCAPE_DELAY (the
        # driver ticks it between reads): an ESC it held is then the Escape key, given out
        # already. The next read must not complete that ESC again, or its completion is
        # typed as text ("[27u" before what the user types after a pause).
        waiting = self._timeout_time
        given_out = list(super().tick())
        if waiting is not None and self._timeout_time is None:
            self._escapes.parser_gave_up()
        yield from given_out

    def feed(self, data: str) -> Iterable[Any]:
        for event in super().feed(self._escapes.rewrite(data) if data else data):
            if isinstance(event, events.Paste) and PASTE_MARK in event.text:
                event = events.Paste(_MARKED.sub(lambda found: _UNMARKED[found[1]], event.text))
            yield event


# Where Windows' driver builds its parser: the module reading the console (the driver's own
# module imports it).
WINDOWS_INPUT_MODULE = "textual.drivers.win32"


def use_escape_aware_parser(driver_module_name: str) -> bool:
    """Make the driver defined in that module read keys with :class:`EscapeAwareParser`.

    Textual's drivers build their parser from the ``XTermParser`` name in the module that reads
    the terminal, with no option to choose another; that name is the one place to put ours.
    True if it was there to replace (a driver that parses no terminal bytes, like the headless
    one, has none).
    """
    if constants.DISABLE_KITTY_KEY:
        return False  # the parser would not read the completed Escape
    replaced = False
    for name in (driver_module_name, WINDOWS_INPUT_MODULE):
        module = sys.modules.get(name)
        if module is not None and getattr(module, "XTermParser", None) in (XTermParser,
                                                                           EscapeAwareParser):
            module.XTermParser = EscapeAwareParser  # type: ignore[attr-defined]
            replaced = True
    return replaced
