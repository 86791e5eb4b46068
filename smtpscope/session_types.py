"""What a session is configured with, how it fails, and how its events are described.

Pure values and functions beside :mod:`smtpscope.session` (which holds the I/O loop), so the
loop stays readable and views can import these without pulling in asyncio.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from smtpscope.protocol import Command, Reply
from smtpscope.transport.timeouts import RFC5321_TIMEOUTS
from smtpscope.transport.tls import TLSInfo

DEFAULT_HELO = "smtpscope.localhost"


class SessionError(Exception):
    """The session could not go on; ``stage`` names where it stopped (connect, banner, ...)."""

    def __init__(self, message: str, stage: str) -> None:
        super().__init__(message)
        self.stage = stage


class SessionClosed(SessionError):
    """The server closed the connection (or it was reset) while a reply was awaited."""


@dataclass
class SessionOptions:
    """How to connect: everything a view asks the user, with safe defaults."""

    host: str
    port: int = 25
    security: str = "starttls"  # "plain" | "starttls" | "implicit"; "auto" = starttls if offered
    helo_name: str = DEFAULT_HELO
    verify: bool = True
    cafile: str | None = None
    server_hostname: str | None = None
    tls: Any = None  # smtpscope.security.policy.TLSPolicy; None: built from verify/cafile
    connect_timeout: float = 30.0
    lmtp: bool = False
    route: tuple[Any, ...] = ()  # MX candidates (smtpscope.mx.Candidate) tried in order
    reply_timeout: float | None = None  # None: RFC 5321 §4.5.3.2 values, per command

    @property
    def tls_server_name(self) -> str:
        return self.server_hostname or self.host


# Which RFC 5321 §4.5.3.2 timeout applies while waiting for the reply to a command.
_TIMEOUT_KEY = {"MailFrom": "mail", "RcptTo": "rcpt", "Data": "data_init", "Bdat": "data_term",
                "content": "data_term"}


def timeout_for(command: Command | str | None) -> float:
    """RFC 5321 §4.5.3.2 read timeouts, by what we are waiting for (5 minutes otherwise)."""
    if command is None:
        key = "greeting"
    else:
        key = _TIMEOUT_KEY.get(command if isinstance(command, str) else type(command).__name__,
                               "greeting")
    return float(RFC5321_TIMEOUTS.get(key, 300.0))


def reply_dict(reply: Reply) -> dict[str, Any]:
    return {
        "code": reply.code,
        "enhanced": str(reply.enhanced) if reply.enhanced is not None else None,
        "lines": list(reply.text_lines),
        "warnings": list(reply.warnings),
        "unsolicited": reply.unsolicited,
    }


def tls_info_dict(info: TLSInfo) -> dict[str, Any]:
    """A JSON-ready form of a TLSInfo for transcripts and reports."""
    data = asdict(info)
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in data.items()}


def describe_tls(info: TLSInfo) -> str:
    """One line for the TLS boundary: version, cipher and what verification said."""
    from smtpscope.security.report import trust_line

    check = trust_line(info)
    return f"TLS started: {info.version} {info.cipher} ({info.bits} bits) · {check}"
