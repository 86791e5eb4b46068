"""The server certificate: a self-signed one made on first use and kept, or the user's own."""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

from smtpscope.config import data_dir

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


def _san() -> str:
    parts = [
        f"IP:{name}" if name[0].isdigit() or ":" in name else f"DNS:{name}"
        for name in SUBJECT_NAMES
    ]
    return ",".join(parts)


def _openssl_valid(openssl: str, cert: Path) -> bool:
    result = subprocess.run(
        [openssl, "x509", "-checkend", str(RENEW_BEFORE_SECONDS), "-noout", "-in", str(cert)],
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


def _generate_openssl(openssl: str, cert: Path, key: Path) -> None:
    # A CA:TRUE self-signed certificate that is also a serverAuth leaf, so a client can use the
    # one file both as its trust anchor and to check the host name.
    cmd = [
        openssl, "req", "-x509", "-newkey", "rsa:2048", "-sha256", "-nodes",
        "-days", str(VALID_DAYS),
        "-keyout", str(key), "-out", str(cert),
        "-subj", "/O=smtpscope debug server/CN=localhost",
        "-addext", f"subjectAltName={_san()}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign",
        "-addext", "extendedKeyUsage=serverAuth",
    ]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "failed"
        raise CertificateError(f"openssl could not make a certificate: {detail}")


def _generate_trustme(directory: Path, cert: Path, key: Path) -> Path:
    import trustme

    ca = trustme.CA(organization_name="smtpscope debug server CA")
    leaf = ca.issue_cert(*SUBJECT_NAMES)
    leaf.private_key_pem.write_to_path(str(key))
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    cafile = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    return cafile


def ensure_certificate(directory: Path | None = None) -> CertPaths:
    """Return the kept certificate, making one first if it is missing or about to expire.

    Uses the ``openssl`` command when present, else the ``trustme`` package; neither is a
    dependency, so without both this raises CertificateError asking for ``--cert/--key``.
    """
    directory = directory or default_cert_dir()
    cert, key = directory / "cert.pem", directory / "key.pem"
    ca_from_trustme = directory / "ca.pem"
    openssl = shutil.which("openssl")
    if cert.exists() and key.exists():
        cafile = ca_from_trustme if ca_from_trustme.exists() else cert
        if openssl is None or _openssl_valid(openssl, cert):
            return CertPaths(cert, key, cafile)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in (cert, key, ca_from_trustme):
        stale.unlink(missing_ok=True)
    # The key must never be readable by others, not even for the moment before a chmod.
    old_umask = os.umask(0o077)
    try:
        if openssl is not None:
            _generate_openssl(openssl, cert, key)
            cafile = cert
        else:
            try:
                cafile = _generate_trustme(directory, cert, key)
            except ImportError:
                raise CertificateError(
                    "cannot make a certificate: neither the openssl command nor the trustme "
                    "package is available; pass --cert FILE --key FILE"
                ) from None
    finally:
        os.umask(old_umask)
    cert.chmod(0o644)  # public material; only the key stays private
    return CertPaths(cert, key, cafile, generated=True)


def user_certificate(cert: Path, key: Path) -> CertPaths:
    """The user's own certificate (``--cert/--key``); clients trust the certificate file."""
    for label, path in (("--cert", cert), ("--key", key)):
        if not path.is_file():
            raise CertificateError(f"{label} {path}: no such file")
    return CertPaths(cert, key, cert)


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
