"""Trust anchors: the system bundle read straight from its file, once, whoever asks first."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from cryptography.hazmat.primitives import serialization

from smtpscope.security import pkix


def _ders(certs: tuple[object, ...]) -> set[bytes]:
    return {c.public_bytes(serialization.Encoding.DER) for c in certs}  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    pkix._read_anchors.cache_clear()
    pkix._given.clear()
    yield
    pkix._read_anchors.cache_clear()
    pkix._given.clear()


def test_system_anchors_are_the_ones_an_ssl_context_loads() -> None:
    if not ssl.get_default_verify_paths().cafile:
        pytest.skip("no system CA file on this machine")
    listed = set(ssl.create_default_context().get_ca_certs(binary_form=True))
    assert listed and _ders(pkix.trust_anchors()) == listed


def test_ssl_cert_file_names_the_system_bundle(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    ca, other = trustme.CA(), trustme.CA()
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(ca.cert_pem.bytes() + other.cert_pem.bytes() + ca.cert_pem.bytes())
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    anchors = pkix.trust_anchors()
    # Both CAs, the repeated one once, in file order.
    assert [c.subject for c in anchors] == [
        pkix.x509.load_pem_x509_certificate(p.cert_pem.bytes()).subject for p in (ca, other)]


def test_unreadable_bundle_falls_back_to_the_ssl_context(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    ca = trustme.CA()
    bundle = tmp_path / "bundle.pem"
    junk = b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"
    bundle.write_bytes(ca.cert_pem.bytes() + junk)
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    assert pkix._system_bundle(str(bundle)) == ()  # the quick read declines the whole file...
    # ...and the anchors are what the SSL context loads (its directory when the file fails).
    listed = set(ssl.create_default_context().get_ca_certs(binary_form=True))
    capath = ssl.get_default_verify_paths().capath
    expected = listed or (_ders(tuple(pkix._load_dir(capath))) if capath else set())
    assert _ders(pkix.trust_anchors()) == expected


def test_without_a_system_ca_file_the_store_is_read_as_openssl_loads_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "absent.pem"))
    from smtpscope.security.anchor_source import anchor_source

    source = anchor_source(None, None)
    assert source.system and source.bundle is None  # the name only: the reader goes slow
    listed = set(ssl.create_default_context().get_ca_certs(binary_form=True))
    capath = ssl.get_default_verify_paths().capath
    expected = listed or (_ders(tuple(pkix._load_dir(capath))) if capath else set())
    assert _ders(pkix.trust_anchors()) == expected


def test_concurrent_callers_share_one_read(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(b"".join(trustme.CA().cert_pem.bytes() for _ in range(40)))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    got: list[tuple[object, ...]] = []
    threads = [threading.Thread(target=lambda: got.append(pkix.trust_anchors()))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got) == 4 and all(g is got[0] for g in got) and len(got[0]) == 40
    assert pkix._read_anchors.cache_info().misses == 1
