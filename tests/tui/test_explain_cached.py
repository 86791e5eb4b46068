"""explain_entry() gives the same words from its per-code cache as from the whole reply."""

from __future__ import annotations

from typing import Any

from smtpscope.protocol import explain
from smtpscope.record.transcript import Entry
from smtpscope.tui.explain import explain_entry, reply_from_entry


def reply_entry(raw: bytes, fields: dict[str, Any]) -> Entry:
    return Entry(seq=0, mono=0.0, wall=0.0, direction="server", kind="reply", raw=raw,
                 reply=fields)


def test_cached_summaries_are_the_catalogues() -> None:
    seen = 0
    for code in (211, 250, 251, 421, 450, 451, 452, 500, 530, 535, 550, 552, 554, 599, 999):
        for enhanced in (None, "2.0.0", "2.1.5", "4.7.1", "5.1.1", "5.7.8", "5.9.99", "4.99.1"):
            text = f"{code} {enhanced or ''} words".encode()
            fields = {"code": code, "lines": ["words"], "enhanced": enhanced}
            entry = reply_entry(text + b"\r\n", fields)
            expected = explain(reply_from_entry(entry)).summary
            assert explain_entry(entry) == expected  # first: worked out
            assert explain_entry(entry) == expected  # then: from the cache
            seen += 1
    assert seen == 120


def test_fields_that_do_not_describe_a_reply_are_parsed_from_the_bytes() -> None:
    # Only the code kept: the enhanced code comes from the bytes, as before.
    entry = reply_entry(b"550 5.7.1 no\r\n", {"code": 550})
    assert explain_entry(entry) == explain(reply_from_entry(entry)).summary
    assert "5.7.1" in (explain_entry(entry) or "")
    # A malformed enhanced code in the fields: the bytes again.
    entry = reply_entry(b"451 4.3.0 later\r\n", {"code": 451, "lines": ["x"], "enhanced": "4.x"})
    assert explain_entry(entry) == explain(reply_from_entry(entry)).summary
