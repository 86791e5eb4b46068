"""Message-content helpers: dot-stuffing, line endings, end-of-data terminators, chunking."""

from __future__ import annotations

from typing import Final

__all__ = [
    "END_OF_DATA_VARIANTS",
    "MAX_END_OF_DATA",
    "MAX_TEXT_LINE",
    "MESSAGE_START",
    "STANDARD_TERMINATOR",
    "chunk_bytes",
    "dot_stuff",
    "dot_unstuff",
    "encode_content",
    "end_variant",
    "ends_data",
    "line_ending_report",
    "long_lines",
    "message_octets",
    "missing_end",
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

#: The longest end-of-data sequence: the last bytes of a message kept to say which one ended it.
MAX_END_OF_DATA: Final = max(map(len, END_OF_DATA_VARIANTS.values()))


def terminator(name: str = "standard") -> bytes:
    """Return the end-of-data bytes called ``name`` (KeyError names the valid choices)."""
    try:
        return END_OF_DATA_VARIANTS[name]
    except KeyError:
        raise KeyError(
            f"unknown end-of-data variant {name!r}; choose one of {', '.join(END_OF_DATA_VARIANTS)}"
        ) from None


#: The bytes before a message's first octet, as the end of data sees them: the DATA line's CRLF.
MESSAGE_START: Final = b"\r\n"


def ends_data(data: bytes, before: bytes = MESSAGE_START) -> bool:
    """Whether ``data``, sent as message content after ``before`` (the message's last bytes so
    far), holds <CRLF>.<CRLF>: the only end of data a server may take (RFC 5321 §4.1.1.4).

    Verbatim content and the other variants may lack it; the message then stays open, and a
    reply to it means the server took another sequence as the end (SMTP smuggling).
    """
    return STANDARD_TERMINATOR in before[-len(STANDARD_TERMINATOR) + 1:] + data


def missing_end(sent: bytes) -> bytes:
    """What to append to a message whose bytes so far end with ``sent`` so that it ends with
    <CRLF>.<CRLF>: the part of it that ``sent`` does not end with already (``.\r\n`` after a
    whole line, all five bytes after a bare LF, which a strict server does not take as a line
    end)."""
    for size in range(len(STANDARD_TERMINATOR) - 1, 0, -1):
        if sent.endswith(STANDARD_TERMINATOR[:size]):
            return STANDARD_TERMINATOR[size:]
    return STANDARD_TERMINATOR


def end_variant(sent: bytes) -> str | None:
    """The END_OF_DATA_VARIANTS entry ``sent`` ends with (the longest: ``\r\n.\n`` is
    crlflf, not lflf), or None."""
    found = [name for name, end in END_OF_DATA_VARIANTS.items() if sent.endswith(end)]
    return max(found, key=lambda name: len(END_OF_DATA_VARIANTS[name]), default=None)


# The last body normalize_line_endings was given, and what it gave: one message is asked for
# again and again before it is sent (its SIZE, its warnings, its wire bytes), and bytes cannot
# change, so the very same object has the same answer.
_last_normalized: tuple[bytes, bytes] = (b"", b"")


def normalize_line_endings(body: bytes) -> bytes:
    """Turn every lone CR, lone LF and CRLF into CRLF."""
    global _last_normalized
    last_body, last_out = _last_normalized  # one read: another thread may replace the pair
    if body is last_body:
        return last_out
    crlf = body.count(b"\r\n")
    if crlf == body.count(b"\n") and crlf == body.count(b"\r"):
        out = body  # already so (the usual message): three counts cost less than a copy
    else:
        out = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
    _last_normalized = (body, out)
    return out


#: RFC 5321 §4.5.3.1.6: a text line of a message is at most 1000 octets, its CRLF included.
MAX_TEXT_LINE = 1000


def long_lines(message: bytes) -> list[tuple[int, int]]:
    """(line number, octets with its CRLF) of each line over ``MAX_TEXT_LINE``; ``message``
    has CRLF line ends (``message_octets`` gives that form)."""
    lines = message.split(b"\r\n")
    if max(map(len, lines)) + 2 <= MAX_TEXT_LINE:
        return []  # the usual message, found so without a step per line
    return [(number, len(line) + 2) for number, line in enumerate(lines, 1)
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
