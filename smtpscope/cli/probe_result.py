"""The JSON form of one probe's result: its skeleton, the replies, EHLO keywords, the route."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from smtpscope.cli import common
from smtpscope.protocol.errors import shown_text

if TYPE_CHECKING:
    from smtpscope.protocol import Reply
    from smtpscope.session import Session


def reply_json(reply: Reply) -> dict[str, Any]:
    # Shown text, so the report shows an undecodable byte as \xNN; common.dumps writes it as
    # U+FFFD, which JSON can carry. The exact bytes travel in raw_base64.
    return {
        "code": reply.code,
        "enhanced": None if reply.enhanced is None else str(reply.enhanced),
        "lines": list(reply.shown_lines),
        "raw": shown_text(reply.raw),
        "raw_base64": common.raw_base64(reply.raw),
        "warnings": list(reply.warnings),
    }


def ehlo_json(reply: Reply) -> dict[str, Any]:
    from smtpscope.protocol import Capabilities

    caps = Capabilities.parse(reply)
    out = reply_json(reply)
    out["domain"] = caps.domain
    out["keywords"] = [
        {"keyword": c.keyword, "params": list(c.params), "meaning": c.meaning, "rfc": c.rfc}
        for c in caps.keywords
    ]
    return out


def route_json(session: Session) -> dict[str, Any] | None:
    """Which MX candidate answered and why the ones before it failed (the session's attempts)."""
    candidates = list(session.options.route)
    if not candidates:
        return None
    attempts = [{"candidate": a.candidate.display, "via": a.candidate.via, "error": a.error}
                for a in session.attempts]
    used = next((a for a in attempts if a["error"] is None), None)
    return {"used": used, "failed": [a for a in attempts if a["error"] is not None],
            "candidates": [c.display for c in candidates]}


def new_result(target: str) -> dict[str, Any]:
    return {
        "schema_version": common.SCHEMA_VERSION,
        "target": target, "status": None, "stage": None, "error": None, "hint": None,
        "server": None, "route": None, "banner": None,
        "ehlo": {"plain": None, "tls": None},
        "starttls": {"offered": False, "attempted": False, "reply": None},
        "tls": None, "mta_sts": None, "capability_changes": None, "timings": {},
    }
