"""The resolver seam: lookup(name, type) -> DNSAnswer, backed by dnspython or by a table."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeGuard, get_args, runtime_checkable

from smtpscope.idn import to_ascii
from smtpscope.sanitize import quoted

# Lookups that got no answer: neither records nor a denial (NXDOMAIN, NODATA). "refused" is
# apart from "servfail": the resolver will not serve this client at all (an access list, or an
# authoritative-only server given as --resolver), which no retry fixes.
Failure = Literal["servfail", "refused", "timeout", "error"]
Status = Literal["ok", "nodata", "nxdomain", Failure]
LOOKUP_FAILED: frozenset[str] = frozenset(get_args(Failure))


def lookup_failed(status: str) -> TypeGuard[Failure]:
    """True for a status that is neither records nor a denial of them."""
    return status in LOOKUP_FAILED

DEFAULT_TIMEOUT = 5.0
DNS_PORT = 53
# Large enough for TLSA/TXT sets without falling back to TCP, small enough to avoid fragmentation
# (the DNS flag day 2020 recommendation).
EDNS_PAYLOAD = 1232


@dataclass(frozen=True)
class MXRecord:
    preference: int
    exchange: str  # without the final dot; "." is the root (Null MX)


@dataclass(frozen=True)
class TLSARecord:
    usage: int
    selector: int
    mtype: int
    data: bytes


Record = str | MXRecord | TLSARecord | tuple[bytes, ...]


@dataclass(frozen=True)
class DNSAnswer:
    """The outcome of one query. ``records`` hold: A/AAAA/PTR/CNAME -> str, MX -> MXRecord,
    TLSA -> TLSARecord, TXT -> tuple of the raw character-strings (joined later by the caller).
    ``canonical`` is the name the records belong to when ``name`` is an alias (a CNAME chain
    the resolver followed), else None."""

    name: str
    rdtype: str
    status: Status
    records: tuple[Any, ...] = ()
    authenticated: bool = False  # the AD bit of the response
    error: str | None = None
    canonical: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@runtime_checkable
class Resolver(Protocol):
    """Anything that can answer ``lookup(name, rdtype)``; tests inject a StaticResolver."""

    def lookup(self, name: str, rdtype: str) -> DNSAnswer: ...


class ResolverAddressError(ValueError):
    """A ``--resolver`` value that is not ``IP[:PORT]`` or ``[IPv6]:PORT``; the message quotes
    it escaped (``sanitize.quoted``), so views show it as it is."""


def parse_resolver_address(text: str) -> tuple[str, int]:
    """Parse ``IP``, ``IP:PORT``, ``[IPv6]:PORT`` or a bare IPv6 address (port 53)."""
    value = text.strip()
    host, port_text = value, ""
    if value.startswith("["):
        end = value.find("]")
        if end == -1:
            raise ResolverAddressError(f"unbalanced brackets in resolver address {quoted(text)}")
        host, rest = value[1:end], value[end + 1 :]
        if rest and not rest.startswith(":"):
            raise ResolverAddressError(
                f"unexpected {quoted(rest)} in resolver address {quoted(text)}")
        port_text = rest[1:] if rest else ""
        if rest == ":":
            raise ResolverAddressError(f"missing port in resolver address {quoted(text)}")
    elif value.count(":") == 1:
        host, _, port_text = value.partition(":")
        if port_text == "":
            raise ResolverAddressError(f"missing port in resolver address {quoted(text)}")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ResolverAddressError(
            f"resolver {quoted(text)} is not an IP address; write IP[:PORT] or [IPv6]:PORT"
        ) from None
    if port_text == "":
        return host, DNS_PORT
    if not (port_text.isascii() and port_text.isdigit()) or not 1 <= int(port_text) <= 65535:
        raise ResolverAddressError(
            f"bad port {quoted(port_text)} in resolver address {quoted(text)}")
    return host, int(port_text)


def name_text(name: Any) -> str:
    """A ``dns.name.Name`` as text without the master-file escapes of ``to_text`` (``\\027``,
    ``\\\\``): each label's octets as they are, an octet above 127 kept as the surrogate
    ``shown_text`` uses for an undecodable byte. A DNS name is foreign text like any other, so
    the views escape it once (``sanitize.visible``) and JSON carries it as it is. "." is the
    root; a dot inside a label (no host name has one) reads as a separator."""
    labels = [label.decode("ascii", "surrogateescape") for label in name.labels if label]
    return ".".join(labels) or "."


def query_name(text: str) -> Any:
    """The ``dns.name.Name`` for ``text`` as :func:`name_text` writes it (no escapes); a label
    typed with letters beyond ASCII (an IDN) gets its A-label by smtpscope's one rule, IDNA
    2008 (:mod:`smtpscope.idn`; dnspython's default is IDNA 2003, ``ß`` as ``ss``)."""
    import dns.name

    labels: list[bytes] = []
    for label in text.rstrip(".").split(".") if text.strip(".") else ():
        try:
            labels.append(label.encode("ascii", "surrogateescape"))  # octets from DNS data
        except UnicodeEncodeError:
            # The mapping may turn another full stop (U+3002 ...) into a dot: more labels.
            labels += [part.encode("ascii") for part in to_ascii(label).split(".")]
    return dns.name.Name([*labels, b""])


def _convert(rdtype: str, rdata: Any) -> Any:
    if rdtype == "MX":
        return MXRecord(rdata.preference, name_text(rdata.exchange))
    if rdtype == "TXT":
        return tuple(bytes(s) for s in rdata.strings)
    if rdtype == "TLSA":
        return TLSARecord(rdata.usage, rdata.selector, rdata.mtype, bytes(rdata.cert))
    if rdtype in ("PTR", "CNAME"):
        return name_text(rdata.target)
    if rdtype in ("A", "AAAA"):
        return rdata.address
    return rdata.to_text()


def _failure_status(exc: Any) -> Status:
    """"refused" when every server that answered answered REFUSED, else "servfail"."""
    import dns.rcode

    rcodes = {response.rcode() for *_, response in exc.kwargs.get("errors") or ()
              if response is not None}
    return "refused" if rcodes == {dns.rcode.REFUSED} else "servfail"


def _failure_text(exc: Any) -> str:
    """Describe a NoNameservers failure by the rcode or error each server gave."""
    parts = []
    for entry in exc.kwargs.get("errors") or ():
        server, _tcp, _port, err, _response = entry
        parts.append(f"{server} answered {err}")
    return "; ".join(parts) or str(exc)


class DnsPythonResolver:
    """A Resolver backed by ``dns.resolver.Resolver``; dnspython is imported on first use."""

    def __init__(
        self,
        address: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        resolver: Any = None,
    ) -> None:
        import dns.flags
        import dns.resolver

        self.address = address
        if resolver is None:
            if address is None:
                resolver = dns.resolver.Resolver()  # the system's /etc/resolv.conf
            else:
                host, port = parse_resolver_address(address)
                resolver = dns.resolver.Resolver(configure=False)
                resolver.nameservers = [host]
                resolver.port = port
            resolver.timeout = timeout
            resolver.lifetime = timeout
            # Ask for DNSSEC data (DO) and for the AD bit: the report shows what the resolver
            # says about validation; dnspython itself validates nothing.
            resolver.use_edns(0, dns.flags.DO, EDNS_PAYLOAD)
            resolver.flags = dns.flags.RD | dns.flags.AD
        self._resolver = resolver

    @property
    def description(self) -> str:
        return self.address or "system resolver"

    def lookup(self, name: str, rdtype: str) -> DNSAnswer:
        import dns.exception
        import dns.flags
        import dns.resolver

        try:
            answer = self._resolver.resolve(query_name(name), rdtype, search=False,
                                            raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN as exc:
            responses = exc.kwargs.get("responses") or {}
            ad = any(r.flags & dns.flags.AD for r in responses.values())
            return DNSAnswer(name, rdtype, "nxdomain", authenticated=ad, error="NXDOMAIN")
        except dns.resolver.LifetimeTimeout as exc:
            return DNSAnswer(name, rdtype, "timeout", error=str(exc))
        except dns.resolver.NoNameservers as exc:
            return DNSAnswer(name, rdtype, _failure_status(exc), error=_failure_text(exc))
        except dns.exception.DNSException as exc:
            return DNSAnswer(name, rdtype, "error", error=str(exc) or type(exc).__name__)
        except (OSError, ValueError) as exc:  # e.g. an unusable resolver address
            return DNSAnswer(name, rdtype, "error", error=str(exc))
        ad = bool(answer.response.flags & dns.flags.AD)
        alias = answer.canonical_name
        canonical = None if alias == answer.qname else name_text(alias)
        if answer.rrset is None:
            return DNSAnswer(name, rdtype, "nodata", authenticated=ad, canonical=canonical)
        records = tuple(_convert(rdtype, rdata) for rdata in answer.rrset)
        return DNSAnswer(name, rdtype, "ok", records, authenticated=ad, canonical=canonical)


def resolver_for(address: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> DnsPythonResolver:
    """Build a resolver for ``--resolver IP[:PORT]`` (None: the system's resolver)."""
    if address is not None:
        parse_resolver_address(address)  # fail early with a clear message
    return DnsPythonResolver(address, timeout=timeout)


def lookup_timeout(run_timeout: float | None) -> float:
    """How long one lookup of a run (probe, send, the TUI) may wait (see ``capped``)."""
    from smtpscope.transport.timeouts import capped

    return capped(run_timeout, DEFAULT_TIMEOUT)


def as_resolver(obj: Any) -> Resolver:
    """Accept one of ours, a ``dns.resolver.Resolver`` (wrapped), or None (system resolver)."""
    if obj is None:
        return resolver_for(None)
    if hasattr(obj, "lookup"):
        return obj  # type: ignore[no-any-return]
    if hasattr(obj, "resolve"):
        return DnsPythonResolver(resolver=obj)
    raise TypeError(f"not a resolver: {obj!r}")


# A loop of aliases in a test table ends here, as a resolver gives up on a long chain.
_MAX_CNAME_HOPS = 8


def _key(name: str, rdtype: str) -> tuple[str, str]:
    return name.rstrip(".").lower(), rdtype.upper()


@dataclass
class StaticResolver:
    """A Resolver answering from a table, for tests and offline use.

    ``records`` maps (name, rdtype) to a list of records; ``failures`` maps (name, rdtype) or
    (name, "*") to a status such as "servfail", "refused" or "timeout". A name present in any
    record is
    NODATA for other types; every other name is NXDOMAIN. ``authenticated`` names get the AD bit.
    A (name, "CNAME") record is followed for other types, as a recursive resolver does.
    """

    records: Mapping[tuple[str, str], Iterable[Any]] = field(default_factory=dict)
    failures: Mapping[tuple[str, str], Status] = field(default_factory=dict)
    authenticated: frozenset[str] = frozenset()
    queries: list[tuple[str, str]] = field(default_factory=list)

    def lookup(self, name: str, rdtype: str) -> DNSAnswer:
        key = _key(name, rdtype)
        self.queries.append(key)
        table = {_key(*k): tuple(v) for k, v in self.records.items()}
        fails = {_key(*k): v for k, v in self.failures.items()}
        failure = fails.get(key) or fails.get((key[0], "*"))
        if failure is not None:
            return DNSAnswer(name, rdtype, failure, error=f"simulated {failure}")
        owner, canonical = key[0], None
        for _hop in range(_MAX_CNAME_HOPS):
            target = table.get((owner, "CNAME"))
            if key[1] == "CNAME" or not target:
                break
            owner = canonical = str(target[0]).rstrip(".").lower()
        ad = owner in {n.rstrip(".").lower() for n in self.authenticated}
        found = table.get((owner, key[1]))
        if found is not None:
            return DNSAnswer(name, rdtype, "ok", found, authenticated=ad, canonical=canonical)
        if any(known == owner for known, _ in table):
            return DNSAnswer(name, rdtype, "nodata", authenticated=ad, canonical=canonical)
        return DNSAnswer(name, rdtype, "nxdomain", authenticated=ad, error="NXDOMAIN")


class CachingResolver:
    """Memoise answers for the length of one report (FCrDNS re-asks for MX host addresses).

    Safe to share between the threads of side-by-side look-ups: a question already on its way
    is waited for, not asked again beside it.
    """

    def __init__(self, inner: Resolver) -> None:
        self.inner = inner
        self._cache: dict[tuple[str, str], DNSAnswer] = {}
        self._asking: dict[tuple[str, str], threading.Event] = {}
        self._lock = threading.Lock()

    def lookup(self, name: str, rdtype: str) -> DNSAnswer:
        key = _key(name, rdtype)
        while True:
            with self._lock:
                found = self._cache.get(key)
                if found is not None:
                    return found
                asking = self._asking.get(key)
                if asking is None:
                    asking = self._asking[key] = threading.Event()
                    break
            asking.wait()  # then take its answer (or, when it raised, ask in its place)
        try:
            answer = self.inner.lookup(name, rdtype)
            with self._lock:
                self._cache[key] = answer
            return answer
        finally:
            with self._lock:
                del self._asking[key]
            asking.set()
