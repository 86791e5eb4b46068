"""The one base64 decoder of the package, with two named policies: strict and lenient.

STRICT is for values inside a protocol message (a SCRAM salt, a recording's bytes): only the
standard alphabet, correct padding, no whitespace; ``canonical=True`` also asks that the text be
exactly the encoding of its bytes, as for a typed AUTH line that must go out as typed.
LENIENT is for what people paste and what servers send in 334 challenges: whitespace ignored,
padding repaired, the URL-safe alphabet converted, ``=`` read as RFC 4954's empty response;
each tolerance is reported.
"""

from __future__ import annotations

import base64
import binascii
import string
from enum import Enum

__all__ = ["Policy", "decode", "decode_strict", "encode"]

_ALPHABET = frozenset(string.ascii_letters + string.digits + "+/")


class Policy(Enum):
    """How forgiving a decode is."""

    STRICT = "strict"
    LENIENT = "lenient"


def encode(data: bytes) -> str:
    """Standard base64 text of ``data``."""
    return base64.b64encode(data).decode("ascii")


def decode_strict(text: str | bytes, *, canonical: bool = False) -> bytes:
    """Standard base64 with correct padding only; ValueError otherwise."""
    raw = text.encode("ascii", "replace") if isinstance(text, str) else bytes(text)
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"invalid base64: {exc}") from exc
    if canonical and base64.b64encode(data) != raw:
        raise ValueError("invalid base64: not the canonical encoding (padding or trailing bits)")
    return data


def _lenient(text: str) -> tuple[bytes, list[str]]:
    notes: list[str] = []
    compact = "".join(text.split())
    if compact != text.strip():
        notes.append("Whitespace inside the base64 was ignored.")
    if compact == "=":
        return b"", ["'=' is the RFC 4954 notation for an empty initial response."]
    if ("-" in compact or "_" in compact) and not ("+" in compact or "/" in compact):
        compact = compact.replace("-", "+").replace("_", "/")
        notes.append("URL-safe base64 ('-', '_') was converted; SMTP uses the standard alphabet.")
    body = compact.rstrip("=")
    for pos, ch in enumerate(body):
        if ch not in _ALPHABET:
            what = "character " + ("'='" if ch == "=" else repr(ch))
            if 0xDC80 <= ord(ch) <= 0xDCFF:  # a byte that was not UTF-8 (PEP 383)
                what = f"byte 0x{ord(ch) - 0xDC00:02x}"
            raise ValueError(f"invalid base64: {what} at position {pos + 1}")
    if len(body) % 4 == 1:
        raise ValueError(f"invalid base64: {len(body)} characters cannot encode whole bytes")
    padded = body + "=" * (-len(body) % 4)
    if padded != compact:
        notes.append("Padding was missing or wrong and was repaired.")
    return base64.b64decode(padded, validate=True), notes


def decode(text: str | bytes, policy: Policy = Policy.STRICT) -> tuple[bytes, list[str]]:
    """Decode ``text`` under ``policy``; returns the bytes and what had to be tolerated.

    Raises ValueError saying why the text is not base64 (under that policy).
    """
    if policy is Policy.STRICT:
        return decode_strict(text), []
    value = text.decode("ascii", "replace") if isinstance(text, bytes) else text
    return _lenient(value)
