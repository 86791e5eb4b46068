"""The display fields of an X.509 certificate, read with the ``cryptography`` package.

``ssl`` only decodes certificates it has verified, and the chain of an unverified connection is
exactly what a debugger must show, so every certificate is read here from its DER bytes. It
never raises: a certificate that cannot be read still yields a ``CertInfo`` with its
fingerprint and ``parse_error`` set.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from smtpscope.values import Frozen

# Imported on first use: cryptography costs ~25 ms at start-up, hashlib and datetime ~1 ms each.
if TYPE_CHECKING:
    from datetime import datetime

    from cryptography import x509

# Names as OpenSSL prints them, for the algorithms a mail server's chain carries.
_SIG_NAMES = {
    "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
    "1.2.840.113549.1.1.11": "sha256WithRSAEncryption",
    "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
    "1.2.840.113549.1.1.13": "sha512WithRSAEncryption",
    "1.2.840.113549.1.1.10": "rsassaPss",
    "1.2.840.10045.4.3.2": "ecdsa-with-SHA256",
    "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
    "1.2.840.10045.4.3.4": "ecdsa-with-SHA512",
    "1.3.101.112": "ED25519",
    "1.3.101.113": "ED448",
}


class CertInfo(Frozen):
    """What a view shows about one certificate. Dates are ISO 8601 strings in UTC."""

    __slots__ = ("fingerprint_sha256", "issuer", "key_bits", "key_type", "not_after",
                 "not_before", "parse_error", "pem", "public_key", "san", "serial",
                 "signature_algorithm", "spki_sha256", "spki_sha512", "subject")
    subject: str  # RFC 4514 one-liner, most specific first: "CN=mx.example,O=Example"
    issuer: str
    san: tuple[str, ...]  # "DNS:mx.example", "IP Address:192.0.2.1", "email:x@y", "URI:..."
    not_before: str
    not_after: str
    serial: str  # upper-case hex, no separators
    fingerprint_sha256: str  # lower-case hex of SHA-256 over the DER
    public_key: str  # "RSA 2048", "EC secp256r1", "ED25519"
    signature_algorithm: str
    parse_error: str | None
    key_type: str  # "RSA", "EC", "ED25519", ...
    key_bits: int
    spki_sha256: str  # what TLSA 3 1 1 holds (hex)
    spki_sha512: str  # what TLSA 3 1 2 holds (hex)
    pem: str  # the certificate as PEM, for --show-certs and copying

    def __init__(self, subject: str, issuer: str, san: tuple[str, ...], not_before: str,
                 not_after: str, serial: str, fingerprint_sha256: str, public_key: str = "",
                 signature_algorithm: str = "", parse_error: str | None = None,
                 key_type: str = "", key_bits: int = 0, spki_sha256: str = "",
                 spki_sha512: str = "", pem: str = "") -> None:
        self._set(subject=subject, issuer=issuer, san=san, not_before=not_before,
                  not_after=not_after, serial=serial, fingerprint_sha256=fingerprint_sha256,
                  public_key=public_key, signature_algorithm=signature_algorithm,
                  parse_error=parse_error, key_type=key_type, key_bits=key_bits,
                  spki_sha256=spki_sha256, spki_sha512=spki_sha512, pem=pem)

    @property
    def self_issued(self) -> bool:
        """Subject equals issuer (a root, or a self-signed server certificate)."""
        return self.subject == self.issuer and not self.parse_error

    def expired(self, now: datetime | None = None) -> bool:
        """True when ``now`` (default: the current time) is after ``not_after``."""
        if not self.not_after:
            return False
        from datetime import UTC, datetime

        moment = now or datetime.now(UTC)
        return moment > datetime.fromisoformat(self.not_after)

    def not_yet_valid(self, now: datetime | None = None) -> bool:
        """True when ``now`` is before ``not_before``."""
        if not self.not_before:
            return False
        from datetime import UTC, datetime

        return (now or datetime.now(UTC)) < datetime.fromisoformat(self.not_before)


def preload() -> None:
    """Import what reading a certificate uses (``smtpscope.security.prefetch`` runs it early)."""
    from cryptography import x509  # noqa: F401
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa  # noqa: F401

    _spki_formats()


def general_name(name: Any) -> str:
    """A subjectAltName entry in OpenSSL's labels: ``DNS:mx.example``, ``IP Address:192.0.2.1``."""
    from cryptography import x509

    if isinstance(name, x509.DNSName):
        return f"DNS:{name.value}"
    if isinstance(name, x509.IPAddress):
        return f"IP Address:{name.value}"
    if isinstance(name, x509.RFC822Name):
        return f"email:{name.value}"
    if isinstance(name, x509.UniformResourceIdentifier):
        return f"URI:{name.value}"
    if isinstance(name, x509.DirectoryName):
        return f"DirName:{name.value.rfc4514_string()}"
    if isinstance(name, x509.RegisteredID):
        return f"Registered ID:{name.value.dotted_string}"
    return f"othername:{name.type_id.dotted_string}" if isinstance(name, x509.OtherName) else "?"


