"""The connection's receiving half: replies matched to the commands that earned them.

``next_event`` hands out one event per call; ``next_events`` drains them all, with the same
events and state as looping ``next_event``. The common case (a reply whose outcome the
command's table gives, see expect.fast_outcomes, none of which closes) is written out where a
reply is taken, state change included, because a call per reply is what costs: in
``next_event`` for one reply, in ``_fast_run`` for the replies queued behind it (tests hold the
two to the same results). Everything else goes through ``_match`` (or ``_unsolicited``), whose
table outcomes (the closing ones among them) go through ``_advance``.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any, cast

from .capabilities import Capabilities
from .commands import Auth, Command
from .data import end_variant
from .errors import RemoteProtocolError, show_bytes
from .events import NEED_DATA, Closed, NeedData, Reply, make_reply
from .expect import SPECIAL, Expect, expectations, outcomes
from .kinds import AUTH_KINDS, Kind
from .replies import Frame, ReplyReader
from .state import RULES, State, next_state

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["DATA_ENDED_EARLY", "INJECTION_WARNING", "ReplyMatching"]

_tuple_new: Any = tuple.__new__  # Reply from a ready tuple of its fields (see make_reply)
_TLS_PENDING, _RCPT, _IDENT, _MAIL, _CLOSED, _AUTH, _DATA, _READY = (
    State.TLS_PENDING, State.RCPT, State.IDENT, State.MAIL, State.CLOSED, State.AUTH,
    State.DATA, State.READY)
# Kinds as module constants: an enum member looked up on its class costs a method call.
_GREETING, _STARTTLS, _AUTH_KIND, _HELO = Kind.GREETING, Kind.STARTTLS, Kind.AUTH, Kind.HELO
_XCLIENT = Kind.XCLIENT
_GREETS = frozenset({Kind.EHLO, Kind.LHLO})  # replies that carry capabilities
_RESETS = frozenset({Kind.RSET, Kind.EHLO, Kind.LHLO, Kind.HELO})  # success: no recipients
INJECTION_WARNING = ("bytes after the STARTTLS 220, before TLS: possible STARTTLS command "
                     "injection; they are discarded, never read as replies")
_UNSOLICITED = "unsolicited reply: no command was waiting for one"
# A reply while message data is still open means the server took something other than
# <CRLF>.<CRLF> as the end of the data: the root of SMTP smuggling.
DATA_ENDED_EARLY = (
    "the server replied while the message data was still open: it took a sequence other "
    "than <CRLF>.<CRLF> as end of data, which RFC 5321 §4.1.1.4 forbids (SMTP smuggling)"
)


class ReplyMatching:
    """Connection's replies-in side (a mixin: Connection sets these attributes up)."""

    state: State
    capabilities: Capabilities | None
    trailing_data: bytes
    authenticated: bool
    auth_mechanism: str | None
    _reader: ReplyReader
    _frames: deque[Frame]
    _pending: deque[Expect]
    _projected: State
    _projected_stale: bool
    _greeted: bool
    _auth_return: State
    #: LMTP: the RCPTs accepted in this transaction, in order (their addresses are read only
    #: when the data's replies are owed, see ``_owed``; none per reply). Only LMTP owes a reply
    #: per accepted RCPT, so an SMTP connection keeps none: the hot paths skip the list.
    _accepted: list[Command | None]
    _closed: Closed | None
    lmtp: bool
    #: Message content sent since the 354 that has not ended the message (no <CRLF>.<CRLF>
    #: yet), the newest; None when nothing was sent or the message has ended.
    _open_content: Command | None
    #: The last bytes of that open message (see Reply.ended_by).
    _open_tail: bytes

    if TYPE_CHECKING:  # Connection's
        def _owed(self) -> tuple[int, tuple[str | None, ...]]: ...

    def next_event(self) -> Reply | Closed | NeedData:
        """Next complete event, or NEED_DATA. Raises RemoteProtocolError on garbage.

        Once the server has closed, every call returns the same ``Closed``.
        """
        # Hot path: take an already framed reply straight from the reader's queue. (After EOF
        # or the 220 to STARTTLS that queue is empty, so those checks can wait.)
        frames = self._frames
        if frames:
            code, lines, raw, enhanced, warnings = frame = frames.popleft()
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
            code, lines, raw, enhanced, warnings = frame = maybe
        pending = self._pending
        if not pending:
            return self._unsolicited(frame)
        exp = pending.popleft()
        # The common case: the kind's table outcome for this code (the same result as
        # state.next_state, looked up rather than worked out per reply). Expect's fields by
        # index: fast 0, command 1, more 2, kind 3, recipient 5.
        outcome = exp[0][code]
        if outcome is None:
            return self._match(frame, exp)
        target, expected, stale = outcome
        # _advance, inlined (a call per reply is what costs); a fast outcome never closes (see
        # expect.fast_outcomes), so CLOSED needs no case here.
        if target is not None:
            self.state = target
            if self.lmtp:  # only LMTP reads the accepted RCPTs (see _accepted)
                if target is _RCPT:
                    self._accepted.append(exp[1])
                elif target is _IDENT or target is _MAIL:
                    self._accepted.clear()
        if stale:
            self._projected_stale = True
        # make_reply, inlined: the per-reply cost that matters most.
        reply: Reply = _tuple_new(Reply, (code, lines, raw, enhanced, warnings, False, exp[1],
                                          expected, exp[2], False, exp[3], exp[5], None))
        return reply

    def next_events(self) -> list[Reply | Closed]:
        """Every event complete so far, in order, in one call; ``[]`` means NEED_DATA.

        The same events, the same matching and the same state afterwards as calling
        ``next_event()`` until it returns NEED_DATA (it is that loop, with the replies queued
        behind the first matched by ``_fast_run`` up to one that needs the slow way). A
        ``Closed`` comes last, when the server has closed (and again on every later call); the
        220 to STARTTLS is the last reply before ``start_tls_done()``.

        Replies framed before malformed bytes are returned first; the RemoteProtocolError is
        raised by the next call, just as ``next_event()`` raises it once they are handed out.
        """
        out: list[Reply | Closed] = []
        append = out.append
        next_event = self.next_event
        # While framed replies wait, next_event takes one and returns a Reply: only an empty
        # queue gives NEED_DATA or Closed (and the queue is the same deque until
        # start_tls_done, which is never called from in here), so those need no check.
        next_reply = cast("Callable[[], Reply]", next_event)
        frames = self._frames
        pending = self._pending
        try:
            while True:
                event = next_event()
                if event is NEED_DATA:
                    return out
                append(event)
                if event is self._closed:
                    return out
                while frames:
                    if pending:
                        self._fast_run(frames, pending, out)
                        if not frames:
                            break
                    append(next_reply())  # the reply the run stopped at, the slow way
        except RemoteProtocolError:
            if out:
                return out  # the reader stays broken: the next call raises the error
            raise

    def _fast_run(self, frames: deque[Frame], pending: deque[Expect],
                  out: list[Reply | Closed]) -> None:
        """Match the leading replies in ``frames`` whose outcome is a fast one, in one loop,
        up to the first that is not (left queued for ``next_event``); take the matched ones and
        their expectations off both queues.

        ``next_event``'s hot path, for a run of replies: the same Reply and state change for
        each, written out again because a call per reply is what costs. The loop walks both
        queues side by side (a pop per reply costs a call) and drops the matched ones at the
        end; the state stays in a local until then (nothing here reads it: no slow path runs
        inside the run), and names the loop reads are locals.
        """
        append = out.append
        accepted = self._accepted if self.lmtp else None  # see _accepted
        state = self.state
        stale_any = False
        before = len(out)
        new, reply_type, rcpt, ident, mail = _tuple_new, Reply, _RCPT, _IDENT, _MAIL
        # Both queues as they are (pending may be the longer): the run ends with the shorter.
        for (code, lines, raw, enhanced, warnings), exp in zip(frames, pending, strict=False):
            outcome = exp[0][code]
            if outcome is None:
                break
            target, expected, stale = outcome
            if target is not None:
                state = target
                if accepted is not None:
                    if target is rcpt:
                        accepted.append(exp[1])
                    elif target is ident or target is mail:
                        accepted.clear()
            if stale:
                stale_any = True
            append(new(reply_type, (code, lines, raw, enhanced, warnings, False, exp[1], expected,
                                    exp[2], False, exp[3], exp[5], None)))
        done = len(out) - before
        self.state = state
        if stale_any:
            self._projected_stale = True
        _drop(frames, done)
        _drop(pending, done)

    def _unsolicited(self, frame: Frame) -> Reply:
        """A reply no command was waiting for."""
        code = frame[0]
        if code != 421 and self.state is _DATA and self._open_content is not None:
            return self._open_end(frame)
        warnings = (*frame[4], _UNSOLICITED)
        if code == 421:
            self._close()
        elif self.state is _DATA:
            # The server saw the data end; so must we, or every later command is refused.
            warnings = (*warnings, DATA_ENDED_EARLY)
            self.state = _IDENT
            self._accepted.clear()
            self._projected_stale = True
        return make_reply(code, frame[1], frame[2], frame[3], warnings, True, None, None,
                          False, code == 421)

    def _open_end(self, frame: Frame) -> Reply:
        """A reply while the message is open (content sent, no <CRLF>.<CRLF> among it): the
        server ended the data at some other sequence. It is the reply to the message (LMTP:
        the first of one per accepted recipient), flagged with the last bytes sent."""
        command, tail = self._open_content, self._open_tail
        self._open_content = None
        count, recipients = self._owed() if self.lmtp else (1, ())
        self._pending.extend(expectations(command, Kind.CONTENT, count, False, recipients))
        self._projected_stale = True  # the projection never counted on this reply
        reply = self._match(frame, self._pending.popleft())
        variant = end_variant(tail)
        sent = f"the last bytes sent were {show_bytes(tail)}" + (
            f" (the {variant} end-of-data variant)" if variant else "")
        return reply._replace(warnings=(*reply.warnings, DATA_ENDED_EARLY, sent),
                              ended_by=tail)

    def _match(self, frame: Frame, exp: Expect) -> Reply:
        """Match a reply the hot path leaves alone to ``exp``, already taken off the queue:
        one of several owed (LMTP), 421, a special kind's, or one that closes the session."""
        code = frame[0]
        pending = self._pending
        _, command, more, kind, partial, recipient = exp
        if partial:
            # LMTP: one reply per accepted recipient; only the last ends the transaction.
            closes = code == 421
            if closes:
                self._close()
            hoped = RULES[kind].hoped
            return make_reply(code, frame[1], frame[2], frame[3], frame[4], False, command,
                              (code in hoped) if hoped else None, not closes, closes, kind,
                              recipient)
        if code == 421 or kind in SPECIAL:
            return self._special(command, more, kind, code, frame)
        # A table kind's reply the hot path does not apply: the one that closes (221 to QUIT).
        table, failure = outcomes(kind)
        target, expected, stale = table.get(code, failure)
        self._advance(target, stale, command)
        return make_reply(code, frame[1], frame[2], frame[3], frame[4], False, command,
                          expected, more and bool(pending), target is _CLOSED, kind, recipient)

    def _advance(self, target: State | None, stale: bool, exp_command: Command | None) -> None:
        """Apply a table kind's outcome to the reply to ``exp_command``: its target state
        (None: stay) and whether the projection must be worked out again."""
        if target is not None:
            self.state = target
            if target is _CLOSED:
                self._close()
            elif self.lmtp:
                if target is _RCPT:
                    self._accepted.append(exp_command)
                elif target is _IDENT or target is _MAIL:
                    self._accepted.clear()
        if stale:
            self._projected_stale = True

    def _special(self, command: Command | None, more: bool, kind: str, code: int,
                 frame: Frame) -> Reply:
        _, lines, raw, enhanced, warnings = frame
        before = self.state
        self.state = next_state(before, kind, code, self._auth_return)
        rule = RULES[kind]
        success = code in rule.success
        if kind == _GREETING:
            self._greeted = True
        elif kind == _STARTTLS and success:
            self.trailing_data = self._reader.take_unparsed()
            if self.trailing_data:
                warnings = (*warnings, INJECTION_WARNING)
            self._forget_session()
            self._pending.clear()  # anything forced after STARTTLS is answered inside TLS
            self._projected_stale = True
        elif kind in AUTH_KINDS:
            if kind == _AUTH_KIND and before is not _AUTH:
                self._auth_return = before
                if isinstance(command, Auth):
                    self.auth_mechanism = command.mechanism
            if code == 235:
                self.authenticated = True
            elif self.state is not _AUTH and not self.authenticated:
                self.auth_mechanism = None
        elif success and kind in _RESETS:
            self._accepted.clear()
        elif kind == _XCLIENT:
            if self.state is _READY:
                # Postfix XCLIENT_README: the server starts over at its greeting (TLS stays up).
                self._forget_session()
            self._projected_stale = True  # a 250 (Postfix before 2.3) stays where it was
        closed = self.state is _CLOSED
        if closed:
            self._close()
        reply = make_reply(code, lines, raw, enhanced, warnings, False, command,
                           (code in rule.hoped) if rule.hoped else None,
                           more and bool(self._pending), code == 421, kind)
        if success and kind in _GREETS:
            self.capabilities = Capabilities.parse(reply)
        elif success and kind == _HELO:
            self.capabilities = None
        if not closed and (not success or kind in AUTH_KINDS):
            # The projection assumed the exchange goes on (334); any end of it, success
            # included, returns to the state before AUTH, which the projection cannot know.
            self._projected_stale = True
        return reply

    def _forget_session(self) -> None:
        # RFC 3207 §4.2: after TLS starts, discard everything learnt from the server.
        self.capabilities = None
        self.authenticated = False
        self.auth_mechanism = None
        self._accepted.clear()

    def _close(self) -> None:
        self.state = self._projected = _CLOSED
        self._projected_stale = False
        self._pending.clear()


def _drop(queue: deque[Any], count: int) -> None:
    """Take the first ``count`` items off ``queue``."""
    if count == len(queue):
        queue.clear()
    else:
        for _ in range(count):
            queue.popleft()
