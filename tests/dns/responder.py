"""A scripted DNS server on loopback (UDP and TCP) for answers the harness zones cannot give.

``serve(zone_text)`` answers from a zone file as an authoritative server does: CNAMEs are put
in the answer (with the target's records when the zone has them), a name missing from the zone
is NXDOMAIN, a name without the type asked is NODATA, and a name outside the zone is REFUSED
(as an authoritative-only server answers a query it does not serve). ``udp_limit`` sets the
size above which a UDP answer is cut short with the TC bit, so the client has to ask again over
TCP. ``authenticated`` sets the AD bit on every answer, as a validating resolver does for a
signed zone. ``silent`` names record types whose queries get no answer at all, as from a
server that drops them. ``delay`` holds each UDP answer back that many seconds (without holding
up the answers to other queries), as a resolver further away would.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone

TCP_MAX = 65535


class Zone:
    """Answers queries from ``text`` (a zone file with ``$ORIGIN``); counts TCP queries."""

    def __init__(self, text: str, *, udp_limit: int = TCP_MAX,
                 authenticated: bool = False, silent: frozenset[str] = frozenset(),
                 delay: float = 0.0) -> None:
        self.zone = dns.zone.from_text(text, relativize=False, check_origin=False)
        self.udp_limit = udp_limit
        self.authenticated = authenticated
        self.silent = frozenset(dns.rdatatype.from_text(t) for t in silent)
        self.tcp_queries = 0
        self.delay = delay

    def _rrset(self, name: dns.name.Name, rdtype: int) -> dns.rrset.RRset | None:
        node = self.zone.get_node(name)
        found = node.get_rdataset(dns.rdataclass.IN, rdtype) if node else None
        if found is None:
            return None
        rrset = dns.rrset.RRset(name, dns.rdataclass.IN, rdtype)
        rrset.update(found)
        return rrset

    def answer(self, wire: bytes, tcp: bool) -> bytes | None:
        query = dns.message.from_wire(wire)
        if query.question[0].rdtype in self.silent:
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA | (dns.flags.AD if self.authenticated else 0)
        name, rdtype = query.question[0].name, query.question[0].rdtype
        if not name.is_subdomain(self.zone.origin):
            response.set_rcode(dns.rcode.REFUSED)
            return response.to_wire()
        owner = name
        alias = self._rrset(name, dns.rdatatype.CNAME)
        if alias is not None and rdtype != dns.rdatatype.CNAME:
            response.answer.append(alias)
            owner = alias[0].target
        found = self._rrset(owner, rdtype)
        if found is not None:
            response.answer.append(found)
        elif alias is None and self.zone.get_node(name) is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
        wire = response.to_wire(max_size=TCP_MAX)
        if not tcp and len(wire) > self.udp_limit:
            response.answer.clear()
            response.flags |= dns.flags.TC
            wire = response.to_wire()
        return wire


def _udp(sock: socket.socket, zone: Zone) -> None:
    with suppress(OSError):
        while True:
            data, peer = sock.recvfrom(TCP_MAX)
            if not data:  # shutdown() at the end of serve()
                return
            out = zone.answer(data, tcp=False)
            if out is None:
                continue
            if zone.delay:
                threading.Timer(zone.delay, _send_late, (sock, out, peer)).start()
            else:
                sock.sendto(out, peer)


def _send_late(sock: socket.socket, out: bytes, peer: tuple[str, int]) -> None:
    with suppress(OSError):  # the server may have stopped meanwhile
        sock.sendto(out, peer)


def _tcp(sock: socket.socket, zone: Zone) -> None:
    with suppress(OSError):
        while True:
            conn, _peer = sock.accept()
            with conn, conn.makefile("rb") as stream:
                head = stream.read(2)
                if len(head) < 2:
                    continue
                (size,) = struct.unpack("!H", head)
                zone.tcp_queries += 1
                out = zone.answer(stream.read(size), tcp=True)
                if out is None:
                    continue
                conn.sendall(struct.pack("!H", len(out)) + out)


@contextmanager
def serve(zone: Zone) -> Iterator[str]:
    """Serve ``zone`` on a free loopback port (the same for UDP and TCP); yields ``IP:PORT``."""
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.1", 0))
    port = tcp.getsockname()[1]
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", port))
    tcp.listen()
    threads = [threading.Thread(target=_udp, args=(udp, zone), daemon=True),
               threading.Thread(target=_tcp, args=(tcp, zone), daemon=True)]
    for thread in threads:
        thread.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        # shutdown() wakes the threads blocked in accept()/recvfrom(); close() alone may not.
        for sock in (tcp, udp):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        for thread in threads:
            thread.join(timeout=2)
