"""After the greeting, the session screen's XCLIENT step: XCLIENT, then EHLO again."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from smtpscope.protocol import Command, Reply
    from smtpscope.record import Entry
    from smtpscope.session import Session, SessionOptions


class XclientFlow:
    """Sends the session options' XCLIENT attribute sets, each followed by a new greeting.

    The XCLIENT code is the conversation layer's (the one ``smtpscope send`` uses); this only
    puts its outcome where the user looks: the transcript, a notification, the inspector.
    """

    session: Session | None
    options: SessionOptions
    queue_hold: bool
    _xclient_auto = False  # xclient_after_greeting() is running (it greets again itself)

    if TYPE_CHECKING:
        async def _run(self, command: Command) -> Reply | None: ...
        def _remember_caps(self, stage: str) -> None: ...
        def _refresh_state(self) -> None: ...
        def _toast(self, message: str, **options: Any) -> None: ...
        def pump_queue(self) -> None: ...

    async def xclient_after_greeting(self) -> None:
        """EHLO first when none was sent; stops at the first refusal, with a note saying why.

        Lines typed meanwhile wait in the queue (``queue_hold``) and go once this is done.
        """
        started = self.session
        try:
            await self._xclient_steps()
        finally:
            if self.session is started:  # not a newer session's hold (F5 while this ran)
                self.queue_hold = False
                self.pump_queue()

    async def _xclient_steps(self) -> None:
        from smtpscope.conversation import Conversation

        session = self.session
        if session is None or not self.options.xclient or session.greeting is None \
                or session.greeting.code != 220:
            return
        if session.view.capabilities is None:
            reply = await self._run(session.greeting_command())
            if reply is None or reply.code != 250:
                return
        if self.options.security == "starttls" and session.view.tls is None:
            self._xclient_stopped(session, "STARTTLS did not complete (nothing sent)")
            return
        conversation = Conversation(session)
        self._xclient_auto = True
        try:
            await self._xclient_each(session, conversation)
        finally:
            self._xclient_auto = False

    async def _xclient_each(self, session: Session, conversation: Any) -> None:
        from smtpscope.conversation import xclient as xclient_step
        from smtpscope.session import SessionError

        for attributes in self.options.xclient:
            if not session.is_open:
                return
            try:
                self._remember_caps("after XCLIENT")
                await xclient_step.claim(session, attributes)
                await xclient_step.greet_again(conversation)
            except xclient_step.XclientUsage as exc:
                self._xclient_stopped(session, str(exc))
                return
            except SessionError as exc:
                self._xclient_stopped(session, str(exc))
                return
            finally:
                self._refresh_state()

    def xclient_hint(self, entry: Entry) -> None:
        """After an XCLIENT (typed or raw) is accepted, say that the server wants a new EHLO."""
        from smtpscope.protocol import Kind, State

        session = self.session
        if session is None or self._xclient_auto or entry.kind != "reply" \
                or entry.direction != "server":
            return
        reply = session.last_reply  # the reply of this entry
        # The engine is back at READY only when the server started over (Postfix's 220).
        if reply is not None and reply.kind == Kind.XCLIENT and session.view.state is State.READY:
            session.transcript.note(
                "XCLIENT accepted: the server starts over as for a new connection; "
                "send EHLO again (F2) before anything else.")

    def _xclient_stopped(self, session: Session, why: str) -> None:
        text = f"XCLIENT not done: {why}"
        session.transcript.note(text, kind="warning")
        self._toast(text, title="XCLIENT", severity="warning", timeout=10)
