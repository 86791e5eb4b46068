"""TLSA records at _25._tcp.<mx> (DANE for SMTP, RFC 7672 over RFC 6698), named and explained."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from smtpscope.dns.mxlookup import failure_text
from smtpscope.dns.parallel import Pending, ask
from smtpscope.dns.resolver import DNSAnswer, Resolver, TLSARecord, lookup_failed

TLSA_USAGE = {0: "PKIX-TA", 1: "PKIX-EE", 2: "DANE-TA", 3: "DANE-EE"}
TLSA_SELECTOR = {0: "Cert", 1: "SPKI"}
TLSA_MATCHING = {0: "Full", 1: "SHA2-256", 2: "SHA2-512"}
_USAGE_TEXT = {
    0: "a CA that must also be publicly trusted",
    1: "the server certificate, also checked against public CAs",
    2: "a trust anchor (CA) of the server's own choosing",
    3: "the server's own certificate or key, no CA needed",
}
_SELECTOR_TEXT = {0: "the whole certificate", 1: "the public key only (SubjectPublicKeyInfo)"}
_MATCHING_TEXT = {0: "compared in full", 1: "as a SHA-256 hash", 2: "as a SHA-512 hash"}
_HASH_LEN = {1: 32, 2: 64}

TLSAStatus = Literal["ok", "none", "servfail", "refused", "timeout", "error"]


@dataclass(frozen=True)
class TLSAInfo:
    usage: int
    selector: int
    mtype: int
    data: str  # hex
    meaning: str
    usable: bool  # usable for SMTP per RFC 7672
    problem: str | None = None


def explain_tlsa(record: TLSARecord) -> TLSAInfo:
    """Name a TLSA record's fields: ``3 1 1`` is DANE-EE SPKI SHA2-256, and so on."""
    names = (
        TLSA_USAGE.get(record.usage, f"usage {record.usage}"),
        TLSA_SELECTOR.get(record.selector, f"selector {record.selector}"),
        TLSA_MATCHING.get(record.mtype, f"matching type {record.mtype}"),
    )
    meaning = (
        f"{record.usage} {record.selector} {record.mtype} = {' '.join(names)}: "
        f"{_USAGE_TEXT.get(record.usage, 'unknown usage')}, "
        f"{_SELECTOR_TEXT.get(record.selector, 'unknown selector')}, "
        f"{_MATCHING_TEXT.get(record.mtype, 'unknown matching type')}"
    )
    problem = None
    if record.usage in (0, 1):
        problem = "PKIX usages (0, 1) are not used for SMTP: RFC 7672 §3.1.3 says to ignore them"
    elif record.usage not in TLSA_USAGE or record.selector not in TLSA_SELECTOR:
        problem = "unknown usage or selector: clients ignore this record"
    elif record.mtype in _HASH_LEN and len(record.data) != _HASH_LEN[record.mtype]:
        problem = (
            f"{TLSA_MATCHING[record.mtype]} data must be {_HASH_LEN[record.mtype]} bytes, "
            f"not {len(record.data)}"
        )
    elif record.mtype not in TLSA_MATCHING:
        problem = "unknown matching type: clients ignore this record"
    return TLSAInfo(
        record.usage,
        record.selector,
        record.mtype,
        record.data.hex(),
        meaning,
        problem is None,
        problem,
    )


@dataclass(frozen=True)
class TLSAReport:
    """TLSA of one MX ``host``, looked up at ``name`` = ``_<port>._tcp.<base>``."""

    host: str
    name: str
    status: TLSAStatus
    records: tuple[TLSAInfo, ...]
    authenticated: bool
    explanation: str
    # The TLSA base domain (RFC 7672 §2.2.2): ``host``, or the name its validated CNAME chain
    # leads to when TLSA records are there. None: not said (taken as ``host``).
    base: str | None = None


