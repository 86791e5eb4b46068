"""Message-content helpers: dot-stuffing, line endings, end-of-data terminators, chunking."""

from __future__ import annotations

from typing import Final

__all__ = [
    "END_OF_DATA_VARIANTS",
    "MAX_TEXT_LINE",
    "STANDARD_TERMINATOR",
    "chunk_bytes",
    "dot_stuff",
    "dot_unstuff",
    "encode_content",
    "line_ending_report",
    "long_lines",
    "message_octets",
    "normalize_line_endings",
    "terminator",
]

STANDARD_TERMINATOR: Final = b"\r\n.\r\n"

#: End-of-data sequences for the line-ending lab (SMTP smuggling, PROTOCOL.md §5.4, names as in
#: hannob/smtpsmug). Only "standard" is legal (RFC 5321 §4.1.1.4); the rest exist so a user can
#: test whether a receiver wrongly accepts them. Each includes the line ending of the last line.
END_OF_DATA_VARIANTS: Final[dict[str, bytes]] = {
    "standard": STANDARD_TERMINATOR,
    "lflf": b"\n.\n",
    "crcr": b"\r.\r",
    "crlf": b"\r.\n",
    "lfcr": b"\n.\r",
    "lfcrlf": b"\n.\r\n",
    "crlflf": b"\r\n.\n",
    "crcrlf": b"\r.\r\n",
    "crlfcr": b"\r\n.\r",
    "nullbefore": b"\r\n\x00.\r\n",
    "nullafter": b"\r\n.\x00\r\n",
}


def terminator(name: str = "standard") -> bytes:
    """Return the end-of-data bytes called ``name`` (KeyError names the valid choices)."""
    try:
        return END_OF_DATA_VARIANTS[name]
    except KeyError:
        raise KeyError(
            f"unknown end-of-data variant {name!r}; choose one of {', '.join(END_OF_DATA_VARIANTS)}"
        ) from None


def normalize_line_endings(body: bytes) -> bytes:
    """Turn every lone CR, lone LF and CRLF into CRLF."""
    return body.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")


#: RFC 5321 §4.5.3.1.6: a text line of a message is at most 1000 octets, its CRLF included.
MAX_TEXT_LINE = 1000


def long_lines(message: bytes) -> list[tuple[int, int]]:
    """(line number, octets with its CRLF) of each line over ``MAX_TEXT_LINE``; ``message``
    has CRLF line ends (``message_octets`` gives that form)."""
    return [(number, len(line) + 2) for number, line in enumerate(message.split(b"\r\n"), 1)
            if len(line) + 2 > MAX_TEXT_LINE]


def message_octets(body: bytes) -> bytes:
    """The message as the receiver gets it: CRLF line endings and the last line ended.

    After DATA the terminator's CRLF ends the last line (RFC 5321 §4.1.1.4); BDAT has no
    terminator, so the same message sent in chunks needs that CRLF itself. SIZE (RFC 1870)
    counts these octets.
    """
    out = normalize_line_endings(body)
    return out if not out or out.endswith(b"\r\n") else out + b"\r\n"


def dot_stuff(body: bytes) -> bytes:
    """Double a leading "." on every line (RFC 5321 §4.5.2); lines end at LF."""
    stuffed = body.replace(b"\n.", b"\n..")
    if stuffed.startswith(b"."):
        stuffed = b"." + stuffed
    return stuffed


def dot_unstuff(body: bytes) -> bytes:
    """Inverse of :func:`dot_stuff`: drop one leading "." from lines that start with one."""
    unstuffed = body.replace(b"\n.", b"\n")
    if unstuffed.startswith(b"."):
        unstuffed = unstuffed[1:]
    return unstuffed


def encode_content(body: bytes, *, verbatim: bool = False, variant: str | None = None) -> bytes:
    """Wire bytes for message content after a 354.

    Normal mode: line endings become CRLF, lines are dot-stuffed, and the terminator (the
    standard one unless ``variant`` names another) replaces the final line ending, so the body
    is never given an extra empty line. Verbatim mode sends ``body`` exactly, followed by the
    variant only when one is named: what the user wrote is what goes on the wire.
    """
    if verbatim:
        return body if variant is None else body + terminator(variant)
    end = terminator(variant or "standard")
    out = dot_stuff(normalize_line_endings(body))
    if out.endswith(b"\r\n"):
        out = out[:-2]
    return out + end


def chunk_bytes(data: bytes, size: int) -> list[tuple[bytes, bool]]:
    """Split ``data`` into pieces of ``size`` bytes, each paired with "is last" (BDAT)."""
    if size <= 0:
        raise ValueError("chunk size must be positive")
    if not data:
        return [(b"", True)]
    pieces = [data[i : i + size] for i in range(0, len(data), size)]
    return [(p, i == len(pieces) - 1) for i, p in enumerate(pieces)]


def line_ending_report(body: bytes) -> dict[str, int]:
    """Count CRLF, bare LF, bare CR and NUL in ``body`` (what a smuggling-aware view shows)."""
    crlf = body.count(b"\r\n")
    return {
        "crlf": crlf,
        "bare_lf": body.count(b"\n") - crlf,
        "bare_cr": body.count(b"\r") - crlf,
        "nul": body.count(b"\x00"),
    }
