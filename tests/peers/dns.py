#!/usr/bin/env python3
"""Loopback DNS for the tests: NSD serving tests/peers/zones on 127.0.0.1, and unbound validating.

Usage: python3 tests/peers/dns.py install|start|stop|status

- install: apt-get install nsd and unbound without letting the packages start a daemon.
- start:   run NSD in the foreground of a detached process, wait until every zone answers, write
           dns.json ({"address", "port", "pid", "zones", "resolver", ...}) in the run dir.
- stop:    end the NSD and unbound processes that start recorded (by their PIDs only).
- status:  print the state; exit 0 when the servers answer, 3 otherwise.

Environment: SMTPSCOPE_PEER_RUN_DIR, the run dir shared with mta.py (default tests/peers/run of
this checkout: another checkout's tests find this harness with it); SMTPSCOPE_DNS_PORT (default
5353), SMTPSCOPE_DNS_ADDRESS (default 127.0.0.1); SMTPSCOPE_RESOLVER_PORT (default 5354),
SMTPSCOPE_RESOLVER_ADDRESS (default: NSD's address).

When the Postfix harness runs (its mta.json in the run dir), the zones tls.test and nsec3.test
are generated too, with TLSA records computed from its live certificates (see dns_zones.py) for
the DANE and MTA-STS tests. They are DNSSEC-signed, tls.test with NSEC and nsec3.test with NSEC3,
and unbound, a validating resolver with a stub zone per test zone at NSD and their keys as trust
anchors, answers them with the AD bit (see dnssec.py; state under "resolver" in dns.json). Only
this part needs dnspython and cryptography; the rest is stdlib only.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ZONES = HERE / "zones"
DEFAULT_RUN_DIR = HERE / "run"
POLICY_RC = Path("/usr/sbin/policy-rc.d")
NSD_PATHS = ("/usr/sbin/nsd", "/usr/local/sbin/nsd")
UNBOUND_PATHS = ("/usr/sbin/unbound", "/usr/local/sbin/unbound")
READY_TIMEOUT = 15.0


def log(message: str) -> None:
    print(f"dns: {message}", flush=True)


def run_dir() -> Path:
    """The run dir, chosen as mta.py and the peer fixtures choose it."""
    return Path(os.environ.get("SMTPSCOPE_PEER_RUN_DIR", DEFAULT_RUN_DIR)).resolve()


def work_dir() -> Path:
    """NSD's and unbound's configs, pid files, logs, keys and generated zones."""
    return run_dir() / "dns"


def state_file() -> Path:
    return run_dir() / "dns.json"


def settings() -> tuple[str, int]:
    address = os.environ.get("SMTPSCOPE_DNS_ADDRESS", "127.0.0.1")
    port = int(os.environ.get("SMTPSCOPE_DNS_PORT", "5353"))
    return address, port


def nsd_binary() -> str | None:
    found = shutil.which("nsd")
    if found:
        return found
    return next((p for p in NSD_PATHS if os.access(p, os.X_OK)), None)


def unbound_binary() -> str | None:
    found = shutil.which("unbound")
    if found:
        return found
    return next((p for p in UNBOUND_PATHS if os.access(p, os.X_OK)), None)


def _sibling(module: str) -> Any:
    """dnssec.py or dns_zones.py of this directory."""
    # By path, like dns_fixtures loads this file: run as a script, this directory is not on
    # sys.path (see the end of the file), and importing it as a package needs the repository's.
    import importlib.util

    name = f"smtpscope_tests_{module}_harness"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, HERE / f"{module}.py")
        assert spec is not None and spec.loader is not None
        loaded = importlib.util.module_from_spec(spec)
        sys.modules[name] = loaded
        spec.loader.exec_module(loaded)
    return sys.modules[name]


def _dnssec() -> Any:
    return _sibling("dnssec")


def zone_files() -> dict[str, Path]:
    """Zone name (from each file's $ORIGIN line) -> file."""
    zones = {}
    for path in sorted(ZONES.glob("*.zone")):
        for line in path.read_text().splitlines():
            if line.startswith("$ORIGIN"):
                zones[line.split()[1].rstrip(".")] = path
                break
        else:
            raise SystemExit(f"dns: {path} has no $ORIGIN line")
    return zones


# --- the generated, signed zones (dns_zones.py) -------------------------------------------------


def _mta_state() -> dict[str, object] | None:
    try:
        return dict(json.loads((run_dir() / "mta.json").read_text()))
    except (OSError, ValueError):
        return None


# --- install -----------------------------------------------------------------------------------


def apt(*args: str) -> None:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", *args], check=True, env=env, stdin=subprocess.DEVNULL)


def install() -> int:
    packages = [name for name, binary in (("nsd", nsd_binary()), ("unbound", unbound_binary()))
                if binary is None]
    if not packages:
        log(f"nsd and unbound already installed ({nsd_binary()}, {unbound_binary()})")
        return 0
    started = time.monotonic()
    # Keep the package from starting its own daemon on port 53; another harness script may have
    # put a policy-rc.d in place already, so only create (and later remove) one if absent.
    created = False
    if not POLICY_RC.exists():
        POLICY_RC.write_text("#!/bin/sh\nexit 101\n")
        POLICY_RC.chmod(0o755)
        created = True
    try:
        options = ("-y", "-q", "--no-install-recommends", "install", *packages)
        try:
            apt(*options)
        except subprocess.CalledProcessError:
            apt("update", "-q")  # a fresh machine has no package lists yet
            apt(*options)
    finally:
        if created:
            POLICY_RC.unlink(missing_ok=True)
    log(f"installed {' and '.join(packages)} in {time.monotonic() - started:.1f}s")
    return 0


# --- a tiny DNS client, to know when the server answers ----------------------------------------


def _query(address: str, port: int, name: str, qtype: int = 6, timeout: float = 0.5) -> int | None:
    """Send one query; return the response's rcode (0 NOERROR), or None without an answer."""
    qid = random.randrange(65536)
    header = struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 0)  # no RD: NSD is authoritative only
    qname = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".") if p) + b"\0"
    packet = header + qname + struct.pack("!HH", qtype, 1)
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.sendto(packet, (address, port))
            data, _ = sock.recvfrom(4096)
        except OSError:
            return None
    if len(data) < 12 or struct.unpack("!H", data[:2])[0] != qid:
        return None
    flags = struct.unpack("!H", data[2:4])[0]
    if not flags & 0x0400:  # not authoritative: that is not our server
        return -1
    return flags & 0x000F


