"""parse_command: tolerant reading of typed lines, clear errors with hints."""

from __future__ import annotations

import pytest

from smtpscope.protocol import (
    Auth,
    AuthCancel,
    AuthResponse,
    Bdat,
    CommandSyntaxError,
    Data,
    Ehlo,
    Etrn,
    Expn,
    Helo,
    Help,
    Lhlo,
    MailFrom,
    Noop,
    Quit,
    Raw,
    RcptTo,
    Rset,
    StartTLS,
    State,
    Vrfy,
    Xclient,
    parse_command,
)


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("mail from:<a@b.test> size=100", MailFrom("a@b.test", (("SIZE", "100"),))),
        ("MAIL FROM: <a@b>", MailFrom("a@b")),
        ("MAIL FROM:<>", MailFrom("")),
        ("Mail From:<a@b>   BODY=8BITMIME   SMTPUTF8", MailFrom("a@b", (("BODY", "8BITMIME"),
                                                                      ("SMTPUTF8", None)))),
        ("rcpt to: bob@x", RcptTo("bob@x")),
        ("RCPT TO:<bob@x> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;bob@x",
         RcptTo("bob@x", (("NOTIFY", "SUCCESS,DELAY"), ("ORCPT", "rfc822;bob@x")))),
        ("rcpt to <bob@x>", RcptTo("bob@x")),
        ("ehlo client.example", Ehlo("client.example")),
        ("HELO [192.0.2.1]", Helo("[192.0.2.1]")),
        ("lhlo a.test", Lhlo("a.test")),
        ("data", Data()),
        ("  DATA  ", Data()),
        ("DATA\r\n", Data()),
        ("bdat 100 last", Bdat(b"", last=True, size=100)),
        ("BDAT 0", Bdat(b"", size=0)),
        ("rset", Rset()),
        ("noop", Noop()),
        ("noop hello there", Noop("hello there")),
        ("vrfy postmaster", Vrfy("postmaster")),
        ("expn staff", Expn("staff")),
        ("help", Help()),
        ("help mail", Help("mail")),
        ("etrn @example.test", Etrn("@example.test")),
        ("starttls", StartTLS()),
        ("auth plain AGFsaWNlAHB3", Auth("PLAIN", b"\0alice\0pw")),
        ("auth plain =", Auth("PLAIN", b"")),
        ("auth login", Auth("LOGIN")),
        ("AUTH XOAUTH2 dXNlcj0=", Auth("XOAUTH2", b"user=")),
        ("quit", Quit()),
        ("*", AuthCancel()),
        ("xclient addr=192.0.2.9 NAME=[UNAVAILABLE]",
         Xclient((("addr", "192.0.2.9"), ("NAME", "[UNAVAILABLE]")))),
    ],
)
def test_parses(text: str, command: object) -> None:
    assert parse_command(text).command == command


def test_notes_describe_fixups() -> None:
    parsed = parse_command("rcpt to bob@x")
    assert "added the ':' after TO" in parsed.notes
    assert "added the angle brackets: <bob@x>" in parsed.notes
    assert parse_command("MAIL FROM:<a@b>").notes == ()
    assert any("100 octets" in n for n in parse_command("bdat 100").notes)


def test_xclient_is_a_known_verb() -> None:
    parsed = parse_command("XCLIENT ADDR=192.0.2.9  PORT=25")
    assert parsed.notes == ()
    assert isinstance(parsed.command, Xclient)
    assert parsed.command.to_bytes() == b"XCLIENT ADDR=192.0.2.9 PORT=25\r\n"


def test_unknown_verb_is_raw_with_note() -> None:
    parsed = parse_command("XYZ something")
    assert isinstance(parsed.command, Raw)
    assert parsed.command.data == b"XYZ something\r\n"
    assert parsed.notes == ("XYZ is not a verb smtpscope knows; sent as typed",)
    assert parsed.command.note == parsed.notes[0]


@pytest.mark.parametrize(
    ("text", "fragment", "hint"),
    [
        ("ehlo", "needs your host's domain name", "EHLO <your-domain>"),
        ("helo a b", "one domain", "HELO <your-domain>"),
        ("mail", "FROM:<address>", "MAIL FROM:<address>"),
        ("mail to:<a@b>", "FROM:<address>", "MAIL FROM:<address>"),
        ("mail from:", "use <> for the null sender", "MAIL FROM:<address>"),
        ("mail from:<a@b", "closing '>'", "MAIL FROM:<address>"),
        ("mail from:<a@b>size=1", "space between", "MAIL FROM:<address>"),
        ("mail from:<a@b> BODY=9BIT", "BODY=9BIT", "MAIL FROM:<address>"),
        ("rcpt to:<>", "address is required", "RCPT TO:<address>"),
        ("data now", "takes no argument", "DATA"),
        ("bdat", "chunk size", "BDAT <size> [LAST]"),
        ("bdat ten", "chunk size", "BDAT <size> [LAST]"),
        ("bdat 10 first", "LAST", "BDAT <size> [LAST]"),
        ("bdat ²", "chunk size", "BDAT <size> [LAST]"),
        ("auth", "mechanism", "AUTH <mechanism>"),
        ("auth plain !!notbase64", "not valid base64", "AUTH <mechanism>"),
        ("auth plain a b", "at most one", "AUTH <mechanism>"),
        ("vrfy", "needs an argument", "VRFY"),
        ("xclient", "at least one NAME=VALUE", "XCLIENT NAME=value"),
        ("xclient ADDR", "'ADDR' is not NAME=VALUE", "XCLIENT NAME=value"),
        ("xclient =x", "is not NAME=VALUE", "XCLIENT NAME=value"),
        ("xclient NAME=caf\u00e9", "xtext-encode", "XCLIENT NAME=value"),
        ("", "empty command", "EHLO"),
        ("   ", "empty command", "EHLO"),
        ("noop\r\nquit", "CR, LF or NUL", ""),
        ("noop \x00", "CR, LF or NUL", ""),
    ],
)
def test_errors_have_message_and_hint(text: str, fragment: str, hint: str) -> None:
    with pytest.raises(CommandSyntaxError) as info:
        parse_command(text)
    assert fragment in info.value.message
    assert info.value.hint.startswith(hint)


def test_auth_state_reads_responses() -> None:
    assert parse_command("dGltIGI5MTNh", state=State.AUTH).command == AuthResponse(b"tim b913a")
    assert parse_command("", state=State.AUTH).command == AuthResponse(b"")
    assert parse_command("*", state=State.AUTH).command == AuthCancel()
    with pytest.raises(CommandSyntaxError, match="base64"):
        parse_command("not base64!", state=State.AUTH)
