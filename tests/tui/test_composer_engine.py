"""The composer completes and warns with the engine's own tables, not a copy of them."""

from __future__ import annotations

from smtpscope.protocol import MailFrom, RcptTo, State
from smtpscope.protocol.capabilities import Capabilities
from smtpscope.protocol.checks import command_problems
from smtpscope.tui.completion import completions
from tests.tui.test_composer import ehlo_reply

FUTURE = Capabilities.parse(ehlo_reply((
    b"mx.example.test", b"FUTURERELEASE 604800 2030-01-01T00:00:00Z", b"PRDR", b"RRVS", b"DSN")))


def test_composer_offers_what_the_engine_accepts() -> None:
    tails = [c.removeprefix("MAIL FROM:<a@b.test> ")
             for c in completions("MAIL FROM:<a@b.test> ", FUTURE)]
    assert tails == ["RET=FULL", "RET=HDRS", "ENVID=", "HOLDFOR=", "HOLDUNTIL=", "PRDR"]
    assert completions("RCPT TO:<b@c.test> rr", FUTURE) == ["RCPT TO:<b@c.test> RRVS="]
    # Each completed parameter, once given a valid value, draws no objection from the engine.
    mail = MailFrom("a@b.test", (("HOLDUNTIL", "2030-01-31T23:59:00Z"), ("PRDR", None)))
    rcpt = RcptTo("b@c.test", (("RRVS", "2014-04-03T23:01:00Z;R"),))
    assert command_problems(mail, State.IDENT, FUTURE) == []
    assert command_problems(rcpt, State.MAIL, FUTURE) == []


def test_lmtp_sessions_complete_lhlo_not_ehlo() -> None:
    assert completions("lh", None, lmtp=True) == ["LHLO "]
    assert completions("eh", None, lmtp=True) == []
    assert completions("eh", None) == ["EHLO "]


def test_names_that_cannot_be_typed_are_never_offered() -> None:
    # An undecodable byte (kept for display as \xNN) or a control character in an advertised
    # name: the transcript shows it; completion must not put it on a line to send.
    caps = Capabilities.parse(ehlo_reply((
        b"mx.example.test", b"AUTH PLAIN X\xffM CRAM\x1bMD5 LOGIN",
        b"XCLIENT NAME AD\xffDR\x07 HELO")))
    assert completions("AUTH ", caps) == ["AUTH PLAIN", "AUTH LOGIN"]
    assert completions("XCLIENT ", caps) == ["XCLIENT NAME=", "XCLIENT HELO="]
