"""What the engine owes the server's next reply: one queued expectation per command sent, with
the per-code outcome tables the connection's hot path reads."""

from __future__ import annotations

from .commands import Command
from .kinds import AUTH_KINDS, Kind
from .state import RULES, State

__all__ = [
    "SPECIAL", "Expect", "FastOutcomes", "Outcome", "expectations", "fast_outcomes", "outcomes",
]

#: Kinds whose replies need more than the table transition (kept off the hot path).
SPECIAL = frozenset({
    Kind.GREETING, Kind.EHLO, Kind.LHLO, Kind.HELO, Kind.STARTTLS, *AUTH_KINDS, Kind.RSET,
    Kind.XCLIENT,
})

# What a reply code does to a non-special expectation, worked out once per kind from RULES:
# (target state or None, Reply.expected, whether the projection must be recomputed).
Outcome = tuple[State | None, bool | None, bool]
#: The hot path's outcomes of one kind, indexed by reply code (a reply code has three digits,
#: so 000-999): one C-level index per reply, no method call. None sends a reply the slow way.
FastOutcomes = tuple[Outcome | None, ...]
_CODES = range(1000)
_OUTCOMES: dict[str, tuple[dict[int, Outcome], Outcome]] = {}
_FAST: dict[str, FastOutcomes] = {}
#: Nothing on the hot path: for special kinds and the replies an LMTP message owes before its
#: last (built once; a kind's table is about 8 KB and built only when the kind is first sent).
_SLOW: FastOutcomes = (None,) * len(_CODES)


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


def fast_outcomes(kind: str) -> FastOutcomes:
    """The outcomes the hot path may apply by itself, by reply code; None sends a reply the
    slow way.

    The slow way takes a special kind's every reply, any 421 (it closes whatever it answers)
    and a code that closes the session (221 to QUIT): so the hot path never closes.
    """
    known = _FAST.get(kind)
    if known is not None:
        return known
    if kind in SPECIAL:
        known = _FAST[kind] = _SLOW
        return known
    table, failure = outcomes(kind)

    def fast(code: int) -> Outcome | None:
        outcome = table.get(code, failure)
        return None if code == 421 or outcome[0] is State.CLOSED else outcome

    known = _FAST[kind] = tuple(map(fast, _CODES))
    return known


#: One reply the server owes us: ``(fast, command, more, kind, partial, recipient)``.
#:
#: - ``fast``: the kind's ``fast_outcomes``, by reply code;
#: - ``command``: what the reply answers (None: the greeting);
#: - ``more``: another reply to the same send follows this one (Reply.more);
#: - ``kind``: what the engine matches the reply to (Reply.kind);
#: - ``partial``: one of several replies to one command that are not its last (LMTP: one per
#:   accepted recipient after the data); it changes no state, the last one does;
#: - ``recipient``: LMTP after the data, the accepted recipient it is for (Reply.recipient).
#:
#: A plain tuple: one is made per command sent and dropped per reply, and the hot path indexes
#: it; CPython indexes and unpacks an exact tuple at full speed, a named tuple through the
#: generic protocol (several times the cost). Slow paths unpack it.
Expect = tuple[FastOutcomes, Command | None, bool, str, bool, str | None]


_NOBODY: tuple[str | None, ...] = (None,)


def expectations(command: Command | None, kind: str, count: int = 1,
                 more: bool = False, recipients: tuple[str | None, ...] = ()) -> list[Expect]:
    """The ``count`` replies a command of ``kind`` earns; ``more`` when the same send has
    further commands after it (a raw send read as several). ``recipients``: LMTP, whom each
    of the ``count`` replies answers for, in order."""
    if len(recipients) != count:
        recipients = _NOBODY if count == 1 else (None,) * count
    last: Expect = (fast_outcomes(kind), command, more, kind, False, recipients[-1])
    if count == 1:
        return [last]
    return [*[(_SLOW, command, True, kind, True, r) for r in recipients[:-1]], last]
