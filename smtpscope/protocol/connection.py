"""Connection: the sans-IO SMTP client engine (bytes in, events out; commands in, bytes out)."""

from __future__ import annotations

from collections import deque

from ..values import Frozen
from .capabilities import Capabilities
from .checks import SessionView, command_kind, infer_raw_kinds, send_problem, wait_problem
from .commands import Command, MessageContent, Raw, RcptTo
from .data import MAX_END_OF_DATA, MESSAGE_START, ends_data
from .errors import LocalProtocolError
from .events import Closed
from .expect import Expect, expectations
from .kinds import Kind
from .matching import DATA_ENDED_EARLY, INJECTION_WARNING, ReplyMatching
from .replies import ReplyReader
from .state import State, projected_after, why_invalid

__all__ = ["DATA_ENDED_EARLY", "INJECTION_WARNING", "MESSAGE_OPEN", "Connection", "Sent"]

#: The note on content that leaves the message open.
MESSAGE_OPEN = ("the message is still open: no <CRLF>.<CRLF> sent yet, so no reply is owed; "
                "what is sent next is more of the message")


# Sets a field in __init__, past Frozen's refusal (a Sent is built for every send:
# a call a field is faster than Frozen._set's keyword loop).
_setattr = object.__setattr__


class Sent(Frozen):
    """What the last send put on the wire, for the transcript."""

    __slots__ = ("command", "data", "notes", "off_script", "owes_reply")
    command: Command
    data: bytes
    off_script: bool
    notes: tuple[str, ...]
    #: The send earned a reply (False: raw bytes sent without expecting one, or content that
    #: left the message open).
    owes_reply: bool

    def __init__(self, command: Command, data: bytes, off_script: bool,
                 notes: tuple[str, ...] = (), owes_reply: bool = True) -> None:
        _setattr(self, "command", command)
        _setattr(self, "data", data)
        _setattr(self, "off_script", off_script)
        _setattr(self, "notes", notes)
        _setattr(self, "owes_reply", owes_reply)


