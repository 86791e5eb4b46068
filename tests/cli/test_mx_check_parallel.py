"""``mx --check-tls`` checks every MX host at once: servers that never greet cost one
``--timeout`` for them all, and the results still come in MX order."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest

from tests.cli.test_mx_cli import ROOT, smtpscope
from tests.dns.responder import Zone, serve

HOSTS = 4
TIMEOUT = 1.0


@contextmanager
def silent_servers(count: int) -> Iterator[int]:
    """Listeners on 127.0.0.2.. that accept and never send a banner, all on one port."""
    with ExitStack() as stack:
        first = stack.enter_context(socket.socket())
        first.bind(("127.0.0.2", 0))
        first.listen()
        port = first.getsockname()[1]
        for n in range(1, count):
            sock = stack.enter_context(socket.socket())
            sock.bind((f"127.0.0.{2 + n}", port))
            sock.listen()
        yield port


def test_mx_hosts_that_never_greet_cost_one_timeout_together() -> None:
    zone = ["$ORIGIN d.test.", "@ 60 SOA ns hostmaster 1 60 60 60 60"]
    for n in range(HOSTS):
        zone += [f"@ 60 MX {10 * (n + 1)} mx{n}.d.test.", f"mx{n} 60 A 127.0.0.{2 + n}"]
    with silent_servers(HOSTS) as port, serve(Zone("\n".join(zone) + "\n")) as resolver:
        start = time.monotonic()
        result = smtpscope("mx", "d.test", "--resolver", resolver, "--check-tls", "--port",
                           str(port), "--timeout", str(TIMEOUT), "--json")
        elapsed = time.monotonic() - start
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "smtpscope/schemas/mx.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(data)
    checks = data["tls_check"]
    assert [c["host"] for c in checks] == [f"mx{n}.d.test" for n in range(HOSTS)]
    assert all((c["error_step"], c["error_kind"]) == ("banner", "timeout") for c in checks)
    # One after another this took HOSTS timeouts, plus start-up.
    assert elapsed < (HOSTS - 1.5) * TIMEOUT + 1.0, elapsed


def test_check_tls_says_so_when_there_is_nothing_to_connect_to() -> None:
    zone = "$ORIGIN d.test.\n@ 60 SOA ns hostmaster 1 60 60 60 60\n@ 60 MX 10 mx.d.test.\n"
    with serve(Zone(zone)) as resolver:  # mx.d.test has no address
        result = smtpscope("mx", "d.test", "--resolver", resolver, "--check-tls")
    assert result.returncode == 0, result.stderr
    head = result.stdout.index("TLS check of each MX (port 25)")
    assert "no MX host with an address to connect to" in result.stdout[head:]
