"""DNSSEC for the loopback DNS harness: sign tls.test, and run unbound as a validating resolver.

NSD is authoritative only and never sets the AD bit, so what smtpscope reports from a validating
resolver (DANE applies, an MX answer is validated) needs one in front of it, as users have it.
tests/peers/dns.py calls ``sign_zone`` before NSD starts and ``start`` once NSD answers; the keys
are made afresh at every start, so the trust anchor written next to them is the only one.

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


def sign_zone(text: str, origin: str, work: Path) -> tuple[str, Path]:
    """``text`` signed with a fresh KSK and ZSK (ECDSAP256SHA256, NSEC); the KSK's DS is
    written to ``work`` as a trust anchor. Returns the signed zone text and the anchor's path."""
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
    with zone.writer() as txn:
        for _, dnskey in keys:
            txn.add(zone.origin, 300, dnskey)
        # Our own signer, not dnspython's: its signing needs a newer cryptography than
        # smtpscope asks for, while the NSEC chain it builds around the signer does not.
        dns.dnssec.sign_zone(zone, txn=txn, add_dnskey=False,
                             rrset_signer=_signer(keys, zone.origin, window))
    ds = dns.dnssec.make_ds(zone.origin, keys[0][1], "SHA256")
    anchor = work / TRUST_ANCHOR
    anchor.write_text(f"{zone.origin} IN DS {ds.to_text()}\n")
    return zone.to_text(relativize=False), anchor


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
           signed: str, anchor: Path) -> str:
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
    lines += [f'    domain-insecure: "{z}."' for z in zones if z != signed]
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
          zones: list[str], signed: str, anchor: Path,
          say: Callable[[str], None]) -> dict[str, object] | None:
    """Start unbound; its state for dns.json once ``signed`` validates, else None."""
    if validated(address, port, signed):
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
        if validated(address, port, signed):
            break
        time.sleep(0.05)
    else:
        proc.terminate()
        say(f"unbound did not validate {signed} within {READY_TIMEOUT}s; see "
            f"{work / 'unbound.log'}")
        return None
    say(f"unbound pid {proc.pid} validating on {address}:{port} "
        f"({time.monotonic() - started:.2f}s)")
    return {"address": address, "port": port, "pid": proc.pid, "validates": signed,
            "trust_anchor": str(anchor), "config": str(conf), "log": str(work / "unbound.log")}


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
