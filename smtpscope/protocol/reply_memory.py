"""What reply framing remembers: reply codes, the heads of final lines, whole replies.

A server sends the same few replies again and again ("250 2.1.5 Ok", "354 ...", its EHLO
reply); the reader frames each such reply once and hands out the same immutable frame after.
"""

from __future__ import annotations

import re
from typing import Final

from .events import EnhancedCode

# RFC 3463 status-code = class "." subject "." detail; subject/detail are 1*3digit. Followed by
# white space or end of text so that "2.0.0.1" or "5.5.10000" is not mistaken for one.
_ENHANCED = rb"([245])\.([0-9]{1,3})\.([0-9]{1,3})(?=[ \t]|$)"  # compiled on first use

#: What the reader yields before the connection attaches the command being answered:
#: (code, lines, raw, enhanced, warnings).
Frame = tuple[int, tuple[bytes, ...], bytes, EnhancedCode | None, tuple[str, ...]]


def parse_enhanced(text: bytes) -> EnhancedCode | None:
    """Return the RFC 3463 code at the start of ``text`` (a reply line's text), if any."""
    if text[1:2] != b"." or text[:1] not in (b"2", b"4", b"5"):
        return None
    m = re.match(_ENHANCED, text)
    if m is None:
        return None
    return EnhancedCode(int(m.group(1)), int(m.group(2)), int(m.group(3)))


# Reply codes as bytes -> int, so the hot path validates and converts a code in one dict lookup.
CODES: Final[dict[bytes, int]] = {b"%03d" % n: n for n in range(200, 600)}

# The head of a final line, e.g. b"250 2.1.5 Ok" or b"354 ", repeats endlessly. Remember what
# it means, (code, enhanced code), so the hot path checks code, separator, enhanced-code syntax
# and class agreement in one dict lookup. Only heads that need no warning are remembered.
HEADS: dict[bytes, tuple[int, EnhancedCode | None]] = {}
HEADS_MAX: Final = 4096
#: A head's length: no later byte changes what a line means (these hold the code, the space,
#: the longest enhanced code, 5.999.999, and the byte that must end it); a fixed slice costs
#: less than a search. A line whose sixth byte is no dot has no enhanced code: its head is its
#: first four bytes, so text that changes per reply (Exim's "250 OK id=...") finds it too.
HEAD: Final = 14
DOT: Final = b"."


# Whole replies that come again and again ("250 2.1.5 Ok", "354 ...", a server's EHLO reply):
# their frames, by final line (single-line replies) or by raw bytes (multi-line ones). Only
# replies that need no warning are remembered; the sizes bound what a hostile peer can pin.
MEMO_MAX: Final = 2048
MEMO_LINE: Final = 80
MEMO_GROUP: Final = 1024
# A full memory takes nothing more until it has missed this many times, then starts over.
# Emptying it each time it filled cost more than it saved: many replies come once only (a
# queue id, a greeting with the time in it), they fill it fast, and each emptying freed every
# frame in it, so the replies that do come again had to be framed anew.
MEMO_PATIENCE: Final = 8 * MEMO_MAX


class Memory(dict[bytes, Frame]):
    """Frames by key, bounded (see ``MEMO_MAX`` and ``MEMO_PATIENCE``)."""

    __slots__ = ("misses",)

    def __init__(self) -> None:
        super().__init__()
        self.misses = 0

    def remember(self, key: bytes, frame: Frame) -> None:
        if len(self) < MEMO_MAX:
            self[key] = frame
            return
        self.misses += 1
        if self.misses >= MEMO_PATIENCE:
            self.clear()
            self.misses = 0


FINALS = Memory()
GROUPS = Memory()


def learn_head(head: bytes) -> tuple[int, EnhancedCode | None] | None:
    """Parse and remember a final line's head (see ``HEAD``); None when the careful path must
    look."""
    code = CODES.get(head[:3])
    if code is None or head[3:4] != b" ":
        return None
    enhanced = parse_enhanced(head[4:])
    if enhanced is not None and enhanced.klass != code // 100:
        return None
    value = (code, enhanced)
    if len(HEADS) >= HEADS_MAX:
        HEADS.clear()
    HEADS[head] = value
    return value
