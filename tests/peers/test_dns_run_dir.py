"""Where the DNS harness keeps its state: the run dir mta.py uses (SMTPSCOPE_PEER_RUN_DIR), so
the tests of one checkout find the harness another checkout started, and nothing else."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.peers.dns_fixtures import _harness, load_dns
from tests.peers.fixtures import run_dir


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A run dir outside this checkout, named as a second checkout's tests name it."""
    monkeypatch.setenv("SMTPSCOPE_PEER_RUN_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def fake_nsd(elsewhere: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A process whose command line is that of an NSD started with ``elsewhere``'s config."""
    conf = elsewhere / "dns" / "nsd.conf"
    proc = subprocess.Popen([sys.executable, "-c", "import time; print(); time.sleep(60)",
                             "nsd", "-d", "-c", str(conf)], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    proc.stdout.readline()  # exec'd: its command line is no longer the forked pytest's
    yield proc
    proc.kill()
    proc.wait()
    proc.stdout.close()


def test_the_state_follows_the_run_dir_of_the_mta_harness(elsewhere: Path) -> None:
    harness = _harness()
    assert harness.run_dir() == run_dir() == elsewhere.resolve()
    assert harness.state_file() == elsewhere.resolve() / "dns.json"
    assert harness.work_dir() == elsewhere.resolve() / "dns"
    (elsewhere / "dns.json").write_text(json.dumps({"pid": 1, "port": 5999}))
    assert harness.read_state() == {"pid": 1, "port": 5999}


def test_a_live_nsd_is_one_started_from_that_run_dir(elsewhere: Path, fake_nsd,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path_factory) -> None:
    harness = _harness()
    assert harness.alive(fake_nsd.pid)
    # The same process does not belong to another run dir's harness (a recycled PID, or a
    # harness started elsewhere since), nor does a process that is no NSD.
    monkeypatch.setenv("SMTPSCOPE_PEER_RUN_DIR", str(tmp_path_factory.mktemp("other")))
    assert not harness.alive(fake_nsd.pid)
    monkeypatch.setenv("SMTPSCOPE_PEER_RUN_DIR", str(elsewhere))
    assert not harness.alive(os.getpid())


def test_without_a_state_file_the_reason_names_the_one_looked_for(elsewhere: Path) -> None:
    found, reason = load_dns(timeout=0.2)
    assert found is None
    assert str(elsewhere.resolve() / "dns.json") in reason
    assert "python3 tests/peers/dns.py start" in reason and "SMTPSCOPE_PEER_RUN_DIR" in reason


def test_a_state_file_whose_nsd_does_not_answer_is_stale(elsewhere: Path, fake_nsd) -> None:
    # The PID is an "NSD" of this run dir, but nothing answers DNS on the port it names.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        state = {"address": "127.0.0.1", "port": port, "pid": fake_nsd.pid,
                 "zones": ["example.test"]}
        (elsewhere / "dns.json").write_text(json.dumps(state))
        found, reason = load_dns(timeout=0.2)
    assert found is None
    assert "is stale" in reason and f"127.0.0.1:{port}" in reason


def test_the_script_status_and_stop_act_on_that_run_dir(elsewhere: Path, fake_nsd) -> None:
    state = {"address": "127.0.0.1", "port": 9, "pid": fake_nsd.pid, "zones": ["example.test"]}
    (elsewhere / "dns.json").write_text(json.dumps(state))
    script = [sys.executable, str(Path(__file__).with_name("dns.py"))]
    result = subprocess.run([*script, "status"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 3  # that NSD does not answer on port 9
    assert json.loads(result.stdout) == dict(state, running=False)
    result = subprocess.run([*script, "stop"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and f"stopped nsd pid {fake_nsd.pid}" in result.stdout
    assert fake_nsd.wait(timeout=10) is not None and not (elsewhere / "dns.json").exists()
