"""The harness's NSEC3 signer (peers/dnssec.py), checked without NSD or unbound: a chain that
covers every name, empty non-terminals too, with RFC 9276's parameters, and signatures that
verify under the zone's keys."""

from __future__ import annotations

import base64

import dns.dnssec
import dns.name
import dns.rdatatype
import dns.zone

from tests.peers.dns_fixtures import _harness

ZONE = """$ORIGIN n3.test.
$TTL 300
@ IN SOA ns.n3.test. hostmaster.n3.test. 1 3600 600 86400 300
@ IN NS ns.n3.test.
ns IN A 127.0.0.1
@ IN MX 10 mx.n3.test.
mx IN A 127.0.0.1
_25._tcp.mx IN TLSA 3 1 1 0011223344556677889900112233445566778899001122334455667788990011
"""


def _signed(nsec3: bool) -> dns.zone.Zone:
    text, ds = _harness()._dnssec().sign_zone(ZONE, "n3.test.", nsec3=nsec3)
    assert ds.startswith("n3.test. IN DS ")
    return dns.zone.from_text(text, origin="n3.test.", relativize=False)


def test_nsec3_chains_every_name_and_empty_non_terminal() -> None:
    zone = _signed(nsec3=True)
    origin = zone.origin
    assert origin is not None
    [param] = zone.find_rdataset(origin, "NSEC3PARAM")
    assert (param.algorithm, param.flags, param.iterations, param.salt) == (1, 0, 0, b"")
    names = ["n3.test.", "ns.n3.test.", "mx.n3.test.", "_tcp.mx.n3.test.",
             "_25._tcp.mx.n3.test."]
    nsec3 = {name: rdataset[0] for name, rdataset in zone.iterate_rdatasets("NSEC3")}
    assert {str(n).split(".")[0].upper() for n in nsec3} == {
        dns.dnssec.nsec3_hash(n, None, 0, 1) for n in names}
    assert not list(zone.iterate_rdatasets("NSEC"))
    # One circular chain in hash order, no opt-out.
    owners = sorted(str(n).split(".")[0] for n in nsec3)
    for name, record in nsec3.items():
        following = base64.b32hexencode(record.next).decode().lower()
        assert owners[(owners.index(str(name).split(".")[0]) + 1) % len(owners)] == following
        assert record.flags == 0 and record.iterations == 0
    by_name = {dns.dnssec.nsec3_hash(n, None, 0, 1).lower(): n for n in names}
    types = {by_name[str(n).split(".")[0]]: {dns.rdatatype.to_text(t)
                                              for w, b in r.windows
                                              for t in _types(w, b)}
             for n, r in nsec3.items()}
    assert types["_tcp.mx.n3.test."] == set()  # the empty non-terminal
    assert types["mx.n3.test."] == {"A", "RRSIG"}
    assert types["n3.test."] >= {"SOA", "NS", "MX", "DNSKEY", "NSEC3PARAM", "RRSIG"}


def _types(window: int, bitmap: bytes) -> list[int]:
    return [window * 256 + i * 8 + bit for i, byte in enumerate(bitmap) for bit in range(8)
            if byte & (0x80 >> bit)]


def _verify(rrset: tuple, rrsig: object, dnskeys: object) -> None:
    """ECDSAP256SHA256 (RFC 6605) by hand: dnspython's validate wants a newer cryptography."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    [key] = [k for k in dnskeys if dns.dnssec.key_id(k) == rrsig.key_tag]  # type: ignore
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\4" + key.key)
    data = dns.dnssec._make_rrsig_signature_data(rrset, rrsig)
    signature = encode_dss_signature(int.from_bytes(rrsig.signature[:32], "big"),  # type: ignore
                                     int.from_bytes(rrsig.signature[32:], "big"))  # type: ignore
    public.verify(signature, data, ec.ECDSA(hashes.SHA256()))


def test_every_rrset_of_both_kinds_verifies() -> None:
    for nsec3 in (False, True):
        zone = _signed(nsec3)
        origin = zone.origin
        assert origin is not None
        dnskeys = zone.find_rdataset(origin, "DNSKEY")
        checked = 0
        for name, node in zone.items():
            for rdataset in node:
                if rdataset.rdtype == dns.rdatatype.RRSIG:
                    continue
                [rrsig] = node.find_rdataset(rdataset.rdclass, dns.rdatatype.RRSIG,
                                             rdataset.rdtype)
                _verify((name, rdataset), rrsig, dnskeys)
                checked += 1
        assert checked > 8
