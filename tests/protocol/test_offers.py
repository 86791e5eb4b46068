"""The engine's parameter table is the one the composer offers and checks: PRDR, RRVS, HOLDFOR."""

from __future__ import annotations

import pytest

from smtpscope.protocol import (
    CommandSyntaxError,
    LocalProtocolError,
    MailFrom,
    RcptTo,
    Reply,
    State,
    Vrfy,
)
from smtpscope.protocol.capabilities import Capabilities
from smtpscope.protocol.checks import command_problems, param_keyword
from smtpscope.protocol.offers import param_offers, verb_offers
from smtpscope.protocol.params import MAIL_PARAMS, MAIL_TEMPLATES, RCPT_PARAMS, RCPT_TEMPLATES

from .util import at, one

# Postfix-like EHLO plus the extensions the composer used to know on its own.
EXTENDED_EHLO = (b"250-mx.example.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
                 b"250-FUTURERELEASE 604800 2030-01-01T00:00:00Z\r\n250-PRDR\r\n250-RRVS\r\n"
                 b"250 DSN\r\n")


def caps_of(*keywords: bytes) -> Capabilities:
    lines = (b"mx.example.test", *keywords)
    raw = b"".join(b"250" + (b" " if i == len(lines) - 1 else b"-") + line + b"\r\n"
                   for i, line in enumerate(lines))
    return Capabilities.parse(Reply(code=250, lines=lines, raw=raw))


def test_new_parameters_are_validated_by_their_rfc_grammar() -> None:
    assert MailFrom("a@b.test", (("HOLDFOR", "3600"),)).to_bytes().endswith(b" HOLDFOR=3600\r\n")
    MailFrom("a@b.test", (("HOLDUNTIL", "2030-01-31T23:59:00Z"),))
    MailFrom("a@b.test", (("HOLDUNTIL", "2030-01-31T23:59:00.5+02:00"),))
    MailFrom("a@b.test", (("PRDR", None),))
    RcptTo("b@c.test", (("RRVS", "2014-04-03T23:01:00Z"),))
    RcptTo("b@c.test", (("RRVS", "2014-04-03T23:01:00-05:00;C"),))
    for params, words in [
        ((("HOLDFOR", "soon"),), "number"),
        ((("HOLDFOR", "1234567890"),), "between"),  # RFC 4865: at most 9 digits
        ((("HOLDUNTIL", "2030-01-31"),), "date-time"),
        ((("PRDR", "yes"),), "takes no value"),
    ]:
        with pytest.raises(CommandSyntaxError, match=words):
            MailFrom("a@b.test", params)
    with pytest.raises(CommandSyntaxError, match="RRVS"):
        RcptTo("b@c.test", (("RRVS", "2014-04-03T23:01:00Z;X"),))


def test_engine_refuses_unadvertised_prdr_rrvs_holdfor_and_takes_advertised_ones() -> None:
    plain = at("IDENT")  # Postfix's EHLO: no PRDR, FUTURERELEASE or RRVS
    for params, keyword in [((("PRDR", None),), "PRDR"), ((("HOLDFOR", "60"),), "FUTURERELEASE"),
                            ((("HOLDUNTIL", "2030-01-31T23:59:00Z"),), "FUTURERELEASE")]:
        with pytest.raises(LocalProtocolError, match=keyword):
            plain.send(MailFrom("a@b.test", params))
    extended = at("IDENT", EXTENDED_EHLO)
    extended.send(MailFrom("a@b.test", (("PRDR", None), ("HOLDFOR", "60"))))
    one(extended, b"250 2.1.0 Ok\r\n")
    extended.send(RcptTo("b@c.test", (("RRVS", "2014-04-03T23:01:00Z"),)))
    one(extended, b"250 2.1.5 Ok\r\n")
    assert extended.state is State.RCPT
    mail = at("MAIL")
    with pytest.raises(LocalProtocolError, match="RRVS"):
        mail.send(RcptTo("b@c.test", (("RRVS", "2014-04-03T23:01:00Z"),)))


def test_every_offered_parameter_is_one_the_engine_checks() -> None:
    for templates, known in [(MAIL_TEMPLATES, MAIL_PARAMS), (RCPT_TEMPLATES, RCPT_PARAMS)]:
        for template in templates:
            key, _, value = template.partition("=")
            assert key in known, template
            assert param_keyword(key, value or None) is not None, template


def test_offers_follow_the_advertisement() -> None:
    caps = caps_of(b"FUTURERELEASE 604800 2030-01-01T00:00:00Z", b"PRDR", b"RRVS")
    assert param_offers("MAIL", caps) == ["HOLDFOR=", "HOLDUNTIL=", "PRDR"]
    assert param_offers("mail", caps, present=["prdr"]) == ["HOLDFOR=", "HOLDUNTIL="]
    assert param_offers("RCPT", caps) == ["RRVS="]
    assert param_offers("MAIL", caps_of(b"8BITMIME")) == ["BODY=8BITMIME"]
    assert param_offers("MAIL", None) == []
    assert "STARTTLS" not in verb_offers(caps) and "STARTTLS" in verb_offers(caps_of(b"STARTTLS"))
    assert "LHLO " not in verb_offers(None) and "EHLO " in verb_offers(None)
    lmtp = verb_offers(None, lmtp=True)
    assert "LHLO " in lmtp and "EHLO " not in lmtp and "HELO " not in lmtp


def test_command_problems_lists_every_objection() -> None:
    caps = caps_of(b"SIZE")
    mail = MailFrom("a@b.test", (("PRDR", None), ("RET", "FULL")))
    problems = command_problems(mail, State.MAIL, caps, lmtp=False)
    assert len(problems) == 3, problems
    assert "MAIL" in problems[0]  # the state rule: a transaction is already open
    assert "PRDR" in problems[1] and "DSN" in problems[2]
    assert command_problems(mail, State.IDENT, caps_of(b"PRDR", b"DSN"), lmtp=False) == []
    long_line = Vrfy("a" * 506)  # 513 octets with CRLF
    [problem] = command_problems(long_line, State.IDENT, caps)
    assert "513 octets" in problem
