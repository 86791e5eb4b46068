"""Send-time checks: may this command go now, and what do raw bytes amount to?"""

from __future__ import annotations

from ..values import Frozen
from .capabilities import Capabilities
from .commands import Auth, Bdat, Command, MailFrom, Raw, RcptTo
from .errors import UNSAFE_CHARS, CommandSyntaxError, escape_char
from .kinds import Kind
from .state import (
    BODY_REQUIRES,
    GROUP_ENDERS,
    LMTP_ONLY,
    PARAM_REQUIRES,
    REQUIRES_EXTENSION,
    RULES,
    SMTP_ONLY,
    State,
    why_invalid,
)

__all__ = [
    "MAX_COMMAND_LINE",
    "SessionView",
    "command_kind",
    "command_problems",
    "extension_problems",
    "infer_raw_kinds",
    "line_length_problem",
    "param_keyword",
    "send_problem",
    "wait_problem",
]


def command_kind(cmd: Command) -> str:
    """The state-table key for ``cmd`` (BDAT LAST is its own kind: it ends the transaction)."""
    if isinstance(cmd, Bdat) and cmd.last:
        return Kind.BDAT_LAST
    return cmd.kind


# Sets a field in __init__, past Frozen's refusal (a SessionView is built for every send:
# a call a field is faster than Frozen._set's keyword loop).
_setattr = object.__setattr__


class SessionView(Frozen):
    """What the checks need to know about the session."""

    __slots__ = ("capabilities", "greeted", "last_pending", "lmtp", "projected", "state")
    state: State
    projected: State
    greeted: bool
    lmtp: bool
    #: Kind of the newest command still awaiting its reply (None: nothing in flight).
    last_pending: str | None
    capabilities: Capabilities | None

    def __init__(self, state: State, projected: State, greeted: bool, lmtp: bool,
                 last_pending: str | None, capabilities: Capabilities | None) -> None:
        _setattr(self, "state", state)
        _setattr(self, "projected", projected)
        _setattr(self, "greeted", greeted)
        _setattr(self, "lmtp", lmtp)
        _setattr(self, "last_pending", last_pending)
        _setattr(self, "capabilities", capabilities)


def send_problem(view: SessionView, kind: str, cmd: Command, notes: list[str]) -> str | None:
    """Why ``cmd`` may not be sent now (None if it may); appends advisory notes."""
    state = view.projected
    if view.state is State.CLOSED or state is State.CLOSED:
        return why_invalid(kind, State.CLOSED)
    if not view.greeted:
        return f"{kind} before the server's greeting (an early talker; servers may reject it)"
    if view.lmtp and kind in SMTP_ONLY:
        return f"{kind} is not LMTP: use LHLO (RFC 2033)"
    if not view.lmtp and kind in LMTP_ONLY:
        return "LHLO is for LMTP servers: use EHLO"
    waiting = wait_problem(view.last_pending, kind, view.capabilities)
    if waiting is not None:
        return waiting
    if state not in RULES[kind].valid_in:
        return why_invalid(kind, state, lmtp=view.lmtp)
    return _extension_problem(view.capabilities, kind, cmd, notes)


def wait_problem(last_pending: str | None, kind: str,
                 capabilities: Capabilities | None) -> str | None:
    """Why ``kind`` has to wait for the reply to ``last_pending`` (RFC 2920); None if it may go.

    With nothing in flight nothing waits; otherwise only a server that advertised PIPELINING
    takes more, and never after a command that must end a pipelined group.
    """
    last = last_pending
    if last is None:
        return None
    if kind in (Kind.AUTH_RESPONSE, Kind.AUTH_CANCEL):
        return f"wait for the reply to {last} before answering a challenge"
    if last in GROUP_ENDERS:
        return f"wait for the reply to {last}: it must end a pipelined group (RFC 2920)"
    if capabilities is None or not capabilities.has("PIPELINING"):
        return (f"the reply to {last} has not arrived and the server did not advertise "
                "PIPELINING")
    return None


def _extension_problem(
    caps: Capabilities | None, kind: str, cmd: Command, notes: list[str]
) -> str | None:
    problems = extension_problems(caps, kind, cmd)
    if problems:
        return problems[0]
    if isinstance(cmd, MailFrom) and caps is not None:
        declared, limit = cmd.param("SIZE"), caps.size
        if declared and limit is not None and int(declared) > limit:
            notes.append(f"SIZE={declared} exceeds the server's limit of {limit}")
    return None


