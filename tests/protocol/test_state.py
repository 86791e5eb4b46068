"""State tables: consistency of the rules, and the transition function."""

from __future__ import annotations

import pytest

from smtpscope.protocol import State
from smtpscope.protocol.commands import SYNTAX
from smtpscope.protocol.state import (
    GROUP_ENDERS,
    REQUIRES_EXTENSION,
    RETURN,
    RULES,
    is_expected,
    next_state,
    why_invalid,
)


def test_every_verb_has_a_rule() -> None:
    for verb in SYNTAX:
        assert verb in RULES, verb
    assert set(RULES) >= GROUP_ENDERS
    assert set(REQUIRES_EXTENSION) <= set(RULES)


def test_no_command_valid_when_closed_or_tls_pending() -> None:
    for kind, rule in RULES.items():
        if kind == "RAW":
            continue
        assert State.CLOSED not in rule.valid_in, kind
        assert State.TLS_PENDING not in rule.valid_in, kind


@pytest.mark.parametrize(
    ("state", "kind", "code", "after"),
    [
        (State.GREETING, "GREETING", 220, State.READY),
        (State.GREETING, "GREETING", 554, State.GREETING),
        (State.READY, "EHLO", 250, State.IDENT),
        (State.READY, "EHLO", 502, State.READY),
        (State.IDENT, "MAIL", 250, State.MAIL),
        (State.MAIL, "RCPT", 251, State.RCPT),
        (State.MAIL, "RCPT", 550, State.MAIL),
        (State.RCPT, "DATA", 354, State.DATA),
        (State.DATA, "CONTENT", 250, State.IDENT),
        (State.DATA, "CONTENT", 554, State.IDENT),
        (State.RCPT, "BDAT", 250, State.BDAT),
        (State.BDAT, "BDAT-LAST", 250, State.IDENT),
        (State.RCPT, "RSET", 250, State.IDENT),
        (State.READY, "RSET", 250, State.READY),
        (State.IDENT, "STARTTLS", 220, State.TLS_PENDING),
        (State.IDENT, "AUTH", 334, State.AUTH),
        (State.AUTH, "AUTH-RESPONSE", 235, State.IDENT),
        (State.AUTH, "AUTH-CANCEL", 501, State.IDENT),
        (State.IDENT, "QUIT", 221, State.CLOSED),
        (State.RCPT, "NOOP", 421, State.CLOSED),
        (State.IDENT, "RAW", 250, State.IDENT),
    ],
)
def test_next_state(state: State, kind: str, code: int, after: State) -> None:
    assert next_state(state, kind, code, State.IDENT) is after


def test_auth_returns_where_it_began() -> None:
    assert RULES["AUTH"].on_success is RETURN
    assert next_state(State.AUTH, "AUTH-RESPONSE", 535, State.READY) is State.READY


def test_expected_codes() -> None:
    assert is_expected("RCPT", 251) is True
    assert is_expected("RCPT", 550) is False
    assert is_expected("AUTH", 334) is True
    assert is_expected("RAW", 250) is None


def test_why_invalid_messages() -> None:
    assert "send MAIL FROM first" in why_invalid("RCPT", State.IDENT)
    assert "send_content" in why_invalid("NOOP", State.DATA)
    assert "closed" in why_invalid("NOOP", State.CLOSED)


def test_mermaid_diagram_from_tables() -> None:
    from smtpscope.protocol.state import mermaid

    text = mermaid()
    assert text.startswith("stateDiagram-v2")
    for edge in ("GREETING --> READY: greeting", "RCPT --> DATA: DATA",
                 "IDENT --> TLS_PENDING: STARTTLS", "IDENT --> AUTH: AUTH",
                 "DATA --> IDENT: CONTENT"):
        assert edge in text, edge