def _key(cert: x509.Certificate) -> tuple[str, int, str]:
    """(type, bits, one-line description) of the certificate's public key."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

    try:
        key = cert.public_key()
    except (ValueError, TypeError, x509.UnsupportedGeneralNameType):
        oid = cert.public_key_algorithm_oid.dotted_string
        return oid, 0, oid
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size, f"RSA {key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC", key.key_size, f"EC {key.curve.name}"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "ED25519", 256, "ED25519"
    if isinstance(key, ed448.Ed448PublicKey):
        return "ED448", 456, "ED448"
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size, f"DSA {key.key_size}"
    name = type(key).__name__
    return name, 0, name


def _spki_formats() -> tuple[Any, Any]:
    """``(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)``.

    The public ``serialization`` module re-exports these from ``_serialization``, which the
    X.509 layer has already loaded, and adds the SSH and PKCS#12 key code: about 8 ms more for
    every probe, which reads no key file. The enums are taken from where they are defined;
    should that module ever move, the public one still gives them (a test checks both are the
    same objects).
    """
    try:
        from cryptography.hazmat.primitives._serialization import Encoding, PublicFormat
    except ImportError:  # pragma: no cover - a cryptography that moved them
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    return Encoding.DER, PublicFormat.SubjectPublicKeyInfo


def spki_der(cert: x509.Certificate) -> bytes:
    """The SubjectPublicKeyInfo as DER (what TLSA selector 1 and pinning hash)."""
    return cert.public_key().public_bytes(*_spki_formats())


_PEM_BEGIN, _PEM_END = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"


def _pem(der: bytes) -> str:
    body = base64.encodebytes(der).decode("ascii").replace("\n", "")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return _PEM_BEGIN + "\n" + "\n".join(lines) + "\n" + _PEM_END + "\n"


# OpenSSL reads a CA file's "TRUSTED CERTIFICATE" blocks too.
_PEM_TRUSTED = "-----BEGIN TRUSTED CERTIFICATE-----"


def holds_pem_certificate(data: bytes) -> bool:
    """Whether ``data`` (a CA file, say) has a PEM certificate in it, as OpenSSL would look
    for one, without parsing any: that is TLS's work, later and only when TLS is used."""
    return _PEM_BEGIN.encode() in data or _PEM_TRUSTED.encode() in data


def pem_der(pem: str) -> bytes:
    """The DER bytes of one PEM certificate (``CertInfo.pem``): ``ssl.PEM_cert_to_DER_cert``
    without loading ``ssl``, which judging a chain does not need."""
    body = pem.strip().removeprefix(_PEM_BEGIN).removesuffix(_PEM_END)
    return base64.decodebytes(body.encode("ascii"))


def _read(der: bytes) -> CertInfo:
    import hashlib

    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        san = tuple(general_name(n) for n in ext.value)
    except x509.ExtensionNotFound:
        san = ()
    key_type, bits, description = _key(cert)
    try:
        spki = spki_der(cert)
        spki256, spki512 = hashlib.sha256(spki).hexdigest(), hashlib.sha512(spki).hexdigest()
    except (ValueError, TypeError):
        spki256 = spki512 = ""
    oid = cert.signature_algorithm_oid.dotted_string
    return CertInfo(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        san=san,
        not_before=cert.not_valid_before_utc.isoformat(),
        not_after=cert.not_valid_after_utc.isoformat(),
        serial=format(cert.serial_number, "X"),
        fingerprint_sha256=hashlib.sha256(der).hexdigest(),
        public_key=description,
        signature_algorithm=_SIG_NAMES.get(oid, cert.signature_algorithm_oid._name or oid),
        key_type=key_type,
        key_bits=bits,
        spki_sha256=spki256,
        spki_sha512=spki512,
        pem=_pem(der),
    )


def cert_info_from_der(der: bytes) -> CertInfo:
    """Describe a DER certificate; unreadable input gives ``parse_error`` instead of raising."""
    import hashlib

    try:
        return _read(der)
    except (ValueError, TypeError) as exc:
        return CertInfo(
            subject="",
            issuer="",
            san=(),
            not_before="",
            not_after="",
            serial="",
            fingerprint_sha256=hashlib.sha256(der).hexdigest(),
            parse_error=f"cannot read certificate: {exc}",
        )
