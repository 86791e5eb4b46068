"""Pytest plugin: the `mta` fixture describing the running Postfix + Dovecot harness."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

DEFAULT_RUN_DIR = Path(__file__).resolve().parent / "run"
START_HINT = "start it with `python3 tests/peers/mta.py start`"


def run_dir() -> Path:
    return Path(os.environ.get("SMTPSCOPE_PEER_RUN_DIR", DEFAULT_RUN_DIR)).resolve()


def peers_required() -> bool:
    """CI must never pass by skipping every peer test, so there a missing harness fails."""
    return (os.environ.get("CI", "").lower() == "true"
            or os.environ.get("SMTPSCOPE_REQUIRE_PEERS", "") not in ("", "0"))


@dataclass
class Mta:
    """What `mta.py start` wrote to mta.json, plus helpers to read what Postfix delivered."""

    host: str
    ports: dict[str, int]
    ca_file: Path
    cert_file: Path
    users: dict[str, str]
    domain: str
    hostname: str
    maildir_root: Path
    message_size_limit: int
    default_size_limit: int
    postfix_config_dir: Path
    logs: dict[str, Path]
    state: dict[str, object]
    _seen: set[Path] = field(default_factory=set, repr=False)

    @classmethod
    def from_state(cls, state: dict[str, object]) -> Mta:
        s = state
        return cls(
            host=str(s["host"]),
            ports={k: int(v) for k, v in dict(s["ports"]).items()},  # type: ignore[call-overload]
            ca_file=Path(str(s["ca_file"])),
            cert_file=Path(str(s["cert_file"])),
            users={k: str(v) for k, v in dict(s["users"]).items()},  # type: ignore[call-overload]
            domain=str(s["domain"]),
            hostname=str(s.get("hostname", "")),
            maildir_root=Path(str(s["maildir_root"])),
            message_size_limit=int(s["message_size_limit"]),  # type: ignore[call-overload]
            default_size_limit=int(s.get("default_size_limit", 0)),  # type: ignore[call-overload]
            postfix_config_dir=Path(str(s["postfix_config_dir"])),
            logs={k: Path(str(v)) for k, v in dict(s.get("logs", {})).items()},  # type: ignore[call-overload]
            state=s,
        )

    # Ports by role: 25-like with optional STARTTLS, submission (TLS first), implicit TLS,
    # cleartext with a tiny size limit, and strict line endings (bare LF refused).
    @property
    def smtp(self) -> int:
        return self.ports["smtp"]

    @property
    def submission(self) -> int:
        return self.ports["submission"]

    @property
    def smtps(self) -> int:
        return self.ports["smtps"]

    @property
    def small(self) -> int:
        return self.ports["small"]

    @property
    def strict(self) -> int:
        return self.ports["strict"]

    # Dovecot LMTP: TCP and a UNIX socket, delivering into the same Maildirs.
    @property
    def lmtp(self) -> int:
        return self.ports["lmtp"]

    @property
    def lmtp_socket(self) -> Path:
        return Path(str(self.state["lmtp_socket"]))

    @property
    def lmtp_full_user(self) -> str:
        """A user LMTP accepts at RCPT and refuses after the data (over quota)."""
        return str(self.state["lmtp_full_user"])

    def address(self, user: str) -> str:
        return f"{user}@{self.domain}"

    def password(self, user: str) -> str:
        return self.users[user]

    def ssl_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts only the harness CA."""
        ctx = ssl.create_default_context(cafile=str(self.ca_file))
        return ctx

    def maildir(self, user: str) -> Path:
        return self.maildir_root / self.domain / user

    def _messages(self, user: str) -> list[Path]:
        box = self.maildir(user)
        files = [p for sub in ("new", "cur") for p in (box / sub).glob("*") if p.is_file()]
        # Maildir names start with the delivery time; mtime in ns breaks same-second ties.
        return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name), reverse=True)

    def read_delivered(self, user: str, wait: float = 30.0, *, match: bytes | None = None,
                       count: int = 1) -> list[bytes]:
        """Messages delivered to `user` since the last read (or since the session started).

        Polls until at least `count` new messages are there or `wait` seconds pass, then
        returns what it found (perhaps fewer, or []). With `match`, only messages containing
        those bytes count (and only they are marked read): other suites, in this checkout or
        another, may be mailing the same shared harness at the same time.
        """
        deadline = time.monotonic() + wait
        found: dict[Path, bytes] = {}
        while True:
            with contextlib.suppress(FileNotFoundError):
                for path in self._messages(user):
                    if path in self._seen or path in found:
                        continue
                    # Postfix renames into new/ once the file is complete, so reading is safe.
                    data = path.read_bytes()
                    if match is None or match in data:
                        found[path] = data
            if len(found) >= count or time.monotonic() >= deadline:
                self._seen.update(found)
                return list(found.values())
            time.sleep(0.05)

    def mark_all_read(self) -> None:
        """Treat everything delivered so far as read (older runs' mail stays on disk)."""
        for user in self.users:
            with contextlib.suppress(FileNotFoundError):
                self._seen.update(self._messages(user))

    def all_delivered(self, user: str) -> list[bytes]:
        """Every message in the user's Maildir, newest first, without marking them read."""
        return [p.read_bytes() for p in self._messages(user)]

    def log_tail(self, name: str = "postfix", lines: int = 40) -> str:
        path = self.logs.get(name)
        if path is None or not path.exists():
            return f"(no {name} log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def load_mta() -> tuple[Mta | None, str]:
    """The harness description, or None and the reason it is not usable."""
    state_file = run_dir() / "mta.json"
    try:
        state = json.loads(state_file.read_text())
        mta = Mta.from_state(state)
    except FileNotFoundError:
        return None, f"Postfix harness not running (no {state_file}): {START_HINT}"
    except (ValueError, KeyError, TypeError) as exc:
        return None, f"Postfix harness state {state_file} unreadable ({exc}): {START_HINT}"
    try:
        with socket.create_connection((mta.host, mta.smtp), timeout=30.0) as sock:
            greeting = sock.recv(512)
    except OSError as exc:
        return None, f"Postfix harness not answering on {mta.host}:{mta.smtp} ({exc}): {START_HINT}"
    if not greeting.startswith(b"220"):
        return None, f"Postfix harness greeted with {greeting!r}: {START_HINT}"
    return mta, ""


@pytest.fixture(scope="session")
def mta() -> Iterator[Mta]:
    """The running harness; skips (or fails under CI=true / SMTPSCOPE_REQUIRE_PEERS=1) if absent."""
    found, reason = load_mta()
    if found is None:
        if peers_required():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    found.mark_all_read()
    yield found


@pytest.fixture
def lmtp_mta(mta: Mta) -> Mta:
    """The harness with its Dovecot LMTP service (a harness started by an older mta.py has none)."""
    if "lmtp" not in mta.ports or "lmtp_socket" not in mta.state:
        reason = f"Postfix harness has no LMTP service: restart it, {START_HINT}"
        if peers_required():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return mta
