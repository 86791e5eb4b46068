"""Pure helpers of the composer: escapes, end-of-data labels, completion from the engine's offers.

No widget state and no textual import, so each is tested directly.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from smtpscope.protocol.offers import mechanism_offers, param_offers, verb_offers, xclient_offers
from smtpscope.sanitize import visible

if TYPE_CHECKING:
    from smtpscope.protocol import Capabilities

_ESCAPES = {"r": b"\r", "n": b"\n", "t": b"\t", "\\": b"\\", "0": b"\x00"}


def decode_escapes(text: str) -> bytes:
    r"""Raw-mode text to bytes: ``\r \n \t \0 \\ \xNN`` escapes; other characters as UTF-8.

    Raises ValueError naming the bad escape, so the hint line can say what to fix.
    """
    out = bytearray()
    i = 0
    while i < len(text):
        char = text[i]
        if char != "\\":
            out += char.encode("utf-8")
            i += 1
            continue
        code = text[i + 1 : i + 2]
        if code in _ESCAPES:
            out += _ESCAPES[code]
            i += 2
        elif code == "x":
            digits = text[i + 2 : i + 4]
            if len(digits) != 2 or not re.fullmatch(r"[0-9A-Fa-f]{2}", digits):
                raise ValueError(f"\\x needs two hex digits at position {i + 1}, e.g. \\x00")
            out.append(int(digits, 16))
            i += 4
        elif not code:
            raise ValueError("a lone \\ at the end; write \\\\ for a backslash")
        else:
            raise ValueError(f"unknown escape \\{code}; use \\r \\n \\t \\0 \\xNN or \\\\")
    return bytes(out)


def describe_line_endings(data: bytes) -> str:
    """Name each byte of an end-of-data sequence: "CRLF dot bare LF", "CRLF NUL dot CRLF"."""
    words: list[str] = []
    i = 0
    while i < len(data):
        if data[i : i + 2] == b"\r\n":
            words.append("CRLF")
            i += 2
            continue
        byte = data[i : i + 1]
        words.append(
            {b"\r": "bare CR", b"\n": "bare LF", b".": "dot", b"\x00": "NUL"}.get(
                byte, visible(byte.decode("latin-1"))
            )
        )
        i += 1
    return " ".join(words)


def end_of_data_label(name: str, data: bytes) -> str:
    r"""``\n.\n  bare LF dot bare LF (lflf)``: the bytes, what they are, the smtpsmug name."""
    return f"{escaped_bytes(data)}  {describe_line_endings(data)} ({name})"


def escaped_bytes(data: bytes) -> str:
    r"""Bytes as ASCII with Python's escapes: ``
.
``."""
    return data.decode("latin-1").encode("unicode_escape").decode("ascii")


_AUTH_ARG = re.compile(r"^(\s*auth\s+)(\S*)$", re.IGNORECASE)
_XCLIENT_ARG = re.compile(r"^(\s*xclient\s+(?:\S+\s+)*)(\S*)$", re.IGNORECASE)
_PARAMS = re.compile(r"^(\s*(mail\s+from|rcpt\s+to):\s*<[^>]*>(?:\s+\S+)*\s+)(\S*)$",
                     re.IGNORECASE)


def completions(value: str, caps: Capabilities | None, *, lmtp: bool | None = None) -> list[str]:
    """Whole-line candidates extending ``value``, keeping the complete words as typed.

    The candidates are the engine's (smtpscope.protocol.offers): verbs first; then ``AUTH ``
    offers the advertised mechanisms, ``XCLIENT `` the attribute names the server lists, and
    MAIL/RCPT the parameters the server advertised (never ones already on the line).
    """
    options: list[str]
    if match := _AUTH_ARG.match(value):
        prefix = match.group(1)
        options = [prefix + m for m in mechanism_offers(caps)]
    elif match := _XCLIENT_ARG.match(value):
        prefix = match.group(1)
        present = [word.partition("=")[0] for word in prefix.split()[1:]]
        options = [prefix + name for name in xclient_offers(caps, present)]
    elif match := _PARAMS.match(value):
        prefix = match.group(1)
        present = [p.split("=")[0] for p in prefix.split()[2:]]
        options = [prefix + text
                   for text in param_offers(match.group(2).split()[0], caps, present)]
    elif " " not in value.lstrip() and value.strip():
        options = verb_offers(caps, lmtp=lmtp)
    else:
        return []
    lowered = value.lower()
    # Words already complete stay as typed; the word being completed takes the canonical
    # spelling, so "ma" gives "MAIL FROM:<", never "maIL FROM:<".
    start = len(value) - len(value.split(" ")[-1])
    return [value[:start] + opt[start:] for opt in options
            if opt.lower().startswith(lowered) and len(opt) > len(value)]
