"""The server certificate: made once with cryptography, kept, verifiable by clients."""

from __future__ import annotations

import contextlib
import multiprocessing
import ssl
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from smtpscope.config import data_dir
from smtpscope.server import certs
from smtpscope.server.certs import (
    CertificateError,
    ensure_certificate,
    server_context,
    user_certificate,
)
from smtpscope.transport.x509 import cert_info_from_der


def _handshake_ok(paths: certs.CertPaths, name: str) -> None:
    """Verify the server certificate the way a client would, in memory."""
    server = server_context(paths)
    client = ssl.create_default_context(cafile=str(paths.cafile))
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    c = client.wrap_bio(c_in, c_out, server_hostname=name)
    s = server.wrap_bio(s_in, s_out, server_side=True)
    for _ in range(10):
        for obj in (c, s):
            with contextlib.suppress(ssl.SSLWantReadError):
                obj.do_handshake()
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if c.version() and s.version():
            break
    c.do_handshake()
    assert c.getpeercert()["subject"]


def test_generated_once_in_the_data_directory_and_kept() -> None:
    first = ensure_certificate()
    assert first.generated and first.cafile == first.cert.parent / "ca.pem" != first.cert
    assert first.cert.parent == data_dir() / "server-cert"
    assert stat.S_IMODE(first.key.stat().st_mode) == 0o600
    second = ensure_certificate()
    assert not second.generated and second.cert.read_bytes() == first.cert.read_bytes()
    for name in ("localhost", "127.0.0.1", "::1"):
        _handshake_ok(first, name)


def test_made_without_any_external_tool(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # No openssl command and no trustme: the cryptography package does it all.
    monkeypatch.setenv("PATH", "")
    monkeypatch.setitem(sys.modules, "trustme", None)  # makes "import trustme" fail
    paths = ensure_certificate(tmp_path)
    assert paths.generated
    _handshake_ok(paths, "localhost")
    pem = paths.cert.read_text()
    leaf = cert_info_from_der(ssl.PEM_cert_to_DER_cert(pem[: pem.index("-----END") + 25]))
    assert leaf.san == ("DNS:localhost", "IP Address:127.0.0.1", "IP Address:::1")
    assert leaf.issuer != leaf.subject and leaf.public_key == "EC secp256r1"


def test_expiring_certificate_is_replaced(tmp_path: Path) -> None:
    first = ensure_certificate(tmp_path)
    # A certificate inside the renewal window (here: a stand-in that is not even readable)
    first.cert.write_text("garbage")
    again = ensure_certificate(tmp_path)
    assert again.generated and again.cert.read_text().startswith("-----BEGIN CERTIFICATE")


def test_user_certificate_checks_files(tmp_path: Path) -> None:
    with pytest.raises(CertificateError, match=r"--cert .*: does not exist"):
        user_certificate(tmp_path / "c.pem", tmp_path / "k.pem")
    with pytest.raises(CertificateError, match=r"--cert .*: is a directory"):
        user_certificate(tmp_path, tmp_path / "k.pem")
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("not a certificate")
    with pytest.raises(CertificateError, match=r"--cert .*: no PEM certificate in it"):
        user_certificate(bogus, bogus)


def _make_in_parallel(directory: Path, barrier: Any) -> None:
    barrier.wait()
    server_context(ensure_certificate(directory))


def test_processes_started_together_share_one_certificate(tmp_path: Path) -> None:
    # Two `demo` (or `serve`) started at once on a first run both found no certificate; each
    # wrote its own key, CA and certificate over the other's, so one got a key that did not
    # match its certificate and the other served a chain the ca.pem on disk did not sign.
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(4)
    workers = [ctx.Process(target=_make_in_parallel, args=(tmp_path, barrier)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    paths = ensure_certificate(tmp_path)
    assert not paths.generated
    _handshake_ok(paths, "localhost")


def _pem_pair(tmp_path: Path, name: str) -> tuple[Path, Path]:
    made = ensure_certificate(tmp_path / name)
    return made.cert, made.key


def test_user_certificate_says_which_file_is_wrong(tmp_path: Path) -> None:
    cert, key = _pem_pair(tmp_path, "one")
    other_cert, other_key = _pem_pair(tmp_path, "two")
    with pytest.raises(CertificateError, match=r"--key .* does not belong to --cert"):
        user_certificate(cert, other_key)
    with pytest.raises(CertificateError, match=r"--key .*: no PEM private key in it"):
        user_certificate(cert, other_cert)
    with pytest.raises(CertificateError, match=r"--cert .*: no PEM certificate in it"):
        user_certificate(key, key)
    encrypted = tmp_path / "encrypted.pem"
    private = serialization.load_pem_private_key(key.read_bytes(), password=None)
    encrypted.write_bytes(private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    ))
    with pytest.raises(CertificateError, match=r"--key .*: the key is encrypted"):
        user_certificate(cert, encrypted)
    _handshake_ok(user_certificate(cert, key), "localhost")
