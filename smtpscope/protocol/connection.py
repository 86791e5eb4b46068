"""Connection: the sans-IO SMTP client engine (bytes in, events out; commands in, bytes out)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from .capabilities import Capabilities
from .checks import SessionView, command_kind, infer_raw_kinds, send_problem, wait_problem
from .commands import Auth, Command, MessageContent, Raw
from .errors import LocalProtocolError
from .events import NEED_DATA, Closed, NeedData, Reply, make_reply
from .kinds import AUTH_KINDS, Kind
from .replies import Frame, ReplyReader
from .state import RULES, State, is_expected, next_state, projected_after, why_invalid

__all__ = ["Connection", "Sent"]

_new = object.__new__
_TLS_PENDING, _RCPT, _IDENT, _MAIL, _CLOSED = (
    State.TLS_PENDING, State.RCPT, State.IDENT, State.MAIL, State.CLOSED)
INJECTION_WARNING = "bytes after STARTTLS 220: possible STARTTLS injection"
_UNSOLICITED = "unsolicited reply: no command was waiting for one"
# A reply while message data is still open means the server took something other than
# <CRLF>.<CRLF> as the end of the data: the root of SMTP smuggling.
DATA_ENDED_EARLY = (
    "the server replied while the message data was still open: it took a sequence other "
    "than <CRLF>.<CRLF> as end of data, which RFC 5321 §4.1.1.4 forbids (SMTP smuggling)"
)
# Kinds whose replies need more than the table transition (kept off the hot path).
_SPECIAL = frozenset({
    Kind.GREETING, Kind.EHLO, Kind.LHLO, Kind.HELO, Kind.STARTTLS, *AUTH_KINDS, Kind.RSET,
})


# What a reply code does to a non-special expectation, worked out once per kind from RULES:
# (target state or None, Reply.expected, whether the projection must be recomputed).
_Outcome = tuple[State | None, bool | None, bool]
_OUTCOMES: dict[str, tuple[dict[int, _Outcome], _Outcome]] = {}


def _outcomes(kind: str) -> tuple[dict[int, _Outcome], _Outcome]:
    """Per-code outcomes of a table kind (the same result as state.next_state), cached."""
    known = _OUTCOMES.get(kind)
    if known is not None:
        return known
    rule = RULES[kind]
    table: dict[int, _Outcome] = {}
    # Special kinds (RETURN targets) never take the table path, so a non-State target is
    # read as "stay" here.
    def state(target: object) -> State | None:
        return target if isinstance(target, State) else None
    for code in rule.intermediate:
        table[code] = (state(rule.on_intermediate), True, True)
    for code in rule.success:
        table[code] = (state(rule.on_success), True, False)
    failure: _Outcome = (state(rule.on_failure), False if rule.hoped else None, True)
    known = _OUTCOMES[kind] = (table, failure)
    return known


class _Expect:
    """One reply (or, for LMTP content, ``remaining`` replies) the server owes us."""

    __slots__ = ("command", "failure", "kind", "outcomes", "remaining", "rule", "special")

    def __init__(self, command: Command | None, kind: str, remaining: int = 1) -> None:
        self.command = command
        self.kind = kind
        self.remaining = remaining
        # Looked up once here rather than per reply: next_event is the hot path.
        self.rule = RULES[kind]
        self.special = kind in _SPECIAL
        self.outcomes, self.failure = _outcomes(kind)


@dataclass(frozen=True, slots=True)
class Sent:
    """What the last send put on the wire, for the transcript."""

    command: Command
    data: bytes
    off_script: bool
    notes: tuple[str, ...] = ()


class Connection:
    """One SMTP (or LMTP) client conversation, without I/O.

    Feed server bytes with ``receive_data`` and pull ``Reply``/``Closed`` events with
    ``next_event`` (``NEED_DATA`` when more bytes are needed); turn commands into bytes with
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
        self._pending: deque[_Expect] = deque([_Expect(None, Kind.GREETING)])
        self._projected = State.READY
        self._projected_stale = False
        self._greeted = False
        self._auth_return = State.IDENT
        self._accepted_rcpts = 0
        self._closed: Closed | None = None

    # ----------------------------------------------------------------- properties
    @property
    def pending(self) -> tuple[Command, ...]:
        """Commands whose replies have not arrived yet, oldest first."""
        return tuple(e.command for e in self._pending if e.command is not None)

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

    def must_wait(self, cmd: Command, ahead: tuple[Command, ...] = ()) -> bool:
        """True while ``cmd`` has to wait for a reply before it may be sent (RFC 2920).

        ``ahead`` are commands that will be sent before it and count as in flight. Before the
        greeting everything waits. Whether ``cmd`` is valid at all is ``send``'s question.
        """
        if not self._greeted:
            return True
        if ahead:
            last: str | None = command_kind(ahead[-1])
        else:
            last = self._pending[-1].kind if self._pending else None
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

    def next_event(self) -> Reply | Closed | NeedData:
        """Next complete event, or NEED_DATA. Raises RemoteProtocolError on garbage."""
        # Hot path: take an already framed reply straight from the reader's queue. (After EOF
        # or the 220 to STARTTLS that queue is empty, so those checks can wait.)
        frames = self._frames
        if frames:
            frame = frames.popleft()
        else:
            if self._closed is not None:
                return self._closed
            if self.state is _TLS_PENDING:
                return NEED_DATA
            reader = self._reader
            maybe = reader.next_frame()
            if maybe is None:
                if reader.eof:
                    self._closed = Closed(reader.take_unparsed())
                    self._close()
                    return self._closed
                return NEED_DATA
            frame = maybe
        code = frame[0]
        pending = self._pending
        if not pending:
            warnings = (*frame[4], _UNSOLICITED)
            if code == 421:
                self._close()
            elif self.state is State.DATA:
                # The server saw the data end; so must we, or every later command is refused.
                warnings = (*warnings, DATA_ENDED_EARLY)
                self.state = _IDENT
                self._accepted_rcpts = 0
                self._projected_stale = True
            return make_reply(code, frame[1], frame[2], frame[3], warnings, True, None, None)
        exp = pending[0]
        if exp.remaining > 1:
            # LMTP: one reply per accepted recipient; only the last ends the transaction.
            exp.remaining -= 1
            if code == 421:
                self._close()
            hoped = exp.rule.hoped
            return make_reply(code, frame[1], frame[2], frame[3], frame[4], False, exp.command,
                              (code in hoped) if hoped else None)
        pending.popleft()
        if code == 421 or exp.special:
            return self._special(exp, exp.kind, code, frame)
        # The common path: the kind's table outcome for this code (same result as
        # state.next_state, looked up rather than worked out per reply).
        target, expected, stale = exp.outcomes.get(code, exp.failure)
        if target is not None:
            self.state = target
            if target is _RCPT:
                self._accepted_rcpts += 1
            elif target is _IDENT or target is _MAIL:
                self._accepted_rcpts = 0
            elif target is _CLOSED:
                self._close()
        if stale:
            self._projected_stale = True
        # make_reply, inlined: this is the per-reply cost that matters most.
        reply = _new(Reply)
        d = reply.__dict__
        d["code"] = code
        d["lines"] = frame[1]
        d["raw"] = frame[2]
        d["enhanced"] = frame[3]
        d["warnings"] = frame[4]
        d["command"] = exp.command
        d["expected"] = expected
        return reply

    def _special(self, exp: _Expect, kind: str, code: int, frame: Frame) -> Reply:
        _, lines, raw, enhanced, warnings = frame
        before = self.state
        self.state = next_state(before, kind, code, self._auth_return)
        success = code in RULES[kind].success
        if kind == Kind.GREETING:
            self._greeted = True
        elif kind == Kind.STARTTLS and success:
            self.trailing_data = self._reader.take_unparsed()
            if self.trailing_data:
                warnings = (*warnings, INJECTION_WARNING)
            self._forget_session()
            self._pending.clear()  # anything forced after STARTTLS is answered inside TLS
            self._projected_stale = True
        elif kind in AUTH_KINDS:
            if kind == Kind.AUTH and before is not State.AUTH:
                self._auth_return = before
                if isinstance(exp.command, Auth):
                    self.auth_mechanism = exp.command.mechanism
            if code == 235:
                self.authenticated = True
            elif self.state is not State.AUTH and not self.authenticated:
                self.auth_mechanism = None
        elif kind in (Kind.RSET, Kind.EHLO, Kind.LHLO, Kind.HELO) and success:
            self._accepted_rcpts = 0
        reply = make_reply(code, lines, raw, enhanced, warnings, False, exp.command,
                           is_expected(kind, code))
        if kind in (Kind.EHLO, Kind.LHLO) and success:
            self.capabilities = Capabilities.parse(reply)
        elif kind == Kind.HELO and success:
            self.capabilities = None
        if self.state is State.CLOSED:
            self._close()
        elif not success or kind in AUTH_KINDS:
            # The projection assumed the exchange goes on (334); any end of it, success
            # included, returns to the state before AUTH, which the projection cannot know.
            self._reproject()
        return reply

    def _forget_session(self) -> None:
        # RFC 3207 §4.2: after TLS starts, discard everything learnt from the server.
        self.capabilities = None
        self.authenticated = False
        self.auth_mechanism = None
        self._accepted_rcpts = 0

    def _close(self) -> None:
        self.state = State.CLOSED
        self._projected = State.CLOSED
        self._projected_stale = False
        self._pending.clear()

    def _reproject(self) -> None:
        # A reply left the predicted path: recompute the projection lazily, on the next send,
        # so a deep pipeline with many failures stays linear.
        self._projected_stale = True

    def _projection(self) -> State:
        if self._projected_stale:
            state = self.state
            for exp in self._pending:
                state = projected_after(state, exp.kind)
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
                           self._pending[-1].kind if self._pending else None, self.capabilities)
        problem = send_problem(view, kind, cmd, notes)
        if problem is not None:
            if not force:
                raise LocalProtocolError(problem)
            notes.insert(0, f"off-script: {problem}")
        data = cmd.to_bytes()
        count = max(1, self._accepted_rcpts) if self.lmtp and kind == Kind.BDAT_LAST else 1
        self._enqueue(cmd, kind, count)
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
        count = max(1, self._accepted_rcpts) if self.lmtp else 1
        self._enqueue(content, Kind.CONTENT, count)
        notes = (f"off-script: {problem}",) if problem else ()
        self.last_sent = Sent(content, data, problem is not None, notes)
        return data

    def send_raw(self, data: bytes, expect_reply: bool = True, note: str = "") -> bytes:
        """Send exact bytes without validation; the engine still tracks the reply they earn."""
        return self._send_raw(Raw(data, note, expect_reply))

    def _send_raw(self, raw: Raw) -> bytes:
        notes = ["off-script: raw bytes, not validated"]
        if raw.note:
            notes.append(raw.note)
        if raw.expect_reply:
            kinds = infer_raw_kinds(raw.data, self._projection())
            if kinds == [Kind.RAW]:
                notes.append("not read as a known command: one reply expected, state unchanged")
            else:
                notes.append("tracked as " + ", ".join(kinds))
            count = max(1, self._accepted_rcpts) if self.lmtp and kinds == [Kind.CONTENT] else 1
            for kind in kinds:
                self._enqueue(raw, kind, count)
        else:
            notes.append("no reply expected")
        self.last_sent = Sent(raw, raw.data, True, tuple(notes))
        return raw.data

    def _enqueue(self, cmd: Command, kind: str, count: int) -> None:
        self._pending.append(_Expect(cmd, kind, count))
        self._projected = projected_after(self._projection(), kind)
