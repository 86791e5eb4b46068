"""The message part of the session screen: the DATA editor, and MAIL/RCPT/DATA or BDAT for it."""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Any

from smtpscope.conversation import (
    Delivery,
    Envelope,
    NotOffered,
    RecipientOutcome,
    Rejected,
    Stage,
    send_content,
    send_message,
)
from smtpscope.protocol import MailFrom, MessageContent, RcptTo, Reply, Rset, State
from smtpscope.protocol.data import MESSAGE_START
from smtpscope.protocol.kinds import Kind
from smtpscope.protocol.state import TRANSACTION
from smtpscope.sanitize import visible
from smtpscope.session import SessionError
from smtpscope.tui.keys import hold_keys, release_keys
from smtpscope.tui.widgets.data_editor import DataEditor, OpenEnvelope

if TYPE_CHECKING:
    from collections.abc import Coroutine
    from weakref import WeakSet

    from smtpscope.conversation.send_queue import SendQueue
    from smtpscope.protocol import Command
    from smtpscope.record import Entry
    from smtpscope.session import Session

BDAT_CHUNK = 64 * 1024

LEFT_OPEN_NOTE = ("The composer now sends each line as more of this message: '.' alone (after "
                  "a whole line) ends it; Ctrl+P offers the end-of-data variants. A reply "
                  "before that means the server took another sequence as the end of the data.")

# Ctrl+N typed ahead of the replies it depends on (a DATA's 354, the MAIL and RCPTs of the
# envelope) waits this long at most for them, holding the keys typed after it for the
# editor; with a slower server they go on to the composer (after a DATA, as message lines).
HOLD_FOR_REPLIES = 5.0


