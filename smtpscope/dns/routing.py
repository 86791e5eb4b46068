"""Turn a Target into connection candidates (MX routing) and report which one answered and why."""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from smtpscope.dns._json import jsonable
from smtpscope.dns.mxlookup import MXResult, lookup_mx, resolve_addresses
from smtpscope.targets import Target, format_host


@dataclass(frozen=True)
class Candidate:
    """One place to connect. ``host`` is the name for TLS (SNI, certificate check); ``address``
    the IP to dial, or None to let the transport resolve ``host``."""

    host: str
    address: str | None
    port: int
    preference: int | None
    via: str

    @property
    def display(self) -> str:
        if self.address is None or self.address == self.host:
            return f"{format_host(self.host)}:{self.port}"
        return f"{self.host} [{self.address}]:{self.port}"

    def to_json(self) -> dict[str, Any]:
        return jsonable(self)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class RouteAttempt:
    """One candidate tried; ``error`` is None for the one that answered."""

    candidate: Candidate
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


class RouteError(Exception):
    """No candidate to try (Null MX, NXDOMAIN, ...) or none answered."""

    def __init__(
        self, message: str, mx: MXResult | None = None, attempts: Sequence[RouteAttempt] = ()
    ) -> None:
        super().__init__(message)
        self.mx = mx
        self.attempts = tuple(attempts)


def _ordered(addresses: tuple[str, ...], prefer: str) -> list[str]:
    if prefer == "ipv4":
        return sorted(addresses, key=lambda a: ipaddress.ip_address(a).version)
    return list(addresses)  # lookups already give IPv6 first


def route(
    target: Target,
    resolver: Any = None,
    *,
    shuffle: bool = True,
    rng: random.Random | None = None,
    prefer: Literal["ipv6", "ipv4"] = "ipv6",
) -> list[Candidate]:
    """Candidates for ``target`` in the order to try them.

    An IP literal gives one candidate without touching DNS. A host name gives one candidate that
    the transport resolves, unless ``resolver`` is given (``--resolver``), which then resolves it.
    ``user@domain``/``@domain`` follow the MX records by preference; hosts of equal preference
    are shuffled as RFC 5321 §5.1 asks, unless ``shuffle`` is False (repeatable order for tests).
    """
    if target.mx_domain is None:
        host = target.host or ""
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            return [Candidate(host, host, target.port, None, "direct")]
        if resolver is None:
            return [Candidate(host, None, target.port, None, "direct")]
        from smtpscope.dns.resolver import as_resolver

        addresses, error, _failed = resolve_addresses(host, as_resolver(resolver))
        if not addresses:
            raise RouteError(f"cannot resolve {host}: {error}")
        return [
            Candidate(host, a, target.port, None, "direct") for a in _ordered(addresses, prefer)
        ]

    mx = lookup_mx(target.mx_domain, resolver)
    if mx.status == "null" or not mx.routable:
        # The warnings say why each MX has no address (NXDOMAIN, an IP literal, ...).
        raise RouteError("; ".join((mx.explanation, *mx.warnings)), mx)
    groups: dict[int, list[Any]] = {}
    for mx_host in mx.hosts:
        groups.setdefault(mx_host.preference, []).append(mx_host)
    candidates: list[Candidate] = []
    for preference in sorted(groups):
        hosts = groups[preference]
        if shuffle and len(hosts) > 1:
            (rng or random).shuffle(hosts)
        for mx_host in hosts:
            if mx_host.implicit:
                via = f"implicit MX: {mx.domain} has no MX records (RFC 5321 §5.1)"
            else:
                via = f"MX {preference} {mx_host.host} for {mx.domain}"
            candidates.extend(
                Candidate(mx_host.host, a, target.port, preference, via)
                for a in _ordered(mx_host.addresses, prefer)
            )
    return candidates


def summarize_attempts(attempts: Sequence[RouteAttempt]) -> str:
    """One paragraph: which candidate was used and why the ones before it failed."""
    used = next((a for a in attempts if a.ok), None)
    failed = [f"{a.candidate.display} ({a.candidate.via}): {a.error}" for a in attempts if not a.ok]
    if used is None:
        return "no candidate answered: " + "; ".join(failed)
    text = f"used {used.candidate.display} ({used.candidate.via})"
    return text + ("; failed before it: " + "; ".join(failed) if failed else "")
