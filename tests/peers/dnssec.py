"""DNSSEC for the loopback DNS harness: sign tls.test (NSEC) and nsec3.test (NSEC3), and run
unbound as a validating resolver.

NSD is authoritative only and never sets the AD bit, so what smtpscope reports from a validating
resolver (DANE applies, an MX answer is validated) needs one in front of it, as users have it.
tests/peers/dns.py calls ``sign_zones`` before NSD starts and ``start`` once NSD answers; the keys
are made afresh at every start, so the trust anchors written next to them are the only ones.

Needs dnspython and cryptography (smtpscope's own dependencies), and the Debian package unbound.
"""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TRUST_ANCHOR = "trust-anchor.ds"
ECDSAP256SHA256 = 13  # the DNSSEC algorithm number (RFC 6605)
# The signatures start a day back and last a month: a skewed clock or a harness left running
# over a weekend must not turn every answer bogus.
INCEPTION_SLACK = 86400
SIGNATURE_LIFETIME = 30 * 86400
# The owner (first label) whose TLSA RRset gets a signature that does not verify.
BOGUS = "bogus"
READY_TIMEOUT = 15.0


def settings(nsd_address: str) -> tuple[str, int]:
    address = os.environ.get("SMTPSCOPE_RESOLVER_ADDRESS", nsd_address)
    port = int(os.environ.get("SMTPSCOPE_RESOLVER_PORT", "5354"))
    return address, port


def sign_zones(zones: dict[str, tuple[str, bool]], work: Path) -> tuple[dict[str, str], Path]:
    """Each zone (name -> (text, NSEC3 or NSEC)) signed; every KSK's DS written to ``work`` as
    the trust anchors. Returns the signed texts and the anchors' path."""
    signed, anchors = {}, []
    for name, (text, nsec3) in zones.items():
        signed[name], ds = sign_zone(text, f"{name}.", nsec3=nsec3)
        anchors.append(ds)
    anchor = work / TRUST_ANCHOR
    anchor.write_text("".join(anchors))
    return signed, anchor


def sign_zone(text: str, origin: str, *, nsec3: bool = False) -> tuple[str, str]:
    """``text`` signed with a fresh KSK and ZSK (ECDSAP256SHA256), denials by NSEC or NSEC3.
    Returns the signed zone text and the KSK's DS record (a trust anchor line)."""
    import dns.dnssec
    import dns.rdataclass
    import dns.rdatatype
    import dns.zone
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    from dns.rdtypes.ANY.DNSKEY import DNSKEY

    zone = dns.zone.from_text(text, origin=origin, relativize=False)
    assert zone.origin is not None
    keys = []
    for flags in (257, 256):  # SEP bit: the KSK signs the DNSKEY set, the ZSK everything else
        private = ec.generate_private_key(ec.SECP256R1())
        point = private.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        dnskey = DNSKEY(dns.rdataclass.IN, dns.rdatatype.DNSKEY,  # type: ignore[no-untyped-call]
                        flags, 3, ECDSAP256SHA256, point[1:])  # RFC 6605: the key is x | y
        keys.append((private, dnskey))
    now = int(time.time())
    window = (now - INCEPTION_SLACK, now + SIGNATURE_LIFETIME)
    signer = _signer(keys, zone.origin, window)
    with zone.writer() as txn:
        for _, dnskey in keys:
            txn.add(zone.origin, 300, dnskey)
        if nsec3:
            _sign_nsec3(txn, zone.origin, zone.get_soa(txn).minimum, signer)
        else:
            # Our own signer, not dnspython's: its signing needs a newer cryptography than
            # smtpscope asks for, while the NSEC chain it builds around the signer does not.
            dns.dnssec.sign_zone(zone, txn=txn, add_dnskey=False, rrset_signer=signer)
    ds = dns.dnssec.make_ds(zone.origin, keys[0][1], "SHA256")
    return zone.to_text(relativize=False), f"{zone.origin} IN DS {ds.to_text()}\n"


