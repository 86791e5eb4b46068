"""Install, start, stop and inspect the loopback Postfix + Dovecot harness used by peer tests."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pwd
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import NoReturn

try:
    from . import mta_config as conf
except ImportError:  # run as a script: python3 tests/peers/mta.py
    import mta_config as conf  # type: ignore[no-redef]

HERE = Path(__file__).resolve().parent
DEFAULT_RUN_DIR = HERE / "run"
STATE_NAME = "mta.json"
POSTFIX = "/usr/sbin/postfix"
DOVECOT = "/usr/sbin/dovecot"
VMAIL_USER = "smtpscope-vmail"
DOVECOT_LMTP = "/usr/lib/dovecot/lmtp"
REQUIRED_BINARIES = (POSTFIX, DOVECOT, "/usr/bin/doveadm", "/usr/bin/openssl", "/usr/bin/swaks",
                     DOVECOT_LMTP)
PACKAGES = ("postfix", "dovecot-core", "dovecot-lmtpd", "openssl", "swaks")
OPTIONAL_PACKAGES = ("gsasl",)
POLICY_RC_D = Path("/usr/sbin/policy-rc.d")
START_TIMEOUT = 15.0


def log(message: str) -> None:
    print(f"[mta] {message}", flush=True)


def run(cmd: list[str], *, check: bool = True, env: dict[str, str] | None = None,
        input_text: str | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, input=input_text,
                            check=False)
    if check and result.returncode != 0:
        raise SystemExit(f"[mta] command failed ({result.returncode}): {' '.join(cmd)}\n"
                         f"{result.stdout}{result.stderr}")
    return result


# --- install -------------------------------------------------------------------------------

def install() -> int:
    missing = [b for b in REQUIRED_BINARIES if not os.access(b, os.X_OK)]
    if not missing:
        log("postfix, dovecot (with LMTP), openssl and swaks already installed; skipping apt")
        return 0
    if os.geteuid() != 0:
        raise SystemExit("[mta] install needs root (apt-get)")
    log(f"missing {', '.join(missing)}; installing with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    # "No configuration" keeps the package from writing /etc/postfix/main.cf; we never use it.
    run(["debconf-set-selections"],
        input_text="postfix postfix/main_mailer_type select No configuration\n")
    if not any(Path("/var/lib/apt/lists").glob("*_Packages*")):
        run(["apt-get", "update", "-q"], env=env)
    packages = list(PACKAGES)
    for extra in OPTIONAL_PACKAGES:
        if run(["apt-cache", "show", extra], check=False).returncode == 0:
            packages.append(extra)
    cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages]
    with _no_daemon_start():
        result = run(cmd, check=False, env=env)
        if result.returncode != 0:
            # Stale package lists are the usual cause on a reused machine: refresh once.
            log("apt-get install failed; running apt-get update and retrying")
            run(["apt-get", "update", "-q"], env=env)
            run(cmd, env=env)
    still = [b for b in REQUIRED_BINARIES if not os.access(b, os.X_OK)]
    if still:
        raise SystemExit(f"[mta] still missing after install: {', '.join(still)}")
    log(f"installed: {' '.join(packages)}")
    return 0


@contextlib.contextmanager
def _no_daemon_start():  # type: ignore[no-untyped-def]
    """Install a policy-rc.d that forbids starting services, restoring any previous one."""
    previous: tuple[bytes, int] | None = None
    if POLICY_RC_D.exists():
        previous = (POLICY_RC_D.read_bytes(), POLICY_RC_D.stat().st_mode & 0o7777)
    POLICY_RC_D.write_text("#!/bin/sh\n# smtpscope harness: no daemon starts during install\n"
                           "exit 101\n")
    POLICY_RC_D.chmod(0o755)
    try:
        yield
    finally:
        if previous is None:
            POLICY_RC_D.unlink(missing_ok=True)
        else:
            POLICY_RC_D.write_bytes(previous[0])
            POLICY_RC_D.chmod(previous[1])


# --- process helpers -----------------------------------------------------------------------

def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _is_process(pid: int | None, name: str) -> bool:
    """True when pid is alive and its command is `name` (guards against recycled pids)."""
    if not pid:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # Format: "pid (comm) state ..."; a zombie (Z) is dead even if nobody reaped it yet, which
    # happens to daemons here whose adoptive parent (pid 1) does not reap.
    comm, _, rest = stat.partition(" (")[2].rpartition(") ")
    return comm == name and not rest.startswith(("Z", "X"))


def _wait_gone(pid: int, name: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _is_process(pid, name):
            return True
        time.sleep(0.05)
    return not _is_process(pid, name)


def _terminate(pid: int | None, name: str) -> None:
    if not _is_process(pid, name):
        return
    assert pid is not None
    os.kill(pid, signal.SIGTERM)
    if not _wait_gone(pid, name, 5.0):
        os.kill(pid, signal.SIGKILL)
        _wait_gone(pid, name, 2.0)


# What the probe claims on the PROXY protocol listener (TEST-NET-1, RFC 5737).
PROBE_PROXY_HEADER = b"PROXY TCP4 192.0.2.1 127.0.0.1 40000 25\r\n"


def _probe(host: str, port: int, implicit_tls: bool, ca_file: Path | None,
           timeout: float = 2.0, proxy: bool = False) -> str:
    """Return the greeting line of host:port, raising OSError when it is not a 220."""
    with socket.create_connection((host, port), timeout=timeout) as raw:
        sock: socket.socket = raw
        if proxy:
            sock.sendall(PROBE_PROXY_HEADER)
        if implicit_tls:
            ctx = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
            sock = ctx.wrap_socket(raw, server_hostname="localhost")
        data = b""
        while b"\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        with contextlib.suppress(OSError):
            sock.sendall(b"QUIT\r\n")
        line = data.split(b"\n", 1)[0].decode("utf-8", "replace").strip()
        if not line.startswith("220"):
            raise OSError(f"no 220 greeting: {line!r}")
        return line


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _require_free_ports(ports: dict[str, int]) -> None:
    # smtpd children of a killed master linger a moment before they notice and exit.
    deadline = time.monotonic() + 5.0
    while True:
        busy = {n: p for n, p in ports.items() if not _port_free(conf.HOST, p)}
        if not busy or time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    if not busy:
        return
    owner = ""
    with contextlib.suppress(OSError, ssl.SSLError):
        name, port = next(iter(busy.items()))
        if "smtpscope test harness" in _probe(conf.HOST, port, name == "smtps", None,
                                                 proxy=name == "proxy"):
            owner = " by another smtpscope harness (stop it with its own mta.py stop)"
    raise SystemExit(f"[mta] ports already in use on {conf.HOST}{owner}: "
                     + ", ".join(f"{n}={p}" for n, p in busy.items())
                     + "; pick others with SMTPSCOPE_PEER_BASEPORT or --base-port")


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"({path} not found)"


# --- start / stop / status -----------------------------------------------------------------

def _launch(cmd: list[str], lay: conf.Layout) -> tuple[int, str]:
    """Run a command that leaves a daemon behind; its output goes to a file, not a pipe.

    A daemon inherits the pipe, so capturing output would wait for the daemon to exit.
    """
    out_path = lay.log_dir / "launch.out"
    with out_path.open("w+b") as out:
        rc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                            check=False).returncode
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    return rc, text


def _vmail_ids() -> tuple[int, int]:
    try:
        entry = pwd.getpwnam(VMAIL_USER)
    except KeyError:
        run(["useradd", "--system", "--user-group", "--no-create-home",
             "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", VMAIL_USER])
        entry = pwd.getpwnam(VMAIL_USER)
    return entry.pw_uid, entry.pw_gid


def _layout(run_dir: Path) -> conf.Layout:
    return conf.Layout(run_dir.resolve())


def start(run_dir: Path, base_port: int) -> int:
    if os.geteuid() != 0:
        raise SystemExit("[mta] start needs root (Postfix and Dovecot drop privileges)")
    missing = [b for b in REQUIRED_BINARIES[:3] if not os.access(b, os.X_OK)]
    if missing:
        raise SystemExit(f"[mta] {', '.join(missing)} missing: run `python3 {sys.argv[0]} install`")
    began = time.monotonic()
    lay = _layout(run_dir)
    stop(run_dir, quiet=True)  # a restart starts from a clean slate; stale pid files go too
    ports = conf.ports_for(base_port)
    _require_free_ports(ports)
    uid, gid = _vmail_ids()
    conf.write_all(lay, ports, uid, gid)
    for pidfile in (lay.dovecot_pid, lay.postfix_pid):
        pidfile.unlink(missing_ok=True)

    rc, out = _launch([DOVECOT, "-c", str(lay.dovecot_conf)], lay)
    if rc != 0:
        _fail(lay, f"dovecot did not start: {out}")
    rc, out = _launch([POSTFIX, "-c", str(lay.postfix_dir), "start"], lay)
    if rc != 0:
        _fail(lay, f"postfix did not start: {out}")

    greetings = _wait_ready(lay, ports)
    state = {
        "host": conf.HOST,
        "ports": ports,
        "ca_file": str(lay.ca_cert),
        "cert_file": str(lay.server_cert),
        "key_file": str(lay.server_key),
        "tls": {name: str(lay.tls_file(name)) for name in (
            "other_ca.pem", "stranger.pem", "wrongname.pem", "client.pem", "client.key")},
        "tls_names": {"wrongname": conf.WRONG_NAME, "dane_mx": conf.DANE_MX},
        "users": dict(conf.USERS),
        "domain": conf.DOMAIN,
        "hostname": conf.MYHOSTNAME,
        "maildir_root": str(lay.mail_root),
        "message_size_limit": conf.SMALL_SIZE_LIMIT,
        "default_size_limit": conf.DEFAULT_SIZE_LIMIT,
        "relay_allowed_from": conf.MYNETWORKS,
        "postfix_config_dir": str(lay.postfix_dir),
        "dovecot_config": str(lay.dovecot_conf),
        "auth_socket": str(lay.auth_socket),
        "lmtp_socket": str(lay.lmtp_socket),
        "lmtp_full_user": conf.LMTP_FULL_USER,
        "logs": {"postfix": str(lay.postfix_log), "dovecot": str(lay.dovecot_log)},
        "pids": {"postfix_master": _read_pid(lay.postfix_pid),
                 "dovecot": _read_pid(lay.dovecot_pid)},
        "greetings": greetings,
        "started_at": time.time(),
    }
    tmp = lay.state.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    tmp.replace(lay.state)  # atomic, so a reader never sees half a file
    log(f"ready in {time.monotonic() - began:.2f}s: "
        + ", ".join(f"{n}={p}" for n, p in ports.items()) + f"; state in {lay.state}")
    return 0


def _wait_ready(lay: conf.Layout, ports: dict[str, int]) -> dict[str, str]:
    deadline = time.monotonic() + START_TIMEOUT
    greetings: dict[str, str] = {}
    last_error = ""
    while time.monotonic() < deadline:
        for name, port in ports.items():
            if name in greetings:
                continue
            try:
                greetings[name] = _probe(conf.HOST, port, name == "smtps", lay.ca_cert,
                                         proxy=name == "proxy")
            except (OSError, ssl.SSLError) as exc:
                last_error = f"{name} ({port}): {exc}"
        if len(greetings) == len(ports):
            return greetings
        time.sleep(0.1)
    _fail(lay, f"not every port answered 220 within {START_TIMEOUT:.0f}s; last: {last_error}")


def _fail(lay: conf.Layout, message: str) -> NoReturn:
    print(f"[mta] ERROR: {message}", file=sys.stderr)
    for path in (lay.postfix_log, lay.dovecot_log):
        print(f"----- tail of {path} -----\n{_tail(path)}", file=sys.stderr)
    stop(lay.run_dir, quiet=True)
    raise SystemExit(1)


def stop(run_dir: Path, quiet: bool = False) -> int:
    lay = _layout(run_dir)
    master = _read_pid(lay.postfix_pid)
    dovecot = _read_pid(lay.dovecot_pid)
    # Signal both first, then wait: each takes a second or two to wind down.
    if _is_process(dovecot, "dovecot"):
        assert dovecot is not None
        os.kill(dovecot, signal.SIGTERM)
    if lay.main_cf.exists() and _is_process(master, "master"):
        assert master is not None
        run([POSTFIX, "-c", str(lay.postfix_dir), "stop"], check=False)
        if not _wait_gone(master, "master", 10.0):
            run([POSTFIX, "-c", str(lay.postfix_dir), "abort"], check=False)
            _terminate(master, "master")
    if dovecot is not None and not _wait_gone(dovecot, "dovecot", 5.0):
        _terminate(dovecot, "dovecot")
    lay.state.unlink(missing_ok=True)
    if not quiet:
        log(f"stopped (run dir {lay.run_dir})")
    return 0


def status(run_dir: Path) -> int:
    lay = _layout(run_dir)
    if not lay.state.exists():
        log(f"not running (no {lay.state})")
        return 1
    state = json.loads(lay.state.read_text())
    ok = True
    for name, port in state["ports"].items():
        try:
            line = _probe(state["host"], port, name == "smtps", Path(state["ca_file"]),
                          proxy=name == "proxy")
            log(f"{name:<10} {state['host']}:{port}  {line}")
        except (OSError, ssl.SSLError) as exc:
            ok = False
            log(f"{name:<10} {state['host']}:{port}  NOT ANSWERING ({exc})")
    postfix_up = _is_process(_read_pid(lay.postfix_pid), "master")
    dovecot_up = _is_process(_read_pid(lay.dovecot_pid), "dovecot")
    log(f"postfix master running: {postfix_up}; dovecot running: {dovecot_up}")
    log(f"state: {lay.state}")
    return 0 if ok and postfix_up and dovecot_up else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", choices=("install", "start", "stop", "status"))
    parser.add_argument("--run-dir", type=Path,
                        default=Path(os.environ.get("SMTPSCOPE_PEER_RUN_DIR", DEFAULT_RUN_DIR)),
                        help="where configs, queue, Maildirs, logs and mta.json live")
    parser.add_argument("--base-port", type=int,
                        default=int(os.environ.get("SMTPSCOPE_PEER_BASEPORT", conf.BASE_PORT)),
                        help="port of the plain smtpd; the others sit at fixed offsets")
    args = parser.parse_args(argv)
    if args.action == "install":
        return install()
    if args.action == "start":
        return start(args.run_dir, args.base_port)
    if args.action == "stop":
        return stop(args.run_dir)
    return status(args.run_dir)


if __name__ == "__main__":
    sys.exit(main())