class MessageFlow:
    """Mixed into SessionScreen: writing a message and walking the transaction that sends it."""

    session: Session | None
    #: The last editor text not yet delivered (cancelled, or the server refused the message).
    _message_draft: str | None = None
    #: Ctrl+N came while a DATA was on its way: until when (monotonic) its 354 opens the editor.
    _editor_for_354: float | None = None
    #: Ctrl+N came while a MAIL or RCPT typed before it was on its way: until when the editor
    #: waits for their replies, to start from the envelope the server accepted.
    _editor_for_envelope: float | None = None

    if TYPE_CHECKING:  # provided by the screen (declared only for type checkers: at run time a
        # stub here would shadow Screen.notify, which comes later in the MRO)
        app: Any
        send_queue: SendQueue
        left_for_reconnect: WeakSet[Session]

        async def _run(self, command: Command, *, force: bool = False) -> Reply | None: ...
        def _spawn(self, work: Coroutine[Any, Any, Any]) -> None: ...
        def _refresh_state(self) -> None: ...
        def notify(self, *args: Any, **kwargs: Any) -> None: ...
        def call_later(self, callback: Any, *args: Any, **kwargs: Any) -> bool: ...
        def pump_queue(self) -> None: ...

    def action_new_message(self) -> None:
        """Write a message, then walk MAIL, RCPT and DATA with the envelope its headers imply.

        The last draft that did not go through (cancelled, or refused by the server) comes back;
        with MAIL and RCPT accepted already, the editor starts from that envelope instead.
        """
        session = self.session
        if session is not None and session.view.state is State.DATA:
            self.open_data_editor()
            return
        if session is not None and self.send_queue.expects_content(session.conn):
            # A DATA is on its way: the editor is for its content, once the 354 has come (a
            # new transaction now would RSET the one being answered). The keys typed after
            # Ctrl+N are for that editor.
            self._editor_for_354 = time.monotonic() + HOLD_FOR_REPLIES
            hold_keys(self.app, HOLD_FOR_REPLIES)
            return
        if session is not None and self._envelope_on_its_way(session):
            # MAIL FROM, RCPT TO, Ctrl+N typed at once: the editor is for that transaction, so
            # it opens once the server has answered them (or RSET and the placeholder
            # recipient would replace the RCPT typed). The keys after Ctrl+N wait for it.
            self._editor_for_envelope = time.monotonic() + HOLD_FOR_REPLIES
            hold_keys(self.app, HOLD_FOR_REPLIES)
            return
        caps = self.session.view.capabilities if self.session else None
        opened = self.open_envelope()
        if opened is not None:
            self._push_editor(DataEditor(capabilities=caps, from_addr=opened.mail.address,
                                         to_addrs=opened.recipients, open_envelope=opened))
            return
        self._push_editor(DataEditor(capabilities=caps, text=self._message_draft))

    def _envelope_on_its_way(self, session: Session) -> bool:
        """A MAIL FROM or RCPT TO is queued, or sent and not yet answered."""
        return self.send_queue.carries(MailFrom, RcptTo) \
            or any(isinstance(c, MailFrom | RcptTo) for c in session.conn.pending)

    def follow_envelope_reply(self) -> None:
        """A server entry: once the MAIL and RCPTs Ctrl+N was typed after are all answered, the
        editor opens from what the server accepted; the keys held for it go on.

        The engine may have matched every reply of a read before their entries arrive here
        one by one, so the editor opens after this turn, once all of them have been followed.
        """
        session = self.session
        if self._editor_for_envelope is None or session is None \
                or (self._envelope_on_its_way(session) and session.is_open):
            return
        deadline, self._editor_for_envelope = self._editor_for_envelope, None

        def open_editor() -> None:
            if time.monotonic() <= deadline and session is self.session and session.is_open:
                self.action_new_message()
            release_keys(self.app)

        self.call_later(open_editor)

    def follow_data_reply(self, entry: Entry) -> None:
        """A server entry: the reply to the DATA Ctrl+N was typed ahead of opens the editor on
        a 354; a refusal gives the keys held for it back to the composer."""
        session = self.session
        reply = session.last_reply if session is not None else None  # this entry's reply
        if self._editor_for_354 is None or session is None or reply is None \
                or entry.kind != "reply" or reply.kind != Kind.DATA:
            return
        in_time = time.monotonic() <= self._editor_for_354
        self._editor_for_354 = None
        if not in_time:
            return  # the keys went on to the composer meanwhile, as message lines
        if session.view.state is State.DATA:
            self.open_data_editor()
        release_keys(self.app)  # into the editor once it has the focus, else the composer

    def open_envelope(self) -> OpenEnvelope | None:
        """The typed MAIL (and RCPTs) the server accepted, while that transaction is open."""
        sent: OpenEnvelope | None = getattr(self, "envelope_sent", None)
        state = self.session.view.state if self.session is not None else None
        return sent if state in (State.MAIL, State.RCPT) else None

    def open_data_editor(self) -> None:
        """After a 354: the editor, prefilled with the envelope the server actually accepted."""
        session = self.session
        caps = session.view.capabilities if session else None
        after_354 = session is not None and session.view.state is State.DATA
        sent: OpenEnvelope | None = getattr(self, "envelope_sent", None)
        # Lines typed after the 354 came first: the editor's text goes on from them.
        tail = session.conn.open_tail if session is not None else MESSAGE_START
        if after_354 and sent is not None:
            editor = DataEditor(capabilities=caps, after_354=True, from_addr=sent.mail.address,
                                to_addrs=sent.recipients, accepted=sent, open_tail=tail)
        else:
            editor = DataEditor(capabilities=caps, after_354=after_354, text=self._message_draft,
                                open_tail=tail)
        self._push_editor(editor)

    def _push_editor(self, editor: DataEditor) -> None:
        def done(result: DataEditor.Result | None) -> None:
            # Cancelled or not: the text is kept until a message is accepted.
            self._message_draft = editor.draft
            self._data_done(result)

        self.app.push_screen(editor, done)

    def _data_done(self, result: DataEditor.Result | None) -> None:
        if result is None:
            if self.session is not None and self.session.view.state is State.DATA:
                self.session.transcript.note(
                    "Message editor closed: the server still waits for the message. Type it "
                    "line by line ('.' alone ends it) or reopen the editor with Ctrl+N.",
                    kind="warning",
                )
            return
        self._spawn(self._send_message(result))

    async def _send_message(self, result: DataEditor.Result) -> None:
        session = self.session
        if session is None:
            return
        try:
            if session.view.state is State.DATA:
                reply = await session.send_content(MessageContent(result.content,
                                                                  verbatim=result.verbatim))
                if reply is None:
                    self._left_open()
                elif reply.code == 250:
                    self._message_draft = None  # delivered: the draft has done its job
            else:
                await self._transaction(result)
        except SessionError as exc:
            if session not in self.left_for_reconnect:  # else F5 cut it short, and says so
                self.notify(visible(str(exc)), severity="error", markup=False)
        self._refresh_state()

    async def _transaction(self, result: DataEditor.Result) -> None:
        """MAIL, RCPT and DATA or BDAT through the conversation layer (the CLI's own steps)."""
        session = self.session
        assert session is not None
        if not result.recipients:
            session.transcript.note("The message names no recipient (To/Cc/Bcc): nothing sent.",
                                    kind="warning")
            return
        opened = self.open_envelope()
        reason = opened.rset_reason(result.sender, result.recipients, smtputf8=result.smtputf8,
                                    eightbit=result.eightbit) if opened is not None else None
        if opened is not None and reason is None:
            await self._continue(result, opened)
            return
        if session.view.state in TRANSACTION:
            why = f" and {reason}" if reason else ""
            session.transcript.note(f"A transaction was open{why}: RSET first, then the new "
                                    "message.")
            reply = await self._run(Rset())
            if reply is None or reply.code != 250:
                return
        params: list[tuple[str, str | None]] = []
        if result.smtputf8:
            params.append(("SMTPUTF8", None))
        if result.eightbit:
            params.append(("BODY", "8BITMIME"))
        envelope = Envelope(result.sender, tuple(result.recipients), tuple(params))
        try:
            self._delivered(await send_message(session, envelope, result.content,
                                               bdat=result.use_bdat, verbatim=result.verbatim,
                                               chunk_size=BDAT_CHUNK))
        except (Rejected, NotOffered) as exc:
            # The refusal itself is in the transcript already.
            if exc.stage is Stage.RCPT and session.view.state is State.MAIL:
                session.transcript.note("No recipient was accepted: sending RSET.",
                                        kind="warning")
                await self._run(Rset())

    async def _continue(self, result: DataEditor.Result, opened: OpenEnvelope) -> None:
        """The message goes on in the transaction the server holds open: DATA (or BDAT) next,
        the same step the conversation layer takes after its own RCPTs."""
        session = self.session
        assert session is not None
        delivery = Delivery([RecipientOutcome(address, rcpt=reply) for address, reply
                             in zip(opened.recipients, opened.rcpt_replies, strict=True)],
                            lmtp=session.view.lmtp)
        with contextlib.suppress(Rejected, NotOffered):  # a refusal is in the transcript
            self._delivered(await send_content(session, delivery, result.content,
                                               bdat=result.use_bdat, verbatim=result.verbatim,
                                               chunk_size=BDAT_CHUNK))

    def _delivered(self, delivery: Delivery) -> None:
        """The message went through, or was left open by content without the standard end."""
        if delivery.open:
            self._left_open()
            return
        self._message_draft = None  # delivered: the draft has done its job
        if (delivery.partial or delivery.unknown) and self.session is not None:
            # Not to everyone (a greylisted address, Gmail's 452): say who will not get it.
            delivery.note_recipients(self.session.transcript)

    def _left_open(self) -> None:
        """Verbatim content did not end the message: say so, and let the composer go on with
        it (typed lines are now message content)."""
        if self.session is not None:
            self.session.transcript.note(LEFT_OPEN_NOTE)
        self.pump_queue()
