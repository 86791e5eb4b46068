"""Kind: what the engine expects a reply to, as an enum (the keys of the state table)."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    """A command kind, plus the pseudo-kinds GREETING, CONTENT, BDAT-LAST and RAW.

    A StrEnum, so each member equals its wire name ("BDAT-LAST") and tables written with
    those names (state.py) answer lookups by member.
    """

    GREETING = "GREETING"
    HELO = "HELO"
    EHLO = "EHLO"
    LHLO = "LHLO"
    MAIL = "MAIL"
    RCPT = "RCPT"
    DATA = "DATA"
    CONTENT = "CONTENT"
    BDAT = "BDAT"
    BDAT_LAST = "BDAT-LAST"
    RSET = "RSET"
    NOOP = "NOOP"
    HELP = "HELP"
    VRFY = "VRFY"
    EXPN = "EXPN"
    ETRN = "ETRN"
    STARTTLS = "STARTTLS"
    AUTH = "AUTH"
    AUTH_RESPONSE = "AUTH-RESPONSE"
    AUTH_CANCEL = "AUTH-CANCEL"
    QUIT = "QUIT"
    XCLIENT = "XCLIENT"
    RAW = "RAW"


#: The kinds of one AUTH exchange.
AUTH_KINDS = frozenset({Kind.AUTH, Kind.AUTH_RESPONSE, Kind.AUTH_CANCEL})
