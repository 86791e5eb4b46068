"""``mail_dns_report`` asks everything that hangs on the MX answer at once; its caching resolver
asks a question once however many threads want it; past ``MAX_THREADS`` a look-up runs in
the thread asking for it. Results are what asking one after another gave."""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import replace

from smtpscope.dns import parallel
from smtpscope.mx import (
    CachingResolver,
    DNSAnswer,
    MXRecord,
    StaticResolver,
    TLSARecord,
    lookup_mx,
    mail_dns_report,
)

from .test_parallel_lookups import DELAY, SlowResolver


def txt(text: str) -> tuple[bytes, ...]:
    return (text.encode(),)


ZONE = {
    ("d.test", "MX"): [MXRecord(10, "mx1.d.test"), MXRecord(20, "mx2.d.test")],
    ("mx1.d.test", "A"): ["192.0.2.1"],
    ("mx1.d.test", "AAAA"): ["2001:db8::1"],
    ("mx2.d.test", "A"): ["192.0.2.2"],
    ("1.2.0.192.in-addr.arpa", "PTR"): ["mx1.d.test"],
    ("2.2.0.192.in-addr.arpa", "PTR"): ["elsewhere.e.test"],
    ("elsewhere.e.test", "A"): ["192.0.2.99"],
    ("d.test", "TXT"): [txt("v=spf1 mx -all")],
    ("_dmarc.d.test", "TXT"): [txt("v=DMARC1; p=reject")],
    ("_mta-sts.d.test", "TXT"): [txt("v=STSv1; id=1")],
    ("_smtp._tls.d.test", "TXT"): [txt("v=TLSRPTv1; rua=mailto:t@d.test")],
    ("_25._tcp.mx1.d.test", "TLSA"): [TLSARecord(3, 1, 1, hashlib.sha256(b"k").digest())],
}


def _report_json(report):  # type: ignore[no-untyped-def]
    return replace(report, resolver="").to_json()


def test_everything_after_the_mx_answer_is_asked_together() -> None:
    # One after another this is MX, the hosts' addresses, PTR and forward look-ups of three
    # addresses (the IPv6 one has no PTR), two TLSA look-ups and four policy records: about
    # thirteen waits. Now: MX, addresses, then PTR and its forward look-up, four waits.
    table = StaticResolver(ZONE, authenticated=frozenset({"d.test", "_25._tcp.mx1.d.test"}))
    start = time.monotonic()
    report = mail_dns_report("d.test", SlowResolver(table))
    elapsed = time.monotonic() - start
    assert elapsed < 7 * DELAY
    assert _report_json(report) == _report_json(mail_dns_report("d.test", table))
    assert [r.address for r in report.reverse] == ["2001:db8::1", "192.0.2.1", "192.0.2.2"]
    assert [r.status for r in report.reverse] == ["no-ptr", "pass", "fail"]
    assert [t.host for t in report.tlsa] == ["mx1.d.test", "mx2.d.test"]
    assert [p.kind for p in report.policies()] == ["SPF", "DMARC", "MTA-STS", "TLS-RPT"]


def test_a_failed_mx_lookup_still_asks_nothing_more() -> None:
    table = StaticResolver(ZONE, failures={("d.test", "MX"): "timeout"})
    report = mail_dns_report("d.test", SlowResolver(table))
    assert not report.ok and report.policies() == ()
    assert table.queries == [("d.test", "MX")]


class CountingResolver:
    """Answers after ``delay``; counts the questions that reached it and raises for ``bad``."""

    def __init__(self, delay: float, bad: str = "") -> None:
        self.delay, self.bad = delay, bad
        self.asked: list[tuple[str, str]] = []

    def lookup(self, name: str, rdtype: str) -> DNSAnswer:
        self.asked.append((name, rdtype))
        time.sleep(self.delay)
        if name == self.bad:
            raise OSError(f"no answer for {name}")
        return DNSAnswer(name, rdtype, "ok", ("192.0.2.1",))


def test_caching_resolver_asks_a_question_once_for_threads_asking_together() -> None:
    inner = CountingResolver(0.2)
    res = CachingResolver(inner)
    answers: list[DNSAnswer] = []
    threads = [threading.Thread(target=lambda: answers.append(res.lookup("h.test", "A")))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert inner.asked == [("h.test", "A")]
    assert len(answers) == 8 and all(a is answers[0] for a in answers)


def test_caching_resolver_does_not_keep_a_lookup_that_raised() -> None:
    inner = CountingResolver(0.1, bad="h.test")
    res = CachingResolver(inner)
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            res.lookup("h.test", "A")
        except OSError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Each thread is told of the failure; a waiter that found no answer asked again itself.
    assert len(errors) == 3 and len(inner.asked) == 3


def test_past_the_thread_limit_lookups_run_in_the_asking_thread(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(parallel, "_slots", threading.BoundedSemaphore(2))
    hosts = [MXRecord(10 + n, f"mx{n}.d.test") for n in range(12)]
    zone = {("d.test", "MX"): hosts, **{(h.exchange, "A"): [f"192.0.2.{n}"]
                                        for n, h in enumerate(hosts)}}
    table = StaticResolver(zone)
    seen: set[int] = set()
    before = set(threading.enumerate())  # other tests' look-ups may still be running

    class Watching(StaticResolver):
        def lookup(self, name: str, rdtype: str) -> DNSAnswer:
            seen.add(sum(t.name == "smtpscope-lookup" for t in threading.enumerate()
                         if t not in before))
            time.sleep(0.05)  # long enough for uncapped threads to pile up
            return table.lookup(name, rdtype)

    result = lookup_mx("d.test", Watching())
    assert result == lookup_mx("d.test", table)
    assert [h.addresses for h in result.hosts] == [(f"192.0.2.{n}",) for n in range(12)]
    assert max(seen) <= 2


def test_off_thread_gives_the_result_or_the_error_and_never_holds_the_loop_at_exit() -> None:
    import asyncio

    import pytest

    from smtpscope.dns.parallel import off_thread

    class Boom(Exception):
        pass

    def fail() -> None:
        raise Boom("no answer")

    async def main() -> None:
        assert await off_thread(lambda: 42) == 42
        with pytest.raises(Boom, match="no answer"):
            await off_thread(fail)
        # A look-up nobody waits for any more (a timeout here, Ctrl-C in a run) ...
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(off_thread(lambda: time.sleep(3)), 0.1)

    start = time.monotonic()
    asyncio.run(main())
    # ... does not hold the loop's closing for its own 3 s, as asyncio.to_thread's would.
    assert time.monotonic() - start < 2.0
