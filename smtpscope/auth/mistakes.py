"""The classic mistakes in hand-made base64 AUTH answers, each named and, where possible, fixed.

People build ``AUTH PLAIN`` blobs in a shell: ``echo '\\0user\\0pass' | base64`` puts the two
characters backslash and zero where NUL bytes belong (and a newline at the end), a shell that
eats the ``0`` leaves a lone backslash, and ``user\\0pass`` misses the leading separator. The
composer checks a blob before sending it, and ``smtpscope auth decode`` names the same mistakes.
No message here quotes the password: only its length.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from enum import Enum

# Escape spellings a shell leaves in place of a NUL: \0 \00 \000 \x00 \u0000 and caret-at.
LITERAL_NUL = re.compile(rb"\\(?:x00|u0000|0{1,3})|\^@")
# A shell command that really produces NUL bytes (printf interprets \0 itself; echo may not).
PRINTF_PLAIN = "printf '\\0%s\\0%s' 'USER' 'PASSWORD' | base64"
# One LOGIN answer (the user name or the password) without echo's newline.
PRINTF_LOGIN = "printf '%s' 'VALUE' | base64"


def printf_recipe(mechanism: str | None) -> str:
    """A shell command that builds a correct answer for ``mechanism`` (PLAIN when unknown)."""
    return PRINTF_LOGIN if (mechanism or "").upper() == "LOGIN" else PRINTF_PLAIN


class Mistake(Enum):
    """What is wrong with a decoded blob."""

    LITERAL_NUL = "literal-nul"
    """The characters backslash-zero (or another escape) where a NUL byte belongs."""
    LONE_BACKSLASH = "lone-backslash"
    """A backslash without its 0 where a NUL byte belongs."""
    TRAILING_NEWLINE = "trailing-newline"
    """A newline at the end, from ``echo`` without ``-n``; it becomes part of the password."""
    MISSING_SEPARATOR = "missing-separator"
    """Fewer NUL separators than PLAIN's authzid NUL user NUL password."""


@dataclass(frozen=True)
class BlobCheck:
    """The mistakes found, what each means, and the corrected blob when it can be inferred."""

    mistakes: tuple[Mistake, ...]
    messages: tuple[str, ...]
    corrected: str | None = None

    def __bool__(self) -> bool:
        return bool(self.mistakes)


def _decode(blob: str) -> bytes | None:
    compact = "".join(blob.split())
    if not compact or compact in ("*", "="):
        return None
    try:
        return base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def check_blob(blob: str, mechanism: str | None = None) -> BlobCheck:
    """Check one base64 answer (or initial response) for the classic hand-made mistakes.

    ``mechanism`` (e.g. "PLAIN", "LOGIN") says what the blob answers; the separator checks
    apply to PLAIN, and to any blob that already tries to hold NUL separators, but never to a
    LOGIN answer, which is one value with no separator (only echo's newline can spoil it).
    """
    raw = _decode(blob)
    if raw is None:
        return BlobCheck((), ())
    mech = (mechanism or "").upper()
    plain = mech == "PLAIN"
    separated = mech != "LOGIN"
    mistakes: list[Mistake] = []
    messages: list[str] = []
    fixed = raw
    if separated and b"\0" not in raw:
        literal = sorted({m.group().decode("latin-1") for m in LITERAL_NUL.finditer(raw)})
        if literal:
            mistakes.append(Mistake.LITERAL_NUL)
            messages.append(
                f"the blob holds the characters {' '.join(literal)} where NUL bytes belong "
                "(echo without -e, or a quoted argument)")
            fixed = LITERAL_NUL.sub(b"\0", raw)
        elif (plain or raw.startswith(b"\\")) and raw.count(b"\\") in (1, 2):
            mistakes.append(Mistake.LONE_BACKSLASH)
            messages.append("the blob holds a backslash where a NUL byte belongs "
                            "(the shell dropped the 0 of \\0)")
            fixed = raw.replace(b"\\", b"\0")
    if fixed.endswith(b"\n"):
        mistakes.append(Mistake.TRAILING_NEWLINE)
        messages.append("it ends with a newline (echo without -n): the server takes it as "
                        "part of the password")
        fixed = fixed.rstrip(b"\r\n")
    separators = fixed.count(b"\0")
    if separated and (plain or b"\0" in fixed) and separators < 2:
        mistakes.append(Mistake.MISSING_SEPARATOR)
        if separators == 1:
            messages.append("only one NUL: PLAIN is authzid NUL user NUL password, so it "
                            "starts with a NUL when there is no authzid")
            fixed = b"\0" + fixed
        else:
            messages.append("no NUL separator at all: PLAIN is authzid NUL user NUL password")
    if not mistakes:
        return BlobCheck((), ())
    # PLAIN-shaped answers are only offered fixed once both separators are in place.
    complete = fixed.count(b"\0") >= 2 or not (plain or b"\0" in fixed) or not separated
    corrected = base64.b64encode(fixed).decode("ascii") if fixed != raw and complete else None
    return BlobCheck(tuple(mistakes), tuple(messages), corrected)


def encode_answer(text: str) -> str:
    r"""Base64 of what was typed as plain text, with ``\0`` typed for NUL (``\\`` for ``\``).

    This is the composer's one-key encoder: ``\0user\0pass`` becomes ``AHVzZXIAcGFzcw==``.
    """
    out = bytearray()
    i = 0
    data = text.encode("utf-8")
    while i < len(data):
        if data[i : i + 2] == b"\\0":
            out.append(0)
            i += 2
        elif data[i : i + 2] == b"\\\\":
            out.append(0x5C)
            i += 2
        else:
            out.append(data[i])
            i += 1
    return base64.b64encode(bytes(out)).decode("ascii")
