"""SPF records checked to RFC 7208: each term against the §12 grammar, then what the record does.

A receiver evaluating a record with any syntax error anywhere returns "permerror" before it looks
at a single term (§4.6.1), so one bad term breaks the domain's SPF however good the rest is: such
a term is an error here, and everything a valid record does that an expert would question (a
``ptr``, terms after ``all``, a ``redirect`` that never applies) is a warning.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import NamedTuple

from smtpscope.typos import did_you_mean

MECHANISMS = ("all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists")
MODIFIERS = ("redirect", "exp")
# §4.6.4: terms that cost a DNS lookup; 10 in the whole evaluation, nested records included.
LOOKUP_TERMS = frozenset({"include", "a", "mx", "ptr", "exists", "redirect"})
LOOKUP_LIMIT = 10
# §3.4: a record kept under this fits a 512-octet UDP answer with the rest of the reply.
SIZE_ADVICE = 450

_MODIFIER = re.compile(r"([A-Za-z][A-Za-z0-9_.-]*)(=.*)", re.S)
_DIRECTIVE = re.compile(r"([-+~?]?)([^:/]*)(.*)", re.S)
# §7.1: a macro-expand, or one macro-literal (visible ASCII but "%").
_MACRO = re.compile(r"%\{(.)(\d*)(r?)([-.+,/_=]*)\}|%[%_-]|[\x21-\x24\x26-\x7e]", re.I | re.S)
_MACRO_LETTERS = "slodiphcrtv"
_EXP_ONLY_LETTERS = "crt"  # §7.2: only in the explanation text, never in a domain-spec
_TOPLABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?")
_DUAL_CIDR = re.compile(r"(?::(?P<domain>.*?))?(?:/(?P<v4>[^/]*))?(?://(?P<v6>.*))?", re.S)
_ALL = {
    "-": "fail: mail from hosts not listed should be rejected",
    "~": "softfail: mail from hosts not listed is suspicious",
    "?": "neutral: no statement about hosts not listed",
    "+": "pass for every host on the Internet: anyone may send as this domain",
}


@dataclass(frozen=True)
class SpfTerm:
    """One term as written: a directive (qualifier and mechanism) or a modifier (§4.6.1)."""

    text: str
    name: str  # lower case: names are case-insensitive
    args: str  # what follows the name as written: ":x.test/24", "/24", "=x.test", ""
    qualifier: str = ""  # as written; none means "+" (§4.6.2)
    modifier: bool = False

    @property
    def key(self) -> str:
        """The name as the tags show it: with the qualifier written (``-all``)."""
        return self.qualifier + self.name

    @property
    def value(self) -> str:
        return self.args[1:] if self.args[:1] in (":", "=") else self.args


class _Fault(NamedTuple):
    what: str
    section: str


@dataclass(frozen=True)
class SpfCheck:
    """What RFC 7208 makes of one record: ``errors`` each make it a permerror."""

    terms: tuple[SpfTerm, ...]
    errors: tuple[str, ...]
    warnings: tuple[str, ...]
    details: tuple[tuple[str, str], ...]


def parse_term(text: str) -> SpfTerm:
    """Split a term into its parts; whether they are valid is :func:`check_spf`'s business."""
    modifier = _MODIFIER.fullmatch(text)
    if modifier:
        return SpfTerm(text, modifier[1].lower(), modifier[2], modifier=True)
    directive = _DIRECTIVE.fullmatch(text)
    assert directive is not None  # every group may be empty: it matches any text
    qualifier, name, args = directive.groups()
    return SpfTerm(text, name.lower(), args, qualifier)


def spf_terms(record: str) -> tuple[SpfTerm, ...]:
    """The terms after ``v=spf1``: separated by spaces, and only spaces (§12)."""
    return tuple(parse_term(word) for word in record.split(" ")[1:] if word)


def _macro_tokens(text: str) -> list[re.Match[str]]:
    """The macro-expands and macro-literals ``text`` starts with; they end where one is bad."""
    tokens: list[re.Match[str]] = []
    while (token := _MACRO.match(text, tokens[-1].end() if tokens else 0)) is not None:
        tokens.append(token)
    return tokens


