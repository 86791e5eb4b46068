"""The resumption check (``probe --reconnect``): a second connection offering the saved session."""

from __future__ import annotations

import ssl
from typing import Any

from smtpscope.security.starttls_client import open_tls, quit_politely
from smtpscope.transport.errors import TransportError


def check_resumption(address: str, port: int, *, implicit: bool, context: ssl.SSLContext,
                     sni: str | None, session: ssl.SSLSession | None, helo: str,
                     timeout: float) -> dict[str, Any]:
    """Connect again (blocking: run in a thread), offer ``session``, report whether it resumed."""
    if session is None:
        return {"attempted": False, "resumed": False,
                "error": "the server gave no session to resume (no ticket or session id)"}
    try:
        tls, wire = open_tls(address, port, implicit=implicit, context=context, sni=sni,
                               helo=helo, timeout=timeout, session=session)
    except (OSError, ssl.SSLError, TransportError) as exc:  # ConnectionError is an OSError
        return {"attempted": True, "resumed": False, "error": str(exc)}
    resumed, version = bool(tls.session_reused), tls.version()
    quit_politely(tls, wire, implicit)
    return {"attempted": True, "resumed": resumed, "version": version, "error": None}
