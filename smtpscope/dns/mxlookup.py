"""MX lookup with the RFC 5321 §5.1 implicit MX and RFC 7505 Null MX rules, explained in words."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from smtpscope.dns._json import jsonable
from smtpscope.dns.parallel import lookup_all, side_by_side
from smtpscope.dns.resolver import DNSAnswer, MXRecord, Resolver, as_resolver, lookup_failed

MXStatus = Literal["ok", "implicit", "null", "nxdomain", "no-mail", "servfail", "refused",
                   "timeout", "error"]

NULL_MX_REPLY_CODES = "556 5.1.10 for recipients, 550 5.7.27 for senders"


@dataclass(frozen=True)
class MXHost:
    """One mail exchanger and the addresses its name resolves to (IPv6 first, then IPv4)."""

    preference: int
    host: str
    addresses: tuple[str, ...]
    implicit: bool = False
    address_error: str | None = None
    canonical: str | None = None  # where a CNAME at ``host`` leads (RFC 2181 §10.3 forbids it)


@dataclass(frozen=True)
class MXResult:
    """Where mail for ``domain`` goes, or why it goes nowhere."""

    domain: str
    status: MXStatus
    hosts: tuple[MXHost, ...]
    explanation: str
    warnings: tuple[str, ...] = ()
    authenticated: bool = False  # AD bit on the MX answer

    @property
    def routable(self) -> bool:
        """True when at least one host has an address to try."""
        return self.status in ("ok", "implicit") and any(h.addresses for h in self.hosts)

    @property
    def lookup_failed(self) -> bool:
        return self.status == "nxdomain" or lookup_failed(self.status)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = jsonable(self)
        data["routable"] = self.routable
        return data


def failure_text(answer: DNSAnswer, what: str) -> str:
    """Explain a failed lookup of ``what`` (e.g. "MX of example.com") for a person."""
    detail = f" ({answer.error})" if answer.error else ""
    if answer.status == "nxdomain":
        return f"{answer.name} does not exist (NXDOMAIN); check the spelling"
    if answer.status == "servfail":
        return (
            f"the resolver could not answer for {what}{detail}; broken DNSSEC or unreachable "
            "name servers cause this: try again or another --resolver"
        )
    if answer.status == "refused":
        return (
            f"the resolver refused to answer for {what}{detail}: it does not serve this "
            "client (an access list) or does not recurse (an authoritative-only server); "
            "give one that resolves for you with --resolver"
        )
    if answer.status == "timeout":
        return f"no answer for {what} before the timeout{detail}; check --resolver"
    return f"lookup of {what} failed{detail}"


def _sort_addresses(addresses: list[str]) -> tuple[str, ...]:
    # Sorted for repeatable output: IPv6 first (RFC 6724's default preference), then IPv4.
    parsed = sorted({ipaddress.ip_address(a) for a in addresses}, key=lambda ip: (-ip.version, ip))
    return tuple(str(ip) for ip in parsed)


def resolve_addresses(host: str, resolver: Resolver) -> tuple[tuple[str, ...], str | None, bool]:
    """Return (addresses, why there are none, whether a lookup failed) for ``host``."""
    return _addresses(host, _address_answers(host, resolver))


def _address_answers(host: str, resolver: Resolver) -> list[DNSAnswer]:
    """AAAA and A of ``host``, asked side by side; in that order (which failure is told)."""
    return lookup_all(resolver, [(host, "AAAA"), (host, "A")])


def _addresses(host: str, answers: list[DNSAnswer]) -> tuple[tuple[str, ...], str | None, bool]:
    found = [str(r) for a in answers if a.ok for r in a.records]
    if found:
        return _sort_addresses(found), None, False
    failed = [a for a in answers if a.status not in ("ok", "nodata", "nxdomain")]
    if failed:
        return (), failure_text(failed[0], f"{failed[0].rdtype} of {host}"), True
    if all(a.status == "nxdomain" for a in answers):
        return (), f"{host} does not exist (NXDOMAIN)", False
    return (), f"{host} has no A or AAAA records", False


def _implicit(domain: str, answer: DNSAnswer, resolver: Resolver) -> MXResult:
    addresses, error, failed = resolve_addresses(domain, resolver)
    ad = answer.authenticated
    if addresses:
        host = MXHost(0, domain, addresses, implicit=True)
        text = (
            f"{domain} has no MX records; RFC 5321 §5.1 says to deliver to the domain's own "
            "address (implicit MX)"
        )
        return MXResult(domain, "implicit", (host,), text, authenticated=ad)
    if failed:
        return MXResult(domain, "error", (), error or "address lookup failed", authenticated=ad)
    text = f"{domain} exists but has neither MX nor A/AAAA records: it cannot receive mail"
    return MXResult(domain, "no-mail", (), text, authenticated=ad)


def _mx_host(rec: MXRecord, resolver: Resolver) -> tuple[MXHost, list[str]]:
    """The MX target's addresses and what is wrong with it: an IP address or an alias there
    is named as the fault it is."""
    warnings: list[str] = []
    where = f"MX {rec.preference} {rec.exchange}"
    try:
        ipaddress.ip_address(rec.exchange.strip("[]"))
    except ValueError:
        pass
    else:
        # RFC 1123 §2.1: a host name never has the dotted-decimal form, so no lookup can help.
        literal = (
            f"{rec.exchange} is an IP address, but an MX must name a host (RFC 1035 §3.3.9, "
            "RFC 5321 §5.1). MTAs differ: Postfix warns ('numeric domain name') and connects "
            "to it, Exim refuses it unless allow_mx_to_ip is set. smtpscope follows the RFCs "
            "and does not route to it: give the address as the target to test it"
        )
        warnings.append(f"{where}: {literal}")
        return MXHost(rec.preference, rec.exchange, (), address_error=literal), warnings
    answers = _address_answers(rec.exchange, resolver)
    addresses, error, _failed = _addresses(rec.exchange, answers)
    canonical = next((a.canonical for a in answers if a.canonical), None)
    if canonical is not None:
        warnings.append(
            f"{where} is an alias (CNAME to {canonical}), which RFC 2181 §10.3 forbids: "
            f"MTAs such as Postfix follow it, but the MX should name {canonical} itself"
        )
    if error:
        warnings.append(f"{where}: {error}")
    return MXHost(rec.preference, rec.exchange, addresses, address_error=error,
                  canonical=canonical), warnings


def _order(hosts: list[MXHost]) -> str:
    """The order of delivery attempts: by preference; hosts of equal preference in random
    order (RFC 5321 §5.1), which a sender picks afresh each time."""
    groups: dict[int, list[str]] = {}
    for host in hosts:
        groups.setdefault(host.preference, []).append(host.host)
    parts = [
        f"{names[0]} ({pref})" if len(names) == 1
        else f"{', '.join(names)} ({pref}, in random order)"
        for pref, names in groups.items()
    ]
    return "in order: " + ", then ".join(parts)


def lookup_mx(domain: str, resolver: Any = None) -> MXResult:
    """Look up where mail for ``domain`` goes: MX hosts by preference with their addresses."""
    res = as_resolver(resolver)
    domain = domain.strip().rstrip(".") or domain
    answer = res.lookup(domain, "MX")
    if answer.status == "nxdomain":
        text = f"{domain} does not exist (NXDOMAIN): no mail can be delivered to it"
        return MXResult(domain, "nxdomain", (), text, authenticated=answer.authenticated)
    if lookup_failed(answer.status):
        return MXResult(domain, answer.status, (), failure_text(answer, f"MX of {domain}"))
    if answer.status == "nodata" or not answer.records:
        return _implicit(domain, answer, res)

    records: list[MXRecord] = list(answer.records)
    warnings: list[str] = []
    nulls = [r for r in records if r.exchange == "."]
    if nulls and len(records) == 1:
        pref = nulls[0].preference
        if pref != 0:
            warnings.append(f"Null MX should have preference 0 (RFC 7505 §3), not {pref}")
        text = (
            f"{domain} publishes a Null MX (MX 0 .): it accepts no mail (RFC 7505). Servers "
            f"refuse mail to or from it ({NULL_MX_REPLY_CODES})"
        )
        return MXResult(domain, "null", (), text, tuple(warnings), answer.authenticated)
    if nulls:
        warnings.append(
            "a Null MX ('.') mixed with other MX records is invalid (RFC 7505 §3); "
            "the '.' record is ignored"
        )
        records = [r for r in records if r.exchange != "."]

    # Every MX host's addresses at once; hosts and warnings in preference order all the same.
    found = side_by_side([partial(_mx_host, rec, res) for rec in
                          sorted(records, key=lambda r: (r.preference, r.exchange.lower()))])
    hosts = [host for host, _ in found]
    warnings += [warning for _, host_warnings in found for warning in host_warnings]
    text = f"{len(hosts)} MX record{'s' if len(hosts) != 1 else ''}; try {_order(hosts)}"
    if not any(h.addresses for h in hosts):
        text += "; none of them has an address, so mail cannot be delivered"
    return MXResult(domain, "ok", tuple(hosts), text, tuple(warnings), answer.authenticated)
