"""``probe`` and ``send`` with their certificate helper process: the same report as without it,
and no process left behind, whether the helper judged a chain, was still loading, or the run
was interrupted."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smtpscope.security import checker
from tests.cli.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.skipif(not checker.usable(),
                       reason="the certificate helper needs os.fork and two usable CPUs"),
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc"),
]


def _group(pgid: int) -> list[str]:
    """Every process (zombies included) in process group ``pgid``, as 'pid state'."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # state, ppid, pgrp
            found.append(f"{entry.name} {fields[0]}")
    return found


def _probe(*argv: str, helper: str = "on", interrupt_after: float | None = None,
           ) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), SMTPSCOPE_CERT_HELPER=helper)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "smtpscope", "probe", *argv, "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        start_new_session=True,  # its own group: whatever it leaves is found there
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    if interrupt_after is not None:
        time.sleep(interrupt_after)
        os.killpg(process.pid, signal.SIGINT)  # Ctrl+C, as a terminal sends it to the group
    out, err = process.communicate(timeout=60)
    done = subprocess.CompletedProcess(process.args, process.returncode, out, err)
    return done, _group(process.pid)


def _report(done: subprocess.CompletedProcess[str]) -> dict:
    result: dict = json.loads(done.stdout)
    result.pop("timings")
    return result


def test_a_verified_probe_reports_the_same_and_leaves_nothing(make_server) -> None:
    server = make_server("starttls")
    with_helper, left = _probe(server.target, "--cafile", server.cafile)
    assert with_helper.returncode == 0, with_helper.stderr
    assert left == []  # the helper answered, then ended with the probe and was collected
    without, _ = _probe(server.target, "--cafile", server.cafile, helper="off")
    assert _report(with_helper) == _report(without)
    assert _report(with_helper)["tls"]["trust"] == "verified"


def test_an_untrusted_chain_is_reported_the_same(make_server, tmp_path: Path) -> None:
    import trustme

    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    server = make_server("starttls")
    for level, code in (("may", 0), ("verify", 29)):
        with_helper, left = _probe(server.target, "--cafile", str(other), "--tls-level", level)
        without, _ = _probe(server.target, "--cafile", str(other), "--tls-level", level,
                            helper="off")
        assert (with_helper.returncode, without.returncode) == (code, code), with_helper.stderr
        assert _report(with_helper) == _report(without) and left == []
        assert _report(with_helper)["tls"]["trust_reason_code"] == "unknown-ca"


def test_a_probe_that_ends_before_any_handshake_leaves_nothing() -> None:
    # Refused at once: the helper is still loading when the probe ends, and is collected.
    done, left = _probe(f"127.0.0.1:{free_port()}")
    assert done.returncode == 2 and json.loads(done.stdout)["status"] == "connection-refused"
    assert left == []


def test_ctrl_c_ends_the_probe_and_its_helper() -> None:
    with socket.socket() as silent:  # accepts, never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        done, left = _probe(f"127.0.0.1:{port}", interrupt_after=1.0)
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr
    assert left == []
