"""Views explain a reply from the engine's own parse carried on the transcript entry."""

from __future__ import annotations

import pytest

import smtpscope.protocol
import smtpscope.tui.explain
from smtpscope.protocol import Connection, Ehlo, Reply
from smtpscope.record import Entry, Transcript
from smtpscope.record.transcript import reply_fields
from smtpscope.tui.explain import describe_entry, explain_entry, reply_from_entry


def engine_replies(*chunks: bytes) -> list[Reply]:
    """Replies as the engine produced them in a live conversation (greeting, EHLO, then more)."""
    conn = Connection()
    out: list[Reply] = []
    for i, chunk in enumerate(chunks):
        if i == 1:
            conn.send(Ehlo("client.example"))
        conn.receive_data(chunk)
        while isinstance(event := conn.next_event(), Reply):
            out.append(event)
    return out


def recorded(reply: Reply) -> Entry:
    """The entry the session writes for ``reply`` (same call as Session._on_reply)."""
    transcript = Transcript()
    return transcript.add("server", "reply", reply.raw, reply=reply_fields(reply),
                          notes=tuple(reply.warnings))


def test_entry_carries_the_engines_reply_and_views_do_not_parse_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    greeting, ehlo, late = engine_replies(
        b"220 mx.example.test ESMTP\r\n",
        b"250-mx.example.test\r\n250 ENHANCEDSTATUSCODES\n",  # bare LF: a warning
        b"421 4.3.2 Shutting down\r\n",  # nothing asked for it: unsolicited
    )
    assert late.unsolicited and ehlo.warnings

    def no_second_parse(data: bytes) -> Reply:
        raise AssertionError("the reply was parsed again")

    monkeypatch.setattr(smtpscope.tui.explain, "parse_reply", no_second_parse)
    for reply in (greeting, ehlo, late):
        again = reply_from_entry(recorded(reply))
        assert (again.code, again.enhanced, again.lines, again.warnings, again.unsolicited) == (
            reply.code, reply.enhanced, reply.lines, reply.warnings, reply.unsolicited)
    # A fresh parser would take the late 421 for a greeting; the carried parse knows better.
    assert reply_from_entry(recorded(late)).unsolicited is True
    assert (explain_entry(recorded(late)) or "").startswith("421 4.3.2")
    assert "bare LF" in (describe_entry(recorded(ehlo)) or "")


def test_entry_without_parsed_fields_is_parsed_once_by_the_engine() -> None:
    calls: list[bytes] = []
    real = smtpscope.protocol.parse_reply

    def counting(data: bytes) -> Reply:
        calls.append(data)
        return real(data)

    old = Entry(1, 0.0, 0.0, "server", "reply", b"550 5.1.1 <bob@example.test> unknown\r\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(smtpscope.tui.explain, "parse_reply", counting)
        summary = explain_entry(old)
    assert summary is not None and summary.startswith("550 5.1.1")
    assert calls == [old.raw]
    broken = Entry(2, 0.0, 0.0, "server", "reply", b"no code here\r\n")
    assert reply_from_entry(broken) is None and explain_entry(broken) is None
