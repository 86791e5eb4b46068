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
# One value (a LOGIN answer: the user name or the password) without echo's newline.
PRINTF_LOGIN = "printf '%s' 'VALUE' | base64"
# The token messages, ^A as printf's \1; longer than base64's 76-column lines, hence tr.
PRINTF_TOKEN = {
    "XOAUTH2": "printf 'user=%s\\1auth=Bearer %s\\1\\1' 'USER' 'TOKEN' | base64 | tr -d '\\n'",
    "OAUTHBEARER": "printf 'n,a=%s,\\1auth=Bearer %s\\1\\1' 'USER' 'TOKEN' | base64 "
                   "| tr -d '\\n'",
}


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
    """The mistakes found, what each means, the corrected blob when it can be inferred, and the
    one shell command that builds such a blob right (None when nothing is wrong)."""

    mistakes: tuple[Mistake, ...] = ()
    messages: tuple[str, ...] = ()
    corrected: str | None = None
    recipe: str | None = None

    def __bool__(self) -> bool:
        return bool(self.mistakes)


# Nothing wrong: the one shared value (BlobCheck is frozen).
CLEAN = BlobCheck()


def _decode(blob: str) -> bytes | None:
    compact = "".join(blob.split())
    if not compact or compact in ("*", "="):
        return None
    try:
        return base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def separators(raw: bytes, mechanism: str | None = None) -> tuple[Mistake | None, list[range]]:
    """Where a PLAIN-like blob's NUL separators are (as ranges of ``raw``), and the mistake when
    they are spelt otherwise: shell escapes for NUL, or backslashes whose 0 the shell ate.

    A LOGIN answer is one value with no separator: a backslash in it is its own business.
    """
    mech = (mechanism or "").upper()
    if mech == "LOGIN":
        return None, []
    nul = [range(i, i + 1) for i, byte in enumerate(raw) if byte == 0]
    if nul:
        return None, nul
    literal = [range(*m.span()) for m in LITERAL_NUL.finditer(raw)]
    if literal:
        return Mistake.LITERAL_NUL, literal
    if (mech == "PLAIN" or raw.startswith(b"\\")) and raw.count(b"\\") in (1, 2):
        return Mistake.LONE_BACKSLASH, [range(i, i + 1) for i, byte in enumerate(raw)
                                        if byte == 0x5C]
    return None, []


def split_at(raw: bytes, spans: list[range]) -> list[bytes]:
    """``raw`` cut at each separator span, the separators left out."""
    starts = [0, *(span.stop for span in spans)]
    stops = [*(span.start for span in spans), len(raw)]
    return [raw[start:stop] for start, stop in zip(starts, stops, strict=True)]


def check_blob(blob: str, mechanism: str | None = None) -> BlobCheck:
    """Check one base64 answer (or initial response) for the classic hand-made mistakes."""
    raw = _decode(blob)
    return CLEAN if raw is None else check_raw(raw, mechanism)


def check_raw(raw: bytes, mechanism: str | None = None) -> BlobCheck:
    """Check one decoded answer for the classic hand-made mistakes.

    ``mechanism`` (e.g. "PLAIN", "LOGIN") says what the blob answers; the separator checks
    apply to PLAIN, and to any blob that already tries to hold NUL separators, but never to a
    LOGIN answer, which is one value with no separator (only echo's newline can spoil it).
    """
    mech = (mechanism or "").upper()
    mistakes: list[Mistake] = []
    messages: list[str] = []
    wrong, spans = separators(raw, mech)
    fixed = b"\0".join(split_at(raw, spans)) if wrong else raw
    if wrong is Mistake.LITERAL_NUL:
        literal = sorted({raw[span.start:span.stop].decode("latin-1") for span in spans})
        messages.append(f"the blob holds the characters {' '.join(literal)} where NUL bytes "
                        "belong (echo without -e, or a quoted argument)")
    elif wrong is Mistake.LONE_BACKSLASH:
        messages.append("the blob holds a backslash where a NUL byte belongs "
                        "(the shell dropped the 0 of \\0)")
    if wrong:
        mistakes.append(wrong)
    if fixed.endswith(b"\n"):
        mistakes.append(Mistake.TRAILING_NEWLINE)
        messages.append("it ends with a newline (echo without -n): the server takes it as "
                        f"part of the {'token message' if mech in PRINTF_TOKEN else 'password'}")
        fixed = fixed.rstrip(b"\r\n")
    # PLAIN-shaped: PLAIN by name, or any answer but LOGIN's that holds separators.
    plain_shaped = mech == "PLAIN" or (mech != "LOGIN" and b"\0" in fixed)
    count = fixed.count(b"\0")
    if plain_shaped and count < 2:
        mistakes.append(Mistake.MISSING_SEPARATOR)
        if count == 1:
            messages.append("only one NUL: PLAIN is authzid NUL user NUL password, so it "
                            "starts with a NUL when there is no authzid")
            fixed = b"\0" + fixed
        else:
            messages.append("no NUL separator at all: PLAIN is authzid NUL user NUL password")
    if not mistakes:
        return CLEAN
    # PLAIN-shaped answers are only offered fixed once both separators are in place.
    complete = fixed.count(b"\0") >= 2 or not plain_shaped
    corrected = base64.b64encode(fixed).decode("ascii") if fixed != raw and complete else None
    recipe = PRINTF_PLAIN if plain_shaped else PRINTF_TOKEN.get(mech, PRINTF_LOGIN)
    return BlobCheck(tuple(mistakes), tuple(messages), corrected, recipe)


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
