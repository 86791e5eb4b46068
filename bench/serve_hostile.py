"""Benchmark: peak memory of a real ``smtpscope serve`` under clients that never end a line.

Starts ``python -m smtpscope serve`` on a free loopback port (private data directory), samples
its resident set size from ``/proc`` every few milliseconds, and runs two floods while a polite
client keeps sending complete messages next to them:

- one client sends a DATA line of 600 MB without CRLF (then ends it; past --size, 552 expected);
- 16 clients at once each send ``NOOP`` plus 36 MB without LF (then LF; 500 expected).

It prints the peak RSS of each flood beside the goal (under 150 MB), the RSS once the flooders
have left, how many messages the polite client got through meanwhile, and how many wrong AUTH
guesses a second the same number of connections get answered. Loopback only;
every loop is bounded, and the server is stopped and its pipe closed at the end, however
the run ends. Linux (reads /proc).

Run: ``python bench/serve_hostile.py [--data-mb 600] [--clients 16] [--line-mb 36] [--size-mb 32]``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

GOAL_MB = 150
CHUNK = 1 << 20
ROOT = Path(__file__).resolve().parent.parent


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` in MB (0 once it is gone)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    match = re.search(r"^VmRSS:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else 0.0


class Sampler(threading.Thread):
    """Samples a process's RSS until stopped; ``peak`` is the highest seen since ``reset``."""

    def __init__(self, pid: int, interval: float = 0.005) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak = 0.0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(self.interval)

    def reset(self) -> None:
        self.peak = rss_mb(self.pid)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(2)


def read_reply(sock: socket.socket) -> bytes:
    """One whole SMTP reply (the last line has a space after the code)."""
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
        lines = data.split(b"\r\n")
        if len(lines) >= 2 and lines[-2][3:4] == b" ":
            return data


def session(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=120)
    try:
        read_reply(sock)
        sock.sendall(b"EHLO bench.test\r\n")
        read_reply(sock)
    except BaseException:
        sock.close()
        raise
    return sock


def command(sock: socket.socket, line: bytes) -> bytes:
    sock.sendall(line)
    return read_reply(sock)


class PoliteClient(threading.Thread):
    """Sends complete small messages, one session each, until stopped (or ``limit`` reached)."""

    def __init__(self, port: int, limit: int = 100_000) -> None:
        super().__init__(daemon=True)
        self.port, self.limit = port, limit
        self.sent = 0
        self.slowest = 0.0
        self.errors: list[str] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set() and self.sent < self.limit:
            started = time.monotonic()
            try:
                with session(self.port) as sock:
                    command(sock, b"MAIL FROM:<polite@bench.test>\r\n")
                    command(sock, b"RCPT TO:<inbox@bench.test>\r\n")
                    command(sock, b"DATA\r\n")
                    reply = command(sock, b"Subject: hi\r\n\r\nstill served\r\n.\r\n")
                    command(sock, b"QUIT\r\n")
            except OSError as exc:
                self.errors.append(str(exc))
                time.sleep(0.1)
                continue
            if reply.startswith(b"250"):
                self.sent += 1
                self.slowest = max(self.slowest, time.monotonic() - started)
            time.sleep(0.05)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(10)


def flood_data(port: int, megabytes: int) -> bytes:
    with session(port) as sock:
        command(sock, b"MAIL FROM:<flood@bench.test>\r\n")
        command(sock, b"RCPT TO:<inbox@bench.test>\r\n")
        command(sock, b"DATA\r\n")
        chunk = b"Z" * CHUNK
        for _ in range(megabytes):
            sock.sendall(chunk)
        return command(sock, b"\r\n.\r\n")


def flood_command(port: int, megabytes: int, replies: list[bytes]) -> None:
    with session(port) as sock:
        sock.sendall(b"NOOP ")
        chunk = b"N" * CHUNK
        for _ in range(megabytes):
            sock.sendall(chunk)
        replies.append(command(sock, b"\n"))


