"""The send queue: lines typed or pasted ahead of the server, released as the engine allows.

A person at a terminal types ahead: the next command before the last reply, a whole pasted
MAIL/RCPT/DATA block, a message after DATA. The queue keeps every such line, in order, and
releases it the moment the engine says it may go: at once inside a PIPELINING group, after
the reply it waits for otherwise (RFC 2920; the engine's ``must_wait`` decides, the queue has
no rules of its own). Nothing is dropped: a line the engine refuses stays at the head,
*blocked* with the reason, until it is cancelled or sent anyway.

Lines after a ``DATA`` (typed or pasted before its 354 arrives) are message content: each
goes out exactly as typed plus CRLF, and ``.`` alone ends the message. If the DATA is refused
those lines are blocked rather than sent as commands.

A key may queue lines of a step of its own (:class:`KeyStep`): F3's STARTTLS and the EHLO it
sends once TLS is up take their place in line like any typed command, so nothing typed before
them is overtaken and nothing typed after them goes first.

No I/O here: a front end calls :meth:`SendQueue.take_ready` whenever a reply arrives or a line
is added, sends what it gets in that order, and calls :meth:`SendQueue.started` for each line
just before the engine gets it (and skips it when that says no).
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from smtpscope.protocol import Auth, Command, Connection, Ehlo, Lhlo, MailFrom, Raw, StartTLS, State
from smtpscope.protocol.checks import command_kind, infer_raw_kinds
from smtpscope.protocol.data import MAX_TEXT_LINE, MESSAGE_START, ends_data
from smtpscope.protocol.kinds import Kind
from smtpscope.protocol.state import projected_after

if TYPE_CHECKING:
    from smtpscope.protocol import Capabilities

__all__ = ["DATA_REFUSED", "MESSAGE_LINES", "BodyDeclaration", "KeyStep", "LineKind",
           "QueuedLine", "SendQueue", "content_line_bytes", "content_line_warnings", "in_runs"]

DATA_REFUSED = "not sent: the server did not accept DATA, so these message lines have no home"


class LineKind(enum.Enum):
    COMMAND = "command"  # a parsed command; the engine validates it when it goes
    RAW = "raw"  # exact bytes (raw mode): waits until nothing is in flight
    CONTENT = "content"  # one line of message content after a 354
    END = "end"  # the "." line that ends the message content


class KeyStep(enum.Enum):
    """What a line a key queued is for, beyond its command (typed lines have none)."""

    #: F3's STARTTLS: its reasons for not acting are judged again when its turn comes, and
    #: when it cannot go it is dropped with them (a key's step, not a line the user typed).
    STARTTLS = "starttls"
    #: F3's EHLO once TLS is up: it goes only after the STARTTLS it follows (``after``)
    #: brought TLS up, and is dropped otherwise.
    EHLO_AFTER_TLS = "ehlo after tls"


@dataclass(eq=False)
class QueuedLine:
    """One line waiting to be sent. ``blocked`` says why it cannot go (it stays until acted on)."""

    id: int
    kind: LineKind
    text: str
    command: Command | None = None
    data: bytes = b""
    force: bool = False
    blocked: str | None = None
    secret: bool = False  # an AUTH answer or initial response: shown masked, never in clear
    step: KeyStep | None = None  # queued by a key for a step of its own
    after: int | None = None  # the id of the line whose outcome decides whether this one goes


def content_line_bytes(text: str) -> bytes:
    """A line of message content as sent: exactly as typed, then CRLF."""
    return text.encode("utf-8") + b"\r\n"


@dataclass(frozen=True)
class BodyDeclaration:
    """What the transaction that content lines go into lets them carry beyond ASCII."""

    #: The accepted MAIL FROM declared 8-bit content: BODY=8BITMIME or BINARYMIME (RFC 6152,
    #: RFC 3030) or SMTPUTF8 (RFC 6531). None: that MAIL went as raw bytes, so what it
    #: declared is unknown and the content is held to 7 bits.
    eightbit: bool | None
    #: The server advertised 8BITMIME in its EHLO reply.
    offered: bool

    @classmethod
    def of(cls, mail: Command | None, capabilities: Capabilities | None) -> BodyDeclaration:
        """What ``mail`` (the transaction's MAIL FROM; raw bytes or None: unknown) declared."""
        eightbit = None  # raw bytes, or no MAIL seen: what was declared is unknown
        if isinstance(mail, MailFrom):  # SMTPUTF8 comes with 8BITMIME (RFC 6531 §3.1)
            eightbit = mail.body_8bit or mail.param("SMTPUTF8") is not None
        return cls(eightbit, capabilities is not None and capabilities.has("8BITMIME"))


def _is_mail(command: Command | None) -> bool:
    """``command`` opens a transaction: a MAIL FROM, or raw bytes the engine reads as one."""
    if isinstance(command, Raw):
        return Kind.MAIL in infer_raw_kinds(command.data, State.IDENT)
    return isinstance(command, MailFrom)


def content_line_warnings(text: str, body: BodyDeclaration | None = None) -> tuple[str, ...]:
    """What the server will make of a content line that differs from what was typed.

    A line starting with one ``.`` that is not the end: the server removes that dot. A line
    typed with ``..`` is already dot-stuffed by the typist (it goes as typed, and the server
    stores it with one dot), so it draws no warning. A line over the RFC 5321 length limit.
    With ``body``: a line with 8-bit octets that its MAIL FROM did not declare.
    """
    warnings: list[str] = []
    if text.startswith(".") and text != "." and not text.startswith(".."):
        warnings.append(f"this line starts with '.': the server drops the first dot (RFC 5321 "
                        f"§4.5.2) and stores {text[1:]!r}; type {'.' + text!r} to keep it")
    size = len(content_line_bytes(text))
    if size > MAX_TEXT_LINE:  # sent as typed all the same: a debugger sends what it is told
        warnings.append(f"this line is {size} octets with its CRLF, over the RFC 5321 "
                        f"§4.5.3.1.6 limit of {MAX_TEXT_LINE}: a server may refuse the "
                        "message or split the line")
    if body is not None and not body.eightbit and not text.isascii():
        declared = ("the MAIL FROM declared neither BODY=8BITMIME (RFC 6152) nor SMTPUTF8 "
                    "(RFC 6531)" if body.eightbit is False else "the MAIL FROM went as raw "
                    "bytes, so whether it declared BODY=8BITMIME or SMTPUTF8 is unknown")
        offered = "" if body.offered else " (and the server did not advertise 8BITMIME)"
        warnings.append(f"this line has 8-bit (non-ASCII) octets but {declared}{offered}: "
                        "the server may refuse the message or alter those octets")
    return tuple(warnings)


#: The kinds of line that are part of a message (its content and its end).
MESSAGE_LINES = (LineKind.CONTENT, LineKind.END)


def in_runs(lines: list[QueuedLine]) -> list[list[QueuedLine]]:
    """Lines taken together, in order: each run of message lines as one, each other line on
    its own (a message goes in one write; a command waits for its own reply)."""
    runs: list[list[QueuedLine]] = []
    for line in lines:
        if runs and line.kind in MESSAGE_LINES and runs[-1][-1].kind is LineKind.CONTENT:
            runs[-1].append(line)
        else:
            runs.append([line])
    return runs


class SendQueue:
    """Lines waiting for the engine, oldest first."""

    def __init__(self) -> None:
        self._items: list[QueuedLine] = []
        self._in_transit: list[QueuedLine] = []
        self._ids = itertools.count(1)
        self._mail: Command | None = None  # the newest MAIL FROM this queue let go

    # -- looking -----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[QueuedLine]:
        return iter(list(self._items))

    @property
    def head(self) -> QueuedLine | None:
        return self._items[0] if self._items else None

    def carries(self, *types: type[Command]) -> bool:
        """A command of one of ``types`` is queued, or taken and not yet given to the engine."""
        return any(isinstance(line.command, types) for line in (*self._in_transit, *self._items))

    def projected_state(self, conn: Connection) -> State:
        """The state once everything in flight and queued has gone well."""
        # From the newest line back to the last end of a message (after which the state is
        # IDENT whatever came before), then forward: message lines change nothing, and a
        # pasted message is thousands of them.
        commands: list[Command] = []
        state = conn.projected_state
        if state is State.TLS_PENDING:
            # The handshake under way ends in READY (EHLO again), or the session ends:
            # nothing is sent before. A line typed now meets READY; judged against
            # TLS_PENDING it was held as "send anyway", and the keys typed after it ran on
            # into the same line ("EHLO yNOOP").
            state = State.READY
        for item in itertools.chain(reversed(self._items), reversed(self._in_transit)):
            if item.kind is LineKind.END:
                state = State.IDENT
                break
            if item.kind is LineKind.COMMAND and item.command is not None:
                commands.append(item.command)
        for command in reversed(commands):
            state = projected_after(state, command_kind(command))
        return state

    def awaits_challenge(self, conn: Connection) -> bool:
        """True when the newest line ahead is an AUTH without an initial response: the server
        answers it with a 334 or a refusal (RFC 4954 §4), so the next line is the answer."""
        ahead = (*self._in_transit, *self._items)
        last = ahead[-1].command if ahead else (conn.pending[-1] if conn.pending else None)
        return isinstance(last, Auth) and last.initial_response is None

    def greeted_ahead(self, conn: Connection) -> bool:
        """True when, once everything in flight and queued has gone, an EHLO (LHLO) will have
        been sent since the last STARTTLS, or the capabilities are known with none since:
        a STARTTLS queued now needs no greeting of its own (RFC 3207 §4.2 forgets the rest)."""
        greeted = conn.capabilities is not None
        for command in (*conn.pending, *(item.command for item in (*self._in_transit,
                                                                      *self._items))):
            if isinstance(command, Ehlo | Lhlo):
                greeted = True
            elif isinstance(command, StartTLS):
                greeted = False
        return greeted

    def expects_content(self, conn: Connection) -> bool:
        """True when the next line added is message content (after DATA, before ``.``)."""
        return self.projected_state(conn) is State.DATA

    def body_declaration(self, conn: Connection, line: QueuedLine | None = None, *,
                         accepted: MailFrom | None = None) -> BodyDeclaration | None:
        """What the transaction a message line goes into lets it carry: ``line`` (queued), or
        with None the next line added (None then when that is no message line).

        Its MAIL FROM is the newest one ahead of the line: queued, in flight, then
        ``accepted`` (the one the caller saw the server take, when it may have gone past this
        queue), then the newest this queue let go. Typed ahead of the 354, a line is checked
        against the MAIL it will follow, answered or not: a refused MAIL takes the DATA with it.
        """
        if line is None and not self.expects_content(conn):
            return None
        queued = [item.command for item in (*self._in_transit, *self._items)
                  if line is None or item.id < line.id]
        ahead = (*reversed(queued), *reversed(conn.pending), accepted, self._mail)
        mail = next((command for command in ahead if _is_mail(command)), None)
        return BodyDeclaration.of(mail, conn.capabilities)

    # -- adding ------------------------------------------------------------------------------

    def _add(self, item: QueuedLine) -> QueuedLine:
        self._items.append(item)
        return item

    def add_command(self, command: Command, text: str, *, force: bool = False,
                    secret: bool = False, step: KeyStep | None = None,
                    after: QueuedLine | None = None) -> QueuedLine:
        return self._add(QueuedLine(next(self._ids), LineKind.COMMAND, text, command,
                                    force=force, secret=secret, step=step,
                                    after=None if after is None else after.id))

    def add_raw(self, data: bytes, text: str, *, secret: bool = False) -> QueuedLine:
        return self._add(QueuedLine(next(self._ids), LineKind.RAW, text, Raw(data), data,
                                    secret=secret))

    def add_content(self, text: str, conn: Connection | None = None) -> QueuedLine:
        """A message line after DATA; ``.`` alone after a whole line is the end of the message.

        The first line after content that left the message open (``conn``'s, sent verbatim)
        goes on from what that content ended with: after a line without its CRLF, ``.`` is
        more of that line, not the end (the engine decides the same way when it goes).
        """
        data = content_line_bytes(text)
        ahead = self._in_transit or self._items
        before = conn.open_tail if conn is not None and not ahead else MESSAGE_START
        kind = LineKind.END if ends_data(data, before) else LineKind.CONTENT
        return self._add(QueuedLine(next(self._ids), kind, text, data=data))

    # -- cancelling --------------------------------------------------------------------------

    def cancel(self, item_id: int | None = None) -> QueuedLine | None:
        """Remove a line not yet sent (the newest when no id is given); None if none."""
        if not self._items:
            return None
        if item_id is None:
            return self._items.pop()
        for i, item in enumerate(self._items):
            if item.id == item_id:
                return self._items.pop(i)
        return None

    def drop_after(self, item: QueuedLine) -> list[QueuedLine]:
        """``item`` did not do what the lines queued to follow it need (a STARTTLS that
        brought no TLS up): remove those lines; returns them."""
        gone = [queued for queued in self._items if queued.after == item.id]
        self._items = [queued for queued in self._items if queued.after != item.id]
        return gone

    def block(self, item: QueuedLine, reason: str | None) -> None:
        """The engine refused ``item`` when it went: put it back at the head, blocked."""
        if item in self._in_transit:
            self._in_transit.remove(item)
        item.blocked = reason
        self._items.insert(0, item)
        self._items.sort(key=lambda queued: queued.id)

    def requeue(self, item: QueuedLine) -> None:
        """``item`` could not go after all (the connection went away): back in its place."""
        self.block(item, None)

    def force_head(self) -> QueuedLine | None:
        """Send the blocked head anyway (off-script) the next time lines are taken."""
        head = self.head
        if head is None or head.blocked is None:
            return None
        head.blocked = None
        head.force = True
        return head

    # -- releasing ---------------------------------------------------------------------------

    def take_ready(self, conn: Connection) -> list[QueuedLine]:
        """Every line that may be sent now, in order; they are in transit until ``started``."""
        ahead = _Ahead(self._in_transit)
        items = self._items
        count = 0
        while count < len(items):
            head = items[count]
            if head.blocked is not None or not self._may_go(head, conn, ahead):
                break
            ahead.add(head)
            count += 1
        taken = items[:count]
        del items[:count]
        self._in_transit.extend(taken)
        return taken

    def started(self, item: QueuedLine) -> bool:
        """``item`` is about to reach the engine; False (and back in the queue, unsent) when a
        line taken before it has been refused meanwhile, so nothing overtakes a blocked line."""
        if item in self._in_transit:
            self._in_transit.remove(item)
        if any(queued.blocked is not None and queued.id < item.id for queued in self._items):
            self._items.append(item)
            self._items.sort(key=lambda queued: queued.id)
            return False
        if _is_mail(item.command):
            self._mail = item.command
        return True

    def _may_go(self, item: QueuedLine, conn: Connection, ahead: _Ahead) -> bool:
        if item.kind in MESSAGE_LINES:
            if ahead.besides_content or conn.pending:
                return False
            if conn.state is State.DATA:
                return True
            if conn.state is not State.CLOSED and not ahead.count:
                self._block_orphaned_content()
            return False
        if item.kind is LineKind.RAW or item.force:
            return not ahead.count and not conn.pending and conn.state is not State.GREETING
        if ahead.besides_commands:
            return False
        assert item.command is not None
        return not conn.must_wait(item.command, tuple(ahead.commands))

    def _block_orphaned_content(self) -> None:
        # The DATA these lines followed got no 354: block the message up to its "." so none
        # of it is taken for a command.
        for item in self._items:
            if item.kind not in MESSAGE_LINES:
                break
            item.blocked = DATA_REFUSED
            if item.kind is LineKind.END:
                break

    def cancel_blocked(self) -> list[QueuedLine]:
        """Remove every blocked line; returns them."""
        gone = [item for item in self._items if item.blocked is not None]
        self._items = [item for item in self._items if item.blocked is None]
        return gone


class _Ahead:
    """What is in transit ahead of the line ``take_ready`` looks at, kept up to date as it
    takes lines: asking the list itself for every line made a pasted message of n lines cost
    n * n steps."""

    def __init__(self, lines: list[QueuedLine]) -> None:
        self.count = 0
        self.besides_content = False  # a line in transit that is not message content
        self.besides_commands = False  # one that is not a parsed command
        self.commands: list[Command] = []
        for line in lines:
            self.add(line)

    def add(self, line: QueuedLine) -> None:
        self.count += 1
        self.besides_content |= line.kind is not LineKind.CONTENT
        self.besides_commands |= line.kind is not LineKind.COMMAND
        if line.command is not None:
            self.commands.append(line.command)
