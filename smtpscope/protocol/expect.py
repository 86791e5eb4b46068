"""What the engine owes the server's next reply: one queued expectation per command sent, with
the per-code outcome tables the connection's hot path reads."""

from __future__ import annotations

from typing import NamedTuple

from .commands import Command
from .kinds import AUTH_KINDS, Kind
from .state import RULES, State

__all__ = ["SPECIAL", "Expect", "Outcome", "expectations", "fast_outcomes", "outcomes"]

#: Kinds whose replies need more than the table transition (kept off the hot path).
SPECIAL = frozenset({
    Kind.GREETING, Kind.EHLO, Kind.LHLO, Kind.HELO, Kind.STARTTLS, *AUTH_KINDS, Kind.RSET,
    Kind.XCLIENT,
})

# What a reply code does to a non-special expectation, worked out once per kind from RULES:
# (target state or None, Reply.expected, whether the projection must be recomputed).
Outcome = tuple[State | None, bool | None, bool]
_OUTCOMES: dict[str, tuple[dict[int, Outcome], Outcome]] = {}
_FAST: dict[str, tuple[dict[int, Outcome | None], Outcome | None]] = {}


def outcomes(kind: str) -> tuple[dict[int, Outcome], Outcome]:
    """Per-code outcomes of a table kind (the same result as state.next_state), cached."""
    known = _OUTCOMES.get(kind)
    if known is not None:
        return known
    rule = RULES[kind]
    table: dict[int, Outcome] = {}
    # Special kinds (RETURN targets) never take the table path, so a non-State target is
    # read as "stay" here.
    def state(target: object) -> State | None:
        return target if isinstance(target, State) else None
    for code in rule.intermediate:
        table[code] = (state(rule.on_intermediate), True, True)
    for code in rule.success:
        table[code] = (state(rule.on_success), True, False)
    failure: Outcome = (state(rule.on_failure), False if rule.hoped else None, True)
    known = _OUTCOMES[kind] = (table, failure)
    return known


def fast_outcomes(kind: str) -> tuple[dict[int, Outcome | None], Outcome | None]:
    """The outcomes the hot path may apply by itself; None sends a reply the slow way.

    The slow way takes a special kind's every reply, any 421 (it closes whatever it answers)
    and a code that closes the session (221 to QUIT): so the hot path never closes.
    """
    known = _FAST.get(kind)
    if known is not None:
        return known
    if kind in SPECIAL:
        known = _FAST[kind] = ({}, None)
        return known
    table, failure = outcomes(kind)
    fast: dict[int, Outcome | None] = {
        code: (None if outcome[0] is State.CLOSED else outcome) for code, outcome in table.items()
    }
    fast[421] = None
    known = _FAST[kind] = (fast, None if failure[0] is State.CLOSED else failure)
    return known


class Expect(NamedTuple):
    """One reply the server owes us: what the hot path needs first, by position.

    The connection reads ``fast``, ``fast_else``, ``command`` and ``more`` by index (0-3) in
    its hot path; they must stay first and in this order. A tuple because one is made per
    command sent and dropped per reply: cheaper to make and to free than an object.
    """

    #: code -> outcome the hot path may apply by itself (None: the slow path; fast_outcomes).
    fast: dict[int, Outcome | None]
    fast_else: Outcome | None
    command: Command | None
    #: Another reply to the same send follows this one: Reply.more.
    more: bool
    kind: str
    #: One of several replies to one command that are not its last (LMTP: one per accepted
    #: recipient after the data). It changes no state; the last one does.
    partial: bool = False
    #: LMTP after the data: the accepted recipient this reply is for (Reply.recipient).
    recipient: str | None = None


_NOBODY: tuple[str | None, ...] = (None,)


def expectations(command: Command | None, kind: str, count: int = 1,
                 more: bool = False, recipients: tuple[str | None, ...] = ()) -> list[Expect]:
    """The ``count`` replies a command of ``kind`` earns; ``more`` when the same send has
    further commands after it (a raw send read as several). ``recipients``: LMTP, whom each
    of the ``count`` replies answers for, in order."""
    fast, fast_else = fast_outcomes(kind)
    if len(recipients) != count:
        recipients = _NOBODY if count == 1 else (None,) * count
    last = Expect(fast, fast_else, command, more, kind, False, recipients[-1])
    if count == 1:
        return [last]
    return [*[Expect({}, None, command, True, kind, True, r) for r in recipients[:-1]], last]
