"""The SMTP client session state machine: every state, valid command and transition, as tables.

How the engine thinks
=====================

A session moves through a handful of states::

    GREETING --220--> READY --EHLO/HELO 250--> IDENT --MAIL 250--> MAIL --RCPT 250--> RCPT
                                                 ^                                      |
                                                 |<-- 250/5xx to content <-- DATA <--354-+
                                                 |<-- 250 to BDAT LAST <---- BDAT <-250-+
    IDENT --AUTH 334--> AUTH --235/4xx/5xx--> IDENT
    IDENT --STARTTLS 220--> TLS_PENDING --start_tls_done()--> READY (EHLO again)
    IDENT --XCLIENT 220--> READY (a new greeting: EHLO again)
    any --421--> CLOSED;  any --QUIT 221--> CLOSED;  EOF --> CLOSED

``RULES`` says, per command kind, in which states it may be sent, which reply codes count as
success (and which as "go on", like 334), and where success and failure lead. ``None`` means
"stay where you are"; ``RETURN`` means "go back to the state the AUTH exchange started from".
Two situations are not per-command and live in ``next_state``: 421 closes the session whatever
it answers, and a 221 to QUIT closes it too.

Pipelining (RFC 2920). Commands can be in flight; replies arrive in order and each moves the
*actual* state. Validation uses the *projected* state: the actual state with every pending
command assumed to succeed. When a reply disagrees (a pipelined RCPT fails) the connection
recomputes the projection. Commands in ``GROUP_ENDERS`` must be the last of a pipelined group,
and nothing may be pipelined unless the server advertised PIPELINING.

Off-script sends. ``send(cmd, force=True)`` skips the validity check but the transition rules
still apply to the reply. A raw send is matched to one reply; if its bytes are CRLF-terminated
lines that each read as a known command, each line is tracked as that command (so a raw
``DATA`` still leads to the DATA state and ``send_content`` works), otherwise the reply changes
nothing but 421 still closes. In the DATA state raw bytes count as message content.

The open message. After the 354 only <CRLF>.<CRLF> ends the data (RFC 5321 §4.1.1.4), and
content sent verbatim, or with another end-of-data variant, may lack it. Such content earns no
reply: the session stays in DATA, owing nothing, and what is sent next is more of the message
(``Connection.message_open``), until the standard end has been sent. If the server answers
before that, it took another sequence as the end (SMTP smuggling): the reply is matched as the
message's, with ``Reply.ended_by`` holding the last bytes sent, and the session leaves DATA.
"""

from __future__ import annotations

import enum
from typing import Final

from ..values import Frozen

__all__ = [
    "GROUP_ENDERS",
    "REQUIRES_EXTENSION",
    "RETURN",
    "RULES",
    "TRANSACTION",
    "Rule",
    "State",
    "is_expected",
    "next_state",
    "why_invalid",
]


class State(enum.Enum):
    GREETING = "GREETING"  # connected, waiting for the server's 220
    READY = "READY"  # greeted, no EHLO/HELO yet (again so after STARTTLS)
    IDENT = "IDENT"  # EHLO/HELO accepted, no transaction
    MAIL = "MAIL"  # MAIL FROM accepted
    RCPT = "RCPT"  # at least one RCPT TO accepted
    DATA = "DATA"  # 354 received: the next thing sent is the message content
    BDAT = "BDAT"  # BDAT chunks accepted, LAST not yet sent (RFC 3030)
    AUTH = "AUTH"  # 334 received: the next thing sent is a SASL response or "*"
    TLS_PENDING = "TLS_PENDING"  # 220 to STARTTLS: hand the socket to TLS now
    CLOSED = "CLOSED"  # QUIT answered, 421 received, or EOF


class _Return(enum.Enum):
    RETURN = "RETURN"


#: Transition target meaning "back to where the AUTH exchange began".
RETURN: Final = _Return.RETURN
Target = State | _Return | None

S = State
_GREETED = frozenset({S.READY, S.IDENT, S.MAIL, S.RCPT, S.BDAT})
#: A mail transaction is open and takes commands (MAIL accepted, RCPTs, BDAT chunks); DATA,
#: after its 354, is the transaction's content.
TRANSACTION = frozenset({S.MAIL, S.RCPT, S.BDAT})
_ANYWHERE = frozenset({S.GREETING, *_GREETED})


class Rule(Frozen):
    __slots__ = ("hoped", "intermediate", "on_failure", "on_intermediate", "on_success",
                 "success", "valid_in")
    valid_in: frozenset[State]
    success: frozenset[int]
    on_success: Target
    on_failure: Target
    #: Codes meaning "go on" (334 for AUTH) and where they lead.
    intermediate: frozenset[int]
    on_intermediate: Target
    #: success | intermediate: the codes the command hopes for (Reply.expected).
    hoped: frozenset[int]

    def __init__(self, valid_in: frozenset[State], success: frozenset[int], on_success: Target,
                 on_failure: Target, intermediate: frozenset[int] = frozenset(),
                 on_intermediate: Target = None, hoped: frozenset[int] = frozenset()) -> None:
        self._set(valid_in=valid_in, success=success, on_success=on_success,
                  on_failure=on_failure, intermediate=intermediate,
                  on_intermediate=on_intermediate, hoped=hoped)


