"""The mail-DNS picture of a domain: MX, addresses with PTR/FCrDNS, policies, TLSA, DNSSEC."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from smtpscope.dns._json import jsonable
from smtpscope.dns.mxlookup import MXResult, lookup_mx
from smtpscope.dns.parallel import Pending
from smtpscope.dns.records import (
    PolicyRecord,
    lookup_dmarc,
    lookup_mta_sts,
    lookup_spf,
    lookup_tls_rpt,
)
from smtpscope.dns.resolver import CachingResolver, as_resolver
from smtpscope.dns.reverse import ReverseDNS, check_reverse
from smtpscope.dns.tlsa import TLSAReport, lookup_tlsa


@dataclass(frozen=True)
class MailDNSReport:
    """Everything ``smtpscope mx`` shows. Policy fields are None when the MX lookup itself failed
    (the domain does not exist or the resolver does not answer), since they would fail alike."""

    domain: str
    resolver: str
    mx: MXResult
    reverse: tuple[ReverseDNS, ...] = ()
    spf: PolicyRecord | None = None
    dmarc: PolicyRecord | None = None
    mta_sts: PolicyRecord | None = None
    tls_rpt: PolicyRecord | None = None
    tlsa: tuple[TLSAReport, ...] = ()
    dnssec: str = ""

    @property
    def ok(self) -> bool:
        """False when the MX lookup failed (NXDOMAIN, SERVFAIL, timeout)."""
        return not self.mx.lookup_failed

    def policies(self) -> tuple[PolicyRecord, ...]:
        found = (self.spf, self.dmarc, self.mta_sts, self.tls_rpt)
        return tuple(p for p in found if p is not None)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "domain": self.domain,
            "resolver": self.resolver,
            "ok": self.ok,
            "mx": self.mx.to_json(),
            "reverse": jsonable(self.reverse),
            "tlsa": jsonable(self.tlsa),
            "dnssec": self.dnssec,
        }
        for key, policy in (
            ("spf", self.spf),
            ("dmarc", self.dmarc),
            ("mta_sts", self.mta_sts),
            ("tls_rpt", self.tls_rpt),
        ):
            data[key] = policy.to_json() if policy is not None else None
        return data


def dnssec_summary(mx: MXResult, tlsa: tuple[TLSAReport, ...]) -> str:
    """Say what the resolver's AD bit tells: smtpscope validates nothing itself."""
    if mx.authenticated:
        # RFC 7672 §2.2: a validated denial is as much an answer as validated records (DANE
        # does not apply there, proved); an unvalidated one proves nothing and is not named.
        signed = [t.host for t in tlsa if t.authenticated and t.status == "ok"]
        denied = [t.host for t in tlsa if t.authenticated and t.status == "none"]
        extra = "".join(f"; {what} for {', '.join(hosts)}" for what, hosts in (
            ("TLSA validated", signed), ("no TLSA records (DNSSEC-validated denial)", denied))
            if hosts)
        return f"validated: the resolver set the AD bit on the MX answer{extra}"
    return (
        "not validated: the resolver did not set the AD bit (the zone is unsigned, or the "
        "resolver does not validate DNSSEC); DANE cannot apply"
    )


def mail_dns_report(
    domain: str, resolver: Any = None, *, description: str | None = None, reverse: bool = True,
    tlsa_port: int = 25,
) -> MailDNSReport:
    """Look up the whole mail-DNS picture of ``domain`` through ``resolver``; TLSA records at
    ``_<tlsa_port>._tcp.<mx>`` (RFC 7672 §2.2.1: the port the MX is reached on)."""
    base = as_resolver(resolver)
    res = CachingResolver(base)
    name = description or getattr(base, "description", None) or type(base).__name__
    mx = lookup_mx(domain, res)
    domain = mx.domain
    if mx.lookup_failed:
        return MailDNSReport(domain, name, mx, dnssec=dnssec_summary(mx, ()))

    # Everything else hangs on the MX answer only, so it is all asked at once: the PTR and
    # FCrDNS look-ups of every address, the TLSA records of every MX host (RFC 7672 DANE looks
    # at the MX host names; an implicit MX is the domain itself) and the four policy records.
    owners: dict[str, list[str]] = {}
    for host in mx.hosts if reverse else ():
        for address in host.addresses:
            owners.setdefault(address, []).append(host.host)
    reverse_checks = [Pending(partial(check_reverse, a, res, tuple(h))) for a, h in owners.items()]
    tlsa_reports = [Pending(partial(lookup_tlsa, h.host, res, port=tlsa_port)) for h in mx.hosts]
    spf, dmarc, mta_sts, tls_rpt = (Pending(partial(look, domain, res)) for look in (
        lookup_spf, lookup_dmarc, lookup_mta_sts, lookup_tls_rpt))
    tlsa = tuple(p.result() for p in tlsa_reports)
    return MailDNSReport(
        domain=domain,
        resolver=name,
        mx=mx,
        reverse=tuple(p.result() for p in reverse_checks),
        spf=spf.result(),
        dmarc=dmarc.result(),
        mta_sts=mta_sts.result(),
        tls_rpt=tls_rpt.result(),
        tlsa=tlsa,
        dnssec=dnssec_summary(mx, tlsa),
    )
