"""Debug server settings: the ServerConfig value, users (``--user``/file) and listen checks."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from pathlib import Path

from smtpscope.sanitize import visible
from smtpscope.server.faults import Fault
from smtpscope.server.trace import domain_or_none

# aiosmtpd's own default (32 MiB); advertised in EHLO SIZE and enforced on MAIL SIZE= and DATA.
DEFAULT_SIZE = 2**25
DEFAULT_PORT = 2525
ALL_MECHANISMS = ("PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256")


class ConfigError(ValueError):
    """A setting that cannot work; the message names it and says what to do instead."""


@dataclass
class ServerConfig:
    """Everything a DebugServer needs; paths left None fall back to the data directory."""

    host: str = "127.0.0.1"
    port: int | None = DEFAULT_PORT  # plain SMTP (with STARTTLS unless starttls=False); 0 = free
    tls_port: int | None = None  # implicit TLS; 0 = any free port; None = off
    listen_any: bool = False
    hostname: str = "localhost"
    starttls: bool = True
    cert: Path | None = None
    key: Path | None = None
    users: dict[str, str] = field(default_factory=dict)
    mechanisms: tuple[str, ...] = ALL_MECHANISMS
    require_tls: bool = False
    require_auth: bool = False
    size: int | None = DEFAULT_SIZE  # None or 0: no limit, nothing advertised
    maildir: Path | None = None
    trace: bool = True  # Return-Path, Envelope-to and Received above each stored message
    record: bool = True
    record_dir: Path | None = None
    faults: tuple[Fault, ...] = ()
    fault_seed: int | None = None
    timeout: float = 300.0

    @property
    def needs_tls(self) -> bool:
        """True when a certificate is needed (STARTTLS offered or an implicit TLS port)."""
        return self.starttls or self.tls_port is not None

    def validate(self) -> None:
        """Raise ConfigError for contradictory settings."""
        if self.port is None and self.tls_port is None:
            raise ConfigError("nothing to listen on: give --port or --tls-port")
        if self.port and self.port == self.tls_port:
            # One socket cannot be both; without this, the second bind says "in use".
            raise ConfigError(f"--port and --tls-port are both {self.port}: give two different "
                              "ports (or 0 for any free one)")
        if self.require_tls and not self.needs_tls:
            raise ConfigError("--require-tls needs TLS: drop --no-starttls or add --tls-port")
        if self.require_auth and not self.users:
            raise ConfigError(
                "--require-auth needs at least one user: add --user NAME or --users-file FILE"
            )
        unknown = [m for m in self.mechanisms if m not in ALL_MECHANISMS]
        if unknown:
            from smtpscope.typos import did_you_mean  # only for a mistyped name

            raise ConfigError(
                f"unknown AUTH mechanism {unknown[0]!r}; choose from {', '.join(ALL_MECHANISMS)}"
                f"{did_you_mean(unknown[0], ALL_MECHANISMS)}"
            )
        if (self.cert is None) != (self.key is None):
            raise ConfigError("--cert and --key go together: give both, or neither to generate one")
        if self.size is not None and self.size < 0:
            raise ConfigError("--size must be 0 (no limit) or a positive number of bytes")
        if domain_or_none(self.hostname) != self.hostname:
            # It is the greeting's domain and the Received line's "by" (RFC 5321 4.1.2).
            raise ConfigError(f"--hostname {visible(self.hostname)} is not a domain name or "
                              "address literal (a non-ASCII name goes in its xn-- form)")
        check_listen_host(self.host, self.listen_any)


def parse_user(spec: str) -> tuple[str, str]:
    """Parse ``NAME:PASSWORD`` (the password may contain colons)."""
    name, sep, password = spec.partition(":")
    if not sep:
        # Without a colon the text may well be a password: never repeat it.
        raise ConfigError("a user must be given as NAME:PASSWORD (no colon found)")
    if not name or not password:
        raise ConfigError(f"user {name!r}: expected NAME:PASSWORD with both parts non-empty")
    return check_user_name(name), password


def check_user_name(name: str) -> str:
    """``name`` when it can be a login name; ConfigError (not repeating it) otherwise."""
    if not name:
        raise ConfigError("a user name cannot be empty")
    if any(ch.isspace() or not ch.isprintable() for ch in name):
        raise ConfigError("a user name cannot contain spaces or control characters")
    return name


def load_users(path: Path) -> dict[str, str]:
    """Read ``name:password`` lines; blank lines and ``#`` comments are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read users file {path}: {exc.strerror or exc}") from exc
    users: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            name, password = parse_user(stripped)
        except ConfigError as exc:
            # Never echo the line itself: it holds a password.
            raise ConfigError(f"{path} line {number}: {exc}") from None
        users[name] = password
    return users


def is_loopback(host: str) -> bool:
    """True if ``host`` is a loopback address or a name that resolves only to loopback."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    if host == "localhost":
        return True
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


def check_listen_host(host: str, listen_any: bool) -> None:
    """Refuse a non-loopback bind unless the user said so explicitly."""
    if not listen_any and not is_loopback(host):
        raise ConfigError(
            f"--host {host} is not a loopback address: this server accepts any message from "
            "anyone who can reach it; add --listen-any if you really mean it"
        )


def resolve_listen_host(host: str) -> str:
    """One numeric address to bind, so that port 0 gives a single port (not one per family)."""
    bare = host.strip("[]")
    try:
        return str(ipaddress.ip_address(bare))
    except ValueError:
        pass
    if host == "localhost":
        return "127.0.0.1"
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise ConfigError(f"cannot resolve --host {host}: {exc}") from exc
    return str(infos[0][4][0])
