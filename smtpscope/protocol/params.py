"""Validation of command arguments: domains, paths, ESMTP parameters, xtext (RFC 5321/3461)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Final

from .errors import CommandSyntaxError

__all__ = [
    "MAIL_PARAMS",
    "MAIL_TEMPLATES",
    "NOTIFY_WORDS",
    "RCPT_PARAMS",
    "RCPT_TEMPLATES",
    "Params",
    "check_address",
    "check_domain",
    "check_params",
    "check_text",
    "format_params",
    "is_xtext",
]

Params = tuple[tuple[str, str | None], ...]

# Patterns are compiled on first use (re caches them), not at import: a probe never needs
# most of them.
# esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")  (RFC 5321 §4.1.2)
_KEYWORD = r"[A-Za-z0-9][A-Za-z0-9-]*\Z"
# esmtp-value = 1*(%d33-60 / %d62-126 / UTF8-non-ascii): no space, no "=", no controls.
_VALUE = r"[\x21-\x3c\x3e-\x7e\u0080-\U0010ffff]+\Z"
# xtext = *( xchar / hexchar ); xchar is 33-126 except "+" and "="; hexchar "+" 2 upper hex.
_XTEXT = r"(?:[\x21-\x2a\x2c-\x3c\x3e-\x7e]|\+[0-9A-F]{2})*\Z"
_BY = r"(?i)[+-]?[0-9]{1,9};[RN]T?\Z"
# date-time of RFC 3339 §5.6, used by HOLDUNTIL (RFC 4865) and RRVS (RFC 7293).
_DATE_TIME = (r"(?i)[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
              r"(?:Z|[+-][0-9]{2}:[0-9]{2})")
#: RFC 3461 §4.1: NEVER alone, or a comma list of the other three.
NOTIFY_WORDS: Final = ("NEVER", "SUCCESS", "FAILURE", "DELAY")
_NOTIFY_FLAGS: Final = frozenset(NOTIFY_WORDS[1:])


def check_text(value: str, what: str, hint: str) -> None:
    """Reject CR, LF, NUL and unencodable text inside a validated argument."""
    if "\r" in value or "\n" in value or "\x00" in value:
        raise CommandSyntaxError(
            f"{what} contains CR, LF or NUL; use a raw send to put those on the wire", hint
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise CommandSyntaxError(f"{what} contains characters UTF-8 cannot encode", hint) from None


def check_domain(domain: str, hint: str) -> None:
    """A HELO/EHLO/LHLO argument: one token (a name or an address literal)."""
    check_text(domain, "the domain", hint)
    if not domain:
        raise CommandSyntaxError("a domain (or address literal) is required", hint)
    if any(c.isspace() for c in domain):
        raise CommandSyntaxError(f"the domain {domain!r} contains white space", hint)


def check_address(address: str, hint: str, *, allow_null: bool) -> None:
    """A reverse/forward path without its angle brackets."""
    check_text(address, "the address", hint)
    if not address:
        if allow_null:
            return
        raise CommandSyntaxError("an address is required (<> is only valid for MAIL)", hint)
    if "<" in address or ">" in address:
        raise CommandSyntaxError(f"the address {address!r} contains '<' or '>'", hint)
    in_quotes = False
    prev = ""
    for c in address:
        if c == '"' and prev != "\\":
            in_quotes = not in_quotes
        elif c.isspace() and not in_quotes:
            raise CommandSyntaxError(f"the address {address!r} contains white space", hint)
        prev = c
    if in_quotes:
        raise CommandSyntaxError(f"the address {address!r} has an unclosed quote", hint)


def is_xtext(value: str) -> bool:
    return re.match(_XTEXT, value) is not None


def _int_param(lo: int, hi: int | None) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        text = value[1:] if value[:1] in "+-" and lo < 0 else value
        if not text.isascii() or not text.isdigit():
            return "must be a number"
        n = int(value)
        if n < lo or (hi is not None and n > hi):
            return f"must be between {lo} and {hi}" if hi is not None else f"must be >= {lo}"
        return None

    return check


def _choice(*choices: str) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        if value.upper() in choices:
            return None
        return "must be one of " + ", ".join(choices)

    return check


def _xtext(value: str) -> str | None:
    return None if is_xtext(value) else "must be xtext (printable ASCII, '+XX' hex escapes)"


def _mail_auth(value: str) -> str | None:
    return None if value == "<>" or is_xtext(value) else "must be <> or an xtext mailbox"


def _by(value: str) -> str | None:
    return None if re.match(_BY, value) else "must be <seconds>;R or <seconds>;N (optional T)"


def _date_time(value: str) -> str | None:
    if re.fullmatch(_DATE_TIME, value):
        return None
    return "must be an RFC 3339 date-time, e.g. 2030-01-31T23:59:00Z"


def _rrvs(value: str) -> str | None:
    # RFC 7293 §3.1: rrvs-param = "RRVS=" date-time [ ";" ( "C" / "R" ) ]
    stamp, sep, action = value.partition(";")
    if _date_time(stamp) is None and (not sep or action.upper() in ("C", "R")):
        return None
    return "must be an RFC 3339 date-time with an optional ;C or ;R"


def _notify(value: str) -> str | None:
    flags = [f.upper() for f in value.split(",")]
    if flags == ["NEVER"]:
        return None
    if not flags or any(f not in _NOTIFY_FLAGS for f in flags) or len(set(flags)) != len(flags):
        return "must be NEVER or a comma list of SUCCESS, FAILURE, DELAY"
    return None


def _orcpt(value: str) -> str | None:
    kind, sep, addr = value.partition(";")
    if not sep or not re.match(_KEYWORD, kind) or not addr or not is_xtext(addr):
        return "must be <addr-type>;<xtext address>, e.g. rfc822;bob@example.test"
    return None


# Known parameters: keyword -> (needs a value?, value check or None). Value checks return an
# error phrase or None. Unknown keywords with valid syntax pass (extensions keep appearing).
_Spec = tuple[bool, Callable[[str], str | None] | None]
MAIL_PARAMS: Final[dict[str, _Spec]] = {
    "SIZE": (True, _int_param(0, None)),
    "BODY": (True, _choice("7BIT", "8BITMIME", "BINARYMIME")),
    "SMTPUTF8": (False, None),
    "RET": (True, _choice("FULL", "HDRS")),
    "ENVID": (True, _xtext),
    "AUTH": (True, _mail_auth),
    "REQUIRETLS": (False, None),
    "MT-PRIORITY": (True, _int_param(-9, 9)),
    "BY": (True, _by),
    "HOLDFOR": (True, _int_param(0, 999_999_999)),  # RFC 4865 §4: 1*9DIGIT seconds
    "HOLDUNTIL": (True, _date_time),  # RFC 4865 §4
    "PRDR": (False, None),  # draft-hall-prdr: a bare keyword
}
RCPT_PARAMS: Final[dict[str, _Spec]] = {
    "NOTIFY": (True, _notify),
    "ORCPT": (True, _orcpt),
    "RRVS": (True, _rrvs),  # RFC 7293
}

# What a line editor offers after MAIL FROM:<...> / RCPT TO:<...>, in this order. Each template
# is a whole parameter or its "KEY=" start; the keyword it needs comes from state.PARAM_REQUIRES
# (BODY values from state.BODY_REQUIRES), so offering and checking share one table.
MAIL_TEMPLATES: Final[tuple[str, ...]] = (
    "SIZE=", "BODY=8BITMIME", "BODY=BINARYMIME", "SMTPUTF8", "RET=FULL", "RET=HDRS", "ENVID=",
    "REQUIRETLS", "MT-PRIORITY=", "BY=", "HOLDFOR=", "HOLDUNTIL=", "AUTH=<>", "PRDR",
)
RCPT_TEMPLATES: Final[tuple[str, ...]] = (
    "NOTIFY=SUCCESS,FAILURE,DELAY", "NOTIFY=NEVER", "ORCPT=rfc822;", "RRVS=",
)


def check_params(
    params: Iterable[tuple[str, str | None]], known: dict[str, _Spec], hint: str
) -> Params:
    """Validate ESMTP parameters; return them with upper-cased keywords."""
    out: list[tuple[str, str | None]] = []
    seen: set[str] = set()
    for item in params:
        if not isinstance(item, tuple) or len(item) != 2:
            raise CommandSyntaxError(f"parameter {item!r} is not a (keyword, value) pair", hint)
        key, value = item
        if not isinstance(key, str) or not re.match(_KEYWORD, key):
            raise CommandSyntaxError(f"{key!r} is not a valid ESMTP parameter keyword", hint)
        upper = key.upper()
        if upper in seen:
            raise CommandSyntaxError(f"parameter {upper} given twice", hint)
        seen.add(upper)
        spec = known.get(upper)
        if value is not None:
            if not isinstance(value, str) or not re.match(_VALUE, value):
                raise CommandSyntaxError(
                    f"value of {upper} must be non-empty, without spaces, '=' or controls", hint
                )
            if spec is not None and not spec[0]:
                raise CommandSyntaxError(f"{upper} takes no value", hint)
            if spec is not None and spec[1] is not None:
                problem = spec[1](value)
                if problem:
                    raise CommandSyntaxError(f"{upper}={value}: {problem}", hint)
        elif spec is not None and spec[0]:
            raise CommandSyntaxError(f"{upper} needs a value ({upper}=...)", hint)
        out.append((upper, value))
    return tuple(out)


def format_params(params: Params) -> str:
    return "".join(f" {k}" if v is None else f" {k}={v}" for k, v in params)
