"""Benchmark: ``smtpscope send`` against ``swaks -tls``, a short message and an 8 MB one.

Run against the Postfix harness (python3 tests/peers/mta.py start):

    python bench/send_vs_swaks.py [-n 15]

Both clients send the same file with ``--data @FILE`` over STARTTLS to the harness' port and
print their whole transcript (read by the benchmark, as a terminal or a pipe would); they run
alternately N times per message and the medians and their ratio are printed. smtpscope is
measured as a regular install in the virtual environment of ``bench/probe_vs_swaks.py``. The
8 MB message costs each client its start-up too; the line "the message itself" takes the
short message's median off both. No goal is set for ``send``: the figures show where it
stands. Bytecode caching is on, as for any installed copy.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import string
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import probe_vs_swaks as shared  # the benchmark next to this one

BIG_LINES = 110_000  # 76 letters and CRLF each: about 8.6 MB, under Postfix's 10 MB default


def write_messages(where: Path) -> dict[str, Path]:
    """A three-line message and an 8 MB one (every 50th line starts with a dot, to stuff)."""
    small = where / "small.eml"
    small.write_bytes(b"Subject: bench\r\n\r\nhello\r\n")
    rng = random.Random(1)
    line = "".join(rng.choice(string.ascii_letters) for _ in range(76))
    body = "".join(("." if i % 50 == 0 else "") + line + "\r\n" for i in range(BIG_LINES))
    big = where / "big.eml"
    big.write_bytes(("Subject: bench\r\n\r\n" + body).encode("ascii"))
    return {"short message": small, "8 MB message": big}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=15, help="runs of each client per message")
    parser.add_argument("--venv", type=Path, default=shared.ROOT / "build" / "bench-venv")
    args = parser.parse_args()
    if not shared.STATE.exists():
        sys.exit(f"Postfix harness not running (no {shared.STATE}): "
                 "python3 tests/peers/mta.py start")
    shared.PYTHON = shared.prepare_venv(args.venv)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    state = json.loads(shared.STATE.read_text())
    target = f"{state['host']}:{state['ports']['smtp']}"
    swaks = shutil.which("swaks") or "/usr/bin/swaks"
    envelope = ["--from", "bench@example.test", "--to", "bob@example.test"]
    medians: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, path in write_messages(Path(tmp)).items():
            ours = [*shared.smtpscope_command(), "send", target, "--cafile", state["ca_file"],
                    *envelope, "--data", f"@{path}"]
            theirs = [swaks, "--server", target, "-tls", "-f", envelope[1], "-t", envelope[3],
                      "--data", f"@{path}"]
            shared.timed(ours, env)  # warm-up: bytecode cache, page cache
            shared.timed(theirs, env)
            a, b = [], []
            for _ in range(args.n):
                a.append(shared.timed(ours, env))
                b.append(shared.timed(theirs, env))
            ma, mb = statistics.median(a), statistics.median(b)
            medians[label] = (ma, mb)
            print(f"{label:14}  smtpscope send {ma * 1000:7.1f} ms   swaks -tls {mb * 1000:7.1f} ms"
                  f"   ratio {ma / mb:.2f}x  (medians of {args.n})")
    (short_a, short_b), (big_a, big_b) = medians.values()
    print(f"the message itself (8 MB minus short): smtpscope {(big_a - short_a) * 1000:.0f} ms, "
          f"swaks {(big_b - short_b) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
