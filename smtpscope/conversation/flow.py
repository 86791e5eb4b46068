"""Conversation: the steps in order over one session, keeping the stage for exit codes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TYPE_CHECKING, TypeVar

from smtpscope.conversation.errors import Rejected
from smtpscope.conversation.greeting import Dialect, Secured, TLSMode, dialect_of, greet, secure
from smtpscope.conversation.message import Delivery, Envelope, new_delivery, send_message
from smtpscope.protocol import Reply
from smtpscope.session import Session
from smtpscope.session_types import SessionError, Stage

if TYPE_CHECKING:
    from smtpscope.auth import Mechanism

T = TypeVar("T")


class Conversation:
    """Greet, secure, authenticate and send over ``session``; ``stage`` says where it is.

    ``stage`` is set before each step, so whatever a step raises (a typed session error, a
    ``Rejected`` reply, a timeout) belongs to it. ``step_timeout`` bounds each step.
    """

    def __init__(self, session: Session, *, dialect: Dialect | None = None,
                 tls: TLSMode = TLSMode.AUTO, step_timeout: float | None = None,
                 helo_fallback: bool = True) -> None:
        self.session = session
        self.dialect = dialect_of(session, dialect)
        self.tls = tls
        self.step_timeout = step_timeout
        self.helo_fallback = helo_fallback
        self.stage = Stage.CONNECT
        self.greeting: Reply | None = None
        self.secured: Secured | None = None
        self.delivery: Delivery | None = None

    async def _step(self, stage: Stage, coro: Awaitable[T], limit: float | None = None) -> T:
        self.stage = stage
        async with asyncio.timeout(limit or self.step_timeout):
            return await coro

    async def open(self, *, check_banner: bool = True) -> Reply:
        """Connect and read the banner; ``Rejected`` at BANNER unless it is 220."""
        self.stage = Stage.CONNECT
        limit = None if self.step_timeout is None else self.step_timeout * 2
        try:
            greeting = await self._step(Stage.CONNECT, self.session.connect(), limit)
        except SessionError as exc:
            self.stage = exc.stage  # CONNECT, TLS (implicit), or BANNER (no greeting)
            raise
        except TimeoutError:
            self.stage = Stage.CONNECT if self.session.connected_at is None else Stage.BANNER
            raise
        self.stage = Stage.BANNER
        if check_banner and greeting.code != 220:
            raise Rejected(Stage.BANNER, "the banner is not 220", greeting)
        return greeting

    async def greet(self) -> Reply:
        self.greeting = await self._step(
            Stage.EHLO, greet(self.session, self.dialect, helo_fallback=self.helo_fallback))
        return self.greeting

    async def secure(self) -> Secured:
        """STARTTLS per the TLS mode, then greet again; stage TLS, then EHLO_TLS."""
        self.stage = Stage.TLS
        try:
            secured = await self._step(Stage.TLS, secure(self.session, self.tls, self.dialect),
                                       None if self.step_timeout is None
                                       else self.step_timeout * 2)
        except SessionError as exc:
            if exc.stage is Stage.EHLO_TLS:
                self.stage = Stage.EHLO_TLS
            raise
        self.secured = secured
        if secured.greeting is not None:
            self.greeting = secured.greeting
        return secured

    async def authenticate(self, mechanism: Mechanism) -> Reply:
        # The AUTH code loads only when AUTH is asked for (a probe never needs it).
        from smtpscope.conversation.auth import authenticate

        """The whole AUTH exchange; ``Rejected`` at AUTH unless the server says 235."""
        reply = await self._step(Stage.AUTH, authenticate(self.session, mechanism))
        if reply.code != 235:
            raise Rejected(Stage.AUTH, f"AUTH {mechanism.name} failed", reply)
        return reply

    async def send(self, envelope: Envelope, content: bytes, *, pipeline: bool = False,
                   bdat: bool = False, stop_after: Stage | None = None) -> Delivery:
        """One transaction; ``delivery`` keeps what was learnt even when a step fails."""
        def at(stage: Stage) -> None:
            self.stage = stage

        self.stage = Stage.MAIL
        self.delivery = new_delivery(self.session, envelope)
        async with asyncio.timeout(None if self.step_timeout is None
                                   else self.step_timeout * (4 + len(envelope.recipients))):
            return await send_message(self.session, envelope, content, pipeline=pipeline,
                                      bdat=bdat, stop_after=stop_after, on_stage=at,
                                      delivery=self.delivery)
