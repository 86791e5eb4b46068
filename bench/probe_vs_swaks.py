"""Benchmark: ``smtpscope probe`` against ``swaks -tls --quit-after EHLO``, and probe throughput.

Run against the Postfix harness (python3 tests/peers/mta.py start):

    python bench/probe_vs_swaks.py [-n 30] [--endpoints 500] [--concurrency 100]

Part 1 runs both clients alternately N times on the harness' STARTTLS port and prints each
median and the ratio (goal: smtpscope at most 1.0x swaks), the probe with its certificate
helper process switched off (SMTPSCOPE_CERT_HELPER=off: all the work in one process), then the
floor a verifying Python client pays in one process before its first byte (interpreter, ssl,
cryptography's X.509 layer) and, last, a bare script doing the same conversation with a PKIX
check and no report, against the same swaks median. smtpscope is measured as a regular install
in a virtual environment (``--venv``, made on first use; ``--no-venv`` measures the current
interpreter's install).
Part 2 starts a helper process with one asyncio server listening on many loopback ports and
probes them all in one command, printing endpoints per second (goal: at least 200/s). Not a
timed test: numbers depend on the machine. Bytecode caching is switched on for the runs
(PYTHONDONTWRITEBYTECODE removed), as it is for any installed copy.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The harness' state file: $SMTPSCOPE_PEER_RUN_DIR (as the peer tests use), else tests/peers/run.
RUN_DIR = os.environ.get("SMTPSCOPE_PEER_RUN_DIR") or ROOT / "tests" / "peers" / "run"
STATE = Path(RUN_DIR) / "mta.json"

# The helper: one process, one event loop, N listening sockets speaking just enough SMTP.
SERVER = r"""
import asyncio, sys

async def handle(reader, writer):
    writer.write(b"220 bench ESMTP\r\n")
    try:
        while line := await reader.readline():
            verb = line[:4].upper()
            if verb == b"EHLO":
                writer.write(b"250-bench\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
    finally:
        writer.close()

async def main(count):
    servers = [await asyncio.start_server(handle, "127.0.0.1", 0, backlog=256)
               for _ in range(count)]
    ports = [s.sockets[0].getsockname()[1] for s in servers]
    print(" ".join(map(str, ports)), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

asyncio.run(main(int(sys.argv[1])))
"""


PYTHON = Path(sys.executable)  # the interpreter whose smtpscope is measured (see --venv)


def smtpscope_command() -> list[str]:
    """The installed console script next to that interpreter (not a pyenv shim), else -m."""
    script = PYTHON.with_name("smtpscope")
    if script.exists():
        return [str(script)]
    return [str(PYTHON), "-m", "smtpscope"]


def prepare_venv(where: Path) -> Path:
    """A virtual environment with a regular (not editable) install of this checkout.

    That is how a user has smtpscope: no editable-install import hook and no .pth files of the
    machine's own site-packages run at start-up. The package is reinstalled on every run so
    the figures are this checkout's; its dependencies are installed once.
    """
    python = where / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(where)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", str(ROOT)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall",
                    str(ROOT)], check=True)
    return python


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed ({done.returncode}):\n"
                 f"{done.stdout.decode(errors='replace')}{done.stderr.decode(errors='replace')}")
    return elapsed


BARE_PROBE = """
import ipaddress, socket, ssl
from cryptography import x509
from cryptography.x509.verification import PolicyBuilder, Store
host, port = %r, %d
sock = socket.create_connection((host, port))
def reply(f):
    while (line := f.readline())[3:4] == b"-":
        pass
    return line
f = sock.makefile("rb")
reply(f)
for command in (b"EHLO bare.example\\r\\n", b"STARTTLS\\r\\n"):
    sock.sendall(command)
    reply(f)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
tls = context.wrap_socket(sock)
leaf = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))
anchors = x509.load_pem_x509_certificates(open(%r, "rb").read())
name = x509.IPAddress(ipaddress.ip_address(host))
PolicyBuilder().store(Store(anchors)).build_server_verifier(name).verify(leaf, [])
f = tls.makefile("rb")
for command in (b"EHLO bare.example\\r\\n", b"QUIT\\r\\n"):
    tls.sendall(command)
    reply(f)
