"""The stdlib DER reader agrees with the cryptography package on the fields views show."""

from __future__ import annotations

import datetime as dt
import ipaddress

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from smtpscope.transport import CertInfo, cert_info_from_der


def _build(
    subject: x509.Name,
    *,
    san: list[x509.GeneralName] | None = None,
    key=None,
    not_before: dt.datetime = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    not_after: dt.datetime = dt.datetime(2049, 12, 31, 23, 59, 59, tzinfo=dt.UTC),
    serial: int = 0x1234ABCD,
    issuer: x509.Name | None = None,
) -> bytes:
    key = key or ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer or subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    cert = builder.sign(key, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.DER)


def _name(*pairs: tuple[x509.ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in pairs])


def test_matches_cryptography_on_trustme_chain() -> None:
    ca = trustme.CA()
    leaf = ca.create_child_ca().issue_cert("mx.example", "192.0.2.7", "2001:db8::25")
    for blob in leaf.cert_chain_pems:
        cert = x509.load_pem_x509_certificate(blob.bytes())
        der = cert.public_bytes(serialization.Encoding.DER)
        info = cert_info_from_der(der)
        assert info.parse_error is None
        assert info.subject == cert.subject.rfc4514_string()
        assert info.issuer == cert.issuer.rfc4514_string()
        assert int(info.serial, 16) == cert.serial_number
        assert info.not_after == cert.not_valid_after_utc.isoformat()
        assert info.not_before == cert.not_valid_before_utc.isoformat()
        assert info.fingerprint_sha256 == cert.fingerprint(hashes.SHA256()).hex()
        assert info.public_key == "EC secp256r1"
        assert info.signature_algorithm == "ecdsa-with-SHA256"
    first = cert_info_from_der(
        x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes()).public_bytes(
            serialization.Encoding.DER
        )
    )
    assert first.san == ("DNS:mx.example", "IP Address:192.0.2.7", "IP Address:2001:db8::25")


def test_rsa_key_names_escaping_and_all_san_kinds() -> None:
    subject = _name(
        (NameOID.COUNTRY_NAME, "DE"),
        (NameOID.ORGANIZATION_NAME, "Müller, Schmidt & Co"),
        (NameOID.COMMON_NAME, "mx.example"),
    )
    der = _build(
        subject,
        key=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        san=[
            x509.DNSName("mx.example"),
            x509.RFC822Name("postmaster@example.org"),
            x509.UniformResourceIdentifier("https://example.org/"),
            x509.IPAddress(ipaddress.ip_address("10.1.2.3")),
        ],
    )
    info = cert_info_from_der(der)
    assert info.subject == r"CN=mx.example,O=Müller\, Schmidt & Co,C=DE"
    assert info.subject == x509.load_der_x509_certificate(der).subject.rfc4514_string()
    assert info.self_issued
    assert info.public_key == "RSA 2048"
    assert info.signature_algorithm == "sha256WithRSAEncryption"
    assert info.serial == "1234ABCD"
    assert info.san == (
        "DNS:mx.example",
        "email:postmaster@example.org",
        "URI:https://example.org/",
        "IP Address:10.1.2.3",
    )
    assert info.not_before == "2024-01-02T03:04:05+00:00"


def test_generalized_time_after_2050_and_expiry() -> None:
    der = _build(
        _name((NameOID.COMMON_NAME, "late")),
        not_after=dt.datetime(2051, 6, 1, tzinfo=dt.UTC),  # GeneralizedTime in DER
    )
    info = cert_info_from_der(der)
    assert info.not_after == "2051-06-01T00:00:00+00:00"
    assert not info.expired(dt.datetime(2051, 5, 31, tzinfo=dt.UTC))
    assert info.expired(dt.datetime(2051, 6, 2, tzinfo=dt.UTC))


@pytest.mark.parametrize("blob", [b"", b"\x30\x03abc", b"\x30\x80", b"\x04\x02hi", b"\x30\x00"])
def test_garbage_never_raises(blob: bytes) -> None:
    info = cert_info_from_der(blob)
    assert isinstance(info, CertInfo)
    assert info.parse_error and info.parse_error.startswith("cannot read certificate")
    assert len(info.fingerprint_sha256) == 64
    assert not info.self_issued


def test_truncated_real_certificate() -> None:
    der = _build(_name((NameOID.COMMON_NAME, "cut")))
    for cut in (10, len(der) // 2, len(der) - 1):
        assert cert_info_from_der(der[:cut]).parse_error is not None
