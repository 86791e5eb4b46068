"""DANE for SMTP (RFC 7672 over RFC 6698/7671): match TLSA records against the live chain."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cryptography import x509

from smtpscope.dns.tlsa import TLSA_MATCHING, TLSA_SELECTOR, TLSA_USAGE, TLSAReport
from smtpscope.security.pkix import check_chain
from smtpscope.transport.x509 import spki_der

NOT_VALIDATED = "TLSA present but not DNSSEC-validated: DANE would not apply"


@dataclass(frozen=True)
class TLSAMatch:
    """One TLSA record held against the chain: did it match, which certificate, and why."""

    record: str  # "3 1 1 <hex>"
    usage: int
    selector: int
    mtype: int
    matched: bool
    usable: bool  # a usage/selector/matching type SMTP clients use (RFC 7672 §3.1)
    cert_index: int | None  # position in the chain the server sent (0 = leaf)
    why: str


@dataclass(frozen=True)
class DaneResult:
    """TLSA at ``name`` held against a live chain."""

    name: str
    lookup: str  # ok | none | servfail | refused | timeout | error
    authenticated: bool  # the resolver set the AD bit
    checks: tuple[TLSAMatch, ...]
    would_match: bool  # some usable record matched, validated or not
    applies: bool  # validated and usable records present: a DANE client must match them
    matched: bool  # applies and would_match
    summary: str


def _selected(cert: x509.Certificate, der: bytes, selector: int) -> bytes:
    return der if selector == 0 else spki_der(cert)


def _digest(data: bytes, mtype: int) -> bytes:
    if mtype == 1:
        return hashlib.sha256(data).digest()
    if mtype == 2:
        return hashlib.sha512(data).digest()
    return data


def _what(usage: int, selector: int, mtype: int) -> str:
    return " ".join((TLSA_USAGE.get(usage, str(usage)), TLSA_SELECTOR.get(selector, str(selector)),
                     TLSA_MATCHING.get(mtype, str(mtype))))


def _check_one(
    usage: int, selector: int, mtype: int, data: bytes, chain: list[bytes],
    certs: list[x509.Certificate], names: tuple[str, ...], problem: str | None,
) -> tuple[bool, int | None, str]:
    if problem:
        return False, None, f"ignored: {problem}"
    if usage == 3:
        if _digest(_selected(certs[0], chain[0], selector), mtype) == data:
            return True, 0, "DANE-EE: the server certificate matches (no name or date checks, " \
                "RFC 7672 §3.1.1)"
        return False, None, "DANE-EE: the server certificate does not match this record"
    # usage 2: a CA the server sent; the leaf must chain to it and name the host (§3.1.2).
    for index in range(1, len(chain)):
        if _digest(_selected(certs[index], chain[index], selector), mtype) != data:
            continue
        result = check_chain(chain[:index], names, (certs[index],))
        if result.status == "verified":
            return True, index, f"DANE-TA: certificate {index} of the chain matches, the server " \
                f"certificate chains to it and names {result.matched_name}"
        return False, index, f"DANE-TA: certificate {index} matches, but {result.reason}"
    if len(chain) == 1:
        return False, None, "DANE-TA: the server sent only its own certificate, so no trust " \
            "anchor from the chain can match (servers must send the TA, RFC 7671 §5.2.2)"
    return False, None, "DANE-TA: no CA certificate the server sent matches this record"


def match_tlsa(report: TLSAReport, chain: list[bytes] | tuple[bytes, ...],
               names: tuple[str, ...]) -> DaneResult:
    """Hold every TLSA record of ``report`` against ``chain`` (DER, leaf first).

    A CNAME-expanded TLSA base domain is a reference name too (RFC 7672 §3.2.2).
    """
    chain = list(chain)
    if report.base and report.base != report.host:
        names = (*names, report.base)
    if report.status != "ok" or not report.records:
        return DaneResult(report.name, report.status, report.authenticated, (), False, False,
                          False, report.explanation)
    try:
        certs = [x509.load_der_x509_certificate(d) for d in chain]
    except ValueError:
        certs = []
    checks = []
    for info in report.records:
        data = bytes.fromhex(info.data)
        if not certs:
            ok, index, why = False, None, "the server sent no readable certificate"
        else:
            ok, index, why = _check_one(info.usage, info.selector, info.mtype, data, chain,
                                        certs, names, info.problem)
        checks.append(TLSAMatch(f"{info.usage} {info.selector} {info.mtype} {info.data}",
                                info.usage, info.selector, info.mtype, ok, info.usable,
                                index, why))
    would = any(c.matched for c in checks)
    applies = report.authenticated and any(c.usable for c in checks)
    if not report.authenticated:
        summary = NOT_VALIDATED + ("; a record would match" if would else
                                   "; no record would match")
    elif not applies:
        summary = "DNSSEC-validated TLSA, but no record is usable for SMTP"
    elif would:
        first = next(c for c in checks if c.matched)
        summary = f"DANE verified: {_what(first.usage, first.selector, first.mtype)} matched"
    else:
        summary = "DANE failed: validated TLSA records exist and none matches the server"
    return DaneResult(report.name, report.status, report.authenticated, tuple(checks), would,
                      applies, applies and would, summary)