def answers(address: str, port: int, zones: list[str], timeout: float = 0.5) -> bool:
    return all(_query(address, port, zone, timeout=timeout) == 0 for zone in zones)


# --- start / stop / status ---------------------------------------------------------------------


def _config(address: str, port: int, zones: dict[str, Path]) -> str:
    work = work_dir()
    lines = [
        "server:",
        f"    ip-address: {address}@{port}",
        f"    port: {port}",
        '    username: ""',  # stay root: no nsd user needed to read the zone files
        '    chroot: ""',
        f'    zonesdir: "{ZONES}"',
        f'    pidfile: "{work / "nsd.pid"}"',
        '    database: ""',
        f'    zonelistfile: "{work / "zone.list"}"',
        f'    xfrdfile: "{work / "xfrd.state"}"',
        f'    xfrdir: "{work}"',
        f'    logfile: "{work / "nsd.log"}"',
        "    server-count: 1",
        "    verbosity: 1",
        "    hide-version: yes",
        "remote-control:",
        "    control-enable: no",
    ]
    for name, path in zones.items():
        lines += ["zone:", f"    name: {name}", f'    zonefile: "{path}"']
    return "\n".join(lines) + "\n"


def read_state() -> dict[str, object] | None:
    try:
        return dict(json.loads(state_file().read_text()))
    except (OSError, ValueError):
        return None


