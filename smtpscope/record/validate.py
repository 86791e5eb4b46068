"""Check what a recording line holds, field by field, before anything uses it.

A recording is a file: it may be damaged, edited or written by someone else. Every field an
entry, header or footer carries is checked for its type and range here; what fails is a
:class:`LineError` with the reason, so the reader can skip that one line and say why.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable
from typing import Any

from smtpscope.record.transcript import ENTRY_FIELDS, KINDS, Entry

# Wall-clock times from 1970 to the year 5138: anything else is no time a session ran at.
MAX_WALL = 1e11
MAX_SEQ = 2**31
MAX_LINE = 2**28  # one JSON line; a recording holds at most ~32 MiB of content per entry


class LineError(ValueError):
    """A recording line that cannot be used; ``str()`` is the reason."""


# What json.loads runs, without its steps around it.
_scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def loads(line: bytes) -> Any:
    """Parse one JSON line; LineError (never RecursionError or a digit-limit ValueError)."""
    if len(line) > MAX_LINE:
        raise LineError(f"line of {len(line)} octets is too long")
    try:
        if line[:1] == b"{" and line[1:2] != b"\0":
            # An entry line: json.loads would find UTF-8 and decode it so, then scan it. Done
            # here directly (a third of the time of parsing a line); anything else there is to
            # say about the line (trailing data, no value) json.loads says below.
            text = line.decode("utf-8", "surrogatepass")
            try:
                obj, end = _scan(text, 0)
            except StopIteration:
                pass
            else:
                if end == len(text):
                    return obj
        return json.loads(line)
    except UnicodeDecodeError:
        raise LineError("not UTF-8") from None
    except json.JSONDecodeError:
        raise LineError("not JSON") from None
    except RecursionError:
        raise LineError("JSON nested too deeply") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise LineError(f"not usable JSON ({str(exc)[:80]})") from None


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _int(data: dict[str, Any], key: str, low: int, high: int, *, default: Any = ...) -> int:
    value = data.get(key, default)
    if value is ...:
        raise LineError(f"'{key}' is missing")
    if isinstance(value, bool) or not isinstance(value, int):
        raise LineError(f"'{key}' must be an integer, not {_type_name(value)}")
    if not low <= value <= high:
        raise LineError(f"'{key}' is out of range")
    return value


def _number(data: dict[str, Any], key: str, low: float, high: float,
            *, default: Any = ...) -> float | None:
    value = data.get(key, default)
    if value is ...:
        raise LineError(f"'{key}' is missing")
    if value is None and default is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LineError(f"'{key}' must be a number, not {_type_name(value)}")
    try:
        number = float(value)
    except OverflowError:
        raise LineError(f"'{key}' is out of range") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise LineError(f"'{key}' is out of range")
    return number


def _str(data: dict[str, Any], key: str, *, default: Any = ...) -> str:
    value = data.get(key, default)
    if value is ...:
        raise LineError(f"'{key}' is missing")
    if not isinstance(value, str):
        raise LineError(f"'{key}' must be a string, not {_type_name(value)}")
    return value


def _bool(data: dict[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise LineError(f"'{key}' must be true or false, not {_type_name(value)}")
    return value


def _str_list(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise LineError(f"'{what}' must be a list of strings")
    return value


def check_reply(value: Any) -> dict[str, Any] | None:
    """An entry's ``reply``: null, or an object with an integer code and string lines."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise LineError(f"'reply' must be an object, not {_type_name(value)}")
    _int(value, "code", 0, 999)
    if "lines" in value:
        _str_list(value["lines"], "reply.lines")
    if value.get("enhanced") is not None and not isinstance(value["enhanced"], str):
        raise LineError("'reply.enhanced' must be a string or null")
    if "warnings" in value:
        _str_list(value["warnings"], "reply.warnings")
    if "unsolicited" in value:
        _bool(value, "unsolicited")
    if not isinstance(value.get("recipient", ""), str):
        raise LineError("'reply.recipient' must be a string")
    if not isinstance(value.get("ended_by", ""), str):
        raise LineError("'reply.ended_by' must be a string")
    return value


def check_info(value: Any) -> dict[str, Any] | None:
    """An entry's ``info`` (TLS details): null, or an object; a chain is a list of objects,
    the client's a list of PEM strings, and the facts of a TLS failure an object.

    The values inside are shown only through ``str()`` and the sanitizer, so their types are
    left open (TLS details grow new fields).
    """
    if value is None:
        return None
    if not isinstance(value, dict):
        raise LineError(f"'info' must be an object, not {_type_name(value)}")
    chain = value.get("peer_chain")
    if chain is not None and (
            not isinstance(chain, list) or not all(isinstance(c, dict) for c in chain)):
        raise LineError("'info.peer_chain' must be a list of objects")
    client = value.get("client_chain")
    if client is not None and (
            not isinstance(client, list) or not all(isinstance(c, str) for c in client)):
        raise LineError("'info.client_chain' must be a list of strings")
    if not isinstance(value.get("tls_failed", {}), dict):
        raise LineError("'info.tls_failed' must be an object")
    return value


def entry_from_json(data: Any) -> Entry:
    """An :class:`Entry` from one parsed line, every field checked; LineError says why not."""
    entry = fast_entry(data)  # an ordinary line: the same checks in fewer steps
    if entry is not None:
        return entry
    return full_entry(data)


