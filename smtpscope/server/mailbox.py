"""RFC 5321 4.1.2 path syntax for MAIL and RCPT, checked on the text the client sent.

aiosmtpd parses a path with the stdlib's header parser, which is lenient where SMTP is not and
rewrites what it takes: ``<a b@b.test>`` comes out as ``"a b"@b.test``, the valid quoted form,
and ``<a"b"@c>`` as ``ab@c``. So the path is checked before it parses it; one that is not
RFC 5321 syntax and that no reading can take (:func:`is_unreadable`) reaches the handler as a
:class:`MalformedPath`, which answers as Postfix does (``501 5.1.7 Bad sender address syntax``,
``501 5.1.3 Bad recipient address syntax``); one Postfix takes is taken, with a note. The
null reverse-path ``<>`` and source routes (``<@relay:a@b.test>``, RFC 5321 4.1.1.3 and C) pass.
"""

from __future__ import annotations

import re
from typing import Any

from smtpscope.sanitize import visible

# RFC 6531 3.3: UTF8-non-ascii in atext, qtext and U-labels. Lone surrogates stand for bytes
# that were not UTF-8 (aiosmtpd decodes with surrogateescape): never part of an address.
_UTF8 = "\u0080-\ud7ff\ue000-\U0010ffff"
_ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~\\-" + _UTF8 + "]"
_DOT_STRING = f"{_ATEXT}+(?:\\.{_ATEXT}+)*"
_QUOTED = '"(?:[\\x20\\x21\\x23-\\x5b\\x5d-\\x7e' + _UTF8 + "]|\\\\[\\x20-\\x7e])*\""
_LET_DIG = "[A-Za-z0-9" + _UTF8 + "]"
_SUB_DOMAIN = f"{_LET_DIG}(?:[A-Za-z0-9\\-{_UTF8}]*{_LET_DIG})?"
_DOMAIN = f"{_SUB_DOMAIN}(?:\\.{_SUB_DOMAIN})*"
_SNUM = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
# IPv4, or a tagged literal such as IPv6:... (General-address-literal; dcontent is %d33-90 /
# %d94-126).
_TAGGED = "[A-Za-z0-9-]*[A-Za-z0-9]:[\\x21-\\x5a\\x5e-\\x7e]+"
_LITERAL = f"\\[(?:{_SNUM}(?:\\.{_SNUM}){{3}}|{_TAGGED})\\]"
_MAILBOX = re.compile(f"(?:{_DOT_STRING}|{_QUOTED})@(?:{_DOMAIN}|{_LITERAL})")
_ROUTED = re.compile(f"(?:@{_DOMAIN}(?:,@{_DOMAIN})*:)?{_MAILBOX.pattern}")


class MalformedPath(str):
    """A MAIL or RCPT path, as sent, that is not RFC 5321 syntax: the handler refuses it."""


def split_path(arg: str) -> str:
    """The path at the start of MAIL's or RCPT's argument (after ``FROM:``/``TO:``).

    Bracketed, it ends at the first ``>`` outside a quoted string; bare (aiosmtpd takes
    ``MAIL FROM:a@b.test`` as Postfix does), at the first space.
    """
    if not arg.startswith("<"):
        return arg.split(" ", 1)[0]
    quoted = escaped = False
    for i, char in enumerate(arg):
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == ">" and not quoted:
            return arg[:i + 1]
    return arg


def is_path(path: str, *, forward: bool) -> bool:
    """``path`` is a reverse-path (``forward`` False) or forward-path in RFC 5321 syntax.

    ``<>`` passes for both: RCPT's handler refuses it with its own words.
    """
    if not (path.startswith("<") and path.endswith(">")):
        return _MAILBOX.fullmatch(path) is not None
    inner = path[1:-1]
    # RFC 5321 4.1.1.3: "RCPT TO:<Postmaster>" needs no domain.
    if not inner or (forward and inner.lower() == "postmaster"):
        return True
    return _ROUTED.fullmatch(inner) is not None


# What no reading of a path can take, and Postfix refuses too (501): a space or a control
# character outside a quoted string, a quote left open, a bracket left open, bytes that were
# not UTF-8. Every other departure from RFC 5321 (``<a>``, ``<a..b@c>``, a domain with ``_``,
# ``MAIL FROM:<postmaster>``) Postfix accepts by default, and so does this server, noting it.
_UNQUOTED_BREAK = re.compile(r'"(?:[^"\\]|\\.)*"|([\x00-\x20\x7f\ud800-\udfff])', re.S)


def is_unreadable(path: str) -> bool:
    """``path`` cannot be read as any address: refused, as Postfix refuses it."""
    if path.startswith("<") != path.endswith(">") or path.count('"') % 2:
        return True
    return any(m[1] for m in _UNQUOTED_BREAK.finditer(path))


class AddressSyntaxMixin:
    """Checks MAIL's and RCPT's path where aiosmtpd parses it (``SMTP._getaddr``)."""

    answering: str | None  # ScopeSMTP's: the verb being answered
    tap_note: Any  # ScopeSMTP's

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        parent: Any = super()
        if not arg or self.answering not in ("MAIL", "RCPT"):
            return parent._getaddr(arg)  # type: ignore[no-any-return]
        path = split_path(arg.strip())
        if is_path(path, forward=self.answering == "RCPT"):
            return parent._getaddr(arg)  # type: ignore[no-any-return]
        address, rest = (None, None) if is_unreadable(path) else parent._getaddr(arg)
        if address is None:
            # Without parameters: the address is refused, not what follows it.
            return MalformedPath(path), ""
        self.tap_note(f"{self.answering} {visible(path)} is not RFC 5321 path syntax "
                      "(§4.1.2): accepted, as Postfix accepts it; stricter servers refuse it")
        return address, rest
