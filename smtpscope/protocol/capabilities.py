"""EHLO/LHLO reply parsed into a frozen Capabilities value (keyword, params, meaning, RFC)."""

from __future__ import annotations

import re
from functools import lru_cache

from ..values import Frozen
from .events import Reply
from .registry import lookup_keyword

__all__ = ["Capabilities", "Capability", "CapabilityDiff"]

# RFC 5321 §4.1.1.1: ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
_KEYWORD = r"[A-Za-z0-9][A-Za-z0-9-]*\Z"  # compiled on first use


class Capability(Frozen):
    """One EHLO line: ``keyword`` upper-cased, ``params`` as sent, ``raw`` the whole line."""

    __slots__ = ("keyword", "legacy", "malformed", "meaning", "params", "raw", "rfc")
    keyword: str
    params: tuple[str, ...]
    meaning: str
    rfc: str
    raw: str
    #: True for the pre-RFC 2554 ``AUTH=LOGIN PLAIN`` form (keyword reported as AUTH).
    legacy: bool
    #: True when the keyword breaks RFC 5321 syntax (kept and shown, never dropped).
    malformed: bool

    def __init__(self, keyword: str, params: tuple[str, ...], meaning: str, rfc: str, raw: str,
                 legacy: bool = False, malformed: bool = False) -> None:
        self._set(keyword=keyword, params=params, meaning=meaning, rfc=rfc, raw=raw,
                  legacy=legacy, malformed=malformed)


class CapabilityDiff(Frozen):
    """What changed between two EHLO replies (e.g. before and after STARTTLS)."""

    __slots__ = ("added", "changed", "removed")
    added: tuple[Capability, ...]
    removed: tuple[Capability, ...]
    #: (before, after) pairs for keywords present in both with different parameters.
    changed: tuple[tuple[Capability, Capability], ...]

    def __init__(self, added: tuple[Capability, ...], removed: tuple[Capability, ...],
                 changed: tuple[tuple[Capability, Capability], ...]) -> None:
        self._set(added=added, removed=removed, changed=changed)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)


@lru_cache(maxsize=512)  # a server's EHLO lines repeat; a Capability is immutable
def _parse_line(text: str) -> Capability:
    words = text.split()
    if not words:
        return Capability("", (), "empty line", "", text, malformed=True)
    head, params = words[0], tuple(words[1:])
    legacy = False
    keyword = head.upper()
    if "=" in head:
        # Legacy "AUTH=LOGIN PLAIN" (pre-standard AUTH, still sent by Exchange and others).
        key, _, first = head.partition("=")
        if key.upper() == "AUTH":
            keyword, legacy = "AUTH", True
            params = ((first,) if first else ()) + params
    malformed = not legacy and re.match(_KEYWORD, keyword) is None
    meaning, rfc = lookup_keyword(keyword)
    if legacy:
        meaning += " (legacy AUTH= form)"
    return Capability(keyword, params, meaning, rfc, text, legacy, malformed)


# Capabilities by the reply lines they were parsed from (see Capabilities.parse).
_PARSED: dict[tuple[bytes, ...], Capabilities] = {}
_PARSED_MAX = 64
_PARSED_SIZE = 4096


def _norm(cap: Capability) -> tuple[str, ...]:
    return tuple(p.upper() for p in cap.params)


class Capabilities(Frozen):
    """The server's EHLO/LHLO answer: greeting domain and advertised keywords."""

    __slots__ = ("domain", "greeting", "keywords")
    domain: str
    greeting: str
    keywords: tuple[Capability, ...]

    def __init__(self, domain: str, greeting: str, keywords: tuple[Capability, ...]) -> None:
        self._set(domain=domain, greeting=greeting, keywords=keywords)

    @classmethod
    def parse(cls, reply: Reply) -> Capabilities:
        """Parse a 250 reply to EHLO/LHLO. Never raises; a non-2xx reply gives no keywords."""
        if not reply.is_success or not reply.lines:
            return cls("", "", ())
        # A server answers EHLO the same way every time: the same lines, the same (immutable)
        # value, remembered for small replies only.
        known = _PARSED.get(reply.lines) if cls is Capabilities else None
        if known is not None:
            return known
        # Shown lines, so the inspector and the probe report show an undecodable byte as \xNN
        # (JSON turns it into U+FFFD); such a keyword never matches one of ours, all ASCII.
        lines = reply.shown_lines
        first = lines[0].strip()
        domain, _, rest = first.partition(" ")
        caps = cls(domain, rest.strip(), tuple(_parse_line(t) for t in lines[1:]))
        if cls is Capabilities and len(reply.raw) <= _PARSED_SIZE:
            if len(_PARSED) >= _PARSED_MAX:
                _PARSED.clear()
            _PARSED[reply.lines] = caps
        return caps

    def has(self, keyword: str) -> bool:
        return self.get(keyword) is not None

    def get(self, keyword: str) -> Capability | None:
        """First capability with this keyword (case-insensitive)."""
        upper = keyword.upper()
        for cap in self.keywords:
            if cap.keyword == upper:
                return cap
        return None

    @property
    def size(self) -> int | None:
        """Advertised SIZE limit in octets; None when absent, 0 or unreadable (no fixed limit)."""
        cap = self.get("SIZE")
        if cap is None or not cap.params:
            return None
        value = cap.params[0]
        if not value.isascii() or not value.isdigit():
            return None
        return int(value) or None

    @property
    def auth_mechanisms(self) -> tuple[str, ...]:
        """Mechanisms from every AUTH line (standard and legacy ``AUTH=``), upper-cased, once."""
        seen: dict[str, None] = {}
        for cap in self.keywords:
            if cap.keyword == "AUTH":
                for mech in cap.params:
                    seen.setdefault(mech.upper(), None)
        return tuple(seen)

    @property
    def limits(self) -> dict[str, int]:
        """RFC 9422 LIMITS parameters with numeric values (MAILMAX, RCPTMAX, RCPTDOMAINMAX …)."""
        out: dict[str, int] = {}
        cap = self.get("LIMITS")
        if cap is None:
            return out
        for param in cap.params:
            name, sep, value = param.partition("=")
            if sep and value.isascii() and value.isdigit():
                out[name.upper()] = int(value)
        return out

    def diff(self, other: Capabilities) -> CapabilityDiff:
        """Changes from ``self`` (before) to ``other`` (after)."""
        before = {c.keyword: c for c in self.keywords}
        after = {c.keyword: c for c in other.keywords}
        added = tuple(c for k, c in after.items() if k not in before)
        removed = tuple(c for k, c in before.items() if k not in after)
        changed = tuple(
            (before[k], c)
            for k, c in after.items()
            if k in before and _norm(before[k]) != _norm(c)
        )
        return CapabilityDiff(added, removed, changed)