def _sign_nsec3(txn: Any, origin: Any, ttl: int, sign: Callable[[Any, Any], None]) -> None:
    """Sign every RRset and chain the names with NSEC3 (RFC 5155 §7.1), as RFC 9276 §3.1 says
    to: SHA-1, no extra iterations, no salt, no opt-out. Empty non-terminals (the _tcp.mx of a
    TLSA owner) get a record with no types. dnspython signs with NSEC only; the zones here
    delegate nothing, so every name is authoritative."""
    import base64

    import dns.dnssec
    import dns.name
    import dns.rdataclass
    import dns.rdatatype
    import dns.rrset
    from dns.rdtypes.ANY.NSEC3 import NSEC3
    from dns.rdtypes.ANY.NSEC3PARAM import NSEC3PARAM
    from dns.rdtypes.util import Bitmap

    txn.add(origin, 0, NSEC3PARAM(dns.rdataclass.IN,  # type: ignore[no-untyped-call]
                                  dns.rdatatype.NSEC3PARAM, 1, 0, 0, b""))
    types: dict[Any, set[int]] = {}
    for name in list(txn.iterate_names()):
        rdatasets = list(txn.get_node(name))
        types[name] = {r.rdtype for r in rdatasets} | {dns.rdatatype.RRSIG}
        for rdataset in rdatasets:
            sign(txn, dns.rrset.from_rdata(name, rdataset.ttl, *rdataset))
        while name != origin:
            name = name.parent()
            types.setdefault(name, set())
    owners = {dns.dnssec.nsec3_hash(name, None, 0, 1): name for name in types}
    chain = sorted(owners)
    for digest, following in zip(chain, chain[1:] + chain[:1], strict=True):
        record = NSEC3(dns.rdataclass.IN, dns.rdatatype.NSEC3,  # type: ignore[no-untyped-call]
                       1, 0, 0, b"", base64.b32hexdecode(following),
                       Bitmap.from_rdtypes(sorted(types[owners[digest]])).windows)
        rrset = dns.rrset.from_rdata(dns.name.Name([digest.lower().encode()]) + origin, ttl,
                                     record)
        txn.add(rrset)
        sign(txn, rrset)


def _signer(keys: list[Any], origin: Any, window: tuple[int, int]) -> Any:
    """An RRset signer for dnspython's sign_zone: an RRSIG (RFC 4034 §3.1.8.1) with the KSK
    over DNSKEY, with the ZSK over everything else."""
    import dns.dnssec
    import dns.rdatatype
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    from dns.rdtypes.ANY.RRSIG import RRSIG

    def sign(txn: Any, rrset: Any) -> None:
        private, dnskey = keys[0] if rrset.rdtype == dns.rdatatype.DNSKEY else keys[1]
        # Labels: the owner's, without the root (no wildcards here); signature comes last.
        template = RRSIG(  # type: ignore[no-untyped-call]
            rrset.rdclass, dns.rdatatype.RRSIG, rrset.rdtype, ECDSAP256SHA256,
            len(rrset.name) - 1, rrset.ttl, window[1], window[0], dns.dnssec.key_id(dnskey),
            origin, b"")
        data = (template.to_wire(origin=origin) or b"")[:18] + origin.to_digestable()
        owner = rrset.name.to_digestable()
        fixed = struct.pack("!HHI", rrset.rdtype, rrset.rdclass, rrset.ttl)
        for rdata in sorted(r.to_digestable(origin) for r in rrset):
            data += owner + fixed + struct.pack("!H", len(rdata)) + rdata
        if rrset.rdtype == dns.rdatatype.TLSA and rrset.name.labels[2] == BOGUS.encode():
            data += b"\0"  # signs other bytes than the RRset's: the RRSIG cannot verify
        r, s = decode_dss_signature(private.sign(data, ec.ECDSA(hashes.SHA256())))
        txn.add(rrset.name, rrset.ttl,
                template.replace(signature=r.to_bytes(32, "big") + s.to_bytes(32, "big")))

    return sign


# --- unbound -----------------------------------------------------------------------------------


