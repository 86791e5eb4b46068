"""Send-time checks: may this command go now, and what do raw bytes amount to?"""

from __future__ import annotations

from dataclasses import dataclass

from .capabilities import Capabilities
from .commands import Auth, Bdat, Command, MailFrom, Raw, RcptTo
from .errors import CommandSyntaxError
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

__all__ = ["SessionView", "command_kind", "infer_raw_kinds", "send_problem", "wait_problem"]


def command_kind(cmd: Command) -> str:
    """The state-table key for ``cmd`` (BDAT LAST is its own kind: it ends the transaction)."""
    if isinstance(cmd, Bdat) and cmd.last:
        return Kind.BDAT_LAST
    return cmd.kind


@dataclass(frozen=True, slots=True)
class SessionView:
    """What the checks need to know about the session."""

    state: State
    projected: State
    greeted: bool
    lmtp: bool
    #: Kind of the newest command still awaiting its reply (None: nothing in flight).
    last_pending: str | None
    capabilities: Capabilities | None


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
        return why_invalid(kind, state)
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
    needed = REQUIRES_EXTENSION.get(kind)
    if needed is not None:
        if caps is None:
            return f"{kind} needs the {needed} extension, which only EHLO can announce"
        if not caps.has(needed):
            return f"the server did not advertise {needed}"
    if (isinstance(cmd, Auth) and caps is not None and caps.auth_mechanisms
            and cmd.mechanism not in caps.auth_mechanisms):
        return (f"the server did not advertise AUTH {cmd.mechanism} "
                f"(offers {' '.join(caps.auth_mechanisms)})")
    if isinstance(cmd, MailFrom | RcptTo):
        for key, value in cmd.params:
            needed = PARAM_REQUIRES.get(key)
            if key == "BODY" and value is not None:
                needed = BODY_REQUIRES.get(value.upper())
            if needed is None:
                continue
            if caps is None:
                return f"parameter {key} needs EHLO (HELO has no extensions)"
            if not caps.has(needed):
                return f"parameter {key} needs {needed}, which the server did not advertise"
        if isinstance(cmd, MailFrom) and caps is not None:
            declared, limit = cmd.param("SIZE"), caps.size
            if declared and limit is not None and int(declared) > limit:
                notes.append(f"SIZE={declared} exceeds the server's limit of {limit}")
    return None


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
