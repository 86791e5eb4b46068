"""One message: MAIL, RCPT for each recipient, DATA or BDAT; an outcome per recipient.

LMTP (RFC 2033 §4.2) answers the end of the data once per accepted recipient, in RCPT order;
those replies are matched back to the recipients here, so a front end can show and count them.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING

from smtpscope.conversation.errors import NotOffered, ParamNotOffered, Rejected
from smtpscope.protocol import (
    Bdat,
    Command,
    Data,
    MailFrom,
    MessageContent,
    RcptTo,
    Reply,
    message_octets,
)
from smtpscope.sanitize import visible
from smtpscope.session import Session
from smtpscope.session_types import SessionError, Stage

if TYPE_CHECKING:
    from smtpscope.record import Transcript

Params = tuple[tuple[str, str | None], ...]


@dataclass(frozen=True)
class Envelope:
    """Sender, recipients and their ESMTP parameters."""

    sender: str
    recipients: tuple[str, ...]
    mail_params: Params = ()
    rcpt_params: Params = ()

    def mail(self) -> MailFrom:
        return MailFrom(self.sender, self.mail_params)

    def rcpts(self) -> list[Command]:
        return [RcptTo(address, self.rcpt_params) for address in self.recipients]


class NotTried(StrEnum):
    """Why a recipient has no reply to its RCPT: the server never judged it."""

    NOT_SENT = "not-sent"  # its RCPT never went out (the session ended before its turn)
    NO_REPLY = "no-reply"  # its RCPT went out (pipelined, or the last one); no reply judged it


@dataclass
class RecipientOutcome:
    """One recipient: the reply to its RCPT and, for LMTP, its own reply after the data."""

    address: str
    rcpt: Reply | None = None
    delivery: Reply | None = None
    #: LMTP: the message went out, so this recipient's own reply to it is owed.
    owed: bool = False
    #: Its RCPT went on the wire (answered or not).
    sent: bool = False

    @property
    def not_tried(self) -> NotTried | None:
        """Why the server never judged this recipient; None when its RCPT was answered."""
        if self.rcpt is not None:
            return None
        return NotTried.NO_REPLY if self.sent else NotTried.NOT_SENT

    @property
    def accepted(self) -> bool:
        """RCPT accepted (and, when there is a per-recipient delivery reply, that too)."""
        if self.rcpt is None or not self.rcpt.is_success:
            return False
        return self.delivery.is_success if self.delivery is not None else not self.owed

    @property
    def unknown(self) -> bool:
        """Its reply after the message never came (the session ended first): delivered or
        not, only the server knows."""
        return self.owed and self.delivery is None and self.rcpt is not None \
            and self.rcpt.is_success


@dataclass
class Delivery:
    """Everything one transaction earned."""

    recipients: list[RecipientOutcome]
    mail: Reply | None = None
    data: Reply | None = None  # the 354 to DATA
    final: tuple[Reply, ...] = field(default=())  # after the dot or BDAT LAST
    lmtp: bool = False
    #: The content left the message open (verbatim, without <CRLF>.<CRLF>): the server still
    #: reads it and owes no reply yet (``Connection.message_open``).
    open: bool = False

    @property
    def accepted(self) -> list[str]:
        return [r.address for r in self.recipients if r.accepted]

    @property
    def refused(self) -> list[str]:
        """Recipients the server refused, with a reply (to the RCPT, or LMTP's after the data)."""
        return [r.address for r in self.recipients
                if not r.accepted and not r.unknown and r.not_tried is None]

    @property
    def not_tried(self) -> list[str]:
        """Recipients the server never judged: their RCPT unsent, or sent and never answered."""
        return [r.address for r in self.recipients if r.not_tried is not None]

    @property
    def unknown(self) -> list[str]:
        """LMTP recipients whose reply after the message never came."""
        return [r.address for r in self.recipients if r.unknown]

    @property
    def partial(self) -> bool:
        return bool(self.accepted) and bool(self.refused)

    def note_recipients(self, transcript: Transcript) -> None:
        """Say who will not get the message: LMTP, each recipient with its own reply; SMTP,
        each refused at RCPT (its 250 says the rest). Then a note on partial delivery."""
        for outcome in self.recipients:
            if outcome.accepted and not self.lmtp:
                continue
            reply = outcome.delivery or outcome.rcpt
            what = "delivered" if outcome.accepted else "refused"
            text = "no reply" if reply is None else visible(reply.shown_summary)
            if outcome.unknown:
                what, text = "unknown", "no reply to the message: it may or may not be delivered"
            elif outcome.not_tried is not None:
                what, text = "not tried", _NOT_TRIED_TEXT[outcome.not_tried]
            transcript.note(f"{outcome.address}: {what} ({text})",
                            kind="note" if outcome.accepted else "warning")
        if self.partial and self.final:  # a message went: not just RCPTs before a hang-up
            transcript.note(f"partial delivery: {len(self.accepted)} of {len(self.recipients)} "
                            "recipients accepted the message", kind="warning")


_NOT_TRIED_TEXT = {
    NotTried.NOT_SENT: "its RCPT was never sent: the connection closed first",
    NotTried.NO_REPLY: "its RCPT was never answered: the connection closed first",
}


async def _tally(delivery: Delivery, replies: AsyncIterator[Reply]) -> None:
    """Keep each RCPT's reply as it comes; raise when none was accepted, or when one closed
    the session (a 421: the recipients after it were never asked, and nothing can follow).
    A session that ends meanwhile keeps the replies that came; the rest stay not tried."""
    last: Reply | None = None
    for outcome in delivery.recipients:
        last = outcome.rcpt = await anext(replies)
        if last.closes:
            raise Rejected(Stage.RCPT, "RCPT TO rejected, connection closed", last)
    if not delivery.accepted:
        assert last is not None  # an envelope has at least one recipient
        raise Rejected(Stage.RCPT, "no recipient accepted", last)


async def _one_by_one(session: Session, delivery: Delivery,
                      commands: list[Command]) -> AsyncGenerator[Reply]:
    for outcome, command in zip(delivery.recipients, commands, strict=True):
        outcome.sent = True
        yield await session.command(command)


def _settle(delivery: Delivery, replies: tuple[Reply, ...]) -> None:
    """Match the replies after the data to the recipients; raise when nothing was delivered."""
    _match(delivery, replies)
    # The data ended with the dot after a 354, or with BDAT LAST (no 354, no dot).
    refused = "message refused after " + ("the final dot" if delivery.data else "BDAT LAST")
    if delivery.lmtp:
        if not delivery.accepted:  # each took its RCPT, none the message: refused at the end
            raise Rejected(Stage.DOT, refused, replies[-1])
        return
    if replies[-1].code != 250:
        raise Rejected(Stage.DOT, refused, replies[-1])


def _match(delivery: Delivery, replies: tuple[Reply, ...]) -> None:
    """Keep the replies after the data; LMTP: each to its recipient, in RCPT order."""
    delivery.final = replies
    if delivery.lmtp:
        owed = [r for r in delivery.recipients if r.owed]
        for outcome, reply in zip(owed, replies, strict=False):
            outcome.delivery = reply


async def _final(delivery: Delivery, replies: Awaitable[tuple[Reply, ...]]) -> None:
    """Await and settle the replies to the message. LMTP owes one per accepted recipient; when
    the session ends (or times out) before all came, those that did still count. None come
    when the content left the message open."""
    if delivery.lmtp:
        for outcome in delivery.recipients:
            outcome.owed = outcome.rcpt is not None and outcome.rcpt.is_success
    try:
        got = await replies
    except SessionError as exc:
        _match(delivery, exc.replies)
        raise
    if not got:
        delivery.open = True
        return
    _settle(delivery, got)


async def _rest_of_group(session: Session, delivery: Delivery,
                         replies: AsyncIterator[Reply], with_data: bool) -> None:
    """MAIL FROM of a pipelined group was refused: take each RCPT's reply (a server refuses
    them for want of a sender, or closes) and DATA's. A session that ends meanwhile keeps the
    replies that came; the MAIL refusal stays the failure."""
    with contextlib.suppress(SessionError):
        for outcome in delivery.recipients:
            outcome.rcpt = await anext(replies)
            if outcome.rcpt.closes:
                return
    if with_data and session.is_open:
        await _end_unwanted_data(session, delivery, replies, "MAIL FROM was refused")


async def _end_unwanted_data(session: Session, delivery: Delivery,
                             replies: AsyncIterator[Reply], why: str) -> None:
    """A pipelined group failed before its DATA (``why``), yet the server may still answer
    DATA with 354: RFC 2920 §3.1 has the client end that empty message with a single dot, so
    the server leaves the data and QUIT can follow. A connection that ended meanwhile (a 421
    to RCPT) owes nothing more: the earlier refusal stays the failure."""
    with contextlib.suppress(SessionError):
        delivery.data = await anext(replies)
        if delivery.data.code == 354:
            session.transcript.note(f"DATA got 354 though {why}: ending the empty message "
                                    "with a lone dot (RFC 2920 §3.1)", kind="warning")
            await session.send_data_line(b".\r\n")


def check_params(session: Session, envelope: Envelope, stop_after: Stage | None = None) -> None:
    """Refuse, before MAIL FROM, a parameter whose extension the server did not advertise:
    raised with the stage of the command it belongs to, before either goes out, so a
    transaction is never left half sent."""
    from smtpscope.protocol.checks import param_keyword

    caps = session.view.capabilities
    rcpt = () if stop_after is Stage.MAIL else envelope.rcpt_params  # RCPT never goes out
    for stage, params in ((Stage.MAIL, envelope.mail_params), (Stage.RCPT, rcpt)):
        for key, value in params:
            needed = param_keyword(key.upper(), value)
            if needed is not None and (caps is None or not caps.has(needed)):
                error = ParamNotOffered(stage, key.upper(), needed, helo=caps is None)
                session.transcript.note(str(error), kind="error")
                raise error


def new_delivery(session: Session, envelope: Envelope) -> Delivery:
    """An empty Delivery for ``envelope``: one outcome per recipient, none known yet."""
    return Delivery([RecipientOutcome(a) for a in envelope.recipients], lmtp=session.view.lmtp)


async def send_message(
    session: Session,
    envelope: Envelope,
    content: bytes,
    *,
    pipeline: bool = False,
    bdat: bool = False,
    stop_after: Stage | None = None,
    on_stage: Callable[[Stage], None] | None = None,
    delivery: Delivery | None = None,
    verbatim: bool = False,
    chunk_size: int | None = None,
) -> Delivery:
    """Run one transaction; returns the Delivery, raises ``Rejected`` where it stops.

    ``pipeline`` sends MAIL, every RCPT and DATA in one write (only if PIPELINING is offered;
    otherwise a warning and one at a time). ``bdat`` sends the content as one BDAT LAST
    chunk (CHUNKING required). ``stop_after`` MAIL or RCPT ends before the content, DATA
    after its 354.
    Pass ``delivery`` (from :func:`new_delivery`) to keep what was learnt when a step raises.
    ``verbatim`` sends the content exactly as given (no dot-stuffing, no terminator added);
    ``chunk_size`` splits a BDAT message into chunks of at most that many bytes.
    """
    def stage(value: Stage) -> None:
        if on_stage is not None:
            on_stage(value)

    view = session.view
    if delivery is None:
        delivery = new_delivery(session, envelope)
    caps = view.capabilities
    if (caps is not None and caps.has("SIZE")
            and all(key != "SIZE" for key, _ in envelope.mail_params)):
        # RFC 1870 §6: declare the size, so an oversized message is refused at MAIL FROM,
        # not after the upload.
        size = len(content if verbatim else message_octets(content))
        envelope = replace(envelope, mail_params=(*envelope.mail_params, ("SIZE", str(size))))
    check_params(session, envelope, stop_after)
    if pipeline and not (caps is not None and caps.has("PIPELINING")):
        session.transcript.note("the server does not advertise PIPELINING: sending one "
                                "command at a time", kind="warning")
        pipeline = False
    stage(Stage.MAIL)
    data_reply: Reply | None = None
    if pipeline:
        commands: list[Command] = [envelope.mail(), *envelope.rcpts()]
        with_data = not bdat and stop_after not in (Stage.MAIL, Stage.RCPT)
        if with_data:
            commands.append(Data())
        # Each reply judged as it comes, as without pipelining: a 421 to RCPT is the RCPT's
        # failure even though the DATA sent with it will never be answered.
        replies = session.pipelined(commands)
        async with contextlib.aclosing(replies):
            for outcome in delivery.recipients:  # the first reply awaited writes them all
                outcome.sent = True
            delivery.mail = await anext(replies)
            if delivery.mail.code != 250:
                # The RCPTs and DATA sent with it are answered all the same (RFC 2920 §3.1):
                # read those replies, so each recipient has its own and QUIT can follow.
                if not delivery.mail.closes:
                    await _rest_of_group(session, delivery, replies, with_data)
                raise Rejected(Stage.MAIL, "MAIL FROM rejected", delivery.mail)
            stage(Stage.RCPT)
            try:
                await _tally(delivery, replies)
            except Rejected:
                if with_data:
                    await _end_unwanted_data(session, delivery, replies,
                                             "every recipient was refused")
                raise
            if with_data:
                stage(Stage.DATA)
                data_reply = await anext(replies)
    else:
        delivery.mail = await session.command(envelope.mail())
        if delivery.mail.code != 250:
            raise Rejected(Stage.MAIL, "MAIL FROM rejected", delivery.mail)
        if stop_after is Stage.MAIL:
            return delivery
        stage(Stage.RCPT)
        async with contextlib.aclosing(_one_by_one(session, delivery,
                                                   envelope.rcpts())) as each:
            await _tally(delivery, each)
    if stop_after in (Stage.MAIL, Stage.RCPT):
        return delivery
    return await send_content(session, delivery, content, bdat=bdat, verbatim=verbatim,
                              chunk_size=chunk_size, stop_after=stop_after, on_stage=on_stage,
                              data_reply=data_reply)


async def send_content(
    session: Session,
    delivery: Delivery,
    content: bytes,
    *,
    bdat: bool = False,
    verbatim: bool = False,
    chunk_size: int | None = None,
    stop_after: Stage | None = None,
    on_stage: Callable[[Stage], None] | None = None,
    data_reply: Reply | None = None,
) -> Delivery:
    """The message in a transaction whose MAIL and RCPTs ``delivery`` holds (accepted ones
    with their replies): DATA and the content, or BDAT. ``data_reply`` is DATA's reply when it
    went in a pipelined group. Raises ``Rejected`` where it stops, as ``send_message`` does."""
    def stage(value: Stage) -> None:
        if on_stage is not None:
            on_stage(value)

    caps = session.view.capabilities
    stage(Stage.DATA)
    if bdat:
        if caps is None or not caps.has("CHUNKING"):
            raise NotOffered("the server does not advertise CHUNKING (BDAT)", Stage.DATA)
        stage(Stage.DOT)
        data = content if verbatim else message_octets(content)
        size = chunk_size or max(1, len(data))
        chunks = [data[i:i + size] for i in range(0, len(data), size)] or [b""]
        for chunk in chunks[:-1]:
            reply = await session.command(Bdat(chunk))
            if reply.code != 250:
                raise Rejected(Stage.DOT, "BDAT chunk refused", reply)
        await _final(delivery, session.command_replies(Bdat(chunks[-1], last=True)))
        return delivery
    if data_reply is None:
        data_reply = await session.command(Data())
    delivery.data = data_reply
    if data_reply.code != 354:
        # 4xx/5xx is a refusal; a 2xx (the server skipped "go ahead") is just not the 354.
        refused = data_reply.is_transient or data_reply.is_permanent
        raise Rejected(Stage.DATA, "DATA refused" if refused
                       else "DATA answered without 354 (start mail input)", data_reply)
    if stop_after is Stage.DATA:
        return delivery  # 354 and no content: the caller drops the connection here
    stage(Stage.DOT)
    await _final(delivery, session.deliver(MessageContent(content, verbatim=verbatim)))
    return delivery
