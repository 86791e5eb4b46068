"""Exceptions raised by the sans-IO SMTP engine."""

from __future__ import annotations

import re

__all__ = [
    "UNSAFE_CHARS",
    "CommandSyntaxError",
    "LocalProtocolError",
    "ProtocolError",
    "RemoteProtocolError",
    "escape_char",
    "line_too_long",
    "not_a_reply",
    "show_bytes",
    "shown_text",
    "too_many_lines",
]

# How much of an offending line an error message quotes; enough to recognise it, not so much
# that a hostile server can fill a terminal through our error text.
_SHOW_LIMIT = 120

# What no view may print as it is (the one rule: smtpscope.sanitize builds on these two, and
# the engine, which imports nothing outside itself, quotes server bytes with them): C0 but
# TAB, DEL, C1, line/paragraph separators, bidi controls, undecodable bytes, and the
# backslash, so server text cannot pass off as one of our escapes.
UNSAFE_CHARS = re.compile(
    "[\\\\\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\udc80-\udcff]"
)


def escape_char(match: re.Match[str]) -> str:
    """The visible escape of one character ``UNSAFE_CHARS`` (or a pattern of it) matched."""
    code = ord(match.group())
    if code == 0x5C:
        return "\\\\"
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, carried by "surrogateescape"
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def shown_text(data: bytes) -> str:
    """Server bytes as text to show: UTF-8, each undecodable byte kept (as a lone surrogate,
    "surrogateescape") for ``UNSAFE_CHARS`` to show as ``\\xNN``, never hidden behind U+FFFD.

    Only for text on its way to the sanitizer: the result may not encode to UTF-8, so JSON,
    files and the wire take the bytes (or a replacement-decoded text) instead.
    """
    return data.decode("utf-8", "surrogateescape")


def show_bytes(data: bytes, limit: int = _SHOW_LIMIT) -> str:
    """Quote untrusted bytes for an error message: UTF-8 text with controls and undecodable
    bytes escaped (as ``\\x1b``, like every view shows server text), cut at ``limit``."""
    text = shown_text(data[:limit])
    shown = f'"{UNSAFE_CHARS.sub(escape_char, text)}"'
    return shown if len(data) <= limit else f"{shown}… ({len(data):,} bytes)"


class ProtocolError(Exception):
    """Base class: something about the SMTP conversation is wrong."""


class RemoteProtocolError(ProtocolError):
    """The server sent bytes that are not an SMTP reply (garbage, over-long line, ...).

    A 4xx/5xx reply is never this: that is an ordinary event.
    """


class LocalProtocolError(ProtocolError):
    """We were asked to send something illegal (bad arguments or wrong moment)."""


class CommandSyntaxError(LocalProtocolError):
    """A command's text or arguments are malformed; ``hint`` shows the right form."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} (syntax: {self.hint})"
        return self.message


def not_a_reply(line: bytes) -> RemoteProtocolError:
    """A line that does not start like a reply line: three digits, then space, '-' or end."""
    if line[-1:] == b"\r":
        line = line[:-1]  # the line ending is not part of what was wrong
    return RemoteProtocolError(
        "server sent a line that is not an SMTP reply (a reply line starts with a 3-digit "
        f"code and a space or '-'): {show_bytes(line)}"
    )


def line_too_long(size: int, limit: int, *, ended: bool) -> RemoteProtocolError:
    """A reply line over ``limit`` bytes: ``ended`` when its line end came, else ``size`` bytes
    came without one (and we stop reading rather than buffer on)."""
    what = f"a reply line of {size:,} bytes" if ended else \
        f"{size:,} bytes of a reply line without a line end"
    return RemoteProtocolError(
        f"server sent {what}, over the {limit:,}-byte limit (RFC 5321 allows 512)"
    )


def too_many_lines(limit: int) -> RemoteProtocolError:
    return RemoteProtocolError(
        f"server sent a multi-line reply of more than {limit:,} lines (smtpscope's limit)"
    )
