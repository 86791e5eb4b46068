"""After the greeting, the session screen's XCLIENT step: XCLIENT, then EHLO again."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from smtpscope.protocol import Command, Reply
    from smtpscope.session import Session, SessionOptions


class XclientFlow:
    """Sends the session options' XCLIENT attribute sets, each followed by a new greeting.

    The XCLIENT code is the conversation layer's (the one ``smtpscope send`` uses); this only
    puts its outcome where the user looks: the transcript, a notification, the inspector.
    """

    session: Session | None
    options: SessionOptions

    if TYPE_CHECKING:
        async def _run(self, command: Command, *, force: bool = False) -> Reply | None: ...
        def _remember_caps(self, stage: str) -> None: ...
        def _refresh_state(self) -> None: ...
        def _toast(self, message: str, **options: Any) -> None: ...

    async def xclient_after_greeting(self) -> None:
        """EHLO first when none was sent; stops at the first refusal, with a note saying why."""
        from smtpscope.conversation import Conversation
        from smtpscope.conversation import xclient as xclient_step
        from smtpscope.session import SessionError

        session = self.session
        if session is None or not self.options.xclient:
            return
        if session.view.capabilities is None:
            reply = await self._run(session.greeting_command())
            if reply is None or reply.code != 250:
                return
        if self.options.security == "starttls" and session.view.tls is None:
            self._xclient_stopped(session, "STARTTLS did not complete (nothing sent)")
            return
        conversation = Conversation(session)
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

    def _xclient_stopped(self, session: Session, why: str) -> None:
        text = f"XCLIENT not done: {why}"
        session.transcript.note(text, kind="warning")
        self._toast(text, title="XCLIENT", severity="warning", timeout=10)