def _r(valid: frozenset[State], codes: set[int], ok: Target, fail: Target,
       inter: set[int] | None = None, on_inter: Target = None) -> Rule:
    hoped = frozenset(codes | (inter or set()))
    return Rule(valid, frozenset(codes), ok, fail, frozenset(inter or ()), on_inter, hoped)


RULES: Final[dict[str, Rule]] = {
    #        valid in                       success codes      on success  on failure
    # The server's greeting answers no command; a 554 greeting leaves us in GREETING (QUIT).
    "GREETING": _r(frozenset(), {220}, S.READY, None),
    "HELO": _r(_GREETED, {250}, S.IDENT, None),
    "EHLO": _r(_GREETED, {250}, S.IDENT, None),
    "LHLO": _r(_GREETED, {250}, S.IDENT, None),
    "MAIL": _r(frozenset({S.IDENT}), {250}, S.MAIL, None),
    "RCPT": _r(frozenset({S.MAIL, S.RCPT}), {250, 251}, S.RCPT, None),
    "DATA": _r(frozenset({S.RCPT}), {354}, S.DATA, None),
    "CONTENT": _r(frozenset({S.DATA}), {250}, S.IDENT, S.IDENT),
    "BDAT": _r(frozenset({S.RCPT, S.BDAT}), {250}, S.BDAT, S.IDENT),
    "BDAT-LAST": _r(frozenset({S.RCPT, S.BDAT}), {250}, S.IDENT, S.IDENT),
    # RSET success from READY/GREETING stays put (no identity to go back to): see next_state.
    "RSET": _r(_ANYWHERE, {250}, S.IDENT, None),
    "NOOP": _r(_ANYWHERE, {250}, None, None),
    "HELP": _r(_ANYWHERE, {211, 214}, None, None),
    "VRFY": _r(_GREETED, {250, 251, 252}, None, None),
    "EXPN": _r(_GREETED, {250, 252}, None, None),
    "ETRN": _r(frozenset({S.IDENT}), {250, 251, 252, 253}, None, None),
    "STARTTLS": _r(frozenset({S.IDENT}), {220}, S.TLS_PENDING, None),
    "AUTH": _r(frozenset({S.IDENT}), {235}, RETURN, RETURN, {334}, S.AUTH),
    "AUTH-RESPONSE": _r(frozenset({S.AUTH}), {235}, RETURN, RETURN, {334}, S.AUTH),
    # RFC 4954 §4: the server answers "*" with 501; the exchange is over either way.
    "AUTH-CANCEL": _r(frozenset({S.AUTH}), {501}, RETURN, RETURN),
    "QUIT": _r(_ANYWHERE, {221}, S.CLOSED, None),
    # Postfix XCLIENT_README: not inside a transaction; a 220 is a new greeting (EHLO again).
    # Postfix before 2.3 answered 250 and did not start over: see next_state.
    "XCLIENT": _r(frozenset({S.READY, S.IDENT}), {220, 250}, S.READY, None),
    # Raw bytes the engine could not read as a command: validity and outcome unknown.
    "RAW": _r(frozenset(State), set(), None, None),
}

#: RFC 2920 §3.1 (plus AUTH per RFC 4954 and STARTTLS per RFC 3207): these change state in a
#: way the client must see before sending more, so they end a pipelined group.
GROUP_ENDERS: Final = frozenset({
    "HELO", "EHLO", "LHLO", "DATA", "VRFY", "EXPN", "NOOP", "QUIT", "STARTTLS", "AUTH",
    "AUTH-RESPONSE", "AUTH-CANCEL", "CONTENT", "BDAT-LAST", "XCLIENT",
})

#: Command kinds that only exist when the server advertised a keyword.
REQUIRES_EXTENSION: Final[dict[str, str]] = {
    "STARTTLS": "STARTTLS",
    "AUTH": "AUTH",
    "BDAT": "CHUNKING",
    "BDAT-LAST": "CHUNKING",
    "ETRN": "ETRN",
    "XCLIENT": "XCLIENT",
}

#: MAIL/RCPT parameters and the keyword that must have been advertised for them.
PARAM_REQUIRES: Final[dict[str, str]] = {
    "SIZE": "SIZE",
    "SMTPUTF8": "SMTPUTF8",
    "RET": "DSN",
    "ENVID": "DSN",
    "NOTIFY": "DSN",
    "ORCPT": "DSN",
    "AUTH": "AUTH",
    "REQUIRETLS": "REQUIRETLS",
    "MT-PRIORITY": "MT-PRIORITY",
    "BY": "DELIVERBY",
    "HOLDFOR": "FUTURERELEASE",  # RFC 4865
    "HOLDUNTIL": "FUTURERELEASE",
    "PRDR": "PRDR",  # draft-hall-prdr
    "RRVS": "RRVS",  # RFC 7293
}
#: BODY= values and their keyword.
BODY_REQUIRES: Final[dict[str, str]] = {"8BITMIME": "8BITMIME", "BINARYMIME": "BINARYMIME"}