def _macro_fault(text: str, tokens: list[re.Match[str]], *, domain: bool) -> _Fault | None:
    """Why ``text`` is no macro-string (§7.1), or None; a domain-spec also may not use the
    letters of the explanation text (§7.2)."""
    for token in tokens:
        letter, digits = token[1], token[2]
        if letter is None:
            continue
        if letter.lower() not in _MACRO_LETTERS:
            return _Fault(f"has the unknown macro letter '{letter}'", "7.2")
        if domain and letter.lower() in _EXP_ONLY_LETTERS:
            return _Fault(f"uses the macro letter '{letter}', allowed only in exp text", "7.2")
        if digits and int(digits) == 0:
            return _Fault("keeps 0 labels of a macro (the digit must be nonzero)", "7.3")
    if (tokens[-1].end() if tokens else 0) < len(text):
        return _Fault("has a '%' that starts no macro (a literal '%' is written '%%')", "7.1")
    return None


def _domain_fault(spec: str) -> _Fault | None:
    """Why ``spec`` is no domain-spec: a macro-string ending in a top label or a macro (§7.1)."""
    if not spec:
        return _Fault("names no domain", "7.1")
    tokens = _macro_tokens(spec)
    fault = _macro_fault(spec, tokens, domain=True)
    if fault:
        return fault
    if tokens[-1].group().startswith("%"):
        return None  # ends in a macro-expand
    tail = spec[:-1] if spec.endswith(".") else spec
    label = tail.rpartition(".")[2]
    if "." not in tail or "%" in label:
        return _Fault(f"has '{spec}', which is no fully qualified domain name", "7.1")
    if not _TOPLABEL.fullmatch(label) or label.isdigit():
        hint = " (an address is written ip4: or ip6:)" if _address(tail) else ""
        return _Fault(f"ends in '{label}', which is no top-level label{hint}", "7.1")
    return None


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text) if "%" not in text else None  # no IPv6 zone index
    except ValueError:
        return None


def _cidr_fault(length: str | None, limit: int) -> _Fault | None:
    if length is None:
        return None
    if not re.fullmatch(r"0|[1-9][0-9]*", length) or int(length) > limit:
        return _Fault(f"has the prefix length '/{length}', not 0-{limit}", "5.6")
    return None


def _network_fault(term: SpfTerm) -> _Fault | None:
    family, limit, other = (4, 32, "ip6") if term.name == "ip4" else (6, 128, "ip4")
    if not term.args.startswith(":"):
        return _Fault(f"needs an address ({term.name}:<network>[/<length>])", "5.6")
    network, slash, length = term.value.partition("/")
    address = _address(network)
    if address is None:
        return _Fault(f"has '{network}', which is no IPv{family} address", "5.6")
    if address.version != family:
        return _Fault(f"has an IPv{address.version} address (did you mean '{other}'?)", "5.6")
    return _cidr_fault(length if slash else None, limit)


def _mechanism_fault(term: SpfTerm) -> _Fault | None:
    name, args = term.name, term.args
    if name == "all":
        return _Fault("takes no argument", "5.1") if args else None
    if name in ("include", "exists"):
        if not args.startswith(":"):
            section = "5.2" if name == "include" else "5.7"
            return _Fault(f"needs a domain ({name}:<domain>)", section)
        return _domain_fault(term.value)
    if name in ("ip4", "ip6"):
        return _network_fault(term)
    if name == "ptr":
        return _domain_fault(term.value) if args else None
    if name in ("a", "mx"):
        parts = _DUAL_CIDR.fullmatch(args)
        if parts is None:
            return _Fault(f"is not {name}[:<domain>][/<ip4-length>][//<ip6-length>]",
                          "5.3" if name == "a" else "5.4")
        domain = parts["domain"]
        return ((_domain_fault(domain) if domain is not None else None)
                or _cidr_fault(parts["v4"], 32) or _cidr_fault(parts["v6"], 128))
    known = did_you_mean(name, MECHANISMS)
    return _Fault(f"is no SPF mechanism or modifier{known}", "4.6.1")


def _term_fault(term: SpfTerm) -> _Fault | None:
    """Why ``term`` breaks the grammar of §12 (each such term is a permerror), or None."""
    odd = re.search(r"[^\x21-\x7e]", term.text)
    if odd:
        if odd.group() > "\x7f":  # also an undecodable byte, kept as a surrogate
            return _Fault("holds non-ASCII text (a name is written as its A-label, xn--)", "12")
        return _Fault("holds a control character or a space other than SP", "12")
    if not term.modifier:
        return _mechanism_fault(term)
    if term.name in MODIFIERS:
        return _domain_fault(term.value)
    # unknown-modifier = name "=" macro-string
    return _macro_fault(term.value, _macro_tokens(term.value), domain=False)


