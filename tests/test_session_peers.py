"""Session against the real Postfix + Dovecot harness: what a real MTA answers, end to end."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ssl
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from smtpscope.auth import MECHANISMS
from smtpscope.conversation import authenticate
from smtpscope.protocol import (
    Data,
    MailFrom,
    MessageContent,
    Noop,
    RcptTo,
    Reply,
    StartTLS,
    explain,
)
from smtpscope.record import read_recording, to_text
from smtpscope.session import Session, SessionOptions
from tests.peers.fixtures import Mta

pytestmark = pytest.mark.peer

# Headers Postfix puts in front of a message it delivers to a Maildir (pipe/virtual delivery).
PREPENDED = (b"Return-Path:", b"X-Original-To:", b"Delivered-To:", b"Received:", b"\t")


def tag() -> str:
    return uuid.uuid4().hex


def options(mta: Mta, port: int, **kwargs: Any) -> SessionOptions:
    kwargs.setdefault("security", "plain")
    return SessionOptions(mta.host, port, cafile=str(mta.ca_file),
                          server_hostname="localhost", **kwargs)


@pytest.fixture
async def open_session(mta: Mta) -> AsyncIterator[Callable[..., Any]]:
    """Factory for connected sessions; every one is closed after the test."""
    sessions: list[Session] = []

    async def make(port: int, *, record_to: str | None = None, **kwargs: Any) -> Session:
        session = Session(options(mta, port, **kwargs), record_to=record_to)
        sessions.append(session)
        await session.connect()
        return session

    yield make
    for session in sessions:
        await session.close()


def split_delivered(delivered: bytes) -> tuple[list[bytes], bytes]:
    """The header lines Postfix prepended, and the message as the client sent it (LF endings)."""
    lines = delivered.split(b"\n")
    prepended = []
    while lines and lines[0].startswith(PREPENDED):
        prepended.append(lines.pop(0))
    return prepended, b"\n".join(lines)


def reply_entries(session: Session) -> list[Any]:
    return [e for e in session.transcript if e.kind == "reply"]


# -- greeting, EHLO, STARTTLS -----------------------------------------------------------------


async def test_banner(mta: Mta, open_session: Callable[..., Any]) -> None:
    session = await open_session(mta.smtp)
    greeting = session.greeting
    assert greeting is not None and greeting.code == 220
    assert greeting.text_lines[0].startswith(mta.hostname + " ESMTP")
    assert greeting.command is None and not greeting.unsolicited
    assert session.transcript.entries[-1].raw == greeting.raw


async def test_ehlo_before_and_after_starttls_on_submission(
        mta: Mta, open_session: Callable[..., Any]) -> None:
    session = await open_session(mta.submission, security="starttls")
    first = await session.ehlo()
    assert first.code == 250
    before = session.capabilities
    assert before.domain == mta.hostname
    assert before.has("STARTTLS") and not before.has("AUTH")
    assert before.has("PIPELINING") and before.size == mta.default_size_limit

    reply = await session.starttls()
    assert reply.code == 220 and str(reply.enhanced) == "2.0.0"
    assert session.capabilities is None

    await session.ehlo()
    after = session.capabilities
    assert not after.has("STARTTLS")
    assert set(after.auth_mechanisms) == {
        "PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"}
    diff = before.diff(after)
    assert [c.keyword for c in diff.added] == ["AUTH"]
    assert [c.keyword for c in diff.removed] == ["STARTTLS"]
    assert diff.changed == ()

    info = session.tls
    assert info is not None
    assert info.verified and not info.insecure and info.verify_error is None
    assert info.version in ("TLSv1.2", "TLSv1.3") and info.cipher and info.bits >= 128
    assert info.server_hostname == "localhost" and info.sni == "localhost"
    assert info.hostname_checked
    leaf = info.peer_chain[0]
    assert "DNS:localhost" in leaf.san and "IP Address:127.0.0.1" in leaf.san
    # The leaf is the harness's own certificate, by fingerprint.
    pem = Path(mta.cert_file).read_text()
    first_pem = pem[: pem.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")]
    der = ssl.PEM_cert_to_DER_cert(first_pem)
    assert leaf.fingerprint_sha256.replace(":", "").lower() == hashlib.sha256(der).hexdigest()

    [tls_entry] = [e for e in session.transcript if e.kind == "tls"]
    assert tls_entry.info is not None and tls_entry.info["verified"] is True
    assert "certificate verified for localhost" in tls_entry.text
    later = session.transcript.entries[tls_entry.seq + 1:]
    assert later and all(e.tls for e in later)
    assert not any(e.tls for e in session.transcript.entries[: tls_entry.seq])


async def test_starttls_on_implicit_tls_port_is_a_reply(
        mta: Mta, open_session: Callable[..., Any]) -> None:
    session = await open_session(mta.smtps, security="implicit")
    assert session.tls is not None and session.tls.verified
    await session.ehlo()
    assert not session.capabilities.has("STARTTLS")
    reply = await session.command(StartTLS(), force=True)
    assert isinstance(reply, Reply)
    assert reply.code == 554 and str(reply.enhanced) == "5.5.1"
    assert "TLS already active" in reply.text
    assert session.is_open
    assert (await session.command(Noop())).code == 250  # the session goes on
    entry = [e for e in session.transcript if e.kind == "command"][-2]
    assert entry.raw == b"STARTTLS\r\n" and entry.off_script
    assert "C! STARTTLS" in to_text(session.transcript)


# -- mail transactions --------------------------------------------------------------------------


async def test_message_round_trip_with_dot_stuffing(
        mta: Mta, open_session: Callable[..., Any]) -> None:
    t = tag()
    body = (
        f"From: <alice@{mta.domain}>\r\n"
        f"To: <bob@{mta.domain}>\r\n"
        f"Subject: round trip {t}\r\n"
        f"Message-ID: <{t}@{mta.domain}>\r\n"
        "Date: Fri, 27 Nov 2026 12:00:00 +0000\r\n"
        "\r\n"
        "first line\r\n"
        ".leading dot\r\n"
        "..two leading dots\r\n"
        ".\r\n"
        "trailing spaces   \r\n"
        "\r\n"
        "last line\r\n"
    ).encode()
    session = await open_session(mta.smtp)
    await session.ehlo()
    assert (await session.command(MailFrom(mta.address("alice")))).code == 250
    assert (await session.command(RcptTo(mta.address("bob")))).code == 250
    assert (await session.command(Data())).code == 354
    reply = await session.send_content(MessageContent(body))
    assert reply.code == 250 and "queued as" in reply.text
    await session.quit()

    [content] = [e for e in session.transcript if e.kind == "content"]
    assert content.raw == body.replace(b"\r\n.", b"\r\n..") + b".\r\n"
    assert b"\r\n...two leading dots\r\n" in content.raw and not content.off_script

    [delivered] = mta.read_delivered("bob", match=t.encode())
    prepended, message = split_delivered(delivered)
    assert prepended[0] == f"Return-Path: <alice@{mta.domain}>".encode()
    assert any(line.startswith(b"Received: from ") for line in prepended)
    # Postfix writes Maildir files with LF endings; apart from that, not one byte changed.
    assert b"\r" not in delivered
    assert message.replace(b"\n", b"\r\n") == body


async def test_pipelined_transaction_matches_replies_in_order(
        mta: Mta, open_session: Callable[..., Any]) -> None:
    t = tag()
    session = await open_session(mta.smtp)
    await session.ehlo()
    assert session.capabilities.has("PIPELINING")
    commands = [MailFrom(mta.address("alice")), RcptTo(f"nobody-{t}@{mta.domain}"),
                RcptTo(mta.address("bob")), Data()]
    replies = await session.pipeline(commands)
    assert [r.code for r in replies] == [250, 550, 250, 354]
    assert [r.command for r in replies] == commands
    rejected = replies[1]
    assert str(rejected.enhanced) == "5.1.1" and "User unknown" in rejected.text
    assert f"nobody-{t}@{mta.domain}" in rejected.text
    assert explain(rejected).enhanced == "Bad destination mailbox address"
    # One write: all four commands are in the transcript before the first of their replies.
    kinds = [e.kind for e in session.transcript][-8:]
    assert kinds == ["command"] * 4 + ["reply"] * 4

    content = MessageContent(f"Subject: {t}\r\n\r\npipelined\r\n".encode())
    reply = await session.send_content(content)
    assert reply.code == 250
    [delivered] = mta.read_delivered("bob", match=t.encode())
    assert delivered.endswith(b"\n\npipelined\n")


async def test_declared_size_over_limit(mta: Mta, open_session: Callable[..., Any]) -> None:
    session = await open_session(mta.small)
    await session.ehlo()
    assert session.capabilities.size == mta.message_size_limit == 2000
    reply = await session.command(MailFrom(mta.address("alice"), (("SIZE", "5000"),)))
    assert reply.code == 552 and str(reply.enhanced) == "5.3.4"
    assert "Message size exceeds fixed limit" in reply.text
    assert [e for e in session.transcript if e.kind == "command"][-1].raw == (
        f"MAIL FROM:<alice@{mta.domain}> SIZE=5000\r\n".encode())
    meaning = explain(reply)
    assert meaning.basic == "Requested mail action aborted: exceeded storage allocation"
    assert meaning.enhanced == "Message too big for system"
    assert meaning.summary == "552 5.3.4 — Message too big for system (permanent failure)"


async def test_undeclared_size_over_limit_refused_after_the_dot(
        mta: Mta, open_session: Callable[..., Any]) -> None:
    t = tag()
    session = await open_session(mta.small)
    await session.ehlo()
    assert (await session.command(MailFrom(mta.address("alice")))).code == 250
    assert (await session.command(RcptTo(mta.address("bob")))).code == 250
    assert (await session.command(Data())).code == 354
    body = f"Subject: {t}\r\n\r\n".encode() + (b"y" * 70 + b"\r\n") * 40
    assert len(body) > mta.message_size_limit
    reply = await session.send_content(MessageContent(body))
    assert reply.code == 552 and str(reply.enhanced) == "5.3.4"
    assert "message file too big" in reply.text
    assert explain(reply).enhanced == "Message too big for system"
    # The transaction is over but the session is not.
    assert (await session.command(Noop())).code == 250
    assert mta.read_delivered("bob", wait=1.0, match=t.encode()) == []


async def test_relay_denied(mta: Mta, open_session: Callable[..., Any]) -> None:
    session = await open_session(mta.smtp)
    await session.ehlo()
    assert (await session.command(MailFrom(mta.address("alice")))).code == 250
    reply = await session.command(RcptTo("x@elsewhere.test"))
    assert reply.code == 554 and str(reply.enhanced) == "5.7.1"
    assert reply.text == "5.7.1 <x@elsewhere.test>: Relay access denied"
    meaning = explain(reply)
    assert meaning.basic == "Transaction failed (in a greeting: no SMTP service here)"
    assert meaning.enhanced == "Delivery not authorized, message refused"
    assert "permanent failure" in meaning.summary


async def test_unknown_user_explained(mta: Mta, open_session: Callable[..., Any]) -> None:
    session = await open_session(mta.smtp)
    await session.ehlo()
    await session.command(MailFrom(mta.address("alice")))
    reply = await session.command(RcptTo(f"nobody@{mta.domain}"))
    assert reply.code == 550 and reply.is_permanent
    meaning = explain(reply)
    assert meaning.basic.startswith("Requested action not taken: mailbox unavailable")
    assert meaning.summary == "550 5.1.1 — Bad destination mailbox address (permanent failure)"


# -- SMTP smuggling: \n.\n inside DATA ----------------------------------------------------------


def smuggling_body(mta: Mta, t: str) -> bytes:
    return (
        f"Subject: outer {t}\r\n\r\nhello\n.\n"
        f"MAIL FROM:<alice@{mta.domain}>\r\n"
        f"RCPT TO:<bob@{mta.domain}>\r\n"
        "DATA\r\n"
        f"Subject: smuggled {t}\r\n\r\nsmuggled\r\n.\r\n"
    ).encode()


async def smuggle(session: Session, mta: Mta, t: str) -> Reply:
    await session.ehlo()
    assert (await session.command(MailFrom(mta.address("alice")))).code == 250
    assert (await session.command(RcptTo(mta.address("alice")))).code == 250
    assert (await session.command(Data())).code == 354
    return await session.send_content(MessageContent(smuggling_body(mta, t), verbatim=True))


def assert_content_off_script(session: Session, mta: Mta, t: str) -> None:
    [content] = [e for e in session.transcript if e.kind == "content"]
    assert content.off_script and content.raw == smuggling_body(mta, t)
    assert any("verbatim" in note for note in content.notes)
    assert "C! hello" in to_text(session.transcript)


async def test_smuggling_succeeds_on_lenient_port(
        mta: Mta, open_session: Callable[..., Any]) -> None:
    t = tag()
    session = await open_session(mta.smtp)
    reply = await smuggle(session, mta, t)
    assert reply.code == 250 and "queued as" in reply.text
    # The smuggled MAIL, RCPT, DATA and end of data each earn a reply nobody asked for.
    deadline = asyncio.get_running_loop().time() + 5
    while len([e for e in reply_entries(session) if e.reply["unsolicited"]]) < 4:
        assert asyncio.get_running_loop().time() < deadline, to_text(session.transcript)
        await asyncio.sleep(0.02)
    extra = [e for e in reply_entries(session) if e.reply["unsolicited"]]
    assert [e.code for e in extra] == [250, 250, 354, 250]
    assert "queued as" in extra[-1].text
    assert all(any("unsolicited" in n for n in e.notes) for e in extra)
    assert (await session.command(Noop())).code == 250  # still in step afterwards
    assert_content_off_script(session, mta, t)

    [outer] = mta.read_delivered("alice", match=f"outer {t}".encode())
    assert split_delivered(outer)[1].endswith(b"\n\nhello\n")
    assert b"MAIL FROM" not in outer
    [second] = mta.read_delivered("bob", match=f"smuggled {t}".encode())
    assert second.endswith(b"\n\nsmuggled\n")


async def test_smuggling_blocked_on_strict_port(
        mta: Mta, open_session: Callable[..., Any]) -> None:
    t = tag()
    session = await open_session(mta.strict)
    reply = await smuggle(session, mta, t)
    assert reply.code == 250 and "queued as" in reply.text
    await asyncio.sleep(0.3)  # room for any reply a smuggled command would have earned
    assert (await session.command(Noop())).code == 250
    assert not any(e.reply["unsolicited"] for e in reply_entries(session))
    assert_content_off_script(session, mta, t)

    [only] = mta.read_delivered("alice", match=f"outer {t}".encode())
    body = split_delivered(only)[1]
    assert b"hello\n" in body
    assert (f"MAIL FROM:<alice@{mta.domain}>\nRCPT TO:<bob@{mta.domain}>\nDATA\n"
            f"Subject: smuggled {t}\n").encode() in body
    assert mta.read_delivered("bob", wait=1.0, match=f"smuggled {t}".encode()) == []


# -- recording ----------------------------------------------------------------------------------


async def test_recording_of_auth_session_has_no_password(
        mta: Mta, open_session: Callable[..., Any], tmp_path: Path) -> None:
    path = tmp_path / "auth.jsonl"
    password = mta.password("alice")
    session = await open_session(mta.submission, security="starttls", record_to=str(path))
    await session.ehlo()
    await session.starttls()
    await session.ehlo()
    mech = MECHANISMS["PLAIN"](username="alice", password=password, host="localhost")
    reply = await authenticate(session, mech)
    assert reply.code == 235
    await session.quit()

    data = path.read_bytes()
    wire = base64.b64encode(b"\0alice\0" + password.encode())
    for secret in (password.encode(), base64.b64encode(password.encode()), wire):
        assert secret not in data
    recording = read_recording(path)
    assert recording.truncated_line is None
    [auth] = [e for e in recording.entries if e.raw.startswith(b"AUTH")]
    assert auth.redacted and auth.text.startswith("AUTH PLAIN [")
    assert any(e.code == 235 for e in recording.entries)
    assert password not in to_text(recording.entries)


async def test_reply_inside_open_data_is_named_as_smuggling(
        mta: Mta, open_session: Callable[..., Any]) -> None:
    """The line-ending lab as the TUI does it: raw bytes inside DATA, no standard terminator.
    The message stays open (no reply owed); Postfix's lenient port ends it at the bare-LF dot
    anyway, so that reply is the message's, flagged, and the NOOP after it runs as a command."""
    from smtpscope.protocol import DATA_ENDED_EARLY

    t = tag()
    session = await open_session(mta.smtp)
    await session.ehlo()
    assert (await session.command(MailFrom(f"lab@{mta.domain}"))).code == 250
    assert (await session.command(RcptTo(f"alice@{mta.domain}"))).code == 250
    assert (await session.command(Data())).code == 354
    assert await session.send_raw(f"Subject: lab {t}\r\n\r\nhello\n.\nNOOP\r\n".encode()) \
        is None  # no reply owed: the message is open as far as the standard goes
    deadline = asyncio.get_running_loop().time() + 5
    while len(reply_entries(session)) < 6:  # greeting, EHLO, MAIL, RCPT, DATA; then two more
        assert asyncio.get_running_loop().time() < deadline, to_text(session.transcript)
        await asyncio.sleep(0.02)
    queued, noop = reply_entries(session)[-2:]
    assert queued.code == 250 and "queued as" in queued.text
    assert not queued.reply["unsolicited"] and queued.reply["ended_by"] == "NOOP\r\n"
    assert DATA_ENDED_EARLY in queued.notes
    assert noop.code == 250 and noop.reply["unsolicited"]  # the NOOP hidden in the message ran
    # The engine followed the server out of DATA: the next transaction is accepted.
    assert (await session.command(MailFrom(f"lab@{mta.domain}"))).code == 250
    mta.read_delivered("alice", match=f"lab {t}".encode())
