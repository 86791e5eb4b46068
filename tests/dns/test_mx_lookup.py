"""lookup_mx with an injected table resolver: order, implicit MX, Null MX, failures."""

from __future__ import annotations

from smtpscope.mx import MXRecord, StaticResolver, lookup_mx


def mx(pref: int, host: str) -> MXRecord:
    return MXRecord(pref, host)


def test_hosts_sorted_by_preference_then_name_with_addresses() -> None:
    res = StaticResolver(
        {
            ("example.test", "MX"): [
                mx(20, "b.example.test"),
                mx(10, "z.example.test"),
                mx(20, "a.example.test"),
            ],
            ("z.example.test", "A"): ["192.0.2.10", "192.0.2.2"],
            ("z.example.test", "AAAA"): ["2001:db8::10"],
            ("a.example.test", "A"): ["192.0.2.1"],
            ("b.example.test", "AAAA"): ["2001:db8::b"],
        }
    )
    result = lookup_mx("example.test.", res)
    assert result.status == "ok"
    assert result.domain == "example.test"
    assert [(h.preference, h.host) for h in result.hosts] == [
        (10, "z.example.test"),
        (20, "a.example.test"),
        (20, "b.example.test"),
    ]
    # IPv6 first, then IPv4, each numerically sorted (192.0.2.2 before 192.0.2.10).
    assert result.hosts[0].addresses == ("2001:db8::10", "192.0.2.2", "192.0.2.10")
    assert result.routable
    assert "z.example.test (10), then a.example.test, b.example.test (20, " in result.explanation


def test_implicit_mx_when_no_mx_records() -> None:
    res = StaticResolver({("implicit.test", "A"): ["192.0.2.5"]})
    result = lookup_mx("implicit.test", res)
    assert result.status == "implicit"
    assert len(result.hosts) == 1
    host = result.hosts[0]
    assert (host.host, host.preference, host.implicit, host.addresses) == (
        "implicit.test",
        0,
        True,
        ("192.0.2.5",),
    )
    assert "RFC 5321 §5.1" in result.explanation
    assert result.routable


def test_no_mx_and_no_address_means_no_mail() -> None:
    res = StaticResolver({("nomail.test", "TXT"): [(b"hello",)]})
    result = lookup_mx("nomail.test", res)
    assert result.status == "no-mail"
    assert not result.routable and not result.lookup_failed
    assert "cannot receive mail" in result.explanation


def test_null_mx_detected_and_explained() -> None:
    res = StaticResolver({("nullmx.test", "MX"): [mx(0, ".")], ("nullmx.test", "A"): ["192.0.2.1"]})
    result = lookup_mx("nullmx.test", res)
    assert result.status == "null"
    assert result.hosts == ()
    assert not result.routable
    assert "RFC 7505" in result.explanation
    assert "556 5.1.10" in result.explanation and "550 5.7.27" in result.explanation
    assert result.warnings == ()


def test_null_mx_with_nonzero_preference_warns() -> None:
    result = lookup_mx("n.test", StaticResolver({("n.test", "MX"): [mx(10, ".")]}))
    assert result.status == "null"
    assert any("preference 0" in w for w in result.warnings)


def test_null_mx_mixed_with_real_mx_is_flagged_and_ignored() -> None:
    res = StaticResolver(
        {("m.test", "MX"): [mx(0, "."), mx(10, "mx.m.test")], ("mx.m.test", "A"): ["192.0.2.3"]}
    )
    result = lookup_mx("m.test", res)
    assert result.status == "ok"
    assert [h.host for h in result.hosts] == ["mx.m.test"]
    assert any("RFC 7505 §3" in w for w in result.warnings)


def test_nxdomain_explained() -> None:
    result = lookup_mx("nosuch.test", StaticResolver())
    assert result.status == "nxdomain"
    assert result.lookup_failed and not result.routable
    assert "does not exist (NXDOMAIN)" in result.explanation


def test_servfail_and_timeout_explained() -> None:
    servfail = lookup_mx("sf.test", StaticResolver(failures={("sf.test", "MX"): "servfail"}))
    assert servfail.status == "servfail" and servfail.lookup_failed
    assert "could not answer" in servfail.explanation and "--resolver" in servfail.explanation
    timeout = lookup_mx("to.test", StaticResolver(failures={("to.test", "*"): "timeout"}))
    assert timeout.status == "timeout"
    assert "timeout" in timeout.explanation


