"""Reply-code catalogue and explain()."""

from __future__ import annotations

import pytest

from smtpscope.protocol import EnhancedCode, Explanation, explain, parse_reply
from smtpscope.protocol.codes import (
    BASIC_CODES,
    ENHANCED_DETAILS,
    ENHANCED_SUBJECTS,
    describe_enhanced,
)

RFC5321_CODES = [211, 214, 220, 221, 235, 250, 251, 252, 334, 354, 421, 432, 450, 451, 452, 454,
                 455, 500, 501, 502, 503, 504, 521, 530, 534, 535, 538, 550, 551, 552, 553, 554,
                 555, 556]
DETAIL_RANGES = {0: range(0, 1), 1: range(0, 11), 2: range(0, 5), 3: range(0, 6),
                 4: range(0, 8), 5: range(0, 7), 6: range(0, 11), 7: range(0, 28)}


def test_basic_catalogue_complete() -> None:
    missing = [c for c in RFC5321_CODES if c not in BASIC_CODES]
    assert missing == []


def test_enhanced_catalogue_complete() -> None:
    assert set(ENHANCED_SUBJECTS) == set(range(8))
    missing = [(s, d) for s, r in DETAIL_RANGES.items() for d in r
               if (s, d) not in ENHANCED_DETAILS]
    assert missing == []


@pytest.mark.parametrize(
    ("wire", "summary"),
    [
        (b"535 5.7.8 Error: authentication failed\r\n",
         "535 5.7.8 — Authentication credentials invalid (RFC 4954) (permanent failure)"),
        (b"235 2.7.0 Authentication successful\r\n",
         "235 2.7.0 — Authentication succeeded / security status OK (RFC 4954) (success)"),
        (b"452 4.2.2 Mailbox full\r\n", "452 4.2.2 — Mailbox full (persistent transient failure)"),
        (b"556 5.1.10 Recipient address has null MX\r\n",
         "556 5.1.10 — Recipient address has null MX (RFC 7505) (permanent failure)"),
        (b"550 5.7.27 null MX sender\r\n",
         "550 5.7.27 — Sender address has null MX (RFC 7505) (permanent failure)"),
        (b"354 End data with <CR><LF>.<CR><LF>\r\n",
         "354 — Start mail input; end with <CRLF>.<CRLF>"),
        (b"250 2.1.5 Ok\r\n", "250 2.1.5 — Destination address valid (success)"),
    ],
)
def test_summaries(wire: bytes, summary: str) -> None:
    assert explain(parse_reply(wire)).summary == summary


def test_explanation_fields() -> None:
    exp = explain(parse_reply(b"550 5.1.1 <x@y>: User unknown\r\n"))
    assert exp == Explanation(
        basic=BASIC_CODES[550],
        enhanced="Bad destination mailbox address",
        summary="550 5.1.1 — Bad destination mailbox address (permanent failure)",
    )
    plain = explain(parse_reply(b"250 ok\r\n"))
    assert plain.enhanced is None and plain.basic == BASIC_CODES[250]


def test_unknown_codes_fall_back() -> None:
    exp = explain(parse_reply(b"299 odd\r\n"))
    assert "Positive completion" in exp.basic and "not in the catalogue" in exp.basic
    assert "not in the registry" in describe_enhanced(EnhancedCode(5, 7, 99))
    assert "Unregistered" in describe_enhanced(EnhancedCode(5, 9, 1))
