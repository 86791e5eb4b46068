"""route(): candidates for each kind of target, MX order, fallback bookkeeping."""

from __future__ import annotations

import random

import pytest

from smtpscope.mx import (
    Candidate,
    MXRecord,
    RouteAttempt,
    RouteError,
    StaticResolver,
    route,
    summarize_attempts,
)
from smtpscope.targets import parse_target


def zone() -> StaticResolver:
    return StaticResolver(
        {
            ("d.test", "MX"): [MXRecord(20, "mx2.d.test"), MXRecord(10, "mx1.d.test")],
            ("mx1.d.test", "A"): ["192.0.2.1"],
            ("mx1.d.test", "AAAA"): ["2001:db8::1"],
            ("mx2.d.test", "A"): ["192.0.2.2"],
            ("eq.test", "MX"): [MXRecord(10, f"m{i}.eq.test") for i in range(6)],
            **{(f"m{i}.eq.test", "A"): [f"192.0.2.{10 + i}"] for i in range(6)},
            ("implicit.test", "A"): ["192.0.2.50"],
            ("null.test", "MX"): [MXRecord(0, ".")],
            ("host.d.test", "A"): ["192.0.2.77"],
        }
    )


def test_ip_literal_needs_no_dns() -> None:
    res = StaticResolver()
    assert route(parse_target("192.0.2.1:2525"), res) == [
        Candidate("192.0.2.1", "192.0.2.1", 2525, None, "direct")
    ]
    assert route(parse_target("[2001:db8::1]"), res)[0].address == "2001:db8::1"
    assert res.queries == []


def test_hostname_left_to_transport_without_resolver() -> None:
    assert route(parse_target("mail.example.com:26")) == [
        Candidate("mail.example.com", None, 26, None, "direct")
    ]


def test_hostname_resolved_by_given_resolver() -> None:
    candidates = route(parse_target("host.d.test"), zone())
    assert [(c.host, c.address) for c in candidates] == [("host.d.test", "192.0.2.77")]
    with pytest.raises(RouteError, match=r"cannot resolve nope\.d\.test"):
        route(parse_target("nope.d.test"), zone())


def test_mx_route_in_preference_order_with_port_override() -> None:
    candidates = route(parse_target("user@d.test", port_override=2525), zone(), shuffle=False)
    assert [(c.host, c.address, c.port, c.preference) for c in candidates] == [
        ("mx1.d.test", "2001:db8::1", 2525, 10),
        ("mx1.d.test", "192.0.2.1", 2525, 10),
        ("mx2.d.test", "192.0.2.2", 2525, 20),
    ]
    assert candidates[0].via == "MX 10 mx1.d.test for d.test"
    assert candidates[0].display == "mx1.d.test [2001:db8::1]:2525"


def test_prefer_ipv4() -> None:
    candidates = route(parse_target("@d.test"), zone(), shuffle=False, prefer="ipv4")
    assert [c.address for c in candidates][:2] == ["192.0.2.1", "2001:db8::1"]


def test_equal_preference_shuffled_only_when_asked() -> None:
    target = parse_target("@eq.test")
    fixed = [c.host for c in route(target, zone(), shuffle=False)]
    assert fixed == [f"m{i}.eq.test" for i in range(6)]
    orders = {
        tuple(c.host for c in route(target, zone(), rng=random.Random(seed))) for seed in range(20)
    }
    assert len(orders) > 1  # RFC 5321 §5.1: random among equal preference
    assert all(sorted(o) == fixed for o in orders)


def test_implicit_mx_route() -> None:
    (candidate,) = route(parse_target("@implicit.test"), zone())
    assert (candidate.host, candidate.address, candidate.preference) == (
        "implicit.test",
        "192.0.2.50",
        0,
    )
    assert "implicit MX" in candidate.via


def test_null_mx_and_nxdomain_raise_with_the_lookup() -> None:
    with pytest.raises(RouteError) as info:
        route(parse_target("a@null.test"), zone())
    assert info.value.mx is not None and info.value.mx.status == "null"
    assert "RFC 7505" in str(info.value)
    with pytest.raises(RouteError, match="NXDOMAIN"):
        route(parse_target("a@nosuch.test"), zone())


def test_no_route_says_why_each_mx_has_no_address() -> None:
    res = StaticResolver({("d.test", "MX"): [MXRecord(10, "192.0.2.9"),
                                             MXRecord(20, "gone.d.test")]})
    with pytest.raises(RouteError) as info:
        route(parse_target("@d.test"), res)
    message = str(info.value)
    assert "none of them has an address" in message
    assert "MX 10 192.0.2.9: 192.0.2.9 is an IP address" in message
    assert "MX 20 gone.d.test: gone.d.test does not exist (NXDOMAIN)" in message


def test_summary_names_the_one_used_and_why_the_others_failed() -> None:
    """The session records a RouteAttempt per candidate; the summary is its ConnectFailed text."""
    candidates = route(parse_target("@d.test"), zone(), shuffle=False)
    attempts = [RouteAttempt(candidates[0], "network is unreachable"),
                RouteAttempt(candidates[1], "connection refused"),
                RouteAttempt(candidates[2], None)]
    summary = summarize_attempts(attempts)
    assert summary.startswith("used mx2.d.test [192.0.2.2]:25 (MX 20 mx2.d.test for d.test)")
    assert "mx1.d.test [192.0.2.1]:25 (MX 10 mx1.d.test for d.test): connection refused" in summary
    assert summarize_attempts(attempts[:2]).startswith("no candidate answered: ")