def guess_passwords(port: int, clients: int) -> tuple[int, float]:
    """Wrong AUTH PLAIN from ``clients`` connections at once until each is cut off."""
    import base64

    wrong = b"AUTH PLAIN " + base64.b64encode(b"\0bench\0wrong") + b"\r\n"
    done: list[int] = []

    def one() -> None:
        tries = 0
        with session(port) as sock:
            for _ in range(10):  # bounded; the server closes after a few
                try:
                    reply = command(sock, wrong)
                except OSError:
                    break
                if not reply.startswith(b"535"):
                    break
                tries += 1
        done.append(tries)

    started = time.monotonic()
    threads = [threading.Thread(target=one) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return sum(done), time.monotonic() - started


@contextlib.contextmanager
def running_server(home: Path, size_mb: int) -> Iterator[tuple[int, int]]:
    """``smtpscope serve`` in a child process, as (pid, port); on the way out, whatever
    happened, it is stopped and reaped and its pipe closed."""
    env = dict(os.environ, SMTPSCOPE_HOME=str(home), PYTHONUNBUFFERED="1",
               BENCH_PASSWORD="right-password",
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    # stderr joins stdout: one pipe to drain (one never read can fill up and block the
    # server), and a start that fails shows why.
    with subprocess.Popen(
            [sys.executable, "-m", "smtpscope", "serve", "--port", "0", "--no-starttls",
             "--user", "bench", "--password-env", "BENCH_PASSWORD",
             "--maildir", str(home / "maildir"), "--size", str(size_mb << 20)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True) as proc:  # leaving it closes the pipe and waits for the process
        assert proc.stdout is not None
        # Keep draining the console so the server never blocks on a full pipe.
        drain = threading.Thread(target=_drain, args=(proc.stdout,), daemon=True)
        try:
            port = _port(proc.stdout)
            drain.start()
            yield proc.pid, port
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if drain.is_alive():
                drain.join(5)  # it reads to the end of the output: not closed under it


def _port(console: IO[str]) -> int:
    """The port ``serve`` says it listens on (SystemExit with what it said instead)."""
    seen: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (line := console.readline()):
        match = re.match(r"listening on 127\.0\.0\.1:(\d+)", line)
        if match:
            return int(match.group(1))
        seen.append(line)
    raise SystemExit("serve did not start:\n" + "".join(seen))


def _drain(console: IO[str]) -> None:
    for _ in console:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-mb", type=int, default=600, help="DATA line length (MB)")
    parser.add_argument("--clients", type=int, default=16, help="parallel command flooders")
    parser.add_argument("--line-mb", type=int, default=36, help="command line length (MB)")
    # A DATA line may run to the --size bound before it is drained and the message refused.
    parser.add_argument("--size-mb", type=int, default=32, help="serve's --size (MB)")
    args = parser.parse_args(argv)
    with (tempfile.TemporaryDirectory(prefix="smtpscope-bench-") as tmp,
          running_server(Path(tmp), args.size_mb) as (pid, port)):
        sampler = Sampler(pid)
        sampler.start()
        try:
            time.sleep(0.5)
            idle = rss_mb(pid)
            results = []

            polite = PoliteClient(port)
            polite.start()
            sampler.reset()
            started = time.monotonic()
            reply = flood_data(port, args.data_mb)
            results.append((f"{args.data_mb} MB DATA line, no CRLF", sampler.peak,
                            time.monotonic() - started, reply[:3].decode(errors="replace")))
            polite.stop()
            served_a, slowest_a = polite.sent, polite.slowest

            polite = PoliteClient(port)
            polite.start()
            sampler.reset()
            started = time.monotonic()
            replies: list[bytes] = []
            threads = [threading.Thread(target=flood_command, args=(port, args.line_mb, replies))
                       for _ in range(args.clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(600)
            codes = sorted({r[:3].decode(errors="replace") for r in replies})
            results.append((f"{args.clients} x {args.line_mb} MB command lines, no LF",
                            sampler.peak, time.monotonic() - started, ",".join(codes)))
            polite.stop()
            served_b, slowest_b = polite.sent, polite.slowest
            time.sleep(1.0)
            after = rss_mb(pid)
            guesses, guess_time = guess_passwords(port, args.clients)
        finally:
            sampler.stop()
    print(f"smtpscope serve, idle RSS {idle:.0f} MB; goal: peak under {GOAL_MB} MB per flood")
    print(f"{'flood':<40} {'peak RSS':>9} {'goal':>7} {'time':>7}  reply  ok")
    for (name, peak, seconds, code), served, slowest in zip(
            results, (served_a, served_b), (slowest_a, slowest_b), strict=True):
        verdict = "yes" if peak < GOAL_MB else "NO"
        print(f"{name:<40} {peak:>6.0f} MB {'<' + str(GOAL_MB):>4} MB {seconds:>6.1f}s  "
              f"{code:<5}  {verdict}")
        print(f"{'  meanwhile, messages served to another client':<56} {served:>4} "
              f"(slowest {slowest:.2f}s)")
    print(f"RSS after the flooders left: {after:.0f} MB")
    print(f"wrong AUTH from {args.clients} connections at once: {guesses} answered in "
          f"{guess_time:.1f}s = {guesses / guess_time:.0f} guesses/s (each connection cut off "
          "after 4)")
    ok = all(peak < GOAL_MB for _, peak, _, _ in results) and served_a > 0 and served_b > 0
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