def _validated_alias(answers: list[Pending[DNSAnswer]]) -> tuple[str | None, bool]:
    """(where a CNAME at the host leads, whether the whole chain is DNSSEC-validated), as the
    first of its address lookups (A, then AAAA) that got an answer saw it: the AD bit of an
    answer covers the chain in it. A later lookup is waited for only when needed."""
    for pending in answers:
        answer = pending.result()
        if answer.status in ("ok", "nodata"):
            return answer.canonical, answer.canonical is not None and answer.authenticated
    return None, False


def _tlsa_at(host: str, base: str, resolver: Resolver, port: int,
             answer: DNSAnswer | None = None) -> TLSAReport:
    name = f"_{port}._tcp.{base}"
    if answer is None:
        answer = resolver.lookup(name, "TLSA")
    if lookup_failed(answer.status):
        text = failure_text(answer, f"TLSA of {name}")
        return TLSAReport(host, name, answer.status, (), False, text, base)
    if not answer.ok:
        # RFC 7672 §2.2: either way DANE does not apply, but a validated denial (NSEC or NSEC3)
        # proves the absence, while an unvalidated one may be an attacker's or an unsigned zone.
        proof = ("DNSSEC-validated denial" if answer.authenticated else
                 "denial not DNSSEC-validated")
        text = f"no TLSA records ({proof}): DANE does not apply to this MX"
        return TLSAReport(host, name, "none", (), answer.authenticated, text, base)
    infos = tuple(explain_tlsa(r) for r in answer.records)
    if not answer.authenticated:
        text = (
            "TLSA records found but not DNSSEC-validated (AD bit unset): DANE needs a "
            "validated answer (RFC 7672 §2.2), so a DANE client ignores them"
        )
    elif any(i.usable for i in infos):
        text = "DNSSEC-validated TLSA records: a DANE client must use STARTTLS and match them"
    else:
        text = "validated TLSA records, but none is usable for SMTP"
    return TLSAReport(host, name, "ok", infos, answer.authenticated, text, base)


def lookup_tlsa(mx_host: str, resolver: Resolver, port: int = 25) -> TLSAReport:
    """TLSA at ``_<port>._tcp.<base>``: whether DANE applies to this MX and what it pins.

    RFC 7672 §2.2.2: when the MX host's address lookup follows a DNSSEC-validated CNAME
    chain, the base is the name the chain leads to, and ``mx_host`` only if that name has no
    TLSA records; an unvalidated chain proves nothing, so the base is ``mx_host``.
    """
    # The address lookups and the TLSA lookup at ``mx_host`` go out together: that TLSA is
    # the answer unless a validated alias has records of its own, and is then not waited for.
    own = ask(resolver, f"_{port}._tcp.{mx_host}", "TLSA")
    alias, validated = _validated_alias([ask(resolver, mx_host, "A"),
                                         ask(resolver, mx_host, "AAAA")])
    if alias is None:
        return _tlsa_at(mx_host, mx_host, resolver, port, own.result())
    if validated:
        expanded = _tlsa_at(mx_host, alias, resolver, port)
        if expanded.status != "none":  # records there, or no answer (which is not "none")
            return _with_note(expanded, f"{mx_host} is an alias of {alias} (a validated "
                              "CNAME chain): TLSA looked up there first (RFC 7672 §2.2.2)")
        note = (f"{mx_host} is an alias of {alias} (a validated CNAME chain), which has no "
                f"TLSA records: looked up at {mx_host} instead (RFC 7672 §2.2.2)")
    else:
        note = (f"{mx_host} is an alias of {alias}, but the CNAME chain is not DNSSEC-"
                f"validated: TLSA looked up at {mx_host} only (RFC 7672 §2.2.2)")
    return _with_note(_tlsa_at(mx_host, mx_host, resolver, port, own.result()), note)


def _with_note(report: TLSAReport, note: str) -> TLSAReport:
    return replace(report, explanation=f"{report.explanation}; {note}")