def alive(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    # Guard against a recycled PID: it must be our NSD with our config file.
    return b"nsd" in cmdline and str(work_dir()).encode() in cmdline


def check_zones(nsd: str, zones: dict[str, Path]) -> None:
    checker = Path(nsd).with_name("nsd-checkzone")
    for name, path in zones.items():
        if checker.exists():
            result = subprocess.run([str(checker), name, str(path)], capture_output=True, text=True)
            if result.returncode != 0:
                raise SystemExit(f"dns: zone {name} is invalid: {result.stdout}{result.stderr}")


def start() -> int:
    address, port = settings()
    state = read_state()
    if state and alive(int(state["pid"])):  # type: ignore[call-overload]
        log(f"already running (pid {state['pid']}) on {state['address']}:{state['port']}")
        return 0
    nsd = nsd_binary()
    if nsd is None:
        log("nsd is not installed: run python3 tests/peers/dns.py install")
        return 1
    zones = zone_files()
    work = work_dir()
    mta = _mta_state()
    anchor = None
    signed: list[str] = []
    if mta is not None:
        work.mkdir(parents=True, exist_ok=True)
        texts, anchor = _dnssec().sign_zones(_sibling("dns_zones").signed_zones(mta), work)
        for name, text in texts.items():
            zones[name] = work / f"{name}.zone"
            zones[name].write_text(text)
        signed = list(texts)
    check_zones(nsd, zones)
    if answers(address, port, list(zones)):
        # Another server already answers here (e.g. an nsd whose state file was lost): a new
        # one would fail to bind while the old one made it look ready.
        log(f"something already answers DNS on {address}:{port}; stop it first or pick "
            "another port with SMTPSCOPE_DNS_PORT")
        return 1
    work.mkdir(parents=True, exist_ok=True)
    for stale in ("nsd.pid", "xfrd.state", "zone.list"):
        (work / stale).unlink(missing_ok=True)
    conf = work / "nsd.conf"
    conf.write_text(_config(address, port, zones))
    started = time.monotonic()
    with open(work / "nsd.stderr", "wb") as err:
        proc = subprocess.Popen(
            [nsd, "-d", "-c", str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=err,
            stderr=err,
            start_new_session=True,  # outlive this script; stopped by PID later
        )
    names = list(zones)
    deadline = started + READY_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log(f"nsd exited with {proc.returncode}; see {work / 'nsd.log'}")
            sys.stdout.write(_tail(work / "nsd.stderr") + _tail(work / "nsd.log"))
            return 1
        if answers(address, port, names):
            break
        time.sleep(0.05)
    else:
        proc.terminate()
        log(f"nsd did not answer for every zone within {READY_TIMEOUT}s; see {work / 'nsd.log'}")
        return 1
    version = subprocess.run([nsd, "-v"], capture_output=True, text=True).stderr.splitlines()
    run_dir().mkdir(parents=True, exist_ok=True)
    resolver = _start_resolver(address, port, names, signed, anchor)
    if resolver is None and anchor is not None:
        proc.terminate()
        return 1
    state = {
        "address": address,
        "port": port,
        "pid": proc.pid,
        "server": version[0] if version else "nsd",
        "zones": names,
        "config": str(conf),
        "log": str(work / "nsd.log"),
        "resolver": resolver,
    }
    state_file().write_text(json.dumps(state, indent=2) + "\n")
    log(
        f"nsd pid {proc.pid} answering on {address}:{port} for {len(names)} zones "
        f"({time.monotonic() - started:.2f}s)"
    )
    return 0


def _start_resolver(address: str, port: int, zones: list[str], signed: list[str],
                    anchor: Path | None) -> dict[str, object] | None:
    """unbound in front of NSD, validating the ``signed`` zones; None without them or on
    failure."""
    if anchor is None:
        log("no tls.test (the Postfix harness is not running): no validating resolver")
        return None
    unbound = unbound_binary()
    if unbound is None:
        log("unbound is not installed: run python3 tests/peers/dns.py install")
        return None
    dnssec = _dnssec()
    state: dict[str, object] | None = dnssec.start(
        unbound, work_dir(), *dnssec.settings(address), (address, port), zones, signed, anchor,
        log)
    return state


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) + "\n"
    except OSError:
        return ""


def stop() -> int:
    state = read_state()
    if not state:
        log("not running (no state file)")
        return 0
    resolver = state.get("resolver")
    if isinstance(resolver, dict):
        stopped = _dnssec().stop(resolver, work_dir())
        log(f"stopped unbound pid {resolver['pid']}" if stopped else
            f"unbound pid {resolver['pid']} was not running")
    pid = int(state["pid"])  # type: ignore[call-overload]
    if alive(pid):
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            if not alive(pid):
                break
            time.sleep(0.05)
        else:
            os.kill(pid, signal.SIGKILL)
        log(f"stopped nsd pid {pid}")
    else:
        log(f"pid {pid} was not running")
    state_file().unlink(missing_ok=True)
    return 0


def status() -> int:
    state = read_state()
    if not state:
        log("not running")
        return 3
    running = alive(int(state["pid"])) and answers(  # type: ignore[call-overload]
        str(state["address"]),
        int(state["port"]),
        list(state["zones"]),  # type: ignore[call-overload]
    )
    resolver = state.get("resolver")
    if isinstance(resolver, dict):
        dnssec = _dnssec()
        resolver["running"] = dnssec.alive(int(resolver["pid"]), work_dir()) and dnssec.validated(
            str(resolver["address"]), int(resolver["port"]), str(resolver["validates"]))
        running = running and resolver["running"]
    print(json.dumps(dict(state, running=running), indent=2))
    return 0 if running else 3


def main(argv: list[str]) -> int:
    commands = {"install": install, "start": start, "stop": stop, "status": status}
    if len(argv) != 1 or argv[0] not in commands:
        print(__doc__, file=sys.stderr)
        return 1
    return commands[argv[0]]()


if __name__ == "__main__":
    # Run as a script, this directory comes first on sys.path, where this very file would stand
    # in for dnspython's "dns" package when dnssec.py imports it.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
    raise SystemExit(main(sys.argv[1:]))
