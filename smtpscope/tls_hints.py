"""Hints for a plain connection made to a port that speaks TLS from the first byte.

RFC 5321 §4.5.3.2.1 gives a server 5 minutes for its greeting, but real ones greet at once
(Postfix's postscreen may pause a few seconds): a plain client on an implicit-TLS port (465,
submissions) would otherwise wait out the whole timeout without a clue.
"""

from __future__ import annotations

from typing import Any

# Seconds without a greeting before the hint is given (the wait itself goes on).
GREETING_HINT_AFTER = 3.0

# The first bytes of a TLS record: content type (handshake 0x16 or alert 0x15), major version 3.
_TLS_RECORD_STARTS = (b"\x16\x03", b"\x15\x03")


def looks_like_tls(session: Any) -> bool:
    """Whether the server sent what looks like a TLS record instead of an SMTP greeting."""
    for entry in session.transcript:
        if entry.direction == "server":
            return bytes(entry.raw[:2]) in _TLS_RECORD_STARTS
    return False


def implicit_tls_hint(host: str, port: int, why: str) -> str:
    """The note shown to a plain client that gets no greeting from an implicit-TLS port."""
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return (
        f"{why.capitalize()}. If port {port} expects TLS from the first byte (implicit TLS, "
        f"as on 465), connect with smtps://{where} (or --tls implicit). "
        "Still waiting for a greeting."
    )
