"""Independent look-ups go out side by side (smtpscope.dns.parallel): a slow resolver costs
one wait for them, and the results, their order and the failure told are what asking one
after another gave."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

import pytest

from smtpscope.mx import DNSAnswer, MXRecord, StaticResolver, TLSARecord, lookup_mx, lookup_tlsa

DELAY = 0.4  # each look-up of the slow resolver; limits below leave room for a busy machine

MX_TABLE = {
    ("d.test", "MX"): [MXRecord(20, "mx2.d.test"), MXRecord(10, "mx1.d.test")],
    ("mx1.d.test", "A"): ["192.0.2.1"],
    ("mx1.d.test", "AAAA"): ["2001:db8::1"],
    ("mx2.d.test", "A"): ["192.0.2.2"],
    ("_25._tcp.mx1.d.test", "TLSA"): [TLSARecord(3, 1, 1, hashlib.sha256(b"k").digest())],
}


class Boom(Exception):
    pass


@dataclass
class SlowResolver:
    """A table resolver whose every answer takes ``delays`` (or DELAY) seconds; a query in
    ``explode`` raises instead of answering."""

    inner: StaticResolver
    delays: dict[tuple[str, str], float] = field(default_factory=dict)
    explode: frozenset[tuple[str, str]] = frozenset()

    def lookup(self, name: str, rdtype: str) -> DNSAnswer:
        time.sleep(self.delays.get((name, rdtype), DELAY))
        if (name, rdtype) in self.explode:
            raise Boom(f"{rdtype} of {name}")
        return self.inner.lookup(name, rdtype)


def _timed(call, *args):  # type: ignore[no-untyped-def]
    start = time.monotonic()
    result = call(*args)
    return result, time.monotonic() - start


def test_mx_host_addresses_are_asked_together_in_preference_order() -> None:
    # One after another: MX, then AAAA and A of each host, five waits. Now MX and one more.
    table = StaticResolver(MX_TABLE, failures={("mx2.d.test", "AAAA"): "timeout"})
    result, elapsed = _timed(lookup_mx, "d.test", SlowResolver(table))
    assert elapsed < 3.5 * DELAY
    assert result == lookup_mx("d.test", table)
    assert [h.host for h in result.hosts] == ["mx1.d.test", "mx2.d.test"]
    assert result.hosts[0].addresses == ("2001:db8::1", "192.0.2.1")
    assert result.hosts[1].addresses == ("192.0.2.2",)


def test_tlsa_is_asked_with_the_hosts_addresses() -> None:
    # A with no answer, AAAA (the alias check of RFC 7672 §2.2.2), TLSA: three waits, now one.
    table = StaticResolver(MX_TABLE, failures={("mx1.d.test", "A"): "timeout"},
                           authenticated=frozenset({"_25._tcp.mx1.d.test"}))
    report, elapsed = _timed(lookup_tlsa, "mx1.d.test", SlowResolver(table))
    assert elapsed < 2.5 * DELAY
    assert report == lookup_tlsa("mx1.d.test", table)
    assert report.status == "ok" and report.authenticated


def test_tlsa_of_a_validated_alias_does_not_wait_for_the_hosts_own() -> None:
    # The TLSA look-up at the MX name goes out early in case it is needed; when the alias's
    # own records answer, a silent server there is not waited for.
    records = {("mx.d.test", "CNAME"): ["host.e.test"], ("host.e.test", "A"): ["192.0.2.7"],
               ("_25._tcp.host.e.test", "TLSA"): [TLSARecord(3, 1, 1, b"\1" * 32)]}
    table = StaticResolver(records, authenticated=frozenset({"host.e.test",
                                                             "_25._tcp.host.e.test"}))
    slow = SlowResolver(table, delays={("_25._tcp.mx.d.test", "TLSA"): 30.0})
    report, elapsed = _timed(lookup_tlsa, "mx.d.test", slow)
    assert elapsed < 5 * DELAY
    assert (report.name, report.base) == ("_25._tcp.host.e.test", "host.e.test")


def test_an_error_in_one_lookup_is_raised_not_lost() -> None:
    slow = SlowResolver(StaticResolver(MX_TABLE), explode=frozenset({("mx2.d.test", "A")}))
    with pytest.raises(Boom, match=r"^A of mx2\.d\.test$"):
        lookup_mx("d.test", slow)


def test_side_by_side_keeps_the_order_and_raises_the_first_failure_by_position() -> None:
    from smtpscope.dns.parallel import side_by_side

    def after(seconds: float, value: object) -> object:
        time.sleep(seconds)
        if isinstance(value, Exception):
            raise value
        return value

    # Results in the order of the calls, whichever finished first.
    assert side_by_side([lambda: after(0.3, "a"), lambda: after(0, "b")]) == ["a", "b"]
    # Two fail: the earlier call's error is told, though the later one failed first, as when
    # they ran one after another.
    with pytest.raises(Boom, match="first"):
        side_by_side([lambda: after(0, "ok"), lambda: after(0.3, Boom("first")),
                      lambda: after(0, Boom("second"))])
    assert side_by_side([]) == []