#: kinds that belong to one protocol only (RFC 2033: LMTP uses LHLO, never HELO/EHLO).
LMTP_ONLY: Final = frozenset({"LHLO"})
SMTP_ONLY: Final = frozenset({"HELO", "EHLO"})

# What to do first, per kind, when it is sent in the wrong state ({hello}, {ehlo}: the greeting,
# which LMTP spells LHLO).
_PREREQUISITE: Final[dict[str, str]] = {
    "MAIL": "send {hello} first (and finish or RSET any open transaction)",
    "RCPT": "send MAIL FROM first",
    "DATA": "needs at least one accepted RCPT TO",
    "CONTENT": "send DATA and wait for its 354 first",
    "BDAT": "needs MAIL FROM and at least one accepted RCPT TO",
    "BDAT-LAST": "needs MAIL FROM and at least one accepted RCPT TO",
    "STARTTLS": "send {ehlo} first; STARTTLS is not allowed inside a transaction",
    "AUTH": "send {ehlo} first; AUTH is not allowed inside a transaction",
    "AUTH-RESPONSE": "only after a 334 challenge to AUTH",
    "AUTH-CANCEL": "only after a 334 challenge to AUTH",
    "ETRN": "send {ehlo} first; ETRN is not allowed inside a transaction",
    "XCLIENT": "XCLIENT is not allowed inside a transaction (finish it or RSET first)",
}
_STATE_BLOCKERS: Final[dict[State, str]] = {
    S.DATA: "the server is reading message content (354): use send_content()",
    S.AUTH: "an AUTH exchange is in progress: send a response or cancel with *",
    S.TLS_PENDING: "TLS negotiation pending: call start_tls_done() first",
    S.CLOSED: "the connection is closed",
    S.GREETING: "the server refused service in its greeting; only QUIT, NOOP, HELP, RSET",
}


def why_invalid(kind: str, state: State, *, lmtp: bool = False) -> str:
    """A sentence saying why ``kind`` cannot be sent in ``state`` and what to do instead."""
    blocker = _STATE_BLOCKERS.get(state)
    if blocker is not None and state not in RULES[kind].valid_in:
        return f"{kind} not valid now: {blocker}"
    prereq = _PREREQUISITE.get(kind, "it is not valid in this state").format(
        hello="LHLO" if lmtp else "EHLO/HELO", ehlo="LHLO" if lmtp else "EHLO")
    return f"{kind} not valid in state {state.name}: {prereq}"


def is_expected(kind: str, code: int) -> bool | None:
    """Whether ``code`` is what ``kind`` hopes for; None when there is no expectation."""
    rule = RULES[kind]
    if not rule.hoped:
        return None
    return code in rule.hoped


def next_state(state: State, kind: str, code: int, return_to: State) -> State:
    """The state after a reply with ``code`` to a command of ``kind`` arrives in ``state``."""
    if code == 421:
        return S.CLOSED  # RFC 5321 §3.8: the server is shutting the channel, whatever we asked
    rule = RULES[kind]
    if code in rule.success:
        target = rule.on_success
        if kind == "RSET" and state not in TRANSACTION and state is not S.IDENT:
            target = None
        elif kind == "XCLIENT" and code != 220:
            target = None  # accepted without a new greeting: the session goes on as it was
    elif code in rule.intermediate:
        target = rule.on_intermediate
    else:
        target = rule.on_failure
    if target is None:
        return state
    if target is RETURN:
        # Only an exchange that reached AUTH has somewhere to return to; an AUTH answered at
        # once (235/535 to an initial response) or a forced response leaves the state alone.
        return return_to if state is S.AUTH else state
    assert isinstance(target, State)
    return target


def projected_after(state: State, kind: str) -> State:
    """State assuming the command succeeds (used to validate pipelined commands)."""
    rule = RULES[kind]
    if rule.success:
        code = min(rule.success)
    elif rule.intermediate:
        code = min(rule.intermediate)
    else:
        return state
    # An AUTH in flight has no predictable end state; assume it returns to where it began.
    return next_state(state, kind, code, state)


def mermaid() -> str:
    """A Mermaid state diagram of the success transitions, generated from RULES (for docs)."""
    edges: dict[tuple[State, State], list[str]] = {}
    for kind, rule in RULES.items():
        for state in sorted(rule.valid_in or {S.GREETING}, key=lambda s: s.value):
            for code in sorted(rule.success | rule.intermediate):
                after = next_state(state, kind, code, S.IDENT)
                if after is not state:
                    label = "greeting" if kind == "GREETING" else kind
                    edges.setdefault((state, after), [])
                    if label not in edges[(state, after)]:
                        edges[(state, after)].append(label)
    out = ["stateDiagram-v2", "    [*] --> GREETING"]
    for (src, dst), labels in edges.items():
        out.append(f"    {src.name} --> {dst.name}: {', '.join(labels)}")
    out.append("    TLS_PENDING --> READY: start_tls_done()")
    return "\n".join(out)
