"""Checks that the Postfix + Dovecot harness behaves as the peer tests rely on (stdlib clients)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import smtplib
import socket
import ssl
import uuid
from email.message import EmailMessage

import pytest

from tests.peers.fixtures import Mta

pytestmark = pytest.mark.peer

ALL_MECHANISMS = {"PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"}
TIMEOUT = 10.0
# Queueing a message takes a loaded Postfix far longer than a reply to a command.
VERDICT_TIMEOUT = 30.0


def _message(mta: Mta, to: str, body: str = "hello from the harness test\n") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = mta.address("bob")
    msg["To"] = to
    token = uuid.uuid4().hex
    msg["Subject"] = f"harness {token}"
    msg.set_content(body)
    return msg


def _quit_and_read_to_close(sock: socket.socket) -> bytes:
    """Read until the peer hangs up, sending QUIT once the first final reply is in.

    Everything the server still owes comes before the 221 and the close (replies are in
    order), so nothing here depends on how fast a loaded Postfix answers.
    """
    sock.settimeout(VERDICT_TIMEOUT)
    data = b""
    quit_sent = False
    while chunk := sock.recv(65536):
        data += chunk
        if not quit_sent and re.search(rb"^\d{3} ", data, re.MULTILINE):
            sock.sendall(b"QUIT\r\n")
            quit_sent = True
    return data


def _read_replies(sock: socket.socket, count: int) -> list[bytes]:
    """Read exactly `count` final reply lines ("NNN " lines), skipping continuation lines."""
    sock.settimeout(TIMEOUT)
    buf = b""
    finals: list[bytes] = []
    while len(finals) < count:
        while b"\r\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                raise AssertionError(f"connection closed after {finals!r}")
            buf += chunk
        line, buf = buf.split(b"\r\n", 1)
        if line[3:4] != b"-":
            finals.append(line)
    return finals


@pytest.mark.parametrize("role", ["smtp", "submission", "smtps", "small", "strict"])
def test_every_port_greets_with_220(mta: Mta, role: str) -> None:
    port = mta.ports[role]
    with socket.create_connection((mta.host, port), timeout=TIMEOUT) as raw:
        sock = raw
        if role == "smtps":
            sock = mta.ssl_context().wrap_socket(raw, server_hostname="localhost")
        with sock:  # wrap_socket took the descriptor over: closing raw would not close it
            greeting = _read_replies(sock, 1)[0]
    assert greeting.startswith(b"220 ")
    assert b"ESMTP" in greeting


def test_auth_is_offered_only_after_starttls(mta: Mta) -> None:
    with smtplib.SMTP(mta.host, mta.smtp, timeout=TIMEOUT) as client:
        client.ehlo("client.test")
        assert client.has_extn("starttls")
        assert not client.has_extn("auth")
        assert client.has_extn("size")
        code, _ = client.docmd("AUTH", "PLAIN")
        assert code == 503
        code, text = client.starttls(context=mta.ssl_context())
        assert code == 220
        assert text.startswith(b"2.0.0")
        client.ehlo("client.test")
        assert not client.has_extn("starttls")
        assert set(client.esmtp_features["auth"].upper().split()) == ALL_MECHANISMS


def test_harness_ca_verifies_the_server_certificate(mta: Mta) -> None:
    for name in ("localhost", "127.0.0.1"):
        with socket.create_connection((mta.host, mta.smtps), timeout=TIMEOUT) as raw, \
                mta.ssl_context().wrap_socket(raw, server_hostname=name) as tls:
            cert = tls.getpeercert()
            assert ("DNS", "localhost") in cert["subjectAltName"]
            assert ("IP Address", "127.0.0.1") in cert["subjectAltName"]
    # Without the harness CA the same certificate must not verify.
    ctx = ssl.create_default_context()
    with socket.create_connection((mta.host, mta.smtps), timeout=TIMEOUT) as raw, \
            pytest.raises(ssl.SSLCertVerificationError):
        ctx.wrap_socket(raw, server_hostname="localhost")


def test_mail_to_alice_lands_in_her_maildir(mta: Mta) -> None:
    msg = _message(mta, mta.address("alice"))
    subject = f"Subject: {msg['Subject']}".encode()
    with smtplib.SMTP(mta.host, mta.smtp, timeout=TIMEOUT) as client:
        refused = client.send_message(msg)
    assert refused == {}
    delivered = mta.read_delivered("alice", match=subject)
    assert len(delivered) == 1
    assert b"Delivered-To: alice@example.test" in delivered[0]
    assert mta.read_delivered("bob", wait=0, match=subject) == []


def test_relay_and_unknown_users_are_refused(mta: Mta) -> None:
    with smtplib.SMTP(mta.host, mta.smtp, timeout=TIMEOUT) as client:
        client.ehlo("client.test")
        assert client.mail(mta.address("bob"))[0] == 250
        code, text = client.rcpt("someone@elsewhere.test")
        assert (code, text[:5]) == (554, b"5.7.1")
        assert b"Relay access denied" in text
        code, text = client.rcpt(f"nobody@{mta.domain}")
        assert (code, text[:5]) == (550, b"5.1.1")


def test_authenticated_relay_passes_the_relay_check_but_never_leaves(mta: Mta) -> None:
    with smtplib.SMTP(mta.host, mta.submission, timeout=TIMEOUT) as client:
        client.starttls(context=mta.ssl_context())
        client.login("alice", mta.password("alice"))
        assert client.mail(mta.address("alice"))[0] == 250
        code, text = client.rcpt("someone@elsewhere.test")
    # Past the relay check (no 554 5.7.1), the error: transport refuses it at RCPT time.
    assert code == 550
    assert b"mail leaves no test harness" in text


def test_small_port_refuses_oversize_mail(mta: Mta) -> None:
    limit = mta.message_size_limit
    with smtplib.SMTP(mta.host, mta.small, timeout=TIMEOUT) as client:
        client.ehlo("client.test")
        assert client.esmtp_features["size"] == str(limit)
        assert not client.has_extn("starttls")
        code, text = client.mail(mta.address("bob"), [f"SIZE={limit * 2}"])
        assert (code, text[:5]) == (552, b"5.3.4")
        # Undeclared size: refused after the final dot instead.
        client.rset()
        assert client.mail(mta.address("bob"))[0] == 250
        assert client.rcpt(mta.address("alice"))[0] == 250
        # smtplib raises only when DATA itself is refused; the verdict after the dot is returned.
        code, text = client.data(b"Subject: big\r\n\r\n" + (b"y" * 70 + b"\r\n") * 60)
        assert (code, text[:5]) == (552, b"5.3.4")


def test_starttls_on_implicit_tls_port_is_refused(mta: Mta) -> None:
    with smtplib.SMTP_SSL(mta.host, mta.smtps, timeout=TIMEOUT,
                          context=mta.ssl_context()) as client:
        client.ehlo("client.test")
        assert not client.has_extn("starttls")
        assert client.has_extn("auth")
        code, text = client.docmd("STARTTLS")
    assert (code, text[:5]) == (554, b"5.5.1")


def test_submission_requires_tls_then_checks_passwords(mta: Mta) -> None:
    alice = mta.password("alice")
    with smtplib.SMTP(mta.host, mta.submission, timeout=TIMEOUT) as client:
        client.ehlo("client.test")
        plain = base64.b64encode(f"\0alice\0{alice}".encode()).decode()
        code, text = client.docmd("AUTH", f"PLAIN {plain}")
        assert (code, text[:5]) == (530, b"5.7.0")
        code, text = client.docmd("MAIL", f"FROM:<{mta.address('alice')}>")
        assert (code, text[:5]) == (530, b"5.7.0")
        client.starttls(context=mta.ssl_context())
        client.ehlo("client.test")
        wrong = base64.b64encode(b"\0alice\0not-the-password").decode()
        code, text = client.docmd("AUTH", f"PLAIN {wrong}")
        assert (code, text[:5]) == (535, b"5.7.8")
        code, _ = client.docmd("AUTH", f"PLAIN {plain}")
        assert code == 235


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN", "CRAM-MD5"])
def test_stdlib_mechanisms_log_in_bob(mta: Mta, mechanism: str) -> None:
    with smtplib.SMTP_SSL(mta.host, mta.smtps, timeout=TIMEOUT,
                          context=mta.ssl_context()) as client:
        client.ehlo("client.test")
        client.user, client.password = "bob", mta.password("bob")
        authobject = getattr(client, "auth_" + mechanism.lower().replace("-", "_"))
        code, _ = client.auth(mechanism, authobject, initial_response_ok=mechanism == "PLAIN")
    assert code == 235


def _smuggling(token: str) -> bytes:
    """A message to alice whose body hides a bare-LF end of data, then a transaction to bob."""
    return (f"Subject: outer {token}\r\n\r\nouter body\n.\n"
            "MAIL FROM:<mallory@client.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n"
            f"Subject: smuggled {token}\r\n\r\nsmuggled body\r\n.\r\n").encode()


def _smuggle(mta: Mta, port: int, token: str) -> list[bytes]:
    """Send the smuggling payload in one write, QUIT after the first verdict on it, and
    return every reply line that follows."""
    with socket.create_connection((mta.host, port), timeout=TIMEOUT) as sock:
        _read_replies(sock, 1)
        sock.sendall(b"EHLO client.test\r\n")
        _read_replies(sock, 1)
        sock.sendall(b"MAIL FROM:<mallory@client.test>\r\nRCPT TO:<alice@example.test>\r\n"
                     b"DATA\r\n")
        assert [r[:3] for r in _read_replies(sock, 3)] == [b"250", b"250", b"354"]
        sock.sendall(_smuggling(token))
        replies = _quit_and_read_to_close(sock)
    return [line for line in replies.split(b"\r\n") if line]


def test_bare_lf_dot_ends_data_on_lenient_port(mta: Mta) -> None:
    token = uuid.uuid4().hex
    replies = _smuggle(mta, mta.smtp, token)
    codes = [r[:3] for r in replies]
    # Outer message queued at the bare "\n.\n", then MAIL, RCPT, DATA, smuggled message, QUIT.
    assert codes == [b"250", b"250", b"250", b"354", b"250", b"221"], replies
    smuggled = mta.read_delivered("bob", match=f"smuggled {token}".encode())
    assert len(smuggled) == 1
    assert b"Return-Path: <mallory@client.test>" in smuggled[0]
    outer = mta.read_delivered("alice", match=f"outer {token}".encode())
    assert len(outer) == 1
    assert b"MAIL FROM" not in outer[0]


def test_bare_lf_dot_does_not_end_data_on_strict_port(mta: Mta) -> None:
    token = uuid.uuid4().hex
    replies = _smuggle(mta, mta.strict, token)
    codes = [r[:3] for r in replies]
    # One message only: the smuggled commands stay inside alice's body.
    assert codes == [b"250", b"221"], replies
    outer = mta.read_delivered("alice", match=f"outer {token}".encode())
    assert len(outer) == 1
    assert b"RCPT TO:<bob@example.test>" in outer[0]
    assert f"Subject: smuggled {token}".encode() in outer[0]
    assert mta.read_delivered("bob", wait=1.0, match=f"smuggled {token}".encode()) == []


def _scram_login(client: smtplib.SMTP, mechanism: str, user: str, password: str) -> int:
    """A minimal RFC 5802 client (no channel binding) to check that Dovecot's SCRAM works."""
    digest = {"SCRAM-SHA-1": "sha1", "SCRAM-SHA-256": "sha256"}[mechanism]
    nonce = base64.b64encode(os.urandom(18)).decode()
    first_bare = f"n={user},r={nonce}"
    code, challenge = client.docmd("AUTH", mechanism)
    assert code == 334
    if not challenge.strip():  # Postfix sends an empty "334 " first; answer with client-first
        code, challenge = client.docmd(base64.b64encode(("n,," + first_bare).encode()).decode())
        assert code == 334
    server_first = base64.b64decode(challenge).decode()
    fields = dict(item.split("=", 1) for item in server_first.split(","))
    assert fields["r"].startswith(nonce)
    salted = hashlib.pbkdf2_hmac(digest, password.encode(), base64.b64decode(fields["s"]),
                                 int(fields["i"]))
    client_key = hmac.digest(salted, b"Client Key", digest)
    without_proof = f"c=biws,r={fields['r']}"
    auth_message = f"{first_bare},{server_first},{without_proof}".encode()
    signature = hmac.digest(hashlib.new(digest, client_key).digest(), auth_message, digest)
    proof = base64.b64encode(bytes(a ^ b for a, b in zip(client_key, signature, strict=True)))
    final = f"{without_proof},p={proof.decode()}"
    code, challenge = client.docmd(base64.b64encode(final.encode()).decode())
    if code == 334:  # server-final "v=..." must prove the server knew the password too
        server_key = hmac.digest(salted, b"Server Key", digest)
        expected = base64.b64encode(hmac.digest(server_key, auth_message, digest)).decode()
        assert base64.b64decode(challenge).decode() == f"v={expected}"
        code, _ = client.docmd("")
    return code


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-1", "SCRAM-SHA-256"])
def test_scram_logs_in_alice(mta: Mta, mechanism: str) -> None:
    with smtplib.SMTP_SSL(mta.host, mta.smtps, timeout=TIMEOUT,
                          context=mta.ssl_context()) as client:
        client.ehlo("client.test")
        assert _scram_login(client, mechanism, "alice", mta.password("alice")) == 235