def extension_problems(caps: Capabilities | None, kind: str, cmd: Command) -> list[str]:
    """Every verb, mechanism or parameter in ``cmd`` that the advertisement does not cover."""
    problems: list[str] = []
    needed = REQUIRES_EXTENSION.get(kind)
    if needed is not None:
        if caps is None:
            problems.append(f"{kind} needs the {needed} extension, which only EHLO can announce")
        elif not caps.has(needed):
            problems.append(f"the server did not advertise {needed}")
    if (isinstance(cmd, Auth) and caps is not None and caps.auth_mechanisms
            and cmd.mechanism not in caps.auth_mechanisms):
        # Escaped here, like every server text the engine quotes: this becomes a note.
        offers = UNSAFE_CHARS.sub(escape_char, " ".join(caps.auth_mechanisms))
        problems.append(f"the server did not advertise AUTH {cmd.mechanism} (offers {offers})")
    if isinstance(cmd, MailFrom | RcptTo):
        for key, value in cmd.params:
            needed = param_keyword(key, value)
            if needed is None:
                continue
            if caps is None:
                problems.append(f"parameter {key} needs EHLO (HELO has no extensions)")
            elif not caps.has(needed):
                problems.append(
                    f"parameter {key} needs {needed}, which the server did not advertise")
    return problems


def param_keyword(key: str, value: str | None) -> str | None:
    """The EHLO keyword a MAIL/RCPT parameter needs (BODY= depends on its value), or None."""
    if key == "BODY":
        return BODY_REQUIRES.get(value.upper()) if value is not None else None
    return PARAM_REQUIRES.get(key)


# RFC 5321 §4.5.3.1.4: a command line is at most 512 octets with its CRLF. AUTH with an initial
# response may be longer (RFC 4954 §4 raises it to 12288), so it is not judged here.
MAX_COMMAND_LINE = 512


def line_length_problem(cmd: Command) -> str | None:
    """Why a command line is too long for RFC 5321, or None."""
    if cmd.kind == Kind.AUTH or isinstance(cmd, Raw):
        return None
    size = len(cmd.to_bytes())
    if size <= MAX_COMMAND_LINE:
        return None
    return (f"the line is {size} octets with CRLF; RFC 5321 §4.5.3.1.4 allows "
            f"{MAX_COMMAND_LINE}, servers may refuse it (500)")


def command_problems(cmd: Command, state: State | None, caps: Capabilities | None, *,
                     lmtp: bool | None = None) -> list[str]:
    """Everything the engine would object to in ``cmd`` once ``state`` is reached.

    For a line editor that queues: waiting for replies (RFC 2920) is the send queue's business
    (``Connection.must_wait``), so only the protocol, state, advertisement and line-length
    rules are asked here; ``state`` None means "not connected", which judges no state, and
    ``lmtp`` None means the protocol is not known yet.
    """
    kind = command_kind(cmd)
    problems: list[str] = []
    if lmtp is True and kind in SMTP_ONLY:
        problems.append(f"{kind} is not LMTP: use LHLO (RFC 2033)")
    elif lmtp is False and kind in LMTP_ONLY:
        problems.append("LHLO is for LMTP servers: use EHLO")
    rule = RULES.get(kind)
    if state is not None and rule is not None and state not in rule.valid_in:
        problems.append(why_invalid(kind, state, lmtp=lmtp is True))
    problems.extend(extension_problems(caps, kind, cmd))
    if (problem := line_length_problem(cmd)) is not None:
        problems.append(problem)
    return problems


def infer_raw_kinds(data: bytes, projected: State) -> list[str]:
    """Which command kinds raw bytes amount to (the policy is explained in state.py).

    ``["RAW"]`` means "one reply, meaning unknown".
    """
    if projected is State.DATA:
        return [Kind.CONTENT]
    if projected is State.AUTH:
        return [Kind.AUTH_CANCEL if data.strip() == b"*" else Kind.AUTH_RESPONSE]
    if not data.endswith(b"\r\n"):
        return [Kind.RAW]
    from .parser import parse_command  # only raw sends need the parser: not at start-up

    kinds: list[str] = []
    for i, line in enumerate(data[:-2].split(b"\r\n")):
        try:
            command = parse_command(line.decode("utf-8")).command
        except (CommandSyntaxError, UnicodeDecodeError):
            return [Kind.RAW]
        if isinstance(command, Raw):
            return [Kind.RAW]
        if isinstance(command, Bdat):
            # The chunk follows the BDAT line: whatever comes after it is payload.
            return [command_kind(command)] if i == 0 else [Kind.RAW]
        kinds.append(command_kind(command))
    return kinds
