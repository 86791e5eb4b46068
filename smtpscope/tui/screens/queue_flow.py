"""The typed-ahead part of the session screen: the send queue the composer feeds, pumped as the
engine allows, and telnet-style data mode after a hand-typed DATA."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from smtpscope.conversation.queue_runner import send_message_lines
from smtpscope.conversation.send_queue import (
    MESSAGE_LINES,
    BodyDeclaration,
    KeyStep,
    LineKind,
    QueuedLine,
    SendQueue,
    in_runs,
)
from smtpscope.protocol import (
    Data,
    LocalProtocolError,
    MailFrom,
    Quit,
    RcptTo,
    Reply,
    StartTLS,
    State,
)
from smtpscope.protocol.kinds import Kind
from smtpscope.protocol.state import TRANSACTION
from smtpscope.session import SessionError
from smtpscope.tui.widgets.composer import Composer
from smtpscope.tui.widgets.data_editor import OpenEnvelope

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine
    from weakref import WeakSet

    from smtpscope.protocol import Command
    from smtpscope.record import Entry
    from smtpscope.session import Session

DATA_MODE_NOTE = ("354: data mode. Each Enter sends one line as typed (headers, an empty line, "
                  "the body); '.' alone ends the message; Ctrl+N opens the editor instead.")


class QueueFlow:
    """Mixed into SessionScreen: every typed or pasted line goes through one send queue."""

    session: Session | None

    if TYPE_CHECKING:  # provided by the screen (see MessageFlow for why only for checkers)
        app: Any
        left_for_reconnect: WeakSet[Session]

        async def _run(self, command: Command, *, force: bool = False, then_ehlo: bool = False,
                       refused: Callable[[LocalProtocolError], None] | None = None
                       ) -> Reply | None: ...
        async def _raw(self, data: bytes, label: str) -> None: ...
        def _spawn(self, work: Coroutine[Any, Any, Any]) -> None: ...
        def query_one(self, *args: Any, **kwargs: Any) -> Any: ...
        def _toast(self, message: str, **options: Any) -> None: ...
        def _local_refusal(self, exc: LocalProtocolError) -> None: ...
        def greeting(self) -> Command: ...
        def starttls_blocked(self) -> str | None: ...

    def setup_queue(self) -> None:
        """Give the composer the queue (and a view of the engine to check lines against)."""
        self.send_queue = SendQueue()
        #: The envelope the server accepted in the open transaction (MAIL and RCPTs sent as
        #: commands); None outside one, or when its MAIL or a RCPT went as raw bytes.
        self.envelope_sent: OpenEnvelope | None = None
        self._quit_sent = False
        self._typed_data = False  # a DATA went from the queue: its 354 starts data mode
        self._queue_session: Session | None = None
        #: Automatic steps after the banner are running (XCLIENT): typed lines wait for them.
        self.queue_hold = False
        #: The STARTTLS being carried out (its reply, the handshake, the certificate question):
        #: nothing else goes until it is over, and what follows it depends on how it ended.
        self._starttls_item: QueuedLine | None = None
        composer = self.query_one(Composer)
        composer.queue = self.send_queue
        composer.engine = lambda: self.session.conn if self.session is not None else None
        composer.body = self.body_declaration
        composer.connected = lambda: self.session is not None and not self.session.view.ended

    def on_composer_queued(self, message: Composer.Queued) -> None:
        # By name, not @on: a plain mixin's decorated handlers are not collected by Textual.
        self.pump_queue()

    def queue_command(self, command: Command) -> None:
        """A command from a key (F2, F6, F7, F8): in line behind whatever was typed before it."""
        self.send_queue.add_command(command, self._command_text(command))
        self.pump_queue()

    def queue_starttls(self) -> None:
        """F3, in line like F2: EHLO first when none will have gone by then, STARTTLS, and
        EHLO again once TLS is up (as ``openssl s_client -starttls smtp``). Lines typed
        after it go after that EHLO; without TLS (refused, certificate not trusted) it
        stays unsent and those lines follow the STARTTLS reply."""
        queue, session = self.send_queue, self.session
        if session is None or not queue.greeted_ahead(session.conn):
            self.queue_command(self.greeting())
        tls = queue.add_command(StartTLS(), "STARTTLS", step=KeyStep.STARTTLS)
        again = self.greeting()  # named again at its turn: the name the server knows
        queue.add_command(again, self._command_text(again), step=KeyStep.EHLO_AFTER_TLS,
                          after=tls)
        self.pump_queue()

    @staticmethod
    def _command_text(command: Command) -> str:
        return command.to_bytes().decode("utf-8", "replace").rstrip("\r\n")

    def server_entry(self, entry: Entry) -> None:
        """A server line reached the transcript: explain data mode right under the 354 to a
        typed DATA (before the lines typed ahead go), then send what may go now."""
        session = self.session
        reply = entry.reply or {}
        if (self._typed_data and session is not None and reply.get("code") == 354
                and not reply.get("unsolicited") and session.view.state is State.DATA):
            self._typed_data = False
            session.transcript.note(DATA_MODE_NOTE)
        self.pump_queue()

    def pump_queue(self) -> None:
        """Send every queued line the engine allows now; called on each reply and each line."""
        queue = getattr(self, "send_queue", None)
        if queue is None:
            return
        session = self.session
        if session is not self._queue_session:  # reconnected: what we knew was about the old
            if self._queue_session is not None and session is not None:
                self._drop_refused(queue, session)
            self._queue_session = session
            self._quit_sent = self._typed_data = False
            self.envelope_sent = None
        if (session is not None and session.is_open and not self.queue_hold
                and self._starttls_item is None
                and session.view.state not in (State.TLS_PENDING, State.CLOSED)):
            for run in in_runs(queue.take_ready(session.conn)):
                # A message's lines go in one write (a paste of thousands of them).
                self._spawn(self._send_message_lines(run) if run[0].kind in MESSAGE_LINES
                            else self._send_queued(run[0]))
        for composer in self.query(Composer):  # type: ignore[attr-defined]
            composer.sync_queue()

    @staticmethod
    def _drop_refused(queue: SendQueue, session: Session) -> None:
        """A new connection: lines the old one's engine refused were refused for a state that
        is gone, and nothing may overtake them, so what is typed for this connection would
        wait behind them for good. They are dropped, and named (Up still recalls them)."""
        dropped = queue.cancel_blocked()
        if dropped:
            session.transcript.note(
                "Dropped from the queue, refused on the previous connection: "
                + "; ".join("(a line with credentials, hidden)" if item.secret else item.text
                            for item in dropped), kind="warning")

    async def _send_queued(self, item: QueuedLine) -> None:
        queue, session = self.send_queue, self.session
        # The engine gets it in this same step (no await in between), so the order holds.
        if not queue.started(item):
            return  # a line before it was refused: it waits behind that one
        if session is None or not session.is_open:
            queue.requeue(item)  # it goes after a reconnect, never silently nowhere
            return
        if isinstance(item.command, StartTLS):
            self._starttls_item = item  # typed or F3's: nothing overtakes the handshake

        def refused(exc: LocalProtocolError) -> None:
            queue.block(item, str(exc))
            session.transcript.note(f"Held in the queue: {exc}", kind="warning")

        try:
            if item.kind is LineKind.COMMAND:
                assert item.command is not None
                if item.step is KeyStep.STARTTLS:
                    await self._key_starttls(item, session)
                    return
                if item.step is KeyStep.EHLO_AFTER_TLS:  # the name the first EHLO gave
                    item.command = session.greeting_command()
                    item.text = self._command_text(item.command)
                self._quit_sent |= isinstance(item.command, Quit)
                self._typed_data = isinstance(item.command, Data)
                await self._run(item.command, force=item.force, refused=refused)
            else:
                assert item.kind is LineKind.RAW  # message lines go in runs
                await self._raw(item.data, item.text)
        except SessionError as exc:
            self._send_failed(session, exc)
        finally:
            if self._starttls_item is item:
                self._starttls_item = None
            self.pump_queue()

    async def _send_message_lines(self, items: list[QueuedLine]) -> None:
        session = self.session
        try:
            await send_message_lines(session, self.send_queue, items, self.body_declaration)
        except SessionError as exc:
            assert session is not None  # only a session raises it
            self._send_failed(session, exc)
        finally:
            self.pump_queue()

    def _send_failed(self, session: Session, exc: SessionError) -> None:
        """A queued line could not go: say so, unless the connection ended on purpose."""
        if not (self._quit_sent and session.closed_reason is not None) \
                and session not in self.left_for_reconnect:
            self._toast(str(exc), title=f"{exc.stage} failed", severity="error")

    async def _key_starttls(self, item: QueuedLine, session: Session) -> None:
        """F3's STARTTLS at its turn: F3's reasons for not acting, judged now; a refusal
        drops it (a key's step, it holds no typed line up). Its EHLO goes only after TLS."""
        blocked = self.starttls_blocked()
        if blocked is not None:
            self.send_queue.drop_after(item)
            self._toast(blocked, title="STARTTLS", severity="warning")
            return
        try:
            await self._run(StartTLS(), force=item.force, then_ehlo=True,
                            refused=self._local_refusal)
        finally:
            # Refused (454, 502, by the engine), the certificate not trusted, the connection
            # gone or replaced: no TLS, so no EHLO of its own follows; typed lines still do.
            if self.session is not session or not session.is_open or session.tls is None:
                self.send_queue.drop_after(item)

    def follow_envelope(self, entry: Entry) -> None:
        """A server entry: keep the envelope in step with the engine's transaction, whatever
        sent its MAIL and RCPTs (typed, pasted, the editor); it ends when that does."""
        session = self.session
        reply = session.last_reply if session is not None else None  # this entry's reply
        if session is None or reply is None or entry.kind != "reply":
            return
        # The engine's state now, which a later reply of the same read may have moved on
        # already: only a MAIL reply starts a transaction, so one that ended before it is
        # replaced there.
        state = session.view.state
        if state not in TRANSACTION and state is not State.DATA:
            self.envelope_sent = None
        elif reply.kind == Kind.MAIL and reply.expected:
            # Raw bytes that read as MAIL still open a transaction, its parameters unknown.
            command = reply.command
            self.envelope_sent = OpenEnvelope(command) if isinstance(command, MailFrom) else None
        elif reply.kind == Kind.RCPT and reply.expected and self.envelope_sent is not None:
            if isinstance(reply.command, RcptTo):
                self.envelope_sent.recipients.append(reply.command.address)
                self.envelope_sent.rcpt_replies.append(reply)
            else:  # a raw RCPT: the recipients the server holds are no longer known
                self.envelope_sent = None

    def body_declaration(self, item: QueuedLine | None = None) -> BodyDeclaration | None:
        """What the transaction of message line ``item`` (None: the next one typed, before
        or after the 354) lets it carry; None when the next line is no message line."""
        session = self.session
        if session is None:
            return None
        sent = self.envelope_sent
        return self.send_queue.body_declaration(session.conn, item,
                                                accepted=None if sent is None else sent.mail)

    def data_mode_started(self, command: Data, reply: Reply) -> None:
        """A 354 to a typed DATA (the note went out with the reply): send what waits for it."""
        self.pump_queue()
