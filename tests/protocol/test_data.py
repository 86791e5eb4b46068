"""DATA helpers: dot-stuffing, line endings, end-of-data variants, chunking."""

from __future__ import annotations

import email.message
import email.policy

import pytest

from smtpscope.protocol import (
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
from smtpscope.protocol.data import MAX_END_OF_DATA, end_variant, ends_data, long_lines, missing_end


def test_dot_stuffing() -> None:
    assert dot_stuff(b".first\r\nmid\r\n..two\r\n.\r\n") == b"..first\r\nmid\r\n...two\r\n..\r\n"
    assert dot_unstuff(b"..first\r\nmid\r\n...two\r\n..\r\n") == b".first\r\nmid\r\n..two\r\n.\r\n"
    assert dot_stuff(b"no dots") == b"no dots"
    assert dot_stuff(b"") == b""


def test_normalize_line_endings() -> None:
    assert normalize_line_endings(b"a\nb\rc\r\nd\r\r\ne") == b"a\r\nb\r\nc\r\nd\r\n\r\ne"
    assert normalize_line_endings(b"\n\n") == b"\r\n\r\n"


def test_message_octets_end_the_last_line_as_data_does() -> None:
    # BDAT has no terminator to end the last line: the chunked message gets DATA's CRLF.
    assert message_octets(b"a\nend") == b"a\r\nend\r\n"
    assert message_octets(b"a\r\nb\r\n") == b"a\r\nb\r\n"
    assert message_octets(b"") == b""
    body = b"Subject: x\n\nlast"
    assert encode_content(body).removesuffix(b".\r\n") == message_octets(body)


def test_variants_named_and_exact() -> None:
    assert END_OF_DATA_VARIANTS == {
        "standard": b"\r\n.\r\n",
        "lflf": b"\n.\n",
        "crcr": b"\r.\r",
        "crlf": b"\r.\n",
        "lfcr": b"\n.\r",
        "lfcrlf": b"\n.\r\n",
        "crlflf": b"\r\n.\n",
        "crcrlf": b"\r.\r\n",
        "crlfcr": b"\r\n.\r",
        "nullbefore": b"\r\n\x00.\r\n",
        "nullafter": b"\r\n.\x00\r\n",
    }
    assert terminator() == b"\r\n.\r\n"
    with pytest.raises(KeyError, match="lflf"):
        terminator("bogus")


def test_encode_content_with_email_policy() -> None:
    msg = email.message.EmailMessage(policy=email.policy.SMTP)
    msg["From"] = "alice@client.example"
    msg["To"] = "bob@example.test"
    msg["Subject"] = "dots"
    msg.set_content("hello\n.\n..x\n")
    raw = msg.as_bytes()
    wire = encode_content(raw)
    assert wire.endswith(b"\r\n.\r\n")
    assert b"\r\n..\r\n" in wire and b"\r\n...x\r\n" in wire
    assert b"\n" not in wire.replace(b"\r\n", b"")
    body = wire[: -len(b".\r\n")]
    assert dot_unstuff(body) == normalize_line_endings(raw)


def test_encode_content_modes() -> None:
    assert encode_content(b"x") == b"x\r\n.\r\n"
    assert encode_content(b"x\r\n", variant="crcr") == b"x\r.\r"
    assert encode_content(b"x\n.\n", verbatim=True) == b"x\n.\n"
    assert encode_content(b"x", verbatim=True, variant="standard") == b"x\r\n.\r\n"


def test_chunk_bytes() -> None:
    assert chunk_bytes(b"abcdefg", 3) == [(b"abc", False), (b"def", False), (b"g", True)]
    assert chunk_bytes(b"abc", 3) == [(b"abc", True)]
    assert chunk_bytes(b"", 3) == [(b"", True)]
    with pytest.raises(ValueError):
        chunk_bytes(b"x", 0)


def test_line_ending_report() -> None:
    assert line_ending_report(b"a\r\nb\nc\rd\x00") == {
        "crlf": 1, "bare_lf": 1, "bare_cr": 1, "nul": 1}


def test_long_lines_count_the_crlf_against_the_rfc_limit() -> None:
    # RFC 5321 §4.5.3.1.6: 1000 octets with the CRLF, so 998 of text is the longest allowed.
    message = b"a" * 998 + b"\r\n" + b"b" * 999 + b"\r\nshort\r\n" + b"c" * 1200
    assert long_lines(message) == [(2, 1001), (4, 1202)]
    assert long_lines(message_octets(b"x" * 998)) == []


def test_ends_data_finds_the_standard_end_only() -> None:
    assert ends_data(b".\r\n")  # right after the 354: the DATA line's CRLF comes before
    assert ends_data(b"hi\r\n.\r\nMAIL FROM:<x@y>\r\n")  # the rest is read as commands
    assert ends_data(b"\n.\r\n", before=b"hi\r")  # split across two sends
    assert not ends_data(b".\r\n", before=b"hi")  # "hi.\r\n" is one line
    for name, end in END_OF_DATA_VARIANTS.items():
        assert ends_data(b"hi" + end) is (name == "standard"), name


def test_end_variant_names_the_longest_match() -> None:
    assert end_variant(b"hi\r\n.\n") == "crlflf"  # not lflf, which it also ends with
    assert end_variant(b"hi\n.\n") == "lflf"
    assert end_variant(b"\r\n\x00.\r\n") == "nullbefore"
    assert end_variant(b"hi\r\n") is None
    assert len(END_OF_DATA_VARIANTS["nullbefore"]) == MAX_END_OF_DATA


def test_missing_end_completes_the_standard_end() -> None:
    assert missing_end(b"hi\r\n") == b".\r\n"
    assert missing_end(b"hi\r") == b"\n.\r\n"
    assert missing_end(b"hi\r\n.") == b"\r\n"
    assert missing_end(b"hi\n") == b"\r\n.\r\n"  # a bare LF is no line end to a strict server
    assert missing_end(b"hi") == b"\r\n.\r\n"
    for sent in (b"hi\r\n", b"hi\r", b"hi\n", b"hi", b"hi\r\n.", b"hi\r\n.\r"):
        assert ends_data(missing_end(sent), before=sent), sent
