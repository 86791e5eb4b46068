"""Against the loopback NSD serving tests/peers/zones (start: python3 tests/peers/dns.py start)."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import pytest

from smtpscope.mx import (
    check_reverse,
    lookup_dmarc,
    lookup_mx,
    lookup_spf,
    lookup_tlsa,
    mail_dns_report,
    resolver_for,
    route,
)
from smtpscope.session import Session, SessionOptions
from smtpscope.targets import parse_target

pytestmark = pytest.mark.dns

MX1_TLSA = "119030b14c2df80d475e68fbf71ad268ad48539fce543fc842f479b17ae97d27"


@pytest.fixture
def res(dns_server: Any) -> Any:
    return dns_server.resolver()


def test_mx_by_preference_with_addresses(res: Any) -> None:
    result = lookup_mx("example.test", res)
    assert result.status == "ok"
    assert [(h.preference, h.host, h.addresses) for h in result.hosts] == [
        (10, "mx1.example.test", ("::1", "127.0.0.1")),
        (20, "mx2.example.test", ("127.0.0.2",)),
    ]
    assert result.authenticated is False  # NSD is authoritative only: it never sets AD


def test_null_mx(res: Any) -> None:
    result = lookup_mx("nullmx.test", res)
    assert result.status == "null" and not result.routable
    assert "RFC 7505" in result.explanation


def test_implicit_mx(res: Any) -> None:
    result = lookup_mx("implicit.test", res)
    assert result.status == "implicit"
    assert result.hosts[0].addresses == ("127.0.0.1",)


def test_nxdomain_and_refused(res: Any) -> None:
    assert lookup_mx("nosuch.example.test", res).status == "nxdomain"
    refused = lookup_mx("not-served.invalid", res)  # NSD answers REFUSED outside its zones
    assert refused.status == "refused"
    assert "REFUSED" in refused.explanation and "DNSSEC" not in refused.explanation


def test_timeout_from_a_silent_resolver() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))  # bound but never answers
        port = sock.getsockname()[1]
        result = lookup_mx("example.test", resolver_for(f"127.0.0.1:{port}", timeout=0.5))
    assert result.status == "timeout"
    assert "timeout" in result.explanation


def test_mx_host_without_address(res: Any) -> None:
    result = lookup_mx("broken.test", res)
    assert result.status == "ok" and not result.routable
    assert "NXDOMAIN" in (result.hosts[0].address_error or "")
    assert lookup_mx("nomail.broken.test", res).status == "no-mail"


def test_split_spf_is_joined(res: Any) -> None:
    spf = lookup_spf("example.test", res)
    assert spf.status == "ok"
    (record,) = spf.records
    assert len(record) > 255
    assert record.startswith("v=spf1 ip4:127.0.0.0/24 ip6:::1 ")
    assert record.endswith("ip4:127.0.15.0/24 -all")
    assert "ip4:127.0.7.0/24 ip4:127.0.8.0/24" in record  # no seam at the 255-byte boundary


def test_multiple_spf(res: Any) -> None:
    assert lookup_spf("multispf.test", res).status == "multiple"
    assert lookup_dmarc("multispf.test", res).status == "invalid"  # no p= tag


def test_fcrdns(res: Any) -> None:
    assert check_reverse("127.0.0.1", res).status == "pass"
    assert check_reverse("::1", res).confirmed == "mx1.example.test"
    failing = check_reverse("127.0.0.2", res)
    assert failing.status == "fail"
    assert failing.forward == (("other.example.test", ("127.0.0.22",)),)
    assert check_reverse("127.0.0.9", res).status == "no-ptr"


def test_tlsa(res: Any) -> None:
    tlsa = lookup_tlsa("mx1.example.test", res)
    assert tlsa.name == "_25._tcp.mx1.example.test"
    (info,) = tlsa.records
    assert (info.usage, info.selector, info.mtype, info.data) == (3, 1, 1, MX1_TLSA)
    assert "DANE-EE SPKI SHA2-256" in info.meaning
    assert not tlsa.authenticated and "not DNSSEC-validated" in tlsa.explanation


def test_control_characters_come_through_as_data(res: Any) -> None:
    spf = lookup_spf("hostile.test", res)
    assert spf.records == ("v=spf1 \x1b[2J\x1b]0;pwned\x07 -all",)


def test_full_report(res: Any) -> None:
    report = mail_dns_report("example.test", res)
    data = json.loads(json.dumps(report.to_json()))
    assert data["ok"] is True
    assert {p: data[p]["status"] for p in ("spf", "dmarc", "mta_sts", "tls_rpt")} == {
        "spf": "ok",
        "dmarc": "ok",
        "mta_sts": "ok",
        "tls_rpt": "ok",
    }
    assert data["dmarc"]["tags"] == [
        ["v", "DMARC1"],
        ["p", "reject"],
        ["sp", "quarantine"],
        ["rua", "mailto:dmarc@example.test"],
        ["adkim", "s"],
    ]
    assert data["mta_sts"]["details"]["policy URL"] == (
        "https://mta-sts.example.test/.well-known/mta-sts.txt"
    )
    assert data["tls_rpt"]["details"]["reports to"] == "mailto:tlsrpt@example.test"
    assert {r["address"]: r["status"] for r in data["reverse"]} == {
        "::1": "pass",
        "127.0.0.1": "pass",
        "127.0.0.2": "fail",
    }
    assert [t["host"] for t in data["tlsa"]] == ["mx1.example.test", "mx2.example.test"]
    assert data["dnssec"].startswith("not validated")


async def test_route_falls_back_to_the_mx_that_answers(res: Any) -> None:
    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 up.deadmx.test ESMTP\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        candidates = route(parse_target("postmaster@deadmx.test", port_override=port), res)
        assert [(c.host, c.address, c.port) for c in candidates] == [
            ("down.deadmx.test", "127.0.0.9", port),
            ("up.deadmx.test", "127.0.0.1", port),
        ]

        session = Session(SessionOptions(candidates[0].host, port, security="plain",
                                         route=tuple(candidates), connect_timeout=5))
        assert (await session.connect()).code == 220
        await session.close()
    finally:
        server.close()
        await server.wait_closed()
    attempts = session.attempts
    assert [a.candidate.host for a in attempts] == ["down.deadmx.test", "up.deadmx.test"]
    assert attempts[0].error is not None and "refused" in attempts[0].error
    assert attempts[1].ok
