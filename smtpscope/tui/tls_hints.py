"""Hints for a plain connection made to a port that speaks TLS from the first byte."""

from __future__ import annotations

from typing import Any

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
        f"as on 465), connect with smtps://{where} (or --tls implicit; F5 changes it). "
        "Still waiting for a greeting."
    )