class Connection(ReplyMatching):
    """One SMTP (or LMTP) client conversation, without I/O.

    Feed server bytes with ``receive_data`` and pull ``Reply``/``Closed`` events with
    ``next_event`` (``NEED_DATA`` when more bytes are needed), or all of them at once with
    ``next_events`` (an empty list when more bytes are needed); turn commands into bytes with
    ``send``/``send_content``/``send_raw``. State rules live in state.py.
    """

    def __init__(self, role: str = "client", lmtp: bool = False) -> None:
        if role != "client":
            raise ValueError("only role='client' is implemented")
        self.role = role
        self.lmtp = lmtp
        self.state = State.GREETING
        self.capabilities: Capabilities | None = None
        self.trailing_data = b""
        self.authenticated = False
        self.auth_mechanism: str | None = None
        self.tls_active = False
        self.last_sent: Sent | None = None
        self._reader = ReplyReader()
        self._frames = self._reader.frames
        self._pending: deque[Expect] = deque(expectations(None, Kind.GREETING))
        self._projected = State.READY
        self._projected_stale = False
        self._greeted = False
        self._auth_return = State.IDENT
        self._accepted: list[Command | None] = []
        self._closed: Closed | None = None
        self._open_content: Command | None = None
        self._open_tail = b""

    # ----------------------------------------------------------------- properties
    @property
    def pending(self) -> tuple[Command, ...]:
        """Commands whose replies have not arrived yet, oldest first."""
        return tuple(cmd for _, cmd, _, _, partial, _ in self._pending
                     if cmd is not None and not partial)

    @property
    def projected_state(self) -> State:
        """The state once every pending command has succeeded (what validation uses)."""
        return self._projection()

    @property
    def tls_pending(self) -> bool:
        return self.state is State.TLS_PENDING

    @property
    def in_auth(self) -> bool:
        return self.state is State.AUTH

    @property
    def message_open(self) -> bool:
        """True while the server reads message content (after a 354) and no reply is owed:
        whatever is sent now is more of the message, and only once <CRLF>.<CRLF> has been
        sent is a reply owed. (Verbatim content or an end-of-data variant may leave it so.)"""
        return self.state is State.DATA and not self._pending

    @property
    def open_tail(self) -> bytes:
        """The last bytes of the open message sent so far (CRLF before its first: the DATA
        line's), which decide whether the next content ends it."""
        is_open = self._open_content is not None and self.state is State.DATA
        return self._open_tail if is_open else MESSAGE_START

    def ends_message(self, data: bytes) -> bool:
        """Whether ``data`` sent now as message content would end the message."""
        return ends_data(data, self.open_tail)

    @property
    def last_owed(self) -> str | None:
        """The kind of the newest reply owed (``Kind.CONTENT``: the reply to a message that
        ended, even in raw bytes), None when none is: how long that reply may take."""
        return self._last_kind()

    @property
    def unfinished(self) -> bytes:
        """Bytes of a reply that has begun but not ended (none while TLS is pending)."""
        return b"" if self.state is State.TLS_PENDING else self._reader.unparsed()

    def must_wait(self, cmd: Command, ahead: tuple[Command, ...] = ()) -> bool:
        """True while ``cmd`` has to wait for a reply before it may be sent (RFC 2920).

        ``ahead`` are commands that will be sent before it and count as in flight. Before the
        greeting everything waits. Whether ``cmd`` is valid at all is ``send``'s question.
        """
        if not self._greeted:
            return True
        last = command_kind(ahead[-1]) if ahead else self._last_kind()
        return wait_problem(last, command_kind(cmd), self.capabilities) is not None

    # ----------------------------------------------------------------- receiving
    def receive_data(self, data: bytes) -> None:
        """Feed bytes read from the server; ``b""`` means the server closed the connection."""
        if self._closed is not None and data:
            raise LocalProtocolError("received data after the connection was closed")
        if self.state is State.TLS_PENDING and data:
            # Plaintext arriving before the TLS handshake can only be injected: keep it apart.
            self.trailing_data += data
            return
        self._reader.receive_data(data)

    def _projection(self) -> State:
        if self._projected_stale:
            state = self.state
            for _, _, _, kind, partial, _ in self._pending:
                if not partial:
                    state = projected_after(state, kind)
            self._projected = state
            self._projected_stale = False
        return self._projected

    # ----------------------------------------------------------------- STARTTLS
    def start_tls_done(self) -> None:
        """Call once the TLS handshake finished: back to READY, EHLO needed again."""
        if self.state is not State.TLS_PENDING:
            raise LocalProtocolError(f"start_tls_done() in state {self.state.name}; "
                                     "it belongs after the 220 reply to STARTTLS")
        self.state = self._projected = State.READY
        self._projected_stale = False
        self._reader = ReplyReader()
        self._frames = self._reader.frames
        self._forget_session()
        self.tls_active = True

    # ----------------------------------------------------------------- sending
    def send(self, cmd: Command, force: bool = False) -> bytes:
        """Validate ``cmd`` (unless ``force``), queue the reply it earns, return its bytes."""
        if isinstance(cmd, Raw):
            return self._send_raw(cmd)
        if isinstance(cmd, MessageContent):
            return self.send_content(cmd, force=force)
        kind = command_kind(cmd)
        notes: list[str] = []
        view = SessionView(self.state, self._projection(), self._greeted, self.lmtp,
                           self._last_kind(), self.capabilities)
        problem = send_problem(view, kind, cmd, notes)
        if problem is not None:
            if not force:
                raise LocalProtocolError(problem)
            notes.insert(0, f"off-script: {problem}")
        data = cmd.to_bytes()
        if self.lmtp and kind == Kind.BDAT_LAST:
            self._enqueue(cmd, kind, *self._owed())
        else:
            self._enqueue(cmd, kind)
        self.last_sent = Sent(cmd, data, problem is not None, tuple(notes))
        return data

    def send_content(self, content: MessageContent, force: bool = False) -> bytes:
        """Message content after a 354 (see MessageContent for normal and verbatim modes)."""
        problem = None
        if self.state is not State.DATA:
            problem = why_invalid(Kind.CONTENT, self.state)
        elif self._pending:
            problem = "wait for the 354 reply to DATA before sending the content"
        if problem is not None and not force:
            raise LocalProtocolError(problem)
        data = content.to_bytes()
        if problem is None and self._keeps_open(content, data):
            self.last_sent = Sent(content, data, False, (MESSAGE_OPEN,), owes_reply=False)
            return data
        self._owe_content(content)
        notes = (f"off-script: {problem}",) if problem else ()
        self.last_sent = Sent(content, data, problem is not None, notes)
        return data

    def _keeps_open(self, command: Command, data: bytes) -> bool:
        """Content ``data`` goes into the open message: True (and remembered) when it does not
        end it, so no reply is owed yet; False when it holds <CRLF>.<CRLF>."""
        tail = self.open_tail
        if ends_data(data, tail):
            return False
        self._open_tail = (tail + data)[-MAX_END_OF_DATA:]
        self._open_content = command
        return True

    def _owe_content(self, command: Command) -> None:
        """The reply (LMTP: one per accepted recipient) that the end of the message earns."""
        if self.lmtp:
            self._enqueue(command, Kind.CONTENT, *self._owed())
        else:
            self._enqueue(command, Kind.CONTENT)

    def send_raw(self, data: bytes, expect_reply: bool = True, note: str = "") -> bytes:
        """Send exact bytes without validation; the engine still tracks the reply they earn.

        In an open message (``message_open``) the bytes are message content and the engine
        decides, whatever ``expect_reply`` says: a reply is owed once <CRLF>.<CRLF> is sent.
        """
        return self._send_raw(Raw(data, note, expect_reply))

    def _send_raw(self, raw: Raw) -> bytes:
        notes = ["off-script: raw bytes, not validated"]
        if raw.note:
            notes.append(raw.note)
        owes = True
        if self.message_open:
            # Message content, whatever expect_reply says: a reply is owed once, and only
            # once, <CRLF>.<CRLF> has been sent (the server may answer earlier: see _open_end).
            if self._keeps_open(raw, raw.data):
                notes.append(MESSAGE_OPEN)
                owes = False
            else:
                notes.append("message content holding <CRLF>.<CRLF>: its reply is owed")
                self._owe_content(raw)
        elif raw.expect_reply:
            kinds = infer_raw_kinds(raw.data, self._projection())
            if kinds == [Kind.RAW]:
                notes.append("not read as a known command: one reply expected, state unchanged")
            else:
                notes.append("tracked as " + ", ".join(kinds))
            owed = self._owed() if self.lmtp and kinds == [Kind.CONTENT] else (1, ())
            for i, kind in enumerate(kinds, 1):
                # Each line is its own expectation; the send is answered by the last one's reply.
                self._enqueue(raw, kind, *owed, more=i < len(kinds))
        else:
            notes.append("no reply expected")
            owes = False
        self.last_sent = Sent(raw, raw.data, True, tuple(notes), owes)
        return raw.data

    def _last_kind(self) -> str | None:
        """The kind of the last reply still owed (an Expect's fourth field), if any."""
        return self._pending[-1][3] if self._pending else None

    def _owed(self) -> tuple[int, tuple[str | None, ...]]:
        """LMTP after the data (RFC 2033 §4.2): how many replies are owed, one per accepted
        recipient (at least one), and whom each is for."""
        return max(1, len(self._accepted)), tuple(map(_address, self._accepted))

    def _enqueue(self, cmd: Command, kind: str, count: int = 1,
                 recipients: tuple[str | None, ...] = (), more: bool = False) -> None:
        self._open_content = None  # a reply is owed: whatever message was open has ended
        self._pending.extend(expectations(cmd, kind, count, more, recipients))
        self._projected = projected_after(self._projection(), kind)


def _address(command: Command | None) -> str | None:
    """The address an accepted RCPT named; None when it went as raw bytes."""
    return command.address if isinstance(command, RcptTo) else None
