"""Where a connection goes: a host's addresses, and what to say when none answers.

Shared by the asyncio transport (``tcp``) and the blocking one (``blocking``), so the same
target gives the same messages and kinds whichever connects to it.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .errors import ConnectError, format_address

if TYPE_CHECKING:
    import ipaddress


def bare_host(host: str) -> str:
    """``host`` without surrounding blanks and IPv6 brackets."""
    name = host.strip()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    return name


def address_literal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """``ip`` as RFC 5321 §4.1.3 writes it in a mailbox or a trace line: ``[192.0.2.1]``,
    ``[IPv6:2001:db8::1]``."""
    return f"[IPv6:{ip.compressed}]" if ip.version == 6 else f"[{ip}]"


def literal(host: str, family: int) -> list[tuple[int, str]] | None:
    """An IP literal's one address, without asking the resolver; None for anything else.

    The loop's getaddrinfo runs in a worker thread (and loads the IDNA codec) even for
    "127.0.0.1": that costs a thread start at every first connect. A literal of the other
    family than the one forced goes to getaddrinfo, which then reports the mismatch.
    """
    import ipaddress

    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None  # a name: the resolver's job
    if getattr(ip, "scope_id", None):
        return None  # fe80::1%eth0: the resolver turns the zone into its index
    fam = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    return [(fam, host)] if family in (0, fam) else None


def resolver_name(host: str, port: int) -> str:
    """``host`` as the resolver gets it: non-ASCII labels as A-labels by IDNA 2008
    (:mod:`smtpscope.idn`), not by the socket module's IDNA 2003 (``ß`` as ``ss``)."""
    from smtpscope.idn import to_ascii

    try:
        return to_ascii(host)
    except UnicodeError as exc:
        raise ConnectError(f"cannot resolve host {host!r}: not a valid internationalized name "
                           f"({exc})", host=host, port=port, kind="resolve") from None


def resolve_failure(host: str, port: int, exc: socket.gaierror | None = None) -> ConnectError:
    """The resolver had no address for ``host`` (``exc`` says why, when it raised)."""
    why = "no addresses" if exc is None else (exc.strerror or str(exc))
    return ConnectError(f"cannot resolve host {host!r}: {why}", host=host, port=port,
                        kind="resolve")


def unique_addresses(infos: Iterable[tuple[Any, ...]]) -> list[tuple[int, str]]:
    """(family, address) pairs of getaddrinfo results, each once, in the resolver's order."""
    seen: list[tuple[int, str]] = []
    for fam, _type, _proto, _canon, sockaddr in infos:
        entry = (fam, str(sockaddr[0]))
        if entry not in seen:
            seen.append(entry)
    return seen


def all_failed(host: str, port: int, failures: list[ConnectError]) -> ConnectError:
    """One error for every address of ``host`` having failed (the only one, when it is one)."""
    if len(failures) == 1:
        return failures[0]
    joined = "; ".join(str(f) for f in failures)
    kinds = {f.kind for f in failures}
    return ConnectError(f"cannot connect to {host!r} port {port}: {joined}", host=host,
                        port=port, kind=kinds.pop() if len(kinds) == 1 else "other")


def connect_timed_out(host: str, port: int, seconds: float | None) -> ConnectError:
    """Resolving and trying every address took longer than the connect timeout."""
    return ConnectError(f"no answer from {format_address(host, port)} within {seconds or 0:g} s",
                        host=host, port=port, kind="timeout")
