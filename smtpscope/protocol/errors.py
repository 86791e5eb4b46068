"""Exceptions raised by the sans-IO SMTP engine."""

from __future__ import annotations

__all__ = [
    "CommandSyntaxError",
    "LocalProtocolError",
    "ProtocolError",
    "RemoteProtocolError",
    "show_bytes",
]

# How much of an offending line an error message quotes; enough to recognise it, not so much
# that a hostile server can fill a terminal through our error text.
_SHOW_LIMIT = 120


def show_bytes(data: bytes, limit: int = _SHOW_LIMIT) -> str:
    """Render untrusted bytes as a safe, bounded Python bytes literal (controls escaped)."""
    if len(data) > limit:
        return f"{data[:limit]!r}… ({len(data)} bytes)"
    return repr(data)


class ProtocolError(Exception):
    """Base class: something about the SMTP conversation is wrong."""


class RemoteProtocolError(ProtocolError):
    """The server sent bytes that are not an SMTP reply (garbage, over-long line, ...).

    A 4xx/5xx reply is never this: that is an ordinary event.
    """


class LocalProtocolError(ProtocolError):
    """We were asked to send something illegal (bad arguments or wrong moment)."""


class CommandSyntaxError(LocalProtocolError):
    """A command's text or arguments are malformed; ``hint`` shows the right form."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} (syntax: {self.hint})"
        return self.message
