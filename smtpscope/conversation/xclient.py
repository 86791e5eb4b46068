"""XCLIENT (Postfix): claim another client's attributes, then greet again as the server asks."""

from __future__ import annotations

from smtpscope.conversation.errors import Rejected
from smtpscope.conversation.flow import Conversation
from smtpscope.protocol import Raw, Reply
from smtpscope.session import Session
from smtpscope.session_types import SessionError, Stage

NOTE = "XCLIENT: the server takes these attributes as the client's"
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


def command_for(attributes: str) -> Raw:
    """The XCLIENT line for ``NAME=VALUE ...`` (values as the user wrote them: xtext is theirs)."""
    words = attributes.split()
    if not words:
        raise XclientUsage("XCLIENT needs at least one NAME=VALUE attribute")
    for word in words:
        name, eq, _ = word.partition("=")
        if not eq or not name:
            raise XclientUsage(f"XCLIENT attribute {word!r} is not NAME=VALUE")
        if not word.isascii() or not word.isprintable():
            raise XclientUsage(f"XCLIENT attribute {word!r} has a character SMTP cannot carry "
                               "(xtext-encode it as +XX)")
    return Raw(f"XCLIENT {' '.join(words)}\r\n".encode("ascii"), note=NOTE)


def unlisted(attributes: str, session: Session) -> list[str]:
    """Attribute names the server did not list after its XCLIENT keyword (Postfix lists them)."""
    caps = session.view.capabilities
    cap = caps.get("XCLIENT") if caps is not None else None
    if cap is None or not cap.params:
        return []
    listed = {p.upper() for p in cap.params}
    names = [word.partition("=")[0] for word in attributes.split()]
    return [name for name in names if name.upper() not in listed]


async def claim(session: Session, attributes: str) -> Reply:
    """Send one XCLIENT (only when advertised) and return its accepting reply.

    Raises ``XclientFailed`` (step "xclient") when it is not advertised or is refused; the
    greeting the server now expects is :func:`greet_again`'s job.
    """
    command = command_for(attributes)
    caps = session.view.capabilities
    if caps is None or not caps.has("XCLIENT"):
        raise XclientFailed("xclient", "the server does not advertise XCLIENT (nothing sent)")
    for name in unlisted(attributes, session):
        session.transcript.note(f"XCLIENT: the server does not list the attribute {name}",
                                kind="warning")
    reply = await session.command(command)
    if reply.code not in _ACCEPTED:
        from smtpscope.sanitize import visible

        raise XclientFailed("xclient", f"XCLIENT refused: {reply.code} "
                            f"{visible(' '.join(reply.text_lines))}".rstrip(), reply)
    return reply


async def greet_again(conversation: Conversation) -> Reply:
    """EHLO (or LHLO) again after XCLIENT: the server forgot the first greeting."""
    try:
        return await conversation.greet()
    except Rejected as exc:
        raise XclientFailed("ehlo_xclient", str(exc), exc.reply, Stage.EHLO) from exc
