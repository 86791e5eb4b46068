"""CertInfo and TLSInfo as views and reports see them: fields, defaults, repr and JSON form."""

from __future__ import annotations

import pytest

from smtpscope.dns._json import jsonable
from smtpscope.security.dane import DaneResult, TLSAMatch
from smtpscope.session_types import tls_info_dict
from smtpscope.transport.tls import TLSInfo
from smtpscope.transport.x509 import CertInfo
from tests.value_pins import assert_frozen_value

CERT_FIELDS = ("subject", "issuer", "san", "not_before", "not_after", "serial",
               "fingerprint_sha256", "public_key", "signature_algorithm", "parse_error",
               "key_type", "key_bits", "spki_sha256", "spki_sha512", "pem")
TLS_FIELDS = ("version", "cipher", "bits", "peer_chain", "verified", "verify_error", "insecure",
              "server_hostname", "sni", "alpn", "hostname_checked", "chain_complete",
              "session_reused", "level", "trust", "trust_reason_code", "names_checked",
              "verified_name", "trust_anchor", "fingerprint_match", "fingerprints_pinned",
              "dane", "accepted", "refusal", "peer_host", "requested", "cert_requested",
              "cert_sent", "client_cert", "client_chain")


def _cert(**extra: object) -> CertInfo:
    return CertInfo("CN=mx", "CN=ca", ("DNS:mx",), "2026-01-01T00:00:00+00:00",
                    "2027-01-01T00:00:00+00:00", "0A", "ff" * 32, **extra)  # type: ignore[arg-type]


def test_cert_info_fields_defaults_and_repr() -> None:
    cert = _cert()
    assert (cert.public_key, cert.signature_algorithm, cert.parse_error, cert.key_type,
            cert.key_bits, cert.spki_sha256, cert.spki_sha512, cert.pem) == (
        "", "", None, "", 0, "", "", "")
    assert repr(cert) == (
        "CertInfo(subject='CN=mx', issuer='CN=ca', san=('DNS:mx',), "
        "not_before='2026-01-01T00:00:00+00:00', not_after='2027-01-01T00:00:00+00:00', "
        f"serial='0A', fingerprint_sha256='{'ff' * 32}', public_key='', "
        "signature_algorithm='', parse_error=None, key_type='', key_bits=0, spki_sha256='', "
        "spki_sha512='', pem='')")
    assert_frozen_value(_cert(key_type="EC", key_bits=256, pem="P"), CERT_FIELDS)
    assert _cert() == _cert() and _cert() != _cert(key_bits=1)
    with pytest.raises(TypeError):
        CertInfo("CN=mx", "CN=ca", ())  # type: ignore[call-arg]
    assert not _cert().self_issued
    assert CertInfo("CN=ca", "CN=ca", (), "", "", "01", "00").self_issued


def _info(**extra: object) -> TLSInfo:
    return TLSInfo("TLSv1.3", "TLS_AES_256_GCM_SHA384", 256, (_cert(),), True, None, False,
                   "mx", **extra)  # type: ignore[arg-type]


def test_tls_info_fields_defaults_and_repr() -> None:
    info = _info()
    assert info.leaf == _cert()
    assert repr(info) == (
        f"TLSInfo(version='TLSv1.3', cipher='TLS_AES_256_GCM_SHA384', bits=256, "
        f"peer_chain=({_cert()!r},), verified=True, verify_error=None, insecure=False, "
        "server_hostname='mx', sni=None, alpn=None, hostname_checked=True, "
        "chain_complete=False, session_reused=False, level='', trust='unchecked', "
        "trust_reason_code=None, names_checked=(), verified_name=None, trust_anchor=None, "
        "fingerprint_match=None, fingerprints_pinned=0, dane=None, accepted=True, "
        "refusal=None, peer_host=None, requested=(), cert_requested=None, cert_sent=None, "
        "client_cert=None, client_chain=())")
    assert_frozen_value(_info(level="may", requested=(("--tls-level", "may"),)), TLS_FIELDS)
    assert _info() != _info(trust="verified")
    with pytest.raises(TypeError):
        TLSInfo("TLSv1.3", "x", 1, (), True, None, False)  # type: ignore[call-arg]


def test_tls_info_dict_is_the_report_form() -> None:
    match = TLSAMatch("3 1 1 ab", 3, 1, 1, True, True, 0, "DANE-EE SPKI SHA-256")
    dane = DaneResult("_25._tcp.mx", "ok", True, (match,), True, True, True, "matched")
    info = _info(names_checked=("mx",), requested=(("--tls-level", "dane"),), dane=dane)
    data = tls_info_dict(info)
    cert = dict(zip(CERT_FIELDS, ("CN=mx", "CN=ca", ("DNS:mx",), "2026-01-01T00:00:00+00:00",
                                  "2027-01-01T00:00:00+00:00", "0A", "ff" * 32, "", "", None,
                                  "", 0, "", "", ""), strict=True))
    assert list(data) == list(TLS_FIELDS)
    # Tuples of the TLSInfo itself become lists; values inside them keep their form.
    assert data["peer_chain"] == [cert]
    assert data["names_checked"] == ["mx"]
    assert data["requested"] == [("--tls-level", "dane")]
    assert data["dane"] == {
        "name": "_25._tcp.mx", "lookup": "ok", "authenticated": True,
        "checks": ({"record": "3 1 1 ab", "usage": 3, "selector": 1, "mtype": 1,
                    "matched": True, "usable": True, "cert_index": 0,
                    "why": "DANE-EE SPKI SHA-256"},),
        "would_match": True, "applies": True, "matched": True, "summary": "matched"}
    assert {k: data[k] for k in ("version", "bits", "trust", "accepted", "sni")} == {
        "version": "TLSv1.3", "bits": 256, "trust": "unchecked", "accepted": True, "sni": None}
    assert tls_info_dict(_info())["dane"] is None


def test_mx_check_form_of_a_certificate() -> None:
    # ``mx --check-tls`` reports the leaf through the DNS results' converter.
    assert jsonable(_cert(key_bits=256)) == {
        "subject": "CN=mx", "issuer": "CN=ca", "san": ["DNS:mx"],
        "not_before": "2026-01-01T00:00:00+00:00", "not_after": "2027-01-01T00:00:00+00:00",
        "serial": "0A", "fingerprint_sha256": "ff" * 32, "public_key": "",
        "signature_algorithm": "", "parse_error": None, "key_type": "", "key_bits": 256,
        "spki_sha256": "", "spki_sha512": "", "pem": ""}
