"""The resolver seam: --resolver parsing and the dnspython adapter's mapping of answers/errors."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from smtpscope.mx import (
    CachingResolver,
    DnsPythonResolver,
    MXRecord,
    ResolverAddressError,
    StaticResolver,
    TLSARecord,
    as_resolver,
    parse_resolver_address,
    resolver_for,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1", ("127.0.0.1", 53)),
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("::1", ("::1", 53)),
        ("[::1]", ("::1", 53)),
        ("[::1]:5353", ("::1", 5353)),
        ("2001:db8::53", ("2001:db8::53", 53)),
    ],
)
def test_parse_resolver_address(text: str, expected: tuple[str, int]) -> None:
    assert parse_resolver_address(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("dns.google", "is not an IP address"),
        ("127.0.0.1:", "missing port"),
        ("127.0.0.1:0", "bad port"),
        ("127.0.0.1:99999", "bad port"),
        ("127.0.0.1:x", "bad port"),
        ("[::1", "unbalanced brackets"),
        ("[::1]x", "unexpected"),
        ("[::1]:", "missing port"),
        ("", "is not an IP address"),
    ],
)
def test_bad_resolver_address(text: str, message: str) -> None:
    with pytest.raises(ResolverAddressError, match=message):
        parse_resolver_address(text)
    with pytest.raises(ResolverAddressError):
        resolver_for(text)


def test_resolver_for_sets_address_port_and_dnssec_flags() -> None:
    import dns.flags

    res = resolver_for("[::1]:5353", timeout=1.5)
    inner = res._resolver
    assert inner.nameservers == ["::1"] and inner.port == 5353
    assert inner.lifetime == 1.5
    assert inner.flags & dns.flags.AD
    assert inner.ednsflags & dns.flags.DO
    assert res.description == "[::1]:5353"


def test_a_run_timeout_bounds_each_lookup() -> None:
    from smtpscope.dns.resolver import DEFAULT_TIMEOUT, lookup_timeout

    assert lookup_timeout(None) == DEFAULT_TIMEOUT  # no --timeout: the resolver default
    assert lookup_timeout(0.5) == 0.5  # never longer than --timeout
    assert lookup_timeout(60.0) == DEFAULT_TIMEOUT  # a reply's limit is no lookup's


class FakeDnspython:
    """Stands in for dns.resolver.Resolver: returns a canned rrset or raises."""

    def __init__(self, outcome: Any, ad: bool = False) -> None:
        self.outcome = outcome
        self.ad = ad

    def resolve(self, name: Any, rdtype: str, **kwargs: Any) -> Any:
        import dns.flags
        import dns.name

        if isinstance(self.outcome, BaseException):
            raise self.outcome
        flags = dns.flags.QR | (dns.flags.AD if self.ad else 0)
        qname = name if isinstance(name, dns.name.Name) else dns.name.from_text(name)
        return SimpleNamespace(rrset=self.outcome, response=SimpleNamespace(flags=flags),
                               qname=qname, canonical_name=qname)


def rrset(name: str, rdtype: str, *texts: str) -> Any:
    import dns.rrset

    return dns.rrset.from_text(name, 300, "IN", rdtype, *texts)


@pytest.mark.parametrize(
    ("rdtype", "texts", "records"),
    [
        ("MX", ["10 mx1.d.test.", "0 ."], (MXRecord(10, "mx1.d.test"), MXRecord(0, "."))),
        ("TXT", ['"v=spf1 " "-all"'], ((b"v=spf1 ", b"-all"),)),
        ("A", ["192.0.2.1"], ("192.0.2.1",)),
        ("AAAA", ["2001:db8::1"], ("2001:db8::1",)),
        ("PTR", ["mx.d.test."], ("mx.d.test",)),
        ("TLSA", ["3 1 1 " + "ab" * 32], (TLSARecord(3, 1, 1, b"\xab" * 32),)),
    ],
)
def test_dnspython_records_converted(rdtype: str, texts: list[str], records: tuple[Any]) -> None:
    res = DnsPythonResolver(resolver=FakeDnspython(rrset("d.test.", rdtype, *texts), ad=True))
    answer = res.lookup("d.test", rdtype)
    assert answer.status == "ok"
    assert sorted(answer.records, key=repr) == sorted(records, key=repr)
    assert answer.authenticated


def test_dnspython_nodata() -> None:
    answer = DnsPythonResolver(resolver=FakeDnspython(None)).lookup("d.test", "MX")
    assert (answer.status, answer.records, answer.authenticated) == ("nodata", (), False)


def test_dnspython_errors_mapped() -> None:
    import dns.message
    import dns.resolver

    cases = {
        "nxdomain": dns.resolver.NXDOMAIN(qnames=[dns.name.from_text("x.test")], responses={}),
        "timeout": dns.resolver.LifetimeTimeout(timeout=1.0, errors=[]),
        "servfail": dns.resolver.NoNameservers(
            request=dns.message.make_query("x.test", "MX"),
            errors=[("Do53:127.0.0.1@53", False, 53, "SERVFAIL", None)],
        ),
        "error": dns.resolver.NoResolverConfiguration("no nameservers"),
    }
    for status, exc in cases.items():
        answer = DnsPythonResolver(resolver=FakeDnspython(exc)).lookup("x.test", "MX")
        assert answer.status == status, status
    servfail = DnsPythonResolver(resolver=FakeDnspython(cases["servfail"])).lookup("x.test", "MX")
    assert servfail.error == "Do53:127.0.0.1@53 answered SERVFAIL"


def test_as_resolver_wraps_dnspython_and_keeps_ours() -> None:
    import dns.resolver

    ours = StaticResolver()
    assert as_resolver(ours) is ours
    wrapped = as_resolver(dns.resolver.Resolver(configure=False))
    assert isinstance(wrapped, DnsPythonResolver)
    with pytest.raises(TypeError):
        as_resolver(42)


def test_caching_resolver_asks_once() -> None:
    inner = StaticResolver({("a.test", "A"): ["192.0.2.1"]})
    cache = CachingResolver(inner)
    assert cache.lookup("a.test", "A") == cache.lookup("A.TEST.", "a")
    assert inner.queries == [("a.test", "A")]


ALIAS_ZONE = """\
$ORIGIN d.test.
@ 60 SOA ns hostmaster 1 60 60 60 60
@ 60 MX 10 alias.d.test.
alias 60 CNAME real.d.test.
real 60 A 192.0.2.4
big 60 TXT "v=spf1 ip4:192.0.2.0/24 " "-all"
""" + "".join(f'big 60 TXT "{n:03d}{"x" * 250}"\n' for n in range(8))


def test_an_alias_on_the_wire_is_reported_with_its_target() -> None:
    from tests.dns.responder import Zone, serve

    with serve(Zone(ALIAS_ZONE)) as address:
        res = resolver_for(address, timeout=3)
        answer = res.lookup("alias.d.test", "A")
        nodata = res.lookup("alias.d.test", "AAAA")
        direct = res.lookup("real.d.test", "A")
    assert (answer.status, answer.records, answer.canonical) == ("ok", ("192.0.2.4",),
                                                                 "real.d.test")
    assert (nodata.status, nodata.canonical) == ("nodata", "real.d.test")
    assert direct.canonical is None


def test_a_truncated_udp_answer_is_asked_again_over_tcp() -> None:
    from tests.dns.responder import Zone, serve

    zone = Zone(ALIAS_ZONE, udp_limit=512)
    with serve(zone) as address:
        answer = resolver_for(address, timeout=3).lookup("big.d.test", "TXT")
    assert zone.tcp_queries == 1
    assert answer.status == "ok" and len(answer.records) == 9
    assert (b"v=spf1 ip4:192.0.2.0/24 ", b"-all") in answer.records


def test_a_refused_query_is_refused_not_servfail() -> None:
    from tests.dns.responder import Zone, serve

    with serve(Zone(ALIAS_ZONE)) as address:
        res = resolver_for(address, timeout=3)
        refused = res.lookup("elsewhere.test", "MX")  # outside the zone it serves
        served = res.lookup("real.d.test", "A")
    assert (refused.status, served.status) == ("refused", "ok")
    assert refused.error is not None and "REFUSED" in refused.error


def test_refused_only_when_every_server_refused() -> None:
    import dns.message
    import dns.rcode
    import dns.resolver

    def failure(*rcodes: int) -> Any:
        query = dns.message.make_query("x.test", "MX")
        errors = []
        for rcode in rcodes:
            response = dns.message.make_response(query)
            response.set_rcode(rcode)
            errors.append(("Do53:127.0.0.1@53", False, 53, dns.rcode.to_text(rcode), response))
        errors.append(("Do53:127.0.0.2@53", False, 53, OSError("unreachable"), None))
        return dns.resolver.NoNameservers(request=query, errors=errors)

    def status(exc: Any) -> str:
        return DnsPythonResolver(resolver=FakeDnspython(exc)).lookup("x.test", "MX").status

    assert status(failure(dns.rcode.REFUSED)) == "refused"
    assert status(failure(dns.rcode.REFUSED, dns.rcode.SERVFAIL)) == "servfail"
    assert status(failure()) == "servfail"  # no server answered at all


HOSTILE_NAMES_ZONE = r"""$ORIGIN d.test.
@ 60 SOA ns hostmaster 1 60 60 60 60
@ 60 MX 10 a\027[2Jb.d.test.
@ 60 MX 20 x\\y.d.test.
@ 60 MX 30 \195\169.d.test.
a\027[2Jb 60 A 192.0.2.1
x\\y 60 A 192.0.2.2
\195\169 60 A 192.0.2.3
"""


def test_names_are_text_without_dns_escapes_and_look_up_as_they_were() -> None:
    from smtpscope.mx import lookup_mx
    from tests.dns.responder import Zone, serve

    with serve(Zone(HOSTILE_NAMES_ZONE)) as address:
        result = lookup_mx("d.test", resolver_for(address, timeout=3))
    hosts = [(h.host, h.addresses) for h in result.hosts]
    # An ESC, one backslash, and an octet above 127 kept as shown_text keeps an undecodable
    # byte; each name, given back, asks for the same octets (its address is found).
    assert hosts == [("a\x1b[2Jb.d.test", ("192.0.2.1",)), ("x\\y.d.test", ("192.0.2.2",)),
                     ("\udcc3\udca9.d.test", ("192.0.2.3",))]


def test_query_name_reads_what_name_text_writes() -> None:
    import dns.name

    from smtpscope.dns.resolver import name_text, query_name

    wire = dns.name.Name([b"a\x1b.b", b"x\\y", b"\xc3\xa9", b""])
    assert name_text(wire) == "a\x1b.b.x\\y.\udcc3\udca9"  # the dot in a label is lost
    same = dns.name.Name([b"a\x1b", b"x\\y", b"\xc3\xa9", b""])
    assert query_name(name_text(same)) == same
    assert query_name("bücher.test") == dns.name.from_text("xn--bcher-kva.test")  # an IDN
    assert name_text(dns.name.root) == "." and query_name(".") == dns.name.root


def test_static_resolver_follows_an_alias() -> None:
    res = StaticResolver({("a.test", "CNAME"): ["b.test"], ("b.test", "A"): ["192.0.2.1"]})
    assert res.lookup("a.test", "A").canonical == "b.test"
    assert res.lookup("a.test", "AAAA").status == "nodata"
    assert res.lookup("a.test", "CNAME").records == ("b.test",)
    assert res.lookup("b.test", "A").canonical is None


def test_static_resolver_semantics() -> None:
    res = StaticResolver({("a.test", "A"): ["192.0.2.1"]}, failures={("b.test", "*"): "servfail"})
    assert res.lookup("a.test", "AAAA").status == "nodata"
    assert res.lookup("c.test", "A").status == "nxdomain"
    assert res.lookup("b.test", "MX").status == "servfail"


def test_an_idn_is_asked_for_by_its_idna_2008_a_label() -> None:
    # dnspython's default codec is IDNA 2003, which would ask for strasse.d.test.
    from tests.dns.responder import Zone, serve

    zone = ALIAS_ZONE + "xn--strae-oqa 60 A 192.0.2.5\nstrasse 60 A 192.0.2.6\n"
    with serve(Zone(zone)) as address:
        answer = resolver_for(address, timeout=3).lookup("straße.d.test", "A")
    assert (answer.status, answer.records) == ("ok", ("192.0.2.5",))
