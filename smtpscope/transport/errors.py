"""Transport exceptions: each network failure becomes one, with a message a user can act on."""

from __future__ import annotations

import errno
import ssl

_UNREACHABLE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.ENETDOWN}


def format_address(host: str, port: int) -> str:
    """"host:port", or "[v6]:port" for an IPv6 address."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class TransportError(Exception):
    """Base class for failures of the connection itself (never for SMTP replies)."""


class ConnectError(TransportError):
    """The TCP connection could not be established.

    ``kind`` is one of ``"resolve"``, ``"refused"``, ``"unreachable"``, ``"timeout"`` or
    ``"other"`` so callers can pick an exit code or a hint without parsing the message.
    ``socket``: a UNIX socket's connection (``host`` is its path; ``"resolve"`` means no
    socket there), where advice about host names and ports does not apply.
    """

    def __init__(self, message: str, *, host: str, port: int, kind: str,
                 socket: bool = False) -> None:
        super().__init__(message)
        self.host = host
        self.port = port
        self.kind = kind
        self.socket = socket


class ConnectionLost(TransportError):
    """The established connection broke (reset, broken pipe, TLS record error)."""


# How many bytes of a plaintext answer to the handshake are kept: enough for a reply line.
ANSWER_KEPT = 200


class TLSError(TransportError):
    """The TLS handshake failed.

    ``kind`` is ``"verify"`` (certificate verification), ``"protocol"`` (no common version or
    cipher, plaintext peer, alert), ``"closed"`` (peer hung up mid-handshake) or ``"timeout"``.
    ``reason`` is the short cause (OpenSSL's verify message for ``"verify"``), ``verify_code`` the
    OpenSSL X509 verify code when there is one, and ``hint`` what the user could try.
    ``openssl`` is OpenSSL's own error as (library, reason) mnemonics (``("SSL",
    "WRONG_VERSION_NUMBER")``) when OpenSSL raised one, so an export can word it as OpenSSL does.
    ``answer`` holds the first bytes the server sent instead of a ServerHello when they were
    not TLS (plaintext: a ``454`` after the 220 to STARTTLS, a banner on a plain port), cut
    at ``ANSWER_KEPT``; empty otherwise.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        reason: str,
        server_hostname: str | None = None,
        verify_code: int | None = None,
        hint: str | None = None,
        openssl: tuple[str, str] | None = None,
        answer: bytes = b"",
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.reason = reason
        self.server_hostname = server_hostname
        self.verify_code = verify_code
        self.hint = hint
        self.openssl = openssl
        self.answer = answer


class ReadTimeout(TimeoutError):
    """No data arrived within the read timeout.

    Deliberately a ``TimeoutError`` and not a ``TransportError``: the connection is still usable,
    and the session decides whether a silent server ends the conversation.
    """

    def __init__(self, message: str, *, timeout: float) -> None:
        super().__init__(message)
        self.timeout = timeout


def read_timed_out(peer: str, seconds: float | None) -> ReadTimeout:
    """Nothing came from ``peer`` within ``seconds``."""
    return ReadTimeout(f"no data from {peer} within {seconds or 0:g} s", timeout=seconds or 0)


class WriteTimeout(TimeoutError):
    """The peer did not accept our data in time (its receive window stayed full)."""

    def __init__(self, message: str, *, timeout: float) -> None:
        super().__init__(message)
        self.timeout = timeout


def connect_failure(exc: OSError, host: str, port: int, addr: str) -> ConnectError:
    """What connecting ``host`` at its address ``addr`` raised, as a ConnectError with a kind.

    The kind comes from the exception's type and errno, never from its text.
    """
    target = format_address(addr, port)
    if isinstance(exc, ConnectionRefusedError):
        return ConnectError(
            f"connection refused by {target} (nothing listening on that port?)",
            host=host,
            port=port,
            kind="refused",
        )
    if isinstance(exc, TimeoutError):
        return ConnectError(f"no answer from {target} (connecting timed out)", host=host,
                            port=port, kind="timeout")
    if exc.errno in _UNREACHABLE:
        what = "network" if exc.errno in (errno.ENETUNREACH, errno.ENETDOWN) else "host"
        if exc.errno == errno.EADDRNOTAVAIL:
            what = "address"
        return ConnectError(
            f"cannot reach {target}: {what} unreachable ({exc.strerror or exc})",
            host=host,
            port=port,
            kind="unreachable",
        )
    return ConnectError(
        f"cannot connect to {target}: {exc.strerror or exc}", host=host, port=port, kind="other"
    )


def connection_lost(peer: str, exc: BaseException | None) -> ConnectionLost:
    """The connection to ``peer`` ended while in use: ``exc`` is what broke it (None: EOF)."""
    if exc is None:
        message = f"connection closed by {peer}"
    elif isinstance(exc, ConnectionResetError):
        message = f"connection reset by {peer}"
    elif isinstance(exc, BrokenPipeError):
        message = f"connection to {peer} broken (the server closed it while we were sending)"
    elif isinstance(exc, ssl.SSLError):
        message = f"TLS error on the connection to {peer}: {exc.reason or exc}"
    else:
        message = f"connection to {peer} lost: {exc}"
    return ConnectionLost(message)
