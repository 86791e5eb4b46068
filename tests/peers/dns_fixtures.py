"""pytest plugin: the ``dns_server`` fixture for tests against the loopback NSD (peers/dns.py).

Skips when the server is not running, but fails under CI=true, where .ci/run must have started it.
"""

from __future__ import annotations

import importlib.util
import os
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
    """The running loopback DNS server, as recorded in tests/peers/run/dns.json."""

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
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: .ci/run must start it with .ci/dns-setup.sh)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def dns_server() -> DNSServer:
    harness = _harness()
    state = harness.read_state()
    if not state:
        _unavailable(START_HINT)
    assert state is not None
    address, port = str(state["address"]), int(state["port"])
    zones = tuple(str(z) for z in state["zones"])
    # A generous wait: a loaded machine must not turn a running server into a failed suite.
    if not harness.alive(int(state["pid"])) or not harness.answers(address, port, list(zones),
                                                                   timeout=10.0):
        _unavailable(f"{START_HINT} (dns.json is stale: pid {state['pid']} does not answer)")
    return DNSServer(address, port, zones, int(state["pid"]))
