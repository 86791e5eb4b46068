"""The conversation layer: greet, STARTTLS, AUTH, a message, routes, the send queue."""

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
from smtpscope.conversation.greet import Dialect, Secured, TLSMode, greet, secure
from smtpscope.conversation.message import Delivery, Envelope, RecipientOutcome, send_message
from smtpscope.session_types import Stage

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
    "send_message",
]
