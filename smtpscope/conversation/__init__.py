"""The conversation layer: greet, STARTTLS, AUTH, a message, routes, the send queue.

Names load from their module on first use (PEP 562): a probe greets and secures, and must not
pay at start-up for the AUTH code it never runs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from smtpscope.conversation.auth import (
        STEP_LIMIT,
        AuthMove,
        AuthStepper,
        InitialResponse,
        authenticate,
        make_mechanism,
        pick_mechanism,
    )
    from smtpscope.conversation.errors import NotOffered, Rejected
    from smtpscope.conversation.flow import Conversation
    from smtpscope.conversation.greeting import Dialect, Secured, TLSMode, greet, secure
    from smtpscope.conversation.message import (
        Delivery,
        Envelope,
        RecipientOutcome,
        send_content,
        send_message,
    )
    from smtpscope.session_types import Stage

_WHERE: dict[str, str] = {
    "STEP_LIMIT": "smtpscope.conversation.auth",
    "AuthMove": "smtpscope.conversation.auth",
    "AuthStepper": "smtpscope.conversation.auth",
    "InitialResponse": "smtpscope.conversation.auth",
    "authenticate": "smtpscope.conversation.auth",
    "make_mechanism": "smtpscope.conversation.auth",
    "pick_mechanism": "smtpscope.conversation.auth",
    "NotOffered": "smtpscope.conversation.errors",
    "Rejected": "smtpscope.conversation.errors",
    "Conversation": "smtpscope.conversation.flow",
    "Dialect": "smtpscope.conversation.greeting",
    "Secured": "smtpscope.conversation.greeting",
    "TLSMode": "smtpscope.conversation.greeting",
    "greet": "smtpscope.conversation.greeting",
    "secure": "smtpscope.conversation.greeting",
    "Delivery": "smtpscope.conversation.message",
    "Envelope": "smtpscope.conversation.message",
    "RecipientOutcome": "smtpscope.conversation.message",
    "send_content": "smtpscope.conversation.message",
    "send_message": "smtpscope.conversation.message",
    "Stage": "smtpscope.session_types",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "STEP_LIMIT",
    "AuthMove",
    "AuthStepper",
    "Conversation",
    "Delivery",
    "Dialect",
    "Envelope",
    "InitialResponse",
    "NotOffered",
    "RecipientOutcome",
    "Rejected",
    "Secured",
    "Stage",
    "TLSMode",
    "authenticate",
    "greet",
    "make_mechanism",
    "pick_mechanism",
    "secure",
    "send_content",
    "send_message",
]
