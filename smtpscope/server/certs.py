"""The server certificate: a self-signed one made on first use and kept, or the user's own."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from smtpscope.config import data_dir
from smtpscope.paths import input_problem

CERT_DIRNAME = "server-cert"
# Names the certificate is valid for: the server only listens on loopback by default.
SUBJECT_NAMES = ("localhost", "127.0.0.1", "::1")
VALID_DAYS = 825  # the longest validity clients such as Apple's still accept
RENEW_BEFORE_SECONDS = 7 * 24 * 3600


class CertificateError(Exception):
    """No certificate could be made or loaded; the message says what to do."""


@dataclass(frozen=True)
class CertPaths:
    """Certificate chain, private key, and the file a client should trust (its CA file)."""

    cert: Path
    key: Path
    cafile: Path
    generated: bool = False


def default_cert_dir() -> Path:
    """Where the generated certificate lives: ``<data dir>/server-cert``."""
    return data_dir() / CERT_DIRNAME


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "smtpscope debug server"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _alt_names() -> list[x509.GeneralName]:
    out: list[x509.GeneralName] = []
    for name in SUBJECT_NAMES:
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            out.append(x509.DNSName(name))
    return out


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _generate(cert: Path, key: Path, cafile: Path) -> None:
    """A private CA and a server certificate it signs, both with P-256 keys.

    The CA is kept beside the server certificate so clients can trust it (``cafile``); its key
    is thrown away, so nothing else can ever be signed with it.
    """
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("smtpscope debug server CA")
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(_alt_names()), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    _publish(key, _pem_key(leaf_key), 0o600)
    # The chain the server sends: its certificate, then the CA (a client may pin either).
    _publish(
        cert,
        leaf.public_bytes(serialization.Encoding.PEM)
        + ca_cert.public_bytes(serialization.Encoding.PEM),
        0o644,
    )
    _publish(cafile, ca_cert.public_bytes(serialization.Encoding.PEM), 0o644)


def _publish(path: Path, data: bytes, mode: int) -> None:
    """Write ``path`` whole or not at all: a process reading it never sees half a PEM."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    # The key must never be readable by others, not even for the moment before a chmod.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode & 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


@contextlib.contextmanager
def _generation_lock(directory: Path) -> Iterator[None]:
    """One process at a time checks and makes the certificate (two ``demo`` or ``serve``
    started together would otherwise each write a key, and mix one's key with the other's
    certificate). Where ``fcntl`` is missing (Windows) the files are still written whole."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _still_valid(cert: Path) -> bool:
    try:
        first = x509.load_pem_x509_certificate(cert.read_bytes())
    except (OSError, ValueError):
        return False
    return first.not_valid_after_utc - datetime.now(UTC) > timedelta(
        seconds=RENEW_BEFORE_SECONDS
    )


def ensure_certificate(directory: Path | None = None) -> CertPaths:
    """Return the kept certificate, making one first if it is missing or about to expire.

    Made with the ``cryptography`` package: a private CA (``ca.pem``, what clients trust) and a
    server certificate for localhost, 127.0.0.1 and ::1 signed by it.
    """
    directory = directory or default_cert_dir()
    cert, key, cafile = directory / "cert.pem", directory / "key.pem", directory / "ca.pem"
    if _usable(cert, key, cafile):
        return CertPaths(cert, key, cafile)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with _generation_lock(directory):
            if _usable(cert, key, cafile):  # another process made it while we waited
                return CertPaths(cert, key, cafile)
            _generate(cert, key, cafile)
    except (OSError, ValueError) as exc:
        raise CertificateError(f"cannot make a certificate in {directory}: {exc}") from exc
    return CertPaths(cert, key, cafile, generated=True)


def _usable(cert: Path, key: Path, cafile: Path) -> bool:
    return cert.exists() and key.exists() and cafile.exists() and _still_valid(cert)


def user_certificate(cert: Path, key: Path) -> CertPaths:
    """The user's own certificate (``--cert/--key``); clients trust the certificate file."""
    for label, path in (("--cert", cert), ("--key", key)):
        problem = input_problem(path)
        if problem is not None:
            raise CertificateError(f"{label} {path}: {problem}")
    _check_pair(cert, key)
    return CertPaths(cert, key, cert)


def _check_pair(cert: Path, key: Path) -> None:
    """Say which file is wrong, in words, before OpenSSL answers "PEM lib" for all of them."""
    try:
        chain = x509.load_pem_x509_certificates(cert.read_bytes())
    except ValueError:
        raise CertificateError(f"--cert {cert}: no PEM certificate in it") from None
    except OSError as exc:
        raise CertificateError(f"--cert {cert}: cannot be read: {exc.strerror}") from exc
    try:
        private = serialization.load_pem_private_key(key.read_bytes(), password=None)
    except TypeError:
        raise CertificateError(
            f"--key {key}: the key is encrypted; give it without a passphrase"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise CertificateError(f"--key {key}: no PEM private key in it") from None
    except OSError as exc:
        raise CertificateError(f"--key {key}: cannot be read: {exc.strerror}") from exc
    spki = serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    if chain[0].public_key().public_bytes(*spki) != private.public_key().public_bytes(*spki):
        raise CertificateError(
            f"--key {key} does not belong to --cert {cert} (the first certificate in it "
            "is for another key)"
        )


def server_context(paths: CertPaths) -> ssl.SSLContext:
    """A TLS server context for ``paths``; clients are not asked for certificates."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(str(paths.cert), str(paths.key))
    except (OSError, ssl.SSLError) as exc:
        raise CertificateError(
            f"cannot load certificate {paths.cert} with key {paths.key}: {exc}"
        ) from exc
    return context
