"""Command dataclasses: validation in the constructor, wire form, immutability."""

from __future__ import annotations

import dataclasses

import pytest

from smtpscope.protocol import (
    SYNTAX,
    VERBS,
    Auth,
    AuthCancel,
    AuthResponse,
    Bdat,
    CommandSyntaxError,
    Data,
    Ehlo,
    Etrn,
    Helo,
    LocalProtocolError,
    MailFrom,
    MessageContent,
    Noop,
    Quit,
    Raw,
    RcptTo,
    Vrfy,
)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Ehlo(""),
        lambda: Ehlo("two words"),
        lambda: Helo("evil\r\nMAIL FROM:<x>"),
        lambda: Ehlo("nul\x00"),
        lambda: Ehlo("\ud800"),
        lambda: MailFrom("a@b\r\n"),
        lambda: MailFrom("<a@b>"),
        lambda: MailFrom("a b@c"),
        lambda: MailFrom('"unclosed@c'),
        lambda: RcptTo(""),
        lambda: MailFrom("a@b", (("SIZE", "ten"),)),
        lambda: MailFrom("a@b", (("SIZE", "-1"),)),
        lambda: MailFrom("a@b", (("SIZE", None),)),
        lambda: MailFrom("a@b", (("BODY", "9BIT"),)),
        lambda: MailFrom("a@b", (("SMTPUTF8", "yes"),)),
        lambda: MailFrom("a@b", (("REQUIRETLS", "1"),)),
        lambda: MailFrom("a@b", (("RET", "ALL"),)),
        lambda: MailFrom("a@b", (("ENVID", "has=equals"),)),
        lambda: MailFrom("a@b", (("ENVID", "bad+zz"),)),
        lambda: MailFrom("a@b", (("MT-PRIORITY", "10"),)),
        lambda: MailFrom("a@b", (("MT-PRIORITY", "x"),)),
        lambda: MailFrom("a@b", (("BY", "60"),)),
        lambda: MailFrom("a@b", (("BY", "60;X"),)),
        lambda: MailFrom("a@b", (("SIZE", "1"), ("size", "2"))),
        lambda: MailFrom("a@b", (("-BAD", "1"),)),
        lambda: MailFrom("a@b", (("KEY", "has space"),)),
        lambda: MailFrom("a@b", (("KEY", ""),)),
        lambda: MailFrom("a@b", (("KEY", "x\r\n"),)),
        lambda: RcptTo("a@b", (("NOTIFY", "NEVER,SUCCESS"),)),
        lambda: RcptTo("a@b", (("NOTIFY", "SOMETIMES"),)),
        lambda: RcptTo("a@b", (("NOTIFY", "DELAY,DELAY"),)),
        lambda: RcptTo("a@b", (("ORCPT", "b@x"),)),
        lambda: Vrfy(""),
        lambda: Etrn("   "),
        lambda: Noop(""),
        lambda: Auth(""),
        lambda: Auth("PLAIN MORE"),
        lambda: Auth("A" * 21),
        lambda: Bdat(b"abc", size=5),
        lambda: Bdat(b"", size=-1),
        lambda: MessageContent(b"x", terminator="nope"),
    ],
)
def test_invalid_commands_cannot_exist(make: object) -> None:
    with pytest.raises(CommandSyntaxError) as info:
        make()  # type: ignore[operator]
    assert isinstance(info.value, LocalProtocolError)
    assert info.value.message


def test_error_carries_hint() -> None:
    with pytest.raises(CommandSyntaxError) as info:
        MailFrom("a@b", (("BODY", "9BIT"),))
    assert info.value.hint == SYNTAX["MAIL"]
    assert "BODY=9BIT" in info.value.message
    assert "syntax:" in str(info.value)


@pytest.mark.parametrize(
    ("command", "wire"),
    [
        (MailFrom("a@b", (("body", "8bitmime"), ("MT-PRIORITY", "-9"), ("BY", "120;RT"),
                          ("AUTH", "<>"), ("REQUIRETLS", None))),
         b"MAIL FROM:<a@b> BODY=8bitmime MT-PRIORITY=-9 BY=120;RT AUTH=<> REQUIRETLS\r\n"),
        (MailFrom('"john doe"@example.test'), b'MAIL FROM:<"john doe"@example.test>\r\n'),
        (RcptTo("a@b", (("NOTIFY", "NEVER"),)), b"RCPT TO:<a@b> NOTIFY=NEVER\r\n"),
        (RcptTo("a@b", (("NOTIFY", "delay,failure"),)), b"RCPT TO:<a@b> NOTIFY=delay,failure\r\n"),
        (Auth("plain"), b"AUTH PLAIN\r\n"),
        (Auth("LOGIN", b"alice"), b"AUTH LOGIN YWxpY2U=\r\n"),
        (AuthResponse(b"\0alice\0pw"), b"AGFsaWNlAHB3\r\n"),
        (AuthCancel(), b"*\r\n"),
        (Quit(), b"QUIT\r\n"),
        (Raw(b"anything \n goes\x00"), b"anything \n goes\x00"),
        (Bdat(b""), b"BDAT 0\r\n"),
        (Bdat(b"", last=True), b"BDAT 0 LAST\r\n"),
    ],
)
def test_wire_form(command: object, wire: bytes) -> None:
    assert command.to_bytes() == wire  # type: ignore[attr-defined]


def test_params_keywords_upper_cased_and_lookup() -> None:
    mail = MailFrom("a@b", (("size", "10"), ("smtputf8", None)))
    assert mail.params == (("SIZE", "10"), ("SMTPUTF8", None))
    assert mail.param("size") == "10"
    assert mail.param("SMTPUTF8") == ""
    assert mail.param("BODY") is None
    assert RcptTo("a@b", (("NOTIFY", "NEVER"),)).param("notify") == "NEVER"


def test_commands_are_frozen_and_have_verbs() -> None:
    mail = MailFrom("a@b")
    with pytest.raises(dataclasses.FrozenInstanceError):
        mail.address = "c@d"  # type: ignore[misc]
    assert mail.verb == "MAIL"
    assert Data().verb == "DATA"
    assert AuthResponse(b"").verb == "AUTH-RESPONSE"
    assert Bdat(b"x").declared_size == 1 and not Bdat(b"x").header_only
    assert Bdat(b"", size=3).header_only


def test_syntax_table_covers_verbs() -> None:
    assert set(VERBS) == set(SYNTAX)
    assert SYNTAX["EHLO"] == "EHLO <your-domain>"
    for verb in ("MAIL", "RCPT", "DATA", "BDAT", "AUTH", "STARTTLS", "QUIT"):
        assert SYNTAX[verb].startswith(verb)


def test_content_modes() -> None:
    assert MessageContent(b"a\nb").to_bytes() == b"a\r\nb\r\n.\r\n"
    assert MessageContent(b"a\r\n").to_bytes() == b"a\r\n.\r\n"
    assert MessageContent(b"a", terminator="nullafter").to_bytes() == b"a\r\n.\x00\r\n"
    assert MessageContent(b"a\n.\n", verbatim=True).to_bytes() == b"a\n.\n"
