"""make_tls_context policy and the host name helpers."""

from __future__ import annotations

import ssl

import pytest

from smtpscope.transport import make_tls_context
from smtpscope.transport.tls import is_ip_literal, normalize_server_hostname, sni_argument


def test_default_context_verifies() -> None:
    context = make_tls_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


def test_insecure_context() -> None:
    context = make_tls_context(verify=False)
    assert context.verify_mode == ssl.CERT_NONE
    assert not context.check_hostname


def test_version_bounds() -> None:
    context = make_tls_context(maximum_version=ssl.TLSVersion.TLSv1_2)
    assert context.maximum_version == ssl.TLSVersion.TLSv1_2


def test_missing_cafile_raises_oserror(tmp_path) -> None:
    with pytest.raises(OSError):
        make_tls_context(cafile=str(tmp_path / "nope.pem"))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("mx.example.", "mx.example"),
        ("[::1]", "::1"),
        (" mx.example ", "mx.example"),
        ("", None),
        (None, None),
    ],
)
def test_normalize_server_hostname(given, expected) -> None:
    assert normalize_server_hostname(given) == expected


@pytest.mark.parametrize(
    ("host", "literal"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("[2001:db8::1]", True),
        ("fe80::1%eth0", True),
        ("mx.example", False),
        ("1.2.3", False),
    ],
)
def test_is_ip_literal(host: str, literal: bool) -> None:
    assert is_ip_literal(host) is literal


@pytest.mark.parametrize("host", ["mx.example.test", "localhost", "127.0.0.1", "::1",
                                  "MX.Example.TEST", "a-b.c_d.example"])
def test_sni_argument_is_what_the_idna_codec_gives(host: str) -> None:
    assert sni_argument(host) == host.encode("idna")


def test_sni_argument_spells_an_idn_with_its_idna_2008_a_labels() -> None:
    assert sni_argument("bücher.example") == b"xn--bcher-kva.example"
    assert sni_argument("straße.de") == b"xn--strae-oqa.de"  # the codec: strasse.de


@pytest.mark.parametrize("host", ["-ü.de", "a..b", "x" * 64 + ".example"])
def test_sni_argument_leaves_names_without_a_labels_to_ssl(host: str) -> None:
    assert sni_argument(host) == host


def test_sni_argument_none() -> None:
    assert sni_argument(None) is None
