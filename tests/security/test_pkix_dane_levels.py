"""PKIX reasons, DANE matching and level decisions on certificates made here."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import replace

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from smtpscope.dns.resolver import TLSARecord
from smtpscope.dns.tlsa import TLSAReport, explain_tlsa
from smtpscope.security.dane import NOT_VALIDATED, match_tlsa
from smtpscope.security.levels import LEVELS, decide
from smtpscope.security.pkix import check_chain
from smtpscope.security.policy import PolicyError, TLSPolicy, parse_fingerprint
from smtpscope.transport.x509 import cert_info_from_der, spki_der


def _der(pem: bytes) -> bytes:
    return x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)


@pytest.fixture(scope="module")
def chain() -> tuple[list[bytes], x509.Certificate]:
    root = trustme.CA()
    inter = root.create_child_ca()
    leaf = inter.issue_cert("mx.example.test")
    ders = [_der(p.bytes()) for p in leaf.cert_chain_pems]
    return ders, x509.load_pem_x509_certificate(root.cert_pem.bytes())


def test_verified_trusted_untrusted(chain) -> None:  # type: ignore[no-untyped-def]
    ders, root = chain
    ok = check_chain(ders, ("mx.example.test",), (root,))
    assert ok.status == "verified" and ok.matched_name == "mx.example.test"
    wrong = check_chain(ders, ("other.test",), (root,))
    assert wrong.status == "trusted" and wrong.reason_code == "name-mismatch"
    dotted = check_chain(ders, (".example.test",), (root,))  # Postfix's dot-nexthop
    assert dotted.status == "verified"
    stranger = x509.load_pem_x509_certificate(trustme.CA().cert_pem.bytes())
    unknown = check_chain(ders, ("mx.example.test",), (stranger,))
    assert unknown.status == "untrusted" and unknown.reason_code == "unknown-ca"
    leaf = x509.load_der_x509_certificate(ders[0])
    later = leaf.not_valid_after_utc + dt.timedelta(days=1)
    expired = check_chain(ders, ("mx.example.test",), (root,), now=later)
    assert expired.status == "untrusted" and expired.reason_code == "expired"
    early = leaf.not_valid_before_utc - dt.timedelta(days=1)
    assert check_chain(ders, ("mx.example.test",), (root,), now=early).reason_code == \
        "not-yet-valid"
    assert check_chain([], ("x",), (root,)).reason_code == "no-certificate"
    assert check_chain([b"junk"], ("x",), (root,)).reason_code == "unreadable"


def test_an_internationalized_name_matches_the_a_labels_a_certificate_carries() -> None:
    # Certificates carry A-labels (RFC 5280 §7.2); a name typed with U-labels, as a target or
    # --verify-name, is the same name.
    root = trustme.CA()
    leaf = root.issue_cert("mx.xn--bcher-kva.example")
    ders = [_der(p.bytes()) for p in leaf.cert_chain_pems]
    anchor = x509.load_pem_x509_certificate(root.cert_pem.bytes())
    for name in ("mx.bücher.example", "MX.Bücher.example.", ".bücher.example",
                 "mx.xn--bcher-kva.example"):
        result = check_chain(ders, (name,), (anchor,))
        assert result.status == "verified", name
        assert result.matched_name in (name, "mx.xn--bcher-kva.example")
    other = check_chain(ders, ("mx.büchner.example",), (anchor,))
    assert other.status == "trusted" and other.reason_code == "name-mismatch"


def test_an_idn_is_checked_by_idna_2008_not_2003() -> None:
    # IDNA 2003 spells straße.de as strasse.de, another domain: its certificate must not do.
    root = trustme.CA()
    anchor = x509.load_pem_x509_certificate(root.cert_pem.bytes())
    for issued, verifies in (("mx.xn--strae-oqa.de", True), ("mx.strasse.de", False)):
        ders = [_der(p.bytes()) for p in root.issue_cert(issued).cert_chain_pems]
        result = check_chain(ders, ("mx.straße.de",), (anchor,))
        assert (result.status == "verified") is verifies, issued


def _report(*records: TLSARecord, authenticated: bool) -> TLSAReport:
    return TLSAReport("mx.example.test", "_25._tcp.mx.example.test", "ok",
                      tuple(explain_tlsa(r) for r in records), authenticated, "")


def test_dane_ee_and_ta_matching(chain) -> None:  # type: ignore[no-untyped-def]
    ders, _root = chain
    leaf = x509.load_der_x509_certificate(ders[0])
    spki = hashlib.sha256(spki_der(leaf)).digest()
    inter512 = hashlib.sha512(ders[1]).digest()
    records = (TLSARecord(3, 1, 1, spki), TLSARecord(2, 0, 2, inter512),
               TLSARecord(3, 0, 1, b"\0" * 32), TLSARecord(1, 1, 1, spki))
    result = match_tlsa(_report(*records, authenticated=True), ders, ("mx.example.test",))
    assert result.applies and result.matched and result.summary.startswith("DANE verified")
    ee, ta, miss, pkix = result.checks
    assert ee.matched and ee.cert_index == 0
    assert ta.matched and ta.cert_index == 1 and "names mx.example.test" in ta.why
    assert not miss.matched and "does not match" in miss.why
    assert not pkix.matched and not pkix.usable and "RFC 7672" in pkix.why
    # DANE-TA also demands the name; DANE-EE does not (RFC 7672 §3.1).
    renamed = match_tlsa(_report(*records[:2], authenticated=True), ders, ("other.test",))
    assert renamed.checks[0].matched and not renamed.checks[1].matched
    unsigned = match_tlsa(_report(*records, authenticated=False), ders, ("mx.example.test",))
    assert not unsigned.applies and unsigned.would_match and not unsigned.matched
    assert unsigned.summary.startswith(NOT_VALIDATED)


def test_dane_ta_names_the_cname_expanded_base_too(chain) -> None:  # type: ignore[no-untyped-def]
    # RFC 7672 §3.2.2: the MX name was an alias of mx.example.test, where the TLSA records are;
    # the certificate names the expanded name, which DANE-TA then accepts.
    ders, _root = chain
    ta = TLSARecord(2, 0, 2, hashlib.sha512(ders[1]).digest())
    report = TLSAReport("alias.other.test", "_25._tcp.mx.example.test", "ok", (explain_tlsa(ta),),
                        True, "", base="mx.example.test")
    assert match_tlsa(report, ders, ("alias.other.test",)).matched
    unexpanded = replace(report, base="alias.other.test", name="_25._tcp.alias.other.test")
    assert not match_tlsa(unexpanded, ders, ("alias.other.test",)).matched


def test_levels_table_and_decisions() -> None:
    assert list(LEVELS) == ["none", "may", "encrypt", "dane", "dane-only", "fingerprint",
                            "verify", "secure"]
    base = dict(trust="untrusted", dane_applies=False, dane_matched=False,
                fingerprint_matched=False, pkix_verified=False)
    assert decide("may", **base) is None and decide("encrypt", **base) is None
    assert decide("dane", **base) is None  # no validated TLSA: as "may"
    assert decide("dane", **{**base, "dane_applies": True}) is not None
    assert decide("dane-only", **base) is not None
    assert decide("dane-only", **{**base, "dane_applies": True, "dane_matched": True}) is None
    assert decide("verify", **base) is not None
    assert decide("secure", **{**base, "pkix_verified": True}) is None
    assert decide("fingerprint", **{**base, "fingerprint_matched": True}) is None


def test_the_dane_levels_know_every_failed_lookup() -> None:
    from smtpscope.dns.resolver import LOOKUP_FAILED
    from smtpscope.security.levels import TLSA_LOOKUP_FAILED

    assert TLSA_LOOKUP_FAILED == LOOKUP_FAILED


@pytest.mark.parametrize("lookup", ["servfail", "refused", "timeout", "error"])
def test_a_failed_tlsa_lookup_stops_the_dane_levels_only(lookup: str) -> None:
    # RFC 7672 §2.2: no answer is not "no TLSA" (a bogus signature reads as SERVFAIL); the
    # server is unusable under DANE, whatever PKIX says, and reported elsewhere.
    base = dict(trust="verified", dane_applies=False, dane_matched=False,
                fingerprint_matched=False, pkix_verified=True, dane_lookup=lookup)
    for level in ("dane", "dane-only"):
        refusal = decide(level, **base)
        assert refusal is not None and f"TLSA lookup failed ({lookup})" in refusal
    for level in ("may", "encrypt", "verify", "secure"):
        assert decide(level, **base) is None
    for answered in ("ok", "none", None):  # records, a denial, or no lookup made
        assert decide("dane", **{**base, "dane_lookup": answered}) is None


def test_fingerprints_and_policy_errors(chain) -> None:  # type: ignore[no-untyped-def]
    ders, _ = chain
    info = cert_info_from_der(ders[0])
    colons = ":".join(info.fingerprint_sha256[i:i + 2] for i in range(0, 64, 2))
    assert parse_fingerprint(f"sha256:{colons.upper()}") == ("SHA256", info.fingerprint_sha256)
    assert parse_fingerprint(info.spki_sha512)[0] == "SHA512"
    for bad in ("SHA256:xyz", "SHA256:abcd", "MD5:" + "a" * 32):
        with pytest.raises(PolicyError):
            parse_fingerprint(bad)
    with pytest.raises(PolicyError, match="--tls-level"):
        TLSPolicy(level="paranoid")
    with pytest.raises(PolicyError, match="--tls-min"):
        TLSPolicy(min_version="2.0")
    secure = TLSPolicy(level="secure", nexthop="example.test")
    assert secure.names_for("mx1.example.test") == ("example.test", ".example.test")
    assert TLSPolicy(verify_names=("a.test",)).names_for("127.0.0.1") == ("a.test",)


def test_spki_formats_are_the_public_serialization_enums() -> None:
    # spki_der takes the enums from where cryptography defines them (the public module would
    # load the key-file code too); they must be the very objects the public API hands out.
    from cryptography.hazmat.primitives import serialization

    from smtpscope.transport.x509 import _spki_formats

    assert _spki_formats() == (serialization.Encoding.DER,
                               serialization.PublicFormat.SubjectPublicKeyInfo)
    assert _spki_formats()[0] is serialization.Encoding.DER
