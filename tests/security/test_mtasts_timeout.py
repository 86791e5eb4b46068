"""The MTA-STS policy fetch keeps to the run's --timeout, also against a silent HTTPS host."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from smtpscope.mx import StaticResolver
from smtpscope.security import mtasts
from smtpscope.security.mtasts import DEFAULT_FETCH_TIMEOUT, TEST_PORT_ENV, fetch_policy


@pytest.fixture
def silent_hosts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Two loopback addresses on one port that accept a connection and never say a word (a
    TLS handshake then waits for a ServerHello that does not come)."""
    first = socket.create_server(("127.0.0.1", 0))
    port = first.getsockname()[1]
    try:
        second = socket.create_server(("127.0.0.2", port))
    except OSError:
        first.close()
        pytest.skip("127.0.0.2 is not usable here")
    monkeypatch.setenv(TEST_PORT_ENV, str(port))
    try:
        yield ["127.0.0.1", "127.0.0.2"]
    finally:
        first.close()
        second.close()


def _resolver(addresses: list[str]) -> StaticResolver:
    return StaticResolver({("_mta-sts.d.test", "TXT"): [(b"v=STSv1; id=1",)],
                           ("mta-sts.d.test", "A"): addresses})


@pytest.mark.parametrize(("run", "limit"), [
    (None, DEFAULT_FETCH_TIMEOUT),
    (0.5, 0.5),  # never longer than the run's --timeout
    (120.0, DEFAULT_FETCH_TIMEOUT),  # a run's limit is for slow SMTP replies, not for this
])
def test_the_fetch_timeout_follows_the_run(run: float | None, limit: float) -> None:
    assert mtasts.fetch_timeout(run) == limit


def test_a_silent_policy_host_fails_the_fetch_after_the_timeout(silent_hosts: list[str]) -> None:
    start = time.monotonic()
    fetched = fetch_policy("d.test", _resolver(silent_hosts[:1]), timeout=0.5)
    took = time.monotonic() - start
    assert not fetched.fetched and fetched.policy is None and fetched.http_status is None
    assert 0.4 < took < 2.0


def test_the_timeout_bounds_the_whole_fetch_not_each_address(silent_hosts: list[str]) -> None:
    # Two silent addresses: one timeout in all, not one each.
    start = time.monotonic()
    fetched = fetch_policy("d.test", _resolver(silent_hosts), timeout=1.0)
    took = time.monotonic() - start
    assert not fetched.fetched
    assert 0.9 < took < 1.6


def test_probe_passes_its_timeout_to_the_fetch(monkeypatch: pytest.MonkeyPatch) -> None:
    from smtpscope.cli import tls_options
    from smtpscope.security.policy import TLSPolicy

    seen: list[float] = []

    def fake(domain: str, resolver: Any, **kwargs: Any) -> None:
        seen.append(kwargs["timeout"])

    monkeypatch.setattr(mtasts, "fetch_policy", fake)
    for run in (0.25, None, 600.0):
        tls_options.mta_sts_fetch(TLSPolicy(), "a@d.test", "127.0.0.1", run)
    assert seen == [0.25, DEFAULT_FETCH_TIMEOUT, DEFAULT_FETCH_TIMEOUT]