def _term_warning(term: SpfTerm) -> str | None:
    if term.modifier and term.name in MECHANISMS:
        return (f"term '{term.text}' is an unknown modifier that receivers ignore (RFC 7208 §6): "
                f"a mechanism takes ':' (did you mean '{term.name}:{term.value}'?)")
    if term.modifier and term.name not in MODIFIERS:
        typo = did_you_mean(term.name, MODIFIERS)
        if typo:
            return (f"term '{term.text}' is an unknown modifier{typo}: receivers ignore it "
                    "(RFC 7208 §6)")
    if term.name == "ptr" and not term.modifier:
        return (f"term '{term.text}': RFC 7208 §5.5 says ptr SHOULD NOT be used (slow, "
                "unreliable; some receivers skip it)")
    if term.key in ("+all", "all"):
        return "SPF '+all' authorises the whole Internet to send as this domain"
    return None


def _record_warnings(terms: tuple[SpfTerm, ...]) -> list[str]:
    warnings = [w for w in map(_term_warning, terms) if w]
    mechanisms = [i for i, t in enumerate(terms) if not t.modifier]
    ends = [i for i in mechanisms if terms[i].name == "all"]
    if ends:
        unreached = [terms[i].text for i in mechanisms if i > ends[0]]
        if unreached:
            shown = ", ".join(f"'{text}'" for text in unreached)
            warnings.append(f"terms after 'all' are never tested: {shown} (RFC 7208 §5.1)")
        for term in terms:
            if term.modifier and term.name == "redirect":
                warnings.append(f"'{term.text}' is never used: the record has 'all', which "
                                "always matches (RFC 7208 §6.1)")
    early = [t.text for i, t in enumerate(terms)
             if t.modifier and t.name in MODIFIERS and mechanisms and i < mechanisms[-1]]
    if early:
        warnings.append(f"{', '.join(early)} SHOULD come after all mechanisms (RFC 7208 §6)")
    return warnings


def _lookups(terms: tuple[SpfTerm, ...]) -> int:
    return sum(1 for t in terms if t.name in LOOKUP_TERMS and t.modifier == (t.name == "redirect"))


def _details(terms: tuple[SpfTerm, ...], lookups: int) -> tuple[tuple[str, str], ...]:
    details = [("default", f"{t.key} = {_ALL[t.qualifier or '+']}")
               for t in terms if t.name == "all" and not t.modifier]
    for term in terms:
        if term.modifier and term.name in MODIFIERS:
            details.append((term.name, term.value))
    if not any(key in ("default", "redirect") for key, _ in details):
        details.append(("default", "none: neutral when no term matches (RFC 7208 §4.7)"))
    limit = f"{lookups} at top level (limit {LOOKUP_LIMIT} including nested)"
    details.append(("DNS lookups", limit))
    return tuple(details)


def check_spf(record: str) -> SpfCheck:
    """Check one SPF record (its TXT strings joined) to RFC 7208."""
    terms = spf_terms(record)
    errors: list[str] = []
    version = record.split(" ")[0]
    if version.lower() != "v=spf1":
        errors.append(f"'{version}': the version 'v=spf1' must be followed by a space: receivers "
                      "do not take this for an SPF record (RFC 7208 §4.5)")
    for term in terms:
        fault = _term_fault(term)
        if fault:
            errors.append(f"term '{term.text}' {fault.what}: the record is a permerror "
                          f"(RFC 7208 §{fault.section})")
    for name in MODIFIERS:
        count = sum(1 for t in terms if t.modifier and t.name == name)
        if count > 1:
            errors.append(f"{name}= appears {count} times, at most once is allowed: the record "
                          "is a permerror (RFC 7208 §6)")
    warnings = _record_warnings(terms)
    lookups = _lookups(terms)
    if lookups > LOOKUP_LIMIT:
        warnings.append(f"{lookups} lookup terms exceed RFC 7208's limit of {LOOKUP_LIMIT} "
                        "(permerror, §4.6.4)")
    size = len(record.encode("utf-8", "surrogateescape"))
    if size > SIZE_ADVICE:
        warnings.append(f"the record is {size} octets: RFC 7208 §3.4 advises under "
                        f"{SIZE_ADVICE}, so the answer fits a 512-octet UDP reply")
    return SpfCheck(terms, tuple(errors), tuple(warnings), _details(terms, lookups))