def full_entry(data: Any) -> Entry:
    """:func:`entry_from_json` without its quick path: each field checked on its own."""
    try:
        return _entry(data)
    except LineError as exc:
        raise LineError(f"not a transcript entry: {exc}") from None


# The fields of an ordinary command or reply line: what fast_entry takes.
_PLAIN_FIELDS = frozenset({"seq", "mono", "wall", "dir", "kind", "text", "raw", "reply", "tls",
                           "off_script", "latency", "redacted"})
_DIRECTIONS = ("client", "server", "local")


def fast_entry(data: Any) -> Entry | None:
    """The :class:`Entry` that :func:`entry_from_json` makes of an ordinary line (no notes,
    info or unknown fields, every value of the usual type and in range), with the same checks
    in fewer steps; None for anything else, which full_entry then checks and explains."""
    if type(data) is not dict or not data.keys() <= _PLAIN_FIELDS:
        return None
    seq, mono, wall = data.get("seq"), data.get("mono"), data.get("wall")
    kind, direction = data.get("kind"), data.get("dir")
    raw, text = data.get("raw", ""), data.get("text", "")
    tls, off_script, redacted = (data.get("tls", False), data.get("off_script", False),
                                 data.get("redacted", False))
    latency = data.get("latency")
    if (type(seq) is not int or not 0 <= seq <= MAX_SEQ
            or type(mono) is not float or not -MAX_WALL <= mono <= MAX_WALL
            or type(wall) is not float or not 0.0 <= wall <= MAX_WALL
            or type(kind) is not str or kind not in KINDS
            or type(direction) is not str or direction not in _DIRECTIONS
            or type(raw) is not str or type(text) is not str
            or type(tls) is not bool or type(off_script) is not bool
            or type(redacted) is not bool
            or (latency is not None
                and (type(latency) is not float or not 0.0 <= latency <= MAX_WALL))):
        return None
    try:
        reply = check_reply(data.get("reply"))
        # Strict base64 accepts only what b64decode(validate=True) accepts, and decodes it
        # alike; what it refuses beyond that, the full check decides.
        octets = binascii.a2b_base64(raw, strict_mode=True)
    except (LineError, binascii.Error, ValueError):
        return None
    return Entry(seq, mono or 0.0, wall or 0.0, direction, kind,  # type: ignore[arg-type]
                 octets, text, reply, tls, off_script, (), latency, redacted)


def _entry(data: Any) -> Entry:
    if not isinstance(data, dict):
        raise LineError(f"an entry must be an object, not {_type_name(data)}")
    kind = _str(data, "kind")
    if kind not in KINDS:
        raise LineError("unknown entry kind")  # the value itself is not repeated: it is foreign
    direction = _str(data, "dir")
    if direction not in ("client", "server", "local"):
        raise LineError("unknown direction")
    raw_text = _str(data, "raw", default="")
    try:
        raw = base64.b64decode(raw_text, validate=True)
    except (binascii.Error, ValueError):
        raise LineError("'raw' is not base64") from None
    notes = data.get("notes", [])
    _str_list(notes, "notes")
    return Entry(
        seq=_int(data, "seq", 0, MAX_SEQ),
        mono=_number(data, "mono", -MAX_WALL, MAX_WALL) or 0.0,
        wall=_number(data, "wall", 0.0, MAX_WALL) or 0.0,
        direction=direction,  # type: ignore[arg-type]
        kind=kind,
        raw=raw,
        text=_str(data, "text", default=""),
        reply=check_reply(data.get("reply")),
        tls=_bool(data, "tls"),
        off_script=_bool(data, "off_script"),
        notes=tuple(notes),
        latency=_number(data, "latency", 0.0, MAX_WALL, default=None),
        redacted=_bool(data, "redacted"),
        info=check_info(data.get("info")),
        # Fields a newer smtpscope added: kept (not checked, never shown) for JSON output.
        extra=None if data.keys() <= ENTRY_FIELDS else {
            k: v for k, v in data.items() if k not in ENTRY_FIELDS},
    )


def check_header(header: dict[str, Any], newest: int) -> dict[str, Any]:
    """The header with its fields checked; LineError says what is wrong.

    ``started_wall`` out of range is dropped rather than fatal: it only orders the history.
    """
    version = _int(header, "version", 0, 2**31, default=0)
    if version > newest:
        raise LineError(f"uses recording schema {version}, newer than this smtpscope "
                        f"understands ({newest}); upgrade smtpscope to read it")
    _str(header, "target", default="?")
    for key in ("started", "tool", "role", "protocol", "security", "warning", "listen",
                "tls"):
        if header.get(key) is not None and not isinstance(header[key], str):
            raise LineError(f"'{key}' must be a string, not {_type_name(header[key])}")
    out = dict(header)
    try:
        _number(header, "started_wall", 0.0, MAX_WALL, default=None)
    except LineError:
        out.pop("started_wall", None)
    if "secrets_recorded" in header:
        _bool(header, "secrets_recorded")
    return out


def check_footer(footer: dict[str, Any]) -> dict[str, Any]:
    """A footer line (``"footer": true``) with its fields checked."""
    if footer.get("outcome") is not None and not isinstance(footer["outcome"], str):
        raise LineError("'outcome' must be a string")
    out = dict(footer)
    try:
        _number(footer, "ended_wall", 0.0, MAX_WALL, default=None)
    except LineError:
        out.pop("ended_wall", None)
    return out
