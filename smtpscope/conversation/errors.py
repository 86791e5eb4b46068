"""Typed failures of the conversation layer: a refused step, or something not offered."""

from __future__ import annotations

from smtpscope.protocol import Reply
from smtpscope.sanitize import visible
from smtpscope.session_types import SessionError, Stage


class Rejected(SessionError):
    """The server answered a step with a code that ends it; ``reply`` is that answer."""

    def __init__(self, stage: Stage, what: str, reply: Reply | None) -> None:
        text = what if reply is None else \
            f"{what}: {reply.code} {visible(' '.join(reply.shown_lines))}".rstrip()
        super().__init__(text, stage)
        self.reply = reply


class NotOffered(SessionError):
    """A step needs an extension the server did not advertise (STARTTLS, CHUNKING, AUTH)."""


class CleartextRefused(SessionError):
    """Credentials a mechanism sends readable (PLAIN, LOGIN, the OAuth tokens) were not sent:
    the connection has no TLS and TLS was not turned off on purpose. Nothing went out."""

    hint = ("--tls starttls to insist on TLS, or --tls none to send them without it on "
            "purpose")
