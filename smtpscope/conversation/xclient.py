"""XCLIENT (Postfix): claim another client's attributes, then greet again as the server asks."""

from __future__ import annotations

from smtpscope.conversation.errors import Rejected
from smtpscope.conversation.flow import Conversation
from smtpscope.protocol import CommandSyntaxError, Reply, Xclient
from smtpscope.protocol.parser import parse_xclient
from smtpscope.session import Session
from smtpscope.session_types import SessionError, Stage

# Postfix answers 220 (a new greeting, XCLIENT_README); some older releases answered 250.
_ACCEPTED = frozenset({220, 250})


class XclientUsage(ValueError):
    """Attributes that cannot make an XCLIENT line (empty, no NAME=VALUE, a control character)."""


class XclientFailed(SessionError):
    """XCLIENT not offered or refused (``step`` "xclient"), or the greeting after it refused
    (``step`` "ehlo_xclient"); ``reply`` is the server's answer when there is one."""

    def __init__(self, step: str, message: str, reply: Reply | None = None,
                 stage: Stage = Stage.COMMAND) -> None:
        super().__init__(message, stage)
        self.step = step
        self.reply = reply


def command_for(attributes: str) -> Xclient:
    """The XCLIENT command for ``NAME=VALUE ...`` (values as the user wrote them: xtext is
    theirs); XclientUsage says what cannot make one."""
    try:
        return parse_xclient(attributes)
    except CommandSyntaxError as exc:
        raise XclientUsage(exc.message) from None


def unlisted(command: Xclient, session: Session) -> list[str]:
    """Attribute names the server did not list after its XCLIENT keyword (Postfix lists them)."""
    caps = session.view.capabilities
    cap = caps.get("XCLIENT") if caps is not None else None
    if cap is None or not cap.params:
        return []
    listed = {p.upper() for p in cap.params}
    return [name for name, _ in command.attributes if name.upper() not in listed]


async def claim(session: Session, attributes: str) -> Reply:
    """Send one XCLIENT (only when advertised) and return its accepting reply.

    Raises ``XclientFailed`` (step "xclient") when it is not advertised or is refused; the
    greeting the server now expects is :func:`greet_again`'s job.
    """
    command = command_for(attributes)
    caps = session.view.capabilities
    if caps is None or not caps.has("XCLIENT"):
        raise XclientFailed("xclient", "the server does not advertise XCLIENT (nothing sent)")
    for name in unlisted(command, session):
        session.transcript.note(f"XCLIENT: the server does not list the attribute {name}",
                                kind="warning")
    reply = await session.command(command)
    if reply.code not in _ACCEPTED:
        from smtpscope.sanitize import visible

        raise XclientFailed("xclient", f"XCLIENT refused: {visible(reply.shown_summary)}", reply)
    return reply


async def greet_again(conversation: Conversation) -> Reply:
    """EHLO (or LHLO) again after XCLIENT: the server forgot the first greeting."""
    try:
        return await conversation.greet()
    except Rejected as exc:
        raise XclientFailed("ehlo_xclient", str(exc), exc.reply, Stage.EHLO) from exc