def config(work: Path, address: str, port: int, nsd: tuple[str, int], zones: list[str],
           signed: list[str], anchor: Path) -> str:
    """unbound.conf: a stub zone per test zone at NSD, ``signed`` validated from ``anchor``."""
    lines = [
        "server:",
        f"    interface: {address}",
        f"    port: {port}",
        '    username: ""',
        '    chroot: ""',
        f'    directory: "{work}"',
        f'    pidfile: "{work / "unbound.pid"}"',
        f'    logfile: "{work / "unbound.log"}"',
        "    use-syslog: no",
        "    verbosity: 1",
        "    val-log-level: 2",  # say why an answer is bogus in the log
        "    num-threads: 1",
        "    so-reuseport: no",
        "    access-control: 127.0.0.0/8 allow",
        "    access-control: ::1/128 allow",
        "    do-not-query-localhost: no",  # NSD is on loopback
        '    module-config: "validator iterator"',
        f'    trust-anchor-file: "{anchor}"',
    ]
    # unbound answers test., 127.in-addr.arpa. and ::1's reverse itself (RFC 6761 local zones):
    # those names must go to NSD instead.
    local = {"test", "127.in-addr.arpa", "1." + ".".join("0" * 31) + ".ip6.arpa"}
    lines += [f'    local-zone: "{name}." nodefault' for name in sorted(local)]
    lines += [f'    domain-insecure: "{z}."' for z in zones if z not in signed]
    lines += ["remote-control:", "    control-enable: no"]
    for zone in zones:
        lines += ["stub-zone:", f'    name: "{zone}."', f"    stub-addr: {nsd[0]}@{nsd[1]}"]
    return "\n".join(lines) + "\n"


def validated(address: str, port: int, name: str, timeout: float = 0.5) -> bool:
    """Does the resolver answer ``name`` SOA with the AD bit set?"""
    import dns.exception
    import dns.flags
    import dns.message
    import dns.query
    import dns.rcode

    query = dns.message.make_query(name, "SOA", want_dnssec=True)
    query.flags |= dns.flags.AD
    try:
        response = dns.query.udp(query, address, timeout=timeout, port=port)
    except (OSError, dns.exception.DNSException):
        return False
    return response.rcode() == dns.rcode.NOERROR and bool(response.flags & dns.flags.AD)


def alive(pid: int, work: Path) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    # Guard against a recycled PID: it must be our unbound with our config file.
    return b"unbound" in cmdline and str(work).encode() in cmdline


def start(unbound: str, work: Path, address: str, port: int, nsd: tuple[str, int],
          zones: list[str], signed: list[str], anchor: Path,
          say: Callable[[str], None]) -> dict[str, object] | None:
    """Start unbound; its state for dns.json once every ``signed`` zone validates, else None."""
    if validated(address, port, signed[0]):
        say(f"something already resolves DNS on {address}:{port}; stop it first or pick another "
            "port with SMTPSCOPE_RESOLVER_PORT")
        return None
    conf = work / "unbound.conf"
    conf.write_text(config(work, address, port, nsd, zones, signed, anchor))
    checker = Path(unbound).with_name("unbound-checkconf")
    if checker.exists():
        result = subprocess.run([str(checker), str(conf)], capture_output=True, text=True)
        if result.returncode != 0:
            say(f"unbound.conf is invalid: {result.stdout}{result.stderr}")
            return None
    (work / "unbound.pid").unlink(missing_ok=True)
    started = time.monotonic()
    with open(work / "unbound.stderr", "wb") as err:
        proc = subprocess.Popen([unbound, "-d", "-c", str(conf)], stdin=subprocess.DEVNULL,
                                stdout=err, stderr=err, start_new_session=True)
    while time.monotonic() < started + READY_TIMEOUT:
        if proc.poll() is not None:
            say(f"unbound exited with {proc.returncode}; see {work / 'unbound.log'}")
            return None
        if all(validated(address, port, name) for name in signed):
            break
        time.sleep(0.05)
    else:
        proc.terminate()
        say(f"unbound did not validate {', '.join(signed)} within {READY_TIMEOUT}s; see "
            f"{work / 'unbound.log'}")
        return None
    say(f"unbound pid {proc.pid} validating on {address}:{port} "
        f"({time.monotonic() - started:.2f}s)")
    # "validates": the zone a fixture asks to know unbound is up; "signed": all of them.
    return {"address": address, "port": port, "pid": proc.pid, "validates": signed[0],
            "signed": signed, "trust_anchor": str(anchor), "config": str(conf),
            "log": str(work / "unbound.log")}


def stop(state: dict[str, object], work: Path) -> bool:
    """End the unbound ``state`` recorded (by its PID only); True when it was running."""
    pid = int(state["pid"])  # type: ignore[call-overload]
    if not alive(pid, work):
        return False
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        if not alive(pid, work):
            return True
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    return True
