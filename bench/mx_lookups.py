"""Benchmark: the mail-DNS report (``smtpscope mx``) through a resolver some way off.

A loopback DNS server answers a two-MX domain (four addresses with PTRs, SPF, DMARC, MTA-STS,
TLS-RPT, TLSA) holding every answer back ``--delay`` seconds, as a resolver that far away
would. The report is built through dnspython as ``smtpscope mx`` builds it, and the baseline
is the same report with the resolver taking one question at a time (what asking one after
another costs). Also printed: the floor, the round trips that wait for each other times the
delay: MX, then the hosts' addresses, then everything else (the PTR names are the MX hosts, so
their forward look-ups are answered from the report's cache).

Run: ``python bench/mx_lookups.py [--delay S] [--runs R]``. Figures are medians of the runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # runnable from a checkout without installing the package

from smtpscope.mx import DNSAnswer, Resolver, mail_dns_report, resolver_for  # noqa: E402
from tests.dns.responder import Zone, serve  # noqa: E402

ZONE = """\
$ORIGIN .
d.test. 60 MX 10 mx1.d.test.
d.test. 60 MX 20 mx2.d.test.
d.test. 60 TXT "v=spf1 mx -all"
_dmarc.d.test. 60 TXT "v=DMARC1; p=reject; rua=mailto:dmarc@d.test"
_mta-sts.d.test. 60 TXT "v=STSv1; id=20261201"
_smtp._tls.d.test. 60 TXT "v=TLSRPTv1; rua=mailto:tls@d.test"
mx1.d.test. 60 A 192.0.2.1
mx1.d.test. 60 AAAA 2001:db8::1
mx2.d.test. 60 A 192.0.2.2
mx2.d.test. 60 AAAA 2001:db8::2
_25._tcp.mx1.d.test. 60 TLSA 3 1 1 """ + "ab" * 32 + """
1.2.0.192.in-addr.arpa. 60 PTR mx1.d.test.
2.2.0.192.in-addr.arpa. 60 PTR mx2.d.test.
1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. 60 PTR mx1.d.test.
2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. 60 PTR mx2.d.test.
"""
DEPENDENT_ROUND_TRIPS = 3


class OneAtATime:
    """``inner`` taking one question at a time; counts the questions."""

    def __init__(self, inner: Resolver, serial: bool) -> None:
        self.inner = inner
        self.serial = serial
        self.lock = threading.Lock()
        self.asked = 0

    def lookup(self, name: str, rdtype: str) -> DNSAnswer:
        self.asked += 1
        if not self.serial:
            return self.inner.lookup(name, rdtype)
        with self.lock:
            return self.inner.lookup(name, rdtype)


def timed_report(address: str, serial: bool) -> tuple[float, int, dict[str, object]]:
    resolver = OneAtATime(resolver_for(address, timeout=5.0), serial)
    start = time.perf_counter()
    report = mail_dns_report("d.test", resolver, description="bench")
    elapsed = time.perf_counter() - start
    return elapsed, resolver.asked, report.to_json()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.02,
                        help="seconds each answer is held back (0.02)")
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    times: dict[bool, list[float]] = {False: [], True: []}
    asked: dict[bool, int] = {}
    reports: dict[bool, dict[str, object]] = {}
    with serve(Zone(ZONE, delay=args.delay)) as address:
        timed_report(address, serial=False)  # warm-up, untimed: imports, first sockets
        for _ in range(args.runs):
            for serial in (False, True):
                elapsed, asked[serial], reports[serial] = timed_report(address, serial)
                times[serial].append(elapsed)
    assert reports[False] == reports[True], "the two ways gave different reports"
    ours, base = statistics.median(times[False]), statistics.median(times[True])
    floor = DEPENDENT_ROUND_TRIPS * args.delay
    print(f"mail-DNS report of d.test, answers held back {args.delay * 1000:.0f} ms; "
          f"median of {args.runs} runs")
    print(f"  side by side:     {ours * 1000:7.1f} ms  ({asked[False]} questions)  "
          f"{ours / base:.2f}x one at a time")
    print(f"  one at a time:    {base * 1000:7.1f} ms  ({asked[True]} questions)")
    print(f"  floor ({DEPENDENT_ROUND_TRIPS} dependent round trips): {floor * 1000:5.1f} ms  "
          f"side by side is {ours / floor:.2f}x the floor")


if __name__ == "__main__":
    main()
