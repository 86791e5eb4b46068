"""The debug server against Python's smtplib (a third-party client): TLS, AUTH, storage, limits."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import mailbox
import smtplib
import ssl

import pytest

from smtpscope.record import read_recording
from smtpscope.record.swaks import swaks_command

from .conftest import PASSWORD, USER

MESSAGE = (
    b"From: sender@example.test\r\n"
    b"To: rcpt@example.test\r\n"
    b"Subject: byte for byte\r\n"
    b"\r\n"
    b".a line starting with a dot (smtplib stuffs it, the server unstuffs it)\r\n"
    b"..two dots\r\n"
    b"8-bit: caf\xc3\xa9 and a lone \xff byte\r\n"
    b"trailing spaces   \r\n"
    b"\r\n"
    b"last line\r\n"
)


def _send(client: smtplib.SMTP, message: bytes = MESSAGE) -> None:
    refused = client.sendmail("sender@example.test", ["rcpt@example.test"], message)
    assert refused == {}


def test_plain_send_stores_the_exact_bytes(serve) -> None:
    running = serve(starttls=False)
    with smtplib.SMTP(running.host, running.port) as client:
        client.ehlo()
        assert not client.has_extn("starttls")
        assert not client.has_extn("auth")  # no users: AUTH is not offered
        _send(client)
    assert running.stored() == [MESSAGE]
    # The stdlib reader agrees (the files are a proper Maildir), and reads the trace headers.
    box = mailbox.Maildir(str(running.maildir), create=False)
    assert [box.get_bytes(key) for key in box.iterkeys()] == running.stored_files()
    [message] = box
    assert message["Return-Path"] == "<sender@example.test>"
    assert message["Envelope-to"] == "rcpt@example.test"
    assert message["Received"].startswith("from [127.0.0.1] ([127.0.0.1])")
    assert message["Subject"] == "byte for byte"


def test_message_without_final_crlf_is_stored_as_received(serve) -> None:
    running = serve()
    with smtplib.SMTP(running.host, running.port) as client:
        _send(client, b"Subject: x\r\n\r\nno newline at the end")
    # smtplib adds the CRLF before the terminator: that CRLF belongs to the content.
    assert running.stored() == [b"Subject: x\r\n\r\nno newline at the end\r\n"]


def test_starttls_verifies_against_the_generated_certificate(serve) -> None:
    running = serve(users={USER: PASSWORD})
    with smtplib.SMTP("localhost", running.port) as client:
        client.ehlo()
        assert client.has_extn("starttls")
        code, _ = client.starttls(context=running.client_context())
        assert code == 220
        client.ehlo()
        assert not client.has_extn("starttls")
        client.login(USER, PASSWORD)
        _send(client)
    assert running.stored() == [MESSAGE]
    entries = running.wait_closed()
    tls_notes = [e for e in entries if e.kind == "tls"]
    assert len(tls_notes) == 1 and "TLS established: TLSv1" in tls_notes[0].text
    after = entries[entries.index(tls_notes[0]) :]
    assert all(e.tls for e in after)
    assert not any(e.tls for e in entries[: entries.index(tls_notes[0])])


def test_implicit_tls_port(serve) -> None:
    running = serve(tls_port=0, users={USER: PASSWORD})
    context = running.client_context()
    with smtplib.SMTP_SSL("127.0.0.1", running.tls_port, context=context) as client:
        client.ehlo()
        assert not client.has_extn("starttls")  # already TLS
        assert "PLAIN" in client.esmtp_features["auth"]
        client.login(USER, PASSWORD)
        _send(client)
    assert running.stored() == [MESSAGE]
    recording = read_recording(running.recordings()[0])
    header = recording.header
    assert header["role"] == "server" and header["tls"] == "implicit"
    # Exported, it repeats the client: to the port it connected to, TLS from the start.
    argv, _ = swaks_command(header, recording.entries)
    assert argv[1:3] == ["--server", f"127.0.0.1:{running.tls_port}"]
    assert header["target"] != f"127.0.0.1:{running.tls_port}"  # the client's own port
    assert "--tls-on-connect" in argv and argv[argv.index("--auth-user") + 1] == USER


def test_implicit_tls_rejects_an_unverified_name(serve) -> None:
    running = serve(tls_port=0)
    with pytest.raises(ssl.SSLCertVerificationError):
        smtplib.SMTP_SSL(
            "127.0.0.1", running.tls_port, context=ssl.create_default_context(), timeout=30
        )


def _auth(client: smtplib.SMTP, mechanism: str, password: str) -> tuple[int, bytes]:
    client.user, client.password = USER, password
    method = getattr(client, "auth_" + mechanism.lower().replace("-", "_"))
    try:
        return client.auth(mechanism, method)
    except smtplib.SMTPAuthenticationError as exc:
        return exc.smtp_code, exc.smtp_error


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN", "CRAM-MD5"])
def test_auth_mechanisms(serve, mechanism: str) -> None:
    running = serve(users={USER: PASSWORD})
    with smtplib.SMTP(running.host, running.port) as client:
        client.ehlo()
        assert mechanism in client.esmtp_features["auth"].split()
        code, text = _auth(client, mechanism, "wrong-password")
        assert (code, text) == (535, b"5.7.8 Authentication credentials invalid")
        assert _auth(client, mechanism, PASSWORD)[0] == 235
    notes = [e.text for e in running.wait_closed() if e.direction == "local"]
    assert f"{mechanism} authentication failed for 'alice' (wrong password)" in notes
    assert f"authenticated as 'alice' with {mechanism}" in notes


def test_auth_user_name_is_escaped_once_in_the_log(serve) -> None:
    # The client's user name (ESC, backslash, quote) is escaped where the note is made; the log
    # and exports leave smtpscope's own words' backslashes alone, so it is said once.
    from smtpscope.record.export import entry_lines

    running = serve(users={USER: PASSWORD})
    with smtplib.SMTP(running.host, running.port) as client:
        client.ehlo()
        client.user, client.password = "a\x1bb\\c'd", "pw"
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.auth("PLAIN", client.auth_plain)
    shown = [line for e in running.wait_closed() if e.direction == "local"
             for line in entry_lines(e)]
    assert "PLAIN authentication failed for 'a\\x1bb\\\\c'd' (unknown user)" in shown


def _scram_exchange(client: smtplib.SMTP, user: str, password: str) -> tuple[int, bytes]:
    """A minimal RFC 5802 client, written from the RFC independently of the server."""
    nonce = "fyko+d2lbbFgONRv9qkxdawL"
    first_bare = f"n={user},r={nonce}"
    code, challenge = client.docmd(
        "AUTH SCRAM-SHA-256", base64.b64encode(b"n,," + first_bare.encode()).decode()
    )
    assert code == 334
    server_first = base64.b64decode(challenge).decode()
    attrs = dict(part.split("=", 1) for part in server_first.split(","))
    assert attrs["r"].startswith(nonce) and len(attrs["r"]) > len(nonce)
    salted = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), base64.b64decode(attrs["s"]), int(attrs["i"])
    )
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    without_proof = f"c=biws,r={attrs['r']}"
    auth_message = f"{first_bare},{server_first},{without_proof}".encode()
    signature = hmac.digest(hashlib.sha256(client_key).digest(), auth_message, "sha256")
    proof = base64.b64encode(bytes(a ^ b for a, b in zip(client_key, signature, strict=True)))
    final = f"{without_proof},p={proof.decode()}".encode()
    code, reply = client.docmd(base64.b64encode(final).decode())
    if code != 334:
        return code, reply
    server_key = hmac.digest(salted, b"Server Key", "sha256")
    expected = base64.b64encode(hmac.digest(server_key, auth_message, "sha256"))
    assert base64.b64decode(reply) == b"v=" + expected
    return client.docmd("")


def test_auth_scram_sha_256(serve) -> None:
    running = serve(users={USER: PASSWORD})
    with smtplib.SMTP(running.host, running.port) as client:
        client.ehlo()
        assert "SCRAM-SHA-256" in client.esmtp_features["auth"].split()
        assert _scram_exchange(client, USER, "wrong")[0] == 535
        assert _scram_exchange(client, USER, PASSWORD)[0] == 235


def test_auth_mechanisms_can_be_restricted(serve) -> None:
    running = serve(users={USER: PASSWORD}, mechanisms=("LOGIN",))
    with smtplib.SMTP(running.host, running.port) as client:
        client.ehlo()
        assert client.esmtp_features["auth"].split() == ["LOGIN"]
        assert client.docmd("AUTH PLAIN")[0] == 504


def test_recording_holds_no_password_in_any_form(serve) -> None:
    running = serve(users={USER: PASSWORD})
    with smtplib.SMTP(running.host, running.port) as client:
        client.ehlo()
        for mechanism in ("PLAIN", "LOGIN", "CRAM-MD5"):
            assert _auth(client, mechanism, "wrong-" + PASSWORD)[0] == 535
        # LOGIN with an initial response (the user name) then the password as the 334 answer.
        assert client.docmd("AUTH LOGIN", base64.b64encode(USER.encode()).decode())[0] == 334
        assert client.docmd(base64.b64encode(PASSWORD.encode()).decode())[0] == 235
        _send(client)
    running.wait_closed()
    data = running.recordings()[0].read_bytes()
    raw_fields = [
        base64.b64decode(json.loads(line)["raw"])
        for line in data.splitlines()[1:]
        if "raw" in json.loads(line)
    ]
    forbidden = [
        PASSWORD.encode(),
        base64.b64encode(PASSWORD.encode()),
        base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()),
        base64.b64encode(f"\0{USER}\0wrong-{PASSWORD}".encode()),
    ]
    for secret in forbidden:
        assert secret not in data
        assert not any(secret in raw for raw in raw_fields)
    texts = [e.text for e in read_recording(running.recordings()[0]).entries]
    assert "[LOGIN password hidden]" in texts


def test_size_is_advertised_and_enforced(serve) -> None:
    running = serve(size=1000)
    big = b"Subject: big\r\n\r\n" + b"x" * 76 + b"\r\n" + (b"y" * 76 + b"\r\n") * 20
    with smtplib.SMTP(running.host, running.port) as client:
        client.ehlo()
        assert client.esmtp_features["size"] == "1000"
        # smtplib announces SIZE= on MAIL: refused up front.
        with pytest.raises(smtplib.SMTPSenderRefused) as info:
            client.sendmail("a@example.test", ["b@example.test"], big)
        assert info.value.smtp_code == 552
        assert info.value.smtp_error == b"5.3.4 Message size exceeds fixed maximum message size"
        client.rset()
        # Without SIZE= the server counts the data and refuses it at the end.
        assert client.mail("a@example.test")[0] == 250
        assert client.rcpt("b@example.test")[0] == 250
        code, text = client.data(big)
        assert (code, text) == (552, b"5.3.4 Message size exceeds fixed maximum message size")
        _send(client, b"Subject: small\r\n\r\nfits\r\n")
    assert running.stored() == [b"Subject: small\r\n\r\nfits\r\n"]


def test_require_auth_answers_530(serve) -> None:
    running = serve(users={USER: PASSWORD}, require_auth=True)
    with smtplib.SMTP(running.host, running.port) as client:
        client.ehlo()
        code, text = client.mail("a@example.test")
        assert code == 530 and b"Authentication required" in text
        client.login(USER, PASSWORD)
        _send(client)
    assert running.stored() == [MESSAGE]


def test_require_tls_answers_530_before_starttls(serve) -> None:
    running = serve(users={USER: PASSWORD}, require_tls=True)
    with smtplib.SMTP("localhost", running.port) as client:
        client.ehlo()
        assert "auth" not in client.esmtp_features  # no AUTH in clear when TLS is required
        code, text = client.mail("a@example.test")
        assert (code, text) == (530, b"5.7.0 Must issue a STARTTLS command first")
        assert client.helo()[0] == 530  # RFC 3207 4: only NOOP, EHLO, STARTTLS, QUIT
        assert client.noop()[0] == 250
        client.starttls(context=running.client_context())
        client.ehlo()
        client.login(USER, PASSWORD)
        _send(client)
    assert running.stored() == [MESSAGE]
