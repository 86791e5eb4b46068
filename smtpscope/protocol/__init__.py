"""Sans-IO SMTP engine: reply framing, typed commands, capabilities, session state, codes.

Names are loaded from their module on first use (PEP 562), so a program that needs the
connection alone does not pay at start-up for the code catalogue or the command parser.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .capabilities import Capabilities, Capability, CapabilityDiff
    from .codes import Explanation, explain
    from .commands import (
        Auth,
        AuthCancel,
        AuthResponse,
        Bdat,
        Command,
        Data,
        Ehlo,
        Etrn,
        Expn,
        Helo,
        Help,
        Lhlo,
        MailFrom,
        MessageContent,
        Noop,
        Quit,
        Raw,
        RcptTo,
        Rset,
        StartTLS,
        Vrfy,
        Xclient,
        bdat_chunks,
    )
    from .connection import DATA_ENDED_EARLY, INJECTION_WARNING, Connection, Sent
    from .data import (
        END_OF_DATA_VARIANTS,
        chunk_bytes,
        dot_stuff,
        dot_unstuff,
        encode_content,
        line_ending_report,
        message_octets,
        normalize_line_endings,
        terminator,
    )
    from .errors import CommandSyntaxError, LocalProtocolError, ProtocolError, RemoteProtocolError
    from .events import NEED_DATA, Closed, EnhancedCode, Event, NeedData, Reply
    from .kinds import Kind
    from .parser import ParsedCommand, parse_command
    from .replies import MAX_LINE_LENGTH, MAX_REPLY_LINES, parse_reply
    from .state import State
    from .syntax import SYNTAX, VERBS

_MODULES: dict[str, tuple[str, ...]] = {
    "capabilities": ("Capabilities", "Capability", "CapabilityDiff"),
    "codes": ("Explanation", "explain"),
    "commands": (
        "Auth", "AuthCancel", "AuthResponse", "Bdat", "Command", "Data", "Ehlo", "Etrn", "Expn",
        "Helo", "Help", "Lhlo", "MailFrom", "MessageContent", "Noop", "Quit", "Raw", "RcptTo",
        "Rset", "StartTLS", "Vrfy", "Xclient", "bdat_chunks",
    ),
    "connection": ("DATA_ENDED_EARLY", "INJECTION_WARNING", "Connection", "Sent"),
    "data": (
        "END_OF_DATA_VARIANTS", "chunk_bytes", "dot_stuff", "dot_unstuff", "encode_content",
        "line_ending_report", "message_octets", "normalize_line_endings", "terminator",
    ),
    "errors": ("CommandSyntaxError", "LocalProtocolError", "ProtocolError", "RemoteProtocolError"),
    "events": ("NEED_DATA", "Closed", "EnhancedCode", "Event", "NeedData", "Reply"),
    "kinds": ("Kind",),
    "parser": ("ParsedCommand", "parse_command"),
    "replies": ("MAX_LINE_LENGTH", "MAX_REPLY_LINES", "parse_reply"),
    "state": ("State",),
    "syntax": ("SYNTAX", "VERBS"),
}
_WHERE = {name: module for module, names in _MODULES.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "DATA_ENDED_EARLY",
    "END_OF_DATA_VARIANTS",
    "INJECTION_WARNING",
    "MAX_LINE_LENGTH",
    "MAX_REPLY_LINES",
    "NEED_DATA",
    "SYNTAX",
    "VERBS",
    "Auth",
    "AuthCancel",
    "AuthResponse",
    "Bdat",
    "Capabilities",
    "Capability",
    "CapabilityDiff",
    "Closed",
    "Command",
    "CommandSyntaxError",
    "Connection",
    "Data",
    "Ehlo",
    "EnhancedCode",
    "Etrn",
    "Event",
    "Explanation",
    "Expn",
    "Helo",
    "Help",
    "Kind",
    "Lhlo",
    "LocalProtocolError",
    "MailFrom",
    "MessageContent",
    "NeedData",
    "Noop",
    "ParsedCommand",
    "ProtocolError",
    "Quit",
    "Raw",
    "RcptTo",
    "RemoteProtocolError",
    "Reply",
    "Rset",
    "Sent",
    "StartTLS",
    "State",
    "Vrfy",
    "Xclient",
    "bdat_chunks",
    "chunk_bytes",
    "dot_stuff",
    "dot_unstuff",
    "encode_content",
    "explain",
    "line_ending_report",
    "message_octets",
    "normalize_line_endings",
    "parse_command",
    "parse_reply",
    "terminator",
]
