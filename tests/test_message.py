"""Tests for smtpscope.message: drafts, RFC 2047 headers, body transfer encodings, CRLF."""

from __future__ import annotations

import base64
import email
from datetime import UTC, datetime
from email import policy
from email.header import decode_header, make_header
from pathlib import Path

import pytest

from smtpscope.message import (
    DraftError,
    body_is_8bit,
    build_message,
    draft_text,
    encode_draft,
    envelope,
    format_size,
    make_draft,
    parse_draft,
)

KOREAN_SUBJECT = "안녕하세요 테스트"
KOREAN_BODY = "한국어 본문입니다.\n두 번째 줄.\n"
DATE = datetime(2024, 3, 1, 12, 30, 0, tzinfo=UTC)


def _build(**kw: object) -> bytes:
    fields: dict[str, object] = {
        "from_addr": "alice@example.test",
        "to_addrs": ["bob@example.test"],
        "subject": KOREAN_SUBJECT,
        "body": KOREAN_BODY,
        "date": DATE,
        "message_id": "<fixed@example.test>",
    }
    fields.update(kw)
    return build_message(**fields)  # type: ignore[arg-type]


def _header_block(data: bytes) -> bytes:
    return data.split(b"\r\n\r\n", 1)[0]


def _subject_line(data: bytes) -> bytes:
    lines = _header_block(data).split(b"\r\n")
    start = next(i for i, line in enumerate(lines) if line.startswith(b"Subject:"))
    folded = [lines[start]]
    folded += [line for line in lines[start + 1 :] if line[:1] in (b" ", b"\t")]
    return b"\r\n".join(folded)


def test_korean_subject_is_rfc2047_and_decodes_back() -> None:
    data = _build()
    subject = _subject_line(data)
    assert subject.isascii()
    assert b"=?utf-8?" in subject.lower()
    value = subject.decode("ascii").split(":", 1)[1].replace("\r\n", "")
    assert str(make_header(decode_header(value))) == KOREAN_SUBJECT


def test_korean_body_with_8bitmime_is_8bit() -> None:
    data = _build(eightbit=True)
    assert b"Content-Transfer-Encoding: 8bit" in data
    assert "본문".encode() in data.split(b"\r\n\r\n", 1)[1]


def test_korean_body_without_8bitmime_is_7bit_clean() -> None:
    data = _build(eightbit=False)
    assert data.isascii()
    cte = email.message_from_bytes(data, policy=policy.default)["Content-Transfer-Encoding"]
    assert cte in ("base64", "quoted-printable")
    parsed = email.message_from_bytes(data, policy=policy.default)
    # MIME canonical text form: the encoded body carries CRLF line ends.
    assert parsed.get_content() == KOREAN_BODY.replace("\n", "\r\n")


def test_only_non_ascii_headers_need_smtputf8() -> None:
    ascii_head = make_draft(from_addr="a@example.test", to_addrs="b@example.test",
                            subject="hi", body=KOREAN_BODY)
    assert not ascii_head.needs_utf8 and ascii_head.needs_8bit  # BODY=8BITMIME is enough
    utf8_head = make_draft(from_addr="a@example.test", to_addrs="b@example.test",
                           subject=KOREAN_SUBJECT, body="hi\n")
    assert utf8_head.needs_utf8 and not utf8_head.needs_8bit


def test_smtputf8_keeps_raw_utf8_headers() -> None:
    data = _build(smtputf8=True)
    assert f"Subject: {KOREAN_SUBJECT}\r\n".encode() in data
    assert b"=?utf-8?" not in data.lower()


def test_every_line_ends_with_crlf() -> None:
    for kw in ({}, {"eightbit": True}, {"smtputf8": True}):
        data = _build(**kw)
        assert data.endswith(b"\r\n")
        assert data.count(b"\n") == data.count(b"\r\n")
        assert data.count(b"\r") == data.count(b"\r\n")


def test_prefilled_headers_present() -> None:
    data = _build(subject="hello", body="hi\n")
    head = _header_block(data)
    assert b"Date: Fri, 01 Mar 2024 12:30:00 +0000" in head
    assert b"From: alice@example.test" in head
    assert b"To: bob@example.test" in head
    assert b"Subject: hello" in head
    assert b"Message-ID: <fixed@example.test>" in head
    assert b"Content-Transfer-Encoding: 7bit" in head


def test_generated_message_id_uses_sender_domain() -> None:
    draft = make_draft(from_addr="a@mail.example.test", to_addrs="b@x.test", subject="s", body="")
    msgid = draft.get("message-id")
    assert msgid is not None and msgid.endswith("@mail.example.test>")


def test_draft_is_readable_and_round_trips() -> None:
    text = draft_text(
        from_addr="alice@example.test",
        to_addrs=["bob@example.test", "carol@example.test"],
        subject=KOREAN_SUBJECT,
        body=KOREAN_BODY,
        date=DATE,
        message_id="<fixed@example.test>",
    )
    assert f"Subject: {KOREAN_SUBJECT}\n" in text  # shown as typed, not encoded
    assert "To: bob@example.test, carol@example.test\n" in text
    draft = parse_draft(text)
    assert draft.get("subject") == KOREAN_SUBJECT
    assert draft.body == KOREAN_BODY
    assert encode_draft(draft) == _build(to_addrs=["bob@example.test", "carol@example.test"])


