"""The look-ups a probe makes before connecting (MX routing, addresses, TLSA) go out side by
side: a resolver that never answers costs about one --timeout, not one per look-up, and what an
answering one says reaches the report as it did when they went out one after another."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.dns.responder import Zone, serve

TIMEOUT = 2.0
# One --timeout for the look-ups, with room for a slow, busy machine: one after another they
# took three (A, AAAA, TLSA) or more.
ONE_TIMEOUT = 1.7 * TIMEOUT + 2.0


def _probe(cli: Any, *args: str) -> tuple[dict[str, Any], float]:
    start = time.monotonic()
    result = cli("probe", *args, "--timeout", str(TIMEOUT), "--json")
    elapsed = time.monotonic() - start
    return json.loads(result.out.splitlines()[0]), elapsed


def test_a_silent_resolver_costs_one_timeout_for_a_host_and_its_tlsa(
        cli, make_server, silent_resolver) -> None:
    server = make_server("starttls")
    data, elapsed = _probe(cli, f"localhost:{server.port}", "--resolver", silent_resolver,
                           "--dane", "--cafile", server.cafile)
    assert elapsed < ONE_TIMEOUT, data["timings"]
    # The report still says which look-up failed, and the probe went on at level may.
    assert data["status"] == "success"
    dane = data["tls"]["dane"]
    assert (dane["name"], dane["lookup"]) == (f"_{server.port}._tcp.localhost", "timeout")
    assert data["timings"]["lookups"] >= TIMEOUT * 1000 * 0.9


MX_ZONE = """\
$ORIGIN d.test.
@ 60 SOA ns hostmaster 1 60 60 60 60
@ 60 MX 10 mx1.d.test.
@ 60 MX 20 mx2.d.test.
mx1 60 AAAA ::1
mx1 60 A 127.0.0.1
mx2 60 A 127.0.0.1
"""


def test_a_silent_resolver_costs_one_timeout_for_every_mx_host_address(cli) -> None:
    # MX answered, then no address look-up of either host: four of them, one after another.
    with serve(Zone(MX_ZONE, silent=frozenset({"A", "AAAA"}))) as resolver:
        data, elapsed = _probe(cli, "@d.test", "--resolver", resolver)
    assert elapsed < ONE_TIMEOUT, data
    assert data["status"] == "no-route"
    error = data["error"]
    # Each host says what failed, in the order of preference; AAAA is asked first.
    first = error.index("MX 10 mx1.d.test: no answer for AAAA of mx1.d.test before the timeout")
    assert first < error.index("MX 20 mx2.d.test: no answer for AAAA of mx2.d.test")


def test_an_answering_resolver_gives_the_same_route_and_tlsa(cli, make_server) -> None:
    server = make_server("starttls")
    plain, _ = _probe(cli, server.target, "--cafile", server.cafile)
    spki = plain["tls"]["peer_chain"][0]["spki_sha256"].replace(":", "").lower()
    zone = MX_ZONE + f"_{server.port}._tcp.mx1 60 TLSA 3 1 1 {spki}\n"
    with serve(Zone(zone, authenticated=True)) as resolver:
        data, _ = _probe(cli, "@d.test", "--port", str(server.port), "--resolver", resolver,
                         "--cafile", server.cafile)
    assert data["status"] == "success", data
    route = data["route"]
    # Preference order, IPv6 first within a host: as the look-ups came back one by one.
    assert route["candidates"] == [f"mx1.d.test [::1]:{server.port}",
                                   f"mx1.d.test [127.0.0.1]:{server.port}",
                                   f"mx2.d.test [127.0.0.1]:{server.port}"]
    assert route["used"]["candidate"] in route["candidates"][:2]
    dane = data["tls"]["dane"]
    assert (dane["name"], dane["lookup"]) == (f"_{server.port}._tcp.mx1.d.test", "ok")
    assert dane["authenticated"] and dane["applies"] and dane["matched"]


def test_ctrl_c_during_the_lookups_of_several_targets_ends_at_once(silent_resolver) -> None:
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=str(root))
    proc = subprocess.Popen(
        [sys.executable, "-m", "smtpscope", "probe", "@a.test", "@b.test", "--resolver",
         silent_resolver, "--timeout", "20", "--json"],
        cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)  # started, and waiting on the resolver that never answers
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=30)
    # Not the rest of the 20 s look-ups: their threads are not waited for.
    assert time.monotonic() - sent < 2.0  # it took about 4 s when they were
    assert proc.returncode == 130 and "interrupted" in err
