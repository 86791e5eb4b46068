"""Typed failures of the conversation layer: a refused step, or something not offered."""

from __future__ import annotations

from smtpscope.protocol import Reply
from smtpscope.sanitize import visible
from smtpscope.session_types import SessionError, Stage

#: What a 4xx refusal means to whoever reads it (RFC 5321 §4.2.1: transient, the same request
#: may succeed later): greylisting, rate limits and busy servers answer so.
TRANSIENT_HINT = ("a 4xx reply is temporary: the server asks to try again later, as "
                  "greylisting, rate limits and busy servers do")


class Rejected(SessionError):
    """The server answered a step with a code that ends it; ``reply`` is that answer."""

    def __init__(self, stage: Stage, what: str, reply: Reply | None) -> None:
        text = what if reply is None else \
            f"{what}: {visible(reply.shown_summary)}"
        super().__init__(text, stage)
        self.reply = reply

    @property
    def hint(self) -> str:
        return refusal_hint(self.reply)


def refusal_hint(reply: Reply | None) -> str:
    """``TRANSIENT_HINT`` for a 4xx answer, else nothing to add to the reply."""
    return TRANSIENT_HINT if reply is not None and reply.is_transient else ""


class NotOffered(SessionError):
    """A step needs an extension the server did not advertise (STARTTLS, CHUNKING, AUTH)."""


class ParamNotOffered(NotOffered):
    """A MAIL or RCPT parameter needs an EHLO keyword the server did not advertise (RFC 5321
    §4.1.1.11, RFC 3461 §4: a client must not use it). Found before MAIL FROM, so nothing of
    the transaction went out. ``helo``: the server was greeted with HELO, which announces no
    extension."""

    def __init__(self, stage: Stage, param: str, keyword: str, *, helo: bool = False) -> None:
        super().__init__(f"parameter {param} {self.needs(keyword, helo)}: not sent, nor MAIL "
                         "FROM", stage)
        self.param = param
        self.keyword = keyword
        self.helo = helo

    @staticmethod
    def needs(keyword: str, helo: bool) -> str:
        return f"needs {keyword}, " + ("and HELO announces no extension" if helo
                                       else "which the server did not advertise")


class CleartextRefused(SessionError):
    """Credentials a mechanism sends readable (PLAIN, LOGIN, the OAuth tokens) were not sent:
    the connection has no TLS and TLS was not turned off on purpose. Nothing went out."""

    hint = ("--tls starttls to insist on TLS, or --tls none to send them without it on "
            "purpose")