def test_parse_draft_unfolds_and_reports_bad_lines() -> None:
    draft = parse_draft("Subject: one\n two\nX-Test: y\n\nbody\n")
    assert draft.headers == (("Subject", "one two"), ("X-Test", "y"))
    assert draft.body == "body\n"
    with pytest.raises(DraftError, match="line 2"):
        parse_draft("Subject: x\nnot a header\n\nbody")
    assert parse_draft("just a body\n").headers == ()


def test_non_ascii_address_needs_smtputf8() -> None:
    with pytest.raises(DraftError, match="SMTPUTF8"):
        _build(from_addr="사용자@example.test")
    data = _build(from_addr="사용자@example.test", smtputf8=True)
    assert "From: 사용자@example.test".encode() in data


def test_non_ascii_display_name_is_encoded() -> None:
    data = _build(from_addr="김철수 <alice@example.test>")
    head = _header_block(data)
    assert head.isascii()
    assert b"<alice@example.test>" in head


def test_bad_date_is_refused_with_advice() -> None:
    draft = parse_draft("Date: yesterday\nFrom: a@b.test\n\nx\n")
    with pytest.raises(DraftError, match="RFC 5322 date"):
        encode_draft(draft)


def test_bcc_goes_to_envelope_not_wire() -> None:
    draft = parse_draft("From: A <a@x.test>\nTo: b@x.test\nCc: c@x.test\nBcc: d@x.test\n\nhi\n")
    assert envelope(draft) == ("a@x.test", ["b@x.test", "c@x.test", "d@x.test"])
    assert b"Bcc" not in encode_draft(draft)


def test_hand_written_mime_is_sent_as_typed() -> None:
    text = "From: a@x.test\nContent-Type: text/plain; charset=us-ascii\n\n.line\nend\n"
    data = encode_draft(parse_draft(text))
    assert data.endswith(b"\r\n\r\n.line\r\nend\r\n")  # not re-encoded, not dot-stuffed
    assert data.count(b"Content-Type") == 1


def test_attachment_becomes_mime_part(tmp_path: Path) -> None:
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF-1.4 fake")
    data = _build(body="see attached\n", attachments=[report])
    parsed = email.message_from_bytes(data, policy=policy.default)
    assert parsed.get_content_type() == "multipart/mixed"
    parts = list(parsed.iter_attachments())
    assert [p.get_filename() for p in parts] == ["report.pdf"]
    assert parts[0].get_content_type() == "application/pdf"
    assert parts[0].get_content() == b"%PDF-1.4 fake"
    assert b"Content-Transfer-Encoding: base64" in data
    assert base64.b64encode(b"%PDF-1.4 fake") in data


@pytest.mark.parametrize("content", [
    b"", b"no final newline", b"a lone\rCR\n", b"crlf\r\nthen lf\n", b"ok\n", b"nul\x00\n",
    "caf\u00e9\n".encode(), b"latin-1 caf\xe9\n",
])
def test_text_attachment_arrives_byte_for_byte(tmp_path: Path, content: bytes) -> None:
    # The text path ends the last line and splits at a lone CR: such a file goes as base64.
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    data = _build(body="see attached\n", attachments=[path])
    [part] = email.message_from_bytes(data, policy=policy.default).iter_attachments()
    decoded = part.get_payload(decode=True).replace(b"\r\n", b"\n")
    assert decoded == content.replace(b"\r\n", b"\n")
    assert b"\x00" not in data  # NUL is quoted (=00) or in base64, never raw in 7bit text


def test_body_with_nul_is_quoted_printable() -> None:
    # RFC 2045 §2.7: 7bit data holds no NUL, so the body cannot be labelled 7bit and sent raw.
    data = _build(body="before\x00after\n")
    assert b"Content-Transfer-Encoding: quoted-printable" in data
    assert data.endswith(b"\r\n\r\nbefore=00after\r\n")


def test_body_is_8bit_matches_encoding() -> None:
    draft = parse_draft(f"Subject: x\n\n{KOREAN_BODY}")
    assert body_is_8bit(draft, eightbit=True)
    assert not body_is_8bit(draft, eightbit=False)
    long_line = parse_draft("Subject: x\n\n" + "가" * 400 + "\n")  # 1200 octets > 998
    assert not body_is_8bit(long_line, eightbit=True)
    assert b"Content-Transfer-Encoding: 8bit" not in encode_draft(long_line, eightbit=True)
    # A form feed or U+2028 is a character of its line, not a line end: the line is as long.
    for mark in ("\x0c", "\u2028", "\x85"):
        split = parse_draft("Subject: x\n\n" + "가" * 200 + mark + "가" * 200 + "\n")
        assert not body_is_8bit(split, eightbit=True), repr(mark)
        encoded = encode_draft(split, eightbit=True)
        assert b"Content-Transfer-Encoding: 8bit" not in encoded
        assert max(map(len, encoded.split(b"\r\n"))) <= 998


def test_format_size() -> None:
    assert format_size(999) == "999 B"
    assert format_size(1234) == "1.2 KB"
    assert format_size(10_000_000) == "10 MB"
    assert format_size(52_428_800) == "52.4 MB"
