"""A plain client on a port that never greets (an implicit-TLS port) is told why within seconds."""

from __future__ import annotations

import os
import pathlib
import select
import socket
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
# Seconds, not the 5 minutes RFC 5321 gives a greeting: generous, as interpreter start-up
# alone can take seconds on a loaded machine.
SECONDS = 30


def first_hint(port: int, limit: float = 60.0) -> tuple[str, float]:
    """Run ``smtpscope send`` against the port; the output up to the hint and how long it took."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "smtpscope", "send", f"127.0.0.1:{port}", "--from",
         "a@client.test", "--to", "b@example.test"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    assert proc.stdout is not None
    seen = b""
    try:
        while b"smtps://" not in seen and time.monotonic() - started < limit:
            ready, _, _ = select.select([proc.stdout], [], [], 0.2)
            if ready:
                chunk = os.read(proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                seen += chunk
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
    return seen.decode("utf-8", "replace"), time.monotonic() - started


def test_silent_port_gets_the_smtps_hint_in_seconds() -> None:
    with socket.socket() as listener:  # accepts by the kernel's backlog, never says a word
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        out, elapsed = first_hint(port)
    assert f"smtps://127.0.0.1:{port}" in out, out
    assert "no greeting after 3 s" in out.lower()  # the 3 s timer, not a timeout ending
    assert elapsed < SECONDS


@pytest.mark.peer
def test_postfix_smtps_port_gets_the_hint(mta) -> None:
    out, elapsed = first_hint(mta.ports["smtps"])
    assert f"smtps://127.0.0.1:{mta.ports['smtps']}" in out and elapsed < SECONDS
    assert "no greeting after 3 s" in out.lower()
