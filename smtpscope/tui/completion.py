"""Pure helpers of the composer: escapes, completion candidates and send-time warnings.

No widget state and no textual import, so each is tested directly.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from smtpscope.protocol import State
from smtpscope.protocol.checks import command_kind as _engine_command_kind
from smtpscope.protocol.state import (
    BODY_REQUIRES,
    PARAM_REQUIRES,
    REQUIRES_EXTENSION,
    RULES,
    why_invalid,
)
from smtpscope.sanitize import visible

if TYPE_CHECKING:
    from smtpscope.protocol import Capabilities, Command

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
    escaped = data.decode("latin-1").encode("unicode_escape").decode("ascii")
    return f"{escaped}  {describe_line_endings(data)} ({name})"


# The engine's parameter -> EHLO keyword table, plus extensions it passes through unchecked.
PARAM_KEYWORDS: dict[str, str] = {
    **PARAM_REQUIRES, "HOLDFOR": "FUTURERELEASE", "HOLDUNTIL": "FUTURERELEASE", "PRDR": "PRDR",
    "RRVS": "RRVS",
}

# Completion tables: (text offered, keyword that must be advertised or None).
_VERB_COMPLETIONS: tuple[tuple[str, str | None], ...] = (
    ("EHLO ", None), ("HELO ", None), ("MAIL FROM:<", None), ("RCPT TO:<", None),
    ("DATA", None), ("BDAT ", "CHUNKING"), ("RSET", None), ("NOOP", None), ("VRFY ", None),
    ("EXPN ", None), ("HELP", None), ("ETRN ", "ETRN"), ("STARTTLS", "STARTTLS"),
    ("AUTH ", "AUTH"), ("QUIT", None),
)
_MAIL_COMPLETIONS: tuple[tuple[str, str], ...] = (
    ("SIZE=", "SIZE"), ("BODY=8BITMIME", "8BITMIME"), ("BODY=BINARYMIME", "BINARYMIME"),
    ("SMTPUTF8", "SMTPUTF8"), ("RET=FULL", "DSN"), ("RET=HDRS", "DSN"), ("ENVID=", "DSN"),
    ("REQUIRETLS", "REQUIRETLS"), ("MT-PRIORITY=", "MT-PRIORITY"), ("BY=", "DELIVERBY"),
    ("HOLDFOR=", "FUTURERELEASE"), ("AUTH=<>", "AUTH"), ("PRDR", "PRDR"),
)
_RCPT_COMPLETIONS: tuple[tuple[str, str], ...] = (
    ("NOTIFY=SUCCESS,FAILURE,DELAY", "DSN"), ("NOTIFY=NEVER", "DSN"), ("ORCPT=rfc822;", "DSN"),
    ("RRVS=", "RRVS"),
)
_AUTH_ARG = re.compile(r"^(\s*auth\s+)(\S*)$", re.IGNORECASE)
_PARAMS = re.compile(r"^(\s*(mail\s+from|rcpt\s+to):\s*<[^>]*>(?:\s+\S+)*\s+)(\S*)$",
                     re.IGNORECASE)


def _has(caps: Capabilities | None, keyword: str) -> bool:
    return caps is not None and caps.has(keyword)


def completions(value: str, caps: Capabilities | None) -> list[str]:
    """Whole-line candidates extending ``value``, keeping the complete words as typed.

    Verbs first; then ``AUTH `` offers the advertised mechanisms and MAIL/RCPT offer the
    parameters the server advertised (never ones already on the line).
    """
    options: list[str]
    if match := _AUTH_ARG.match(value):
        prefix = match.group(1)
        options = [prefix + m for m in (caps.auth_mechanisms if caps else ())]
    elif match := _PARAMS.match(value):
        prefix = match.group(1)
        table = _MAIL_COMPLETIONS if match.group(2)[0] in "mM" else _RCPT_COMPLETIONS
        present = {p.split("=")[0].upper() for p in prefix.split()[2:]}
        options = [prefix + text for text, kw in table
                   if _has(caps, kw) and text.split("=")[0] not in present]
    elif " " not in value.lstrip() and value.strip():
        options = [text for text, kw in _VERB_COMPLETIONS if kw is None or _has(caps, kw)]
    else:
        return []
    lowered = value.lower()
    # Words already complete stay as typed; the word being completed takes the canonical
    # spelling, so "ma" gives "MAIL FROM:<", never "maIL FROM:<".
    start = len(value) - len(value.split(" ")[-1])
    return [value[:start] + opt[start:] for opt in options
            if opt.lower().startswith(lowered) and len(opt) > len(value)]


command_kind = _engine_command_kind  # one definition: the engine's


def advertisement_problems(command: Command, caps: Capabilities | None) -> list[str]:
    """Why ``command`` may surprise this server: verbs or parameters it did not advertise."""
    problems: list[str] = []
    keyword = REQUIRES_EXTENSION.get(command_kind(command))
    if keyword is not None and not _has(caps, keyword):
        where = "the server did not advertise" if caps else "no EHLO reply yet: nobody advertised"
        problems.append(f"{where} {keyword}")
    for key, value in getattr(command, "params", ()):
        needed = PARAM_KEYWORDS.get(key)
        if key == "BODY" and value:
            needed = BODY_REQUIRES.get(value.upper())
        if needed and not _has(caps, needed):
            problems.append(f"{key}{'=' + value if value else ''} needs {needed}, not advertised")
    return problems


def state_problem(command: Command, state: State | None) -> str | None:
    """The engine's reason ``command`` is not valid in ``state``, or None when it is."""
    kind = command_kind(command)
    rule = RULES.get(kind)
    if state is None or rule is None or state in rule.valid_in:
        return None
    return why_invalid(kind, state)


# RFC 5321 §4.5.3.1.4: a command line is at most 512 octets with its CRLF. AUTH with an initial
# response may be longer (RFC 4954 §4 raises it to 12288), so it is not judged here.
MAX_COMMAND_LINE = 512


def line_length_problem(command: Command) -> str | None:
    """Why a command line is too long for RFC 5321, or None."""
    if command.kind == "AUTH":
        return None
    size = len(command.to_bytes())
    if size <= MAX_COMMAND_LINE:
        return None
    return (f"the line is {size} octets with CRLF; RFC 5321 §4.5.3.1.4 allows "
            f"{MAX_COMMAND_LINE}, servers may refuse it (500)")
