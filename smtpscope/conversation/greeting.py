"""Greeting (EHLO, LHLO for LMTP, HELO for plain SMTP) and STARTTLS followed by a new greeting."""

from __future__ import annotations

import time
from enum import StrEnum
from typing import TYPE_CHECKING

from smtpscope.conversation.errors import NotOffered, Rejected
from smtpscope.protocol import Ehlo, Helo, Lhlo, Reply
from smtpscope.session_types import Stage
from smtpscope.values import Frozen

if TYPE_CHECKING:  # not imported: a blocking session runs these steps without asyncio
    from smtpscope.session import Session

# Replies to EHLO that mean "no ESMTP here" (RFC 5321 §4.1.4): HELO may still work.
_NO_ESMTP = frozenset({500, 502})


class Dialect(StrEnum):
    """Which greeting starts the conversation."""

    ESMTP = "esmtp"  # EHLO; HELO when the server does not know EHLO
    SMTP = "smtp"  # HELO only (RFC 821 servers, or to see what a server does without ESMTP)
    LMTP = "lmtp"  # LHLO (RFC 2033)


class TLSMode(StrEnum):
    """When to use TLS: STARTTLS if offered, STARTTLS required, implicit TLS, or never."""

    AUTO = "auto"
    STARTTLS = "starttls"
    IMPLICIT = "implicit"
    PLAIN = "plain"

    @classmethod
    def parse(cls, text: str) -> TLSMode:
        """``none`` is the command-line word for PLAIN."""
        return cls.PLAIN if text == "none" else cls(text)


def dialect_of(session: Session, requested: Dialect | None = None) -> Dialect:
    """LMTP sessions greet with LHLO whatever was asked; else the request (ESMTP by default)."""
    if session.view.lmtp:
        return Dialect.LMTP
    return requested or Dialect.ESMTP


async def greet(session: Session, dialect: Dialect = Dialect.ESMTP, *,
                stage: Stage = Stage.EHLO, helo_fallback: bool = True) -> Reply:
    """Send the greeting for ``dialect``; raise ``Rejected`` unless it is accepted.

    With ``helo_fallback`` an ESMTP greeting refused as unknown (500/502) is retried as HELO.
    """
    name = session.options.helo_name
    if dialect is Dialect.LMTP:
        reply = await session.command(Lhlo(name))
    elif dialect is Dialect.SMTP:
        reply = await session.command(Helo(name))
    else:
        reply = await session.command(Ehlo(name))
        if reply.code in _NO_ESMTP and helo_fallback:
            session.transcript.note("EHLO not understood: trying HELO (no extensions)",
                                    kind="warning")
            reply = await session.command(Helo(name))
    if reply.code != 250:
        raise Rejected(stage, f"{'LHLO' if dialect is Dialect.LMTP else 'EHLO/HELO'} rejected",
                       reply)
    return reply


class Secured(Frozen):
    """What STARTTLS did: offered or not, its reply, and the greeting inside TLS."""

    __slots__ = ("greeting", "offered", "starttls", "tls_at")
    offered: bool
    starttls: Reply | None
    greeting: Reply | None
    tls_at: float | None  # time.monotonic() when the handshake finished (for timings)

    def __init__(self, offered: bool, starttls: Reply | None = None,
                 greeting: Reply | None = None, tls_at: float | None = None) -> None:
        self._set(offered=offered, starttls=starttls, greeting=greeting, tls_at=tls_at)

    @property
    def started(self) -> bool:
        """True once the handshake is done (whether or not the greeting inside TLS is)."""
        return self.tls_at is not None


async def secure(session: Session, mode: TLSMode, dialect: Dialect = Dialect.ESMTP, *,
                 greet_again: bool = True) -> Secured:
    """STARTTLS (when ``mode`` asks for it) and, with ``greet_again``, greet again inside TLS.

    AUTO goes on without TLS when STARTTLS is not offered or refused (with a warning in the
    transcript); STARTTLS mode raises ``NotOffered``/``Rejected`` at stage TLS instead.
    A failed handshake raises ``TLSFailed`` from the session. Without ``greet_again`` it stops
    right after the handshake (swaks' TLS stop point); :func:`greet_in_tls` greets later.
    """
    caps = session.view.capabilities
    offered = caps is not None and caps.has("STARTTLS")
    if mode in (TLSMode.PLAIN, TLSMode.IMPLICIT) or session.view.tls is not None:
        return Secured(offered)
    if not offered:
        if mode is TLSMode.STARTTLS:
            # Whoever asked for TLS (a flag, a level, a target) names itself: not known here.
            raise NotOffered("the server does not advertise STARTTLS, and TLS is required",
                             Stage.TLS)
        session.transcript.note("STARTTLS not offered: going on without TLS", kind="warning")
        return Secured(False)
    reply = await session.starttls()
    if reply.code != 220 or session.view.tls is None:
        what = starttls_refusal(reply)
        if mode is TLSMode.STARTTLS:
            raise Rejected(Stage.TLS, what, reply)
        session.transcript.note(f"{what}: going on without TLS", kind="warning")
        return Secured(True, reply)
    tls_at = time.monotonic()  # the clock of asyncio's loop.time(), which others time by
    again = await greet_in_tls(session, dialect) if greet_again else None
    return Secured(True, reply, again, tls_at)


def starttls_refusal(reply: Reply) -> str:
    """What a reply other than 220 to STARTTLS is: a refusal (454, 501, ...), or, for another
    success code, no answer RFC 3207 knows: TLS is not started either way."""
    if reply.is_success:
        return f"STARTTLS answered {reply.code}, not RFC 3207's 220: TLS not started"
    return "STARTTLS refused"


async def greet_in_tls(session: Session, dialect: Dialect = Dialect.ESMTP) -> Reply:
    """The greeting after STARTTLS (RFC 3207 §4.2: the server forgot the first one)."""
    return await greet(session, dialect, stage=Stage.EHLO_TLS, helo_fallback=False)
