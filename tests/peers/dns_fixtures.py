"""pytest plugin: the ``dns_server`` and ``validating_resolver`` fixtures for tests against the
loopback NSD and the unbound validating in front of it (peers/dns.py, peers/dnssec.py).

Skips when a server is not running, but fails where peers are required (CI=true or
SMTPSCOPE_REQUIRE_PEERS=1, see fixtures.peers_required): there .ci/run must have started it.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

START_HINT = "loopback DNS server not running: start it with python3 tests/peers/dns.py start"


def _harness() -> Any:
    # Load tests/peers/dns.py by path: importing it as "dns" would shadow dnspython.
    name = "smtpscope_tests_dns_harness"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("dns.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class DNSServer:
    """The running loopback DNS server, as recorded in dns.json in the run dir."""

    address: str
    port: int
    zones: tuple[str, ...]
    pid: int

    @property
    def resolver_address(self) -> str:
        """The ``--resolver`` argument that reaches this server."""
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"

    def resolver(self, timeout: float = 20.0) -> Any:
        from smtpscope.mx import resolver_for

        return resolver_for(self.resolver_address, timeout=timeout)


def _unavailable(reason: str) -> None:
    # Imported here: at import time it would come before pytest loads it as a plugin.
    from tests.peers.fixtures import peers_required

    if peers_required():
        pytest.fail(f"{reason} (peers are required: .ci/run must start it with "
                    ".ci/dns-setup.sh)")
    pytest.skip(reason)


def load_dns(timeout: float = 10.0) -> tuple[DNSServer | None, str]:
    """The server dns.json in the run dir (SMTPSCOPE_PEER_RUN_DIR, as for the Postfix harness)
    describes, or None and why it is not usable."""
    harness = _harness()
    state = harness.read_state()
    if not state:
        return None, (f"{START_HINT} (no {harness.state_file()}; SMTPSCOPE_PEER_RUN_DIR names "
                      "the run dir of a harness started elsewhere)")
    address, port = str(state["address"]), int(state["port"])
    zones = tuple(str(z) for z in state["zones"])
    # A generous wait: a loaded machine must not turn a running server into a failed suite.
    if not harness.alive(int(state["pid"])) or not harness.answers(address, port, list(zones),
                                                                   timeout=timeout):
        return None, (f"{START_HINT} ({harness.state_file()} is stale: pid {state['pid']} is no "
                      f"NSD of {harness.work_dir()} answering on {address}:{port})")
    return DNSServer(address, port, zones, int(state["pid"])), ""


@pytest.fixture(scope="session")
def dns_server() -> DNSServer:
    found, reason = load_dns()
    if found is None:
        _unavailable(reason)
    assert found is not None
    return found


@pytest.fixture(scope="session")
def validating_resolver(dns_server: DNSServer) -> str:
    """The ``--resolver`` argument of the unbound that validates tls.test (AD bit) in front of
    the loopback NSD, e.g. "127.0.0.1:5354"."""
    harness = _harness()
    resolver = (harness.read_state() or {}).get("resolver")
    if not resolver:
        _unavailable("no validating resolver: tests/peers/dns.py starts unbound only with the "
                     "Postfix harness running (for tls.test) and unbound installed "
                     "(tests/peers/dns.py install); restart it")
    dnssec = harness._dnssec()
    address, port = str(resolver["address"]), int(resolver["port"])
    if not dnssec.alive(int(resolver["pid"]), harness.work_dir()) or not dnssec.validated(
            address, port, str(resolver["validates"]), timeout=10.0):
        _unavailable(f"{START_HINT} (dns.json is stale: unbound pid {resolver['pid']} does "
                     f"not answer {resolver['validates']} with the AD bit)")
    host = f"[{address}]" if ":" in address else address
    return f"{host}:{port}"
