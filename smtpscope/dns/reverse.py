"""PTR lookups and forward-confirmed reverse DNS (a PTR name must resolve back to the address)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Literal

from smtpscope.dns.mxlookup import failure_text
from smtpscope.dns.resolver import DNSAnswer, Resolver


@dataclass(frozen=True)
class ReverseDNS:
    address: str
    ptr: tuple[str, ...]
    status: Literal["pass", "fail", "no-ptr", "error"]
    confirmed: str | None  # the PTR name that resolves back to the address
    forward: tuple[tuple[str, tuple[str, ...]], ...]
    explanation: str
    hosts: tuple[str, ...] = ()  # the MX hosts that have this address


def _forward(name: str, version: int, resolver: Resolver) -> DNSAnswer:
    return resolver.lookup(name, "AAAA" if version == 6 else "A")


def check_reverse(address: str, resolver: Resolver, hosts: tuple[str, ...] = ()) -> ReverseDNS:
    """PTR of ``address`` and whether one of its names resolves back to it (FCrDNS)."""
    ip = ipaddress.ip_address(address)
    answer = resolver.lookup(ip.reverse_pointer, "PTR")
    if answer.status in ("nxdomain", "nodata"):
        return ReverseDNS(
            address,
            (),
            "no-ptr",
            None,
            (),
            f"no PTR record for {address}: many receivers distrust such senders",
            hosts,
        )
    if not answer.ok:
        return ReverseDNS(
            address, (), "error", None, (), failure_text(answer, f"PTR of {address}"), hosts
        )
    names = tuple(str(r) for r in answer.records)
    forward = []
    for name in names:
        fwd = _forward(name, ip.version, resolver)
        addrs = tuple(str(r) for r in fwd.records) if fwd.ok else ()
        forward.append((name, addrs))
        if any(ipaddress.ip_address(a) == ip for a in addrs):
            text = f"PTR {name} resolves back to {address}: forward-confirmed reverse DNS passes"
            return ReverseDNS(address, names, "pass", name, tuple(forward), text, hosts)
    shown = "; ".join(f"{n} -> {', '.join(a) or 'nothing'}" for n, a in forward)
    text = (
        f"no PTR name resolves back to {address} ({shown}): FCrDNS fails, which receivers "
        "may reject with X.7.25 (RFC 7372)"
    )
    return ReverseDNS(address, names, "fail", None, tuple(forward), text, hosts)
