"""One spelling of internationalized names everywhere they leave smtpscope: IDNA 2008 A-labels."""

from __future__ import annotations

import socket

import pytest

from smtpscope.idn import to_ascii
from smtpscope.transport.addresses import resolver_name
from smtpscope.transport.errors import ConnectError
from smtpscope.transport.tls import sni_argument


@pytest.mark.parametrize(("name", "ascii_name"), [
    ("mx.example.test", "mx.example.test"),          # ASCII: unchanged, case and all
    ("bücher.example", "xn--bcher-kva.example"),
    ("straße.de", "xn--strae-oqa.de"),                # IDNA 2003 made it strasse.de
    ("Straße。DE.", "xn--strae-oqa.de."),              # mapped: case, ideographic full stop
    ("_25._tcp.mx.bücher.example", "_25._tcp.mx.xn--bcher-kva.example"),  # TLSA owner
    ("ελλάδα.example", "xn--hxakic4aa.example"),       # final sigma kept (2003: σ)
])
def test_names_get_their_idna_2008_a_labels(name: str, ascii_name: str) -> None:
    assert to_ascii(name) == ascii_name


@pytest.mark.parametrize("name", ["-ü.de", "ü" * 70 + ".example", "x\u200dy.de"])
def test_a_name_without_an_a_label_is_a_unicode_error(name: str) -> None:
    with pytest.raises(UnicodeError):
        to_ascii(name)


def test_sni_and_the_resolver_get_the_same_a_labels() -> None:
    assert sni_argument("straße.de") == b"xn--strae-oqa.de"
    assert sni_argument("mx.example.test") == b"mx.example.test"
    assert resolver_name("straße.de", 25) == "xn--strae-oqa.de"
    with pytest.raises(ConnectError) as caught:
        resolver_name("-ü.de", 25)
    assert caught.value.kind == "resolve" and "internationalized" in str(caught.value)


def test_the_system_resolver_is_asked_for_the_a_label(monkeypatch) -> None:
    # The socket module would encode a str name with IDNA 2003 (straße -> strasse).
    from smtpscope.transport.blocking import connect

    asked: list[str] = []

    def fake_getaddrinfo(host: str, *args: object, **kwargs: object) -> list[object]:
        asked.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    with pytest.raises(ConnectError):
        connect("straße.de", 25, timeout=1)
    assert asked == ["xn--strae-oqa.de"]