def test_refused_is_its_own_failure_with_its_own_remedy() -> None:
    refused = lookup_mx("r.test", StaticResolver(failures={("r.test", "MX"): "refused"}))
    assert refused.status == "refused" and refused.lookup_failed and not refused.routable
    assert "refused" in refused.explanation and "--resolver" in refused.explanation
    assert "DNSSEC" not in refused.explanation  # not the SERVFAIL story


def test_mx_host_without_address_is_reported() -> None:
    res = StaticResolver(
        {
            ("d.test", "MX"): [mx(10, "gone.d.test"), mx(20, "up.d.test")],
            ("up.d.test", "A"): ["192.0.2.9"],
        }
    )
    result = lookup_mx("d.test", res)
    assert result.hosts[0].addresses == ()
    assert "does not exist" in (result.hosts[0].address_error or "")
    assert any("gone.d.test" in w for w in result.warnings)
    assert result.routable  # the second one still has an address


def test_no_mx_host_has_an_address() -> None:
    res = StaticResolver({("d.test", "MX"): [mx(10, "gone.d.test")]})
    result = lookup_mx("d.test", res)
    assert result.status == "ok" and not result.routable
    assert "cannot be delivered" in result.explanation


def test_address_lookup_failure_is_not_called_missing() -> None:
    res = StaticResolver(
        {("d.test", "MX"): [mx(10, "flaky.d.test")]},
        failures={("flaky.d.test", "A"): "servfail"},
    )
    result = lookup_mx("d.test", res)
    assert "could not answer" in (result.hosts[0].address_error or "")


def test_ad_bit_is_carried() -> None:
    res = StaticResolver(
        {("s.test", "MX"): [mx(1, "mx.s.test")], ("mx.s.test", "A"): ["192.0.2.1"]},
        authenticated=frozenset({"s.test"}),
    )
    assert lookup_mx("s.test", res).authenticated is True
    assert lookup_mx("s.test", StaticResolver(dict(res.records))).authenticated is False


def test_to_json_is_plain_data() -> None:
    res = StaticResolver(
        {("j.test", "MX"): [mx(5, "mx.j.test")], ("mx.j.test", "A"): ["192.0.2.7"]}
    )
    data = lookup_mx("j.test", res).to_json()
    assert data["status"] == "ok"
    assert data["routable"] is True
    assert data["hosts"] == [
        {
            "preference": 5,
            "host": "mx.j.test",
            "addresses": ["192.0.2.7"],
            "implicit": False,
            "address_error": None,
            "canonical": None,
        }
    ]


def test_equal_preference_is_said_to_be_tried_in_random_order() -> None:
    res = StaticResolver({
        ("eq.test", "MX"): [mx(10, "b.eq.test"), mx(10, "a.eq.test"), mx(20, "c.eq.test")],
        **{(f"{n}.eq.test", "A"): ["192.0.2.1"] for n in "abc"},
    })
    text = lookup_mx("eq.test", res).explanation
    # RFC 5321 §5.1: a sender shuffles hosts of equal preference, so no fixed order is claimed.
    assert "try in order: a.eq.test, b.eq.test (10, in random order), then c.eq.test (20)" in text


def test_mx_naming_an_alias_is_followed_and_flagged() -> None:
    res = StaticResolver({
        ("c.test", "MX"): [mx(10, "alias.c.test")],
        ("alias.c.test", "CNAME"): ["real.c.test"],
        ("real.c.test", "A"): ["192.0.2.4"],
    })
    result = lookup_mx("c.test", res)
    (host,) = result.hosts
    assert (host.host, host.canonical, host.addresses) == ("alias.c.test", "real.c.test",
                                                           ("192.0.2.4",))
    assert result.routable  # MTAs follow the alias, so mail does flow
    (warning,) = result.warnings
    assert "CNAME to real.c.test" in warning and "RFC 2181 §10.3" in warning


def test_mx_naming_an_ip_address_is_not_looked_up_or_routed() -> None:
    res = StaticResolver({("ip.test", "MX"): [mx(10, "192.0.2.8"), mx(20, "[2001:db8::8]")]})
    result = lookup_mx("ip.test", res)
    assert res.queries == [("ip.test", "MX")]  # "192.0.2.8" is no host name to resolve
    assert [h.addresses for h in result.hosts] == [(), ()]
    assert not result.routable
    for host, warning in zip(result.hosts, result.warnings, strict=True):
        assert "is an IP address, but an MX must name a host" in (host.address_error or "")
        assert "allow_mx_to_ip" in warning
