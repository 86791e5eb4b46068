"""Make untrusted text (server replies, recorded bytes) safe to show on a terminal.

Server text is data, never instructions: every control character that a terminal would act on
(C0 controls, DEL, C1 controls, and so ESC/CSI/OSC sequences) is shown as a visible escape such
as ``\\x1b``. Rich markup is a separate concern: views must put this text into ``rich.text.Text``
objects (never format it into markup strings), and :func:`escape_markup` exists for the rare place
that has to build a markup string.
"""

from __future__ import annotations

import re

# C0 (except TAB), DEL, C1, plus the Unicode line/paragraph separators and bidi overrides that
# can reorder or hide text on screen.
# A backslash is escaped too, so a server that sends the four characters "\x1b" cannot pass
# them off as an escaped ESC byte.
_UNSAFE = re.compile(
    "[\\\\\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\udc80-\udcff]"
)


def _escape_char(match: re.Match[str]) -> str:
    ch = match.group()
    if ch == "\\":
        return "\\\\"
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, carried by "surrogateescape"
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


_UNSAFE_KEEP_BACKSLASH = re.compile(_UNSAFE.pattern.replace("\\\\", "", 1))


def visible(text: str, *, keep_backslashes: bool = False) -> str:
    """Return ``text`` with terminal-active characters replaced by visible escapes.

    ``keep_backslashes`` is for text that smtpscope itself already escaped (decoded SASL
    values, for example): control characters are still escaped, backslashes are left alone.
    """
    pattern = _UNSAFE_KEEP_BACKSLASH if keep_backslashes else _UNSAFE
    return pattern.sub(_escape_char, text)


def visible_bytes(data: bytes) -> str:
    """Decode ``data`` as UTF-8 (invalid bytes as ``\\xNN``) and make the result visible."""
    return visible(data.decode("utf-8", errors="surrogateescape"))


def escape_markup(text: str) -> str:
    """Escape Rich markup in ``text`` (square brackets) for use inside a markup string."""
    return text.replace("\\", "\\\\").replace("[", "\\[")
