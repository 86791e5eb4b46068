"""HAProxy PROXY protocol headers (versions 1 and 2) that a client sends before the banner."""

from __future__ import annotations

import ipaddress
import struct

# Version 2 signature (proxy-protocol.txt §2.2), then version 2 / command PROXY.
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
_V2_PROXY = 0x21
_V2_TCP4 = 0x11
_V2_TCP6 = 0x21


class ProxyError(ValueError):
    """Addresses that cannot make a PROXY header."""


def split_endpoint(text: str, default_port: int | None = None) -> tuple[str, int]:
    """``IP``, ``IP:PORT``, ``[v6]:PORT`` or a bare IPv6 address as (address, port)."""
    text = text.strip()
    host, port_text = text, ""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest.removeprefix(":")
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ProxyError(f"{host!r} is not an IP address") from None
    if not port_text:
        if default_port is None:
            raise ProxyError(f"{text!r} needs a port (IP:PORT)")
        return host, default_port
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ProxyError(f"bad port in {text!r}")
    return host, int(port_text)


def build(version: int, source: tuple[str, int], dest: tuple[str, int]) -> bytes:
    """The header claiming a connection from ``source`` to ``dest`` (one address family)."""
    src, dst = ipaddress.ip_address(source[0]), ipaddress.ip_address(dest[0])
    if src.version != dst.version:
        raise ProxyError("--proxy-source and --proxy-dest must both be IPv4 or both IPv6")
    if version == 1:
        family = "TCP4" if src.version == 4 else "TCP6"
        return f"PROXY {family} {src} {dst} {source[1]} {dest[1]}\r\n".encode("ascii")
    if version != 2:
        raise ProxyError(f"unknown PROXY protocol version {version}")
    body = src.packed + dst.packed + struct.pack("!HH", source[1], dest[1])
    family_byte = _V2_TCP4 if src.version == 4 else _V2_TCP6
    return V2_SIGNATURE + bytes([_V2_PROXY, family_byte]) + struct.pack("!H", len(body)) + body


def header_for(version: int, source: str, dest: str | None, target: tuple[str, int], *,
               source_port: int | None = None, dest_port: int | None = None) -> bytes:
    """The header from the addresses as typed: ``source`` IP[:PORT] (port 0 when none),
    ``dest`` IP[:PORT] or None for ``target`` (host, port); the ports given apart win."""
    host, port = split_endpoint(source, 0)
    claimed_source = (host, source_port or port)
    try:
        host, port = split_endpoint(dest or target[0], target[1])
    except ProxyError:
        if dest:
            raise
        raise ProxyError(f"the target {target[0]!r} is not an IP address: give the claimed "
                         "server address") from None
    claimed_dest = (host, dest_port or port)
    return build(version, claimed_source, claimed_dest)


def retarget(header: bytes, old_port: int, new_port: int) -> bytes:
    """``header`` claiming ``new_port`` where it claimed ``old_port`` as the server's port (the
    target's, by default): a reconnection to another port keeps the header truthful."""
    parsed = parse(header)
    if parsed is None or parsed[3][1] != old_port or old_port == new_port:
        return header
    version, _, source, dest = parsed
    return build(version, source, (dest[0], new_port))


def parse(raw: bytes) -> tuple[int, str, tuple[str, int], tuple[str, int]] | None:
    """(version, TCP4|TCP6, source, dest) of a header :func:`build` makes; None otherwise."""
    if raw.startswith(b"PROXY ") and raw.endswith(b"\r\n"):
        words = raw[6:-2].decode("ascii", "replace").split(" ")
        if len(words) == 5 and words[0] in ("TCP4", "TCP6") and words[3].isdigit() \
                and words[4].isdigit():
            return 1, words[0], (words[1], int(words[3])), (words[2], int(words[4]))
        return None
    if not raw.startswith(V2_SIGNATURE) or len(raw) < 16 or raw[12] != _V2_PROXY:
        return None
    size = 4 if raw[13] == _V2_TCP4 else 16 if raw[13] == _V2_TCP6 else 0
    body = raw[16:]
    if not size or len(body) < 2 * size + 4:
        return None
    src = str(ipaddress.ip_address(body[:size]))
    dst = str(ipaddress.ip_address(body[size:2 * size]))
    sport, dport = struct.unpack("!HH", body[2 * size:2 * size + 4])
    return 2, "TCP4" if size == 4 else "TCP6", (src, sport), (dst, dport)