"""


def compare(n: int, env: dict[str, str]) -> None:
    state = json.loads(STATE.read_text())
    host, port, cafile = state["host"], state["ports"]["smtp"], state["ca_file"]
    swaks = shutil.which("swaks") or "/usr/bin/swaks"
    ours = [*smtpscope_command(), "probe", f"{host}:{port}", "--cafile", cafile]
    theirs = [swaks, "--server", f"{host}:{port}", "-tls", "--quit-after", "EHLO"]
    timed(ours, env)  # warm-up: bytecode cache, page cache
    timed(theirs, env)
    a: list[float] = []
    b: list[float] = []
    for _ in range(n):
        a.append(timed(ours, env))
        b.append(timed(theirs, env))
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"smtpscope probe  median {ma * 1000:7.1f} ms  (min {min(a) * 1000:.1f}, n={n})")
    print(f"swaks -tls       median {mb * 1000:7.1f} ms  (min {min(b) * 1000:.1f}, n={n})")
    print(f"ratio smtpscope/swaks: {ma / mb:.2f}x (goal <= 1.0x)")
    # The same probe doing its certificate work in its own process (no helper), for scale.
    alone = [timed(ours, {**env, "SMTPSCOPE_CERT_HELPER": "off"}) for _ in range(n)]
    m = statistics.median(alone)
    print(f"  without the certificate helper: median {m * 1000:6.1f} ms = {m / mb:.2f}x swaks")
    # What any Python client that verifies certificates pays before its first byte: the
    # interpreter, the ssl module (OpenSSL) and cryptography's X.509 layer, timed alike.
    # The last line adds the conversation itself, bare: connect, banner, EHLO, STARTTLS, the
    # handshake, the leaf read and a PKIX check with cryptography, EHLO, QUIT; no report.
    floor = [("python -c pass", "pass"), ("+ import ssl, socket", "import ssl, socket"),
             ("+ import cryptography.x509", "import ssl, socket, cryptography.x509"),
             ("+ a bare verifying STARTTLS", BARE_PROBE % (host, port, cafile))]
    for label, code in floor:
        runs = [timed([str(PYTHON), "-c", code], env) for _ in range(n)]
        m = statistics.median(runs)
        print(f"  floor: {label:28} median {m * 1000:6.1f} ms = {m / mb:.2f}x swaks")


def throughput(count: int, concurrency: int, env: dict[str, str]) -> None:
    helper = subprocess.Popen([sys.executable, "-c", SERVER, str(count)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert helper.stdout is not None
        ports = helper.stdout.readline().split()
        if len(ports) != count:
            sys.exit(f"helper listened on {len(ports)} ports, wanted {count}")
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
            listing.write("".join(f"127.0.0.1:{p}\n" for p in ports))
        argv = [*smtpscope_command(), "probe", "--targets-file", listing.name, "--concurrency",
                str(concurrency), "--json", "--no-progress"]
        start = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
        elapsed = time.perf_counter() - start
        os.unlink(listing.name)
        statuses = [json.loads(line)["status"] for line in done.stdout.splitlines()]
        ok = statuses.count("success")
        print(f"probe of {count} endpoints, --concurrency {concurrency}: {elapsed:.2f} s, "
              f"{ok} succeeded, {count / elapsed:.0f} endpoints/s (goal >= 200/s)")
        if ok != count:
            print(done.stderr[-2000:], file=sys.stderr)
    finally:
        assert helper.stdin is not None
        helper.stdin.close()
        helper.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=30, help="runs of each client (default 30)")
    parser.add_argument("--endpoints", type=int, default=500, help="endpoints to probe")
    parser.add_argument("--concurrency", type=int, default=100, help="probe --concurrency")
    parser.add_argument("--skip-swaks", action="store_true", help="only the throughput part")
    parser.add_argument("--skip-throughput", action="store_true", help="only the swaks part")
    parser.add_argument("--venv", type=Path, default=ROOT / "build" / "bench-venv",
                        help="measure a regular install in this virtual environment, made on "
                        "first use (default build/bench-venv)")
    parser.add_argument("--no-venv", action="store_true",
                        help="measure the smtpscope installed for this interpreter instead")
    args = parser.parse_args()
    global PYTHON
    if not args.no_venv:
        PYTHON = prepare_venv(args.venv)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if not args.skip_swaks:
        if not STATE.exists():
            sys.exit(f"Postfix harness not running (no {STATE}): "
                     "python3 tests/peers/mta.py start")
        compare(args.n, env)
    if not args.skip_throughput:
        throughput(args.endpoints, args.concurrency, env)


if __name__ == "__main__":
    main()
