"""Conversation: the steps in order over one session, keeping the stage for exit codes."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, TypeVar

from smtpscope.conversation.errors import CleartextRefused, Rejected
from smtpscope.conversation.greeting import (
    Dialect,
    Secured,
    TLSMode,
    dialect_of,
    greet,
    greet_in_tls,
    secure,
)
from smtpscope.protocol import Reply
from smtpscope.protocol.kinds import Kind
from smtpscope.session_types import SessionError, Stage, reply_limit

if TYPE_CHECKING:  # a probe greets and secures only: sending loads asyncio and the rest
    from smtpscope.auth import Mechanism
    from smtpscope.conversation.message import Delivery, Envelope
    from smtpscope.session import Session

T = TypeVar("T")


class Conversation:
    """Greet, secure, authenticate and send over ``session``; ``stage`` says where it is.

    ``stage`` is set before each step, so whatever a step raises (a typed session error, a
    ``Rejected`` reply, a timeout) belongs to it. The session times each wait: a connection
    attempt or TLS handshake by ``connect_timeout``, each reply by ``reply_timeout`` (a typed
    ``ReplyTimeout`` naming what it waited for), the reply to the message by ``data_timeout``
    (``session_types.reply_limit``); ``step_timeout`` is that reply limit for a session that
    sets none. No limit spans a whole step: over connect and banner it would cut
    a slow pair short or, doubled, wait twice as long for a silent server. Only ``send`` has
    one more, generous, for writes a server stops reading.
    """

    def __init__(self, session: Session, *, dialect: Dialect | None = None,
                 tls: TLSMode = TLSMode.AUTO, step_timeout: float | None = None,
                 helo_fallback: bool = True) -> None:
        self.session = session
        self.dialect = dialect_of(session, dialect)
        self.tls = tls
        self.step_timeout = step_timeout
        if session.options.reply_timeout is None:
            session.options.reply_timeout = step_timeout
        self.helo_fallback = helo_fallback
        self.stage = Stage.CONNECT
        self.greeting: Reply | None = None
        self.secured: Secured | None = None
        self.delivery: Delivery | None = None

    async def _step(self, stage: Stage, coro: Awaitable[T]) -> T:
        self.stage = stage
        return await coro

    async def open(self, *, check_banner: bool = True) -> Reply:
        """Connect and read the banner; ``Rejected`` at BANNER unless it is 220."""
        self.stage = Stage.CONNECT
        try:
            greeting = await self.session.connect()
        except SessionError as exc:
            self.stage = exc.stage  # CONNECT, TLS (implicit), or BANNER (no greeting)
            raise
        self.stage = Stage.BANNER
        if check_banner and greeting.code != 220:
            raise Rejected(Stage.BANNER, "the banner is not 220", greeting)
        return greeting

    async def greet(self) -> Reply:
        self.greeting = await self._step(
            Stage.EHLO, greet(self.session, self.dialect, helo_fallback=self.helo_fallback))
        return self.greeting

    async def secure(self, *, greet_again: bool = True) -> Secured:
        """STARTTLS per the TLS mode, then greet again; stage TLS, then EHLO_TLS.

        ``greet_again=False`` stops right after the handshake; :meth:`greet_in_tls` follows.
        """
        self.stage = Stage.TLS
        try:
            secured = await secure(self.session, self.tls, self.dialect, greet_again=greet_again)
        except SessionError as exc:
            if exc.stage is Stage.EHLO_TLS:
                self.stage = Stage.EHLO_TLS
            raise
        self.secured = secured
        if secured.greeting is not None:
            self.greeting = secured.greeting
        return secured

    async def greet_in_tls(self) -> Reply:
        """The greeting inside TLS that ``secure(greet_again=False)`` left for later."""
        self.greeting = await self._step(Stage.EHLO_TLS, greet_in_tls(self.session, self.dialect))
        if self.secured is not None:
            self.secured = self.secured._replace(greeting=self.greeting)
        return self.greeting

    def credentials_exposed(self) -> bool:
        """True when a password sent now could be read on the network: no TLS, a network
        connection (not a UNIX socket or a pipe), and TLS not turned off on purpose
        (``--tls none``). STARTTLS refused or not offered under ``auto`` is exactly the
        downgrade an attacker on the path can cause, so it does not count as on purpose."""
        opts = self.session.options
        if self.session.view.tls is not None or self.tls is TLSMode.PLAIN:
            return False
        return opts.unix_path is None and opts.pipe_command is None

    async def authenticate(self, mechanism: Mechanism) -> Reply:
        """The whole AUTH exchange; ``Rejected`` at AUTH unless the server says 235, and
        ``CleartextRefused`` (nothing sent) for readable credentials on an exposed link."""
        # The AUTH code loads only when AUTH is asked for (a probe never needs it).
        from smtpscope.conversation.auth import authenticate

        self.stage = Stage.AUTH
        if mechanism.cleartext and self.credentials_exposed():
            raise CleartextRefused(
                f"not sending AUTH {mechanism.name}: it would carry the credentials readable "
                "over a connection without TLS", Stage.AUTH)
        reply = await self._step(Stage.AUTH, authenticate(self.session, mechanism))
        if reply.code != 235:
            raise Rejected(Stage.AUTH, f"AUTH {mechanism.name} failed", reply)
        return reply

    async def send(self, envelope: Envelope, content: bytes, *, pipeline: bool = False,
                   bdat: bool = False, stop_after: Stage | None = None) -> Delivery:
        """One transaction; ``delivery`` keeps what was learnt even when a step fails."""
        def at(stage: Stage) -> None:
            self.stage = stage

        import asyncio

        from smtpscope.conversation.message import new_delivery, send_message

        self.stage = Stage.MAIL
        self.delivery = new_delivery(self.session, envelope)
        options = self.session.options
        each = options.reply_timeout
        # One reply limit a command (MAIL, each RCPT, DATA), one more to spare, and the
        # message's own: its reply may take far longer (reply_limit).
        limit = None if each is None else \
            each * (3 + len(envelope.recipients)) + reply_limit(options, Kind.CONTENT)
        deadline = asyncio.timeout(limit)
        try:
            async with deadline:
                return await send_message(self.session, envelope, content, pipeline=pipeline,
                                          bdat=bdat, stop_after=stop_after, on_stage=at,
                                          delivery=self.delivery)
        except TimeoutError:
            if deadline.expired():  # ours (a write the server never took): say so in the record
                self.session.transcript.note(
                    f"Timeout: the transaction did not finish within {limit:g} s", kind="error")
            raise
