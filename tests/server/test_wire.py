"""What the server's transcript shows for off-script bytes, sent over a raw socket."""

from __future__ import annotations

import socket
import ssl
import struct

import pytest

from smtpscope.auth import b64
from smtpscope.record import read_recording
from tests.server.conftest import PASSWORD, USER, Raw


def test_bare_lf_in_data_is_flagged_and_kept(serve) -> None:
    running = serve()
    raw = Raw(running.host, running.port)
    for command in (b"EHLO raw.test\r\n", b"MAIL FROM:<a@x.test>\r\n", b"RCPT TO:<b@x.test>\r\n"):
        raw.send(command)
        assert raw.reply().startswith(b"250")
    raw.send(b"DATA\r\n")
    assert raw.reply().startswith(b"354")
    # "\n.\n" is the smuggling look-alike: aiosmtpd must treat it as text, not as the end.
    content = b"Subject: lf\r\n\r\nline one\nline two\n.\nMAIL FROM:<evil@x.test>\r\n"
    raw.send(content + b".\r\n")
    assert raw.reply().startswith(b"250")
    raw.send(b"QUIT\r\n")
    raw.reply()
    raw.close()
    assert running.stored() == [content]  # one message, bytes untouched
    entries = running.wait_closed()
    warnings = [e.text for e in entries if e.kind == "warning"]
    assert any(w.startswith("bare LF in the message content (3x)") for w in warnings)
    assert any("end-of-data look-alike" in w and r"\x0a.\x0a" in w for w in warnings)
    content_entries = [e for e in entries if e.kind == "content"]
    assert [e.raw for e in content_entries] == [content + b".\r\n"]
    # Recorded too, with the warnings after the content.
    recorded = read_recording(running.recordings()[0]).entries
    assert [e.kind for e in recorded if e.kind in ("content", "warning")][:2] == [
        "content",
        "warning",
    ]


def test_bare_lf_command_is_flagged(serve) -> None:
    running = serve()
    raw = Raw(running.host, running.port)
    raw.send(b"EHLO lf.test\n")
    assert raw.reply().startswith(b"250")
    raw.send(b"NOOP\r\r\n")
    assert raw.reply().startswith(b"250")
    raw.send(b"QUIT\r\n")
    raw.reply()
    raw.close()
    entries = running.wait_closed()
    commands = [e.raw for e in entries if e.kind == "command"]
    assert commands == [b"EHLO lf.test\n", b"NOOP\r\r\n", b"QUIT\r\n"]
    warnings = [e.text for e in entries if e.kind == "warning"]
    assert any(w.startswith("bare LF ends this command line") for w in warnings)
    assert any(w.startswith("bare CR inside the command line (1x)") for w in warnings)


def test_bytes_pipelined_after_starttls_are_reported(serve) -> None:
    running = serve()
    raw = Raw(running.host, running.port)
    raw.send(b"EHLO inject.test\r\n")
    raw.reply()
    raw.send(b"STARTTLS\r\nMAIL FROM:<injected@x.test>\r\n")
    assert raw.reply().startswith(b"220")
    context = running.client_context()
    tls = context.wrap_socket(raw.sock, server_hostname="localhost")
    tls.sendall(b"QUIT\r\n")
    assert tls.recv(100).startswith(b"221")
    tls.close()
    warnings = [e.text for e in running.wait_closed() if e.kind == "warning"]
    assert any(w.startswith("29 octets of plaintext were pipelined after STARTTLS")
               and "discarded at the handshake, never executed: MAIL FROM:<injected@x.test>" in w
               for w in warnings), warnings


def test_plaintext_after_starttls_without_a_handshake_is_reported_as_injection(serve) -> None:
    running = serve()
    raw = Raw(running.host, running.port)
    raw.send(b"EHLO inject.test\r\n")
    raw.reply()
    raw.send(b"STARTTLS\r\nMAIL FROM:<a@x>\r\n")
    assert raw.reply().startswith(b"220")
    raw.close()  # no handshake: the pipelined line is still in aiosmtpd's buffer
    entries = running.wait_closed()
    warnings = [e.text for e in entries if e.kind == "warning"]
    assert any(w.startswith("17 octets of plaintext were pipelined after STARTTLS")
               and "the handshake did not complete" in w for w in warnings), warnings
    assert not any("never read as a line" in w for w in warnings)
    closed = [e.text for e in entries if e.text.startswith("connection closed")]
    assert closed[0].startswith("connection closed (TLS handshake failed")
    assert "()" not in closed[0]


def test_unterminated_bytes_at_close_are_reported(serve) -> None:
    running = serve()
    raw = Raw(running.host, running.port)
    raw.send(b"EHLO half.test")
    raw.close()
    warnings = [e.text for e in running.wait_closed() if e.kind == "warning"]
    assert any("14 octets from the client were never read" in w for w in warnings)


def test_tls_handshake_failure_after_starttls_is_noted(serve) -> None:
    running = serve()
    raw = Raw(running.host, running.port)
    raw.send(b"EHLO bad.test\r\nSTARTTLS\r\n")
    raw.reply()
    assert raw.reply().startswith(b"220")
    context = ssl.create_default_context()  # does not trust the server: handshake fails
    with pytest.raises(ssl.SSLCertVerificationError):
        context.wrap_socket(raw.sock, server_hostname="localhost")
    raw.close()
    entries = running.wait_closed()
    assert any(e.text.startswith("TLS handshake after STARTTLS failed") for e in entries)


def test_starttls_before_ehlo_is_served_as_postfix_does_and_noted(serve) -> None:
    running = serve()
    raw = Raw(running.host, running.port)
    raw.send(b"STARTTLS\r\n")
    assert raw.reply().startswith(b"220")  # Postfix (default settings) answers 220 as well
    raw.close()
    warnings = [e.text for e in running.wait_closed() if e.kind == "warning"]
    assert "STARTTLS before HELO/EHLO: the client has not seen it offered" in warnings


@pytest.mark.parametrize("command", [b"HELO \x00a\r\n", b"EHLO a\x00b\r\n", b"HELO a\x1bb\r\n"])
def test_helo_name_with_control_characters_is_refused(serve, command: bytes) -> None:
    running = serve()
    raw = Raw(running.host, running.port)
    raw.send(command)
    assert raw.reply().startswith(b"501 5.5.2")
    raw.send(b"MAIL FROM:<a@x.test>\r\n")
    assert raw.reply().startswith(b"503")  # the refused name was not taken
    raw.send(b"HELO ok.test\r\n")
    assert raw.reply().startswith(b"250")
    raw.close()


# (command, the refused argument as the note shows it): addresses, parameters, every verb with
# an argument, a DEL, a C1 control (UTF-8 encoded) and a bare CR inside the line.
REFUSED_ARGUMENTS = [
    (b"MAIL FROM:<a\x00b@x.test>", r"FROM:<a\x00b@x.test>"),
    (b"MAIL FROM:<a@x.test> SIZE=10\x1b[2J", r"FROM:<a@x.test> SIZE=10\x1b[2J"),
    (b"RCPT TO:<b\x7f@x.test>", r"TO:<b\x7f@x.test>"),
    (b"RCPT TO:<b@x.test> NOTIFY=NEVER\rMAIL", r"TO:<b@x.test> NOTIFY=NEVER\x0dMAIL"),
    (b"VRFY ali\x00ce", r"ali\x00ce"),
    (b"EXPN list\x08s", r"list\x08s"),
    (b"HELP MA\x00IL", r"MA\x00IL"),
    (b"NOOP \xc2\x9b31m", r"\x9b31m"),
]


@pytest.mark.parametrize(("command", "shown"), REFUSED_ARGUMENTS)
def test_every_command_argument_with_control_characters_is_refused(
    serve, command: bytes, shown: str
) -> None:
    running = serve()
    raw = Raw(running.host, running.port)
    raw.send(b"EHLO ok.test\r\n")
    raw.reply()
    if command.startswith(b"RCPT"):
        raw.send(b"MAIL FROM:<a@x.test>\r\n")
        assert raw.reply().startswith(b"250")
    raw.send(command + b"\r\n")
    verb = command.split()[0].decode()
    assert raw.reply().startswith(b"501 5.5.2 Syntax: " + verb.encode())
    # Nothing was taken: no transaction after a refused MAIL, no recipient after RCPT.
    raw.send(b"RCPT TO:<c@x.test>\r\n" if verb == "MAIL" else b"DATA\r\n")
    assert raw.reply().startswith(b"503")
    raw.close()
    notes = [e.text for e in running.wait_closed() if e.direction == "local"]
    assert f"{verb} refused: its argument holds control characters" in "\n".join(notes)
    assert any(n.endswith(f": {shown}") for n in notes), notes


def test_auth_initial_response_with_control_characters_is_refused_and_stays_masked(
    serve,
) -> None:
    running = serve(users={USER: PASSWORD})
    raw = Raw(running.host, running.port)
    raw.send(b"EHLO ok.test\r\n")
    raw.reply()
    secret = b64.encode(f"\0{USER}\0{PASSWORD}".encode())
    raw.send(f"AUTH PLAIN {secret[:8]}\x00{secret[8:]}\r\n".encode())
    assert raw.reply().startswith(b"501 5.5.2 Syntax: AUTH")
    raw.close()
    notes = [e.text for e in running.wait_closed() if e.direction == "local"]
    refused = next(n for n in notes if n.startswith("AUTH refused"))
    assert r"(\x00)" in refused and "PLAIN [PLAIN credentials hidden]" in refused
    assert secret[8:] not in refused and not any("authenticated" in n for n in notes)


@pytest.mark.parametrize("command", [
    b"MAIL FROM:<a@x.test>\tSIZE=10",  # TAB is spacing, not a control to refuse
    "MAIL FROM:<jöran@bücher.test> SMTPUTF8".encode(),  # RFC 6531 UTF-8 address
    "VRFY jöran".encode(),
])
def test_tab_and_utf8_arguments_are_not_refused(serve, command: bytes) -> None:
    running = serve()
    raw = Raw(running.host, running.port)
    raw.send(b"EHLO ok.test\r\n")
    raw.reply()
    raw.send(command + b"\r\n")
    assert not raw.reply().startswith(b"501")
    raw.close()
    notes = [e.text for e in running.wait_closed() if e.direction == "local"]
    assert not any("control characters" in n for n in notes)


def test_help_still_lists_and_explains_commands(serve) -> None:
    running = serve()
    raw = Raw(running.host, running.port)
    raw.send(b"EHLO ok.test\r\nHELP\r\nHELP MAIL\r\n")
    raw.reply()
    # RFC 5321 4.2 and 4.3.2: a help message is 214 (aiosmtpd said 250), with aiosmtpd's text.
    assert raw.reply().startswith(b"214 2.0.0 Supported commands: AUTH DATA EHLO HELO HELP MAIL")
    assert raw.reply() == (b"214 2.0.0 Syntax: MAIL FROM: <address> [SP <mail-parameters>]\r\n")
    raw.close()


def test_ehlo_advertises_the_recipient_limit_it_enforces(serve) -> None:
    from smtpscope.protocol import Capabilities, parse_reply
    from smtpscope.server.handler import MAX_RECIPIENTS

    running = serve()
    raw = Raw(running.host, running.port)
    raw.send(b"EHLO limits.test\r\n")
    reply = raw.reply()
    raw.close()
    assert reply.endswith(b"250 HELP\r\n")  # still a well-formed multi-line reply
    assert Capabilities.parse(parse_reply(reply)).limits == {"RCPTMAX": MAX_RECIPIENTS}


def test_recipients_past_the_limit_get_452_and_the_stored_note_is_short(serve) -> None:
    from smtpscope.server.handler import MAX_RECIPIENTS

    running = serve()
    raw = Raw(running.host, running.port)
    rcpts = b"".join(b"RCPT TO:<r%d@x.test>\r\n" % i for i in range(MAX_RECIPIENTS + 3))
    raw.send(b"EHLO many.test\r\nMAIL FROM:<a@x.test>\r\n" + rcpts + b"DATA\r\n")
    replies = [raw.reply() for _ in range(MAX_RECIPIENTS + 6)]
    assert replies[1 + MAX_RECIPIENTS].startswith(b"250")
    assert replies[2 + MAX_RECIPIENTS:5 + MAX_RECIPIENTS] == [
        b"452 4.5.3 Error: too many recipients\r\n"] * 3
    assert replies[-1].startswith(b"354")
    raw.send(b"hi\r\n.\r\n")
    assert raw.reply().startswith(b"250")
    raw.close()
    entries = running.wait_closed()
    notes = [e.text for e in entries if e.direction == "local"]
    assert sum(n.startswith(f"recipient limit of {MAX_RECIPIENTS} reached") for n in notes) == 1
    stored = next(n for n in notes if n.startswith("stored"))
    assert f"<r4@x.test> and {MAX_RECIPIENTS - 5} more as " in stored
    assert "<r5@x.test>" not in stored


@pytest.mark.parametrize("verb", [b"auth login", b"Auth Login"])
def test_auth_mechanism_name_is_not_case_sensitive(serve, verb: bytes) -> None:
    # RFC 5321 2.4: argument values are not case sensitive. Refused with 504, a client
    # went on to send its password as a command line, kept in the transcript as one.
    running = serve(users={USER: PASSWORD})
    raw = Raw(running.host, running.port)
    raw.send(b"EHLO ok.test\r\n")
    raw.reply()
    raw.send(verb + b" " + b64.encode(USER.encode()).encode() + b"\r\n")
    assert raw.reply().startswith(b"334 ")
    password = b64.encode(PASSWORD.encode()).encode()
    raw.send(password + b"\r\n")
    assert raw.reply().startswith(b"235 2.7.0")
    raw.close()
    running.wait_closed()
    recorded = running.recordings()[0].read_bytes()
    assert password not in recorded and PASSWORD.encode() not in recorded
    assert b64.encode(password).encode()[:-4] not in recorded  # raw bytes are base64 too


def test_auth_login_prompts_are_the_ones_servers_send(serve) -> None:
    # "Username:" and "Password:" (Cyrus SASL, so Postfix; Exchange), not aiosmtpd's
    # "User Name\0" and "Password\0": some clients match the prompt text.
    running = serve(users={USER: PASSWORD})
    raw = Raw(running.host, running.port)
    raw.send(b"EHLO ok.test\r\n")
    raw.reply()
    user, password = (b64.encode(s.encode()).encode() for s in (USER, PASSWORD))
    raw.send(b"AUTH LOGIN\r\n")
    assert raw.reply() == b"334 VXNlcm5hbWU6\r\n"
    raw.send(user + b"\r\n")
    assert raw.reply() == b"334 UGFzc3dvcmQ6\r\n"
    raw.send(b"*\r\n")  # RFC 4954: the client cancels
    assert raw.reply().startswith(b"501 ")
    raw.send(b"AUTH LOGIN " + user + b"\r\n")  # with the user name as initial response
    assert raw.reply() == b"334 UGFzc3dvcmQ6\r\n"
    raw.send(password + b"\r\n")
    assert raw.reply().startswith(b"235 2.7.0")
    raw.close()
    prompts = [e.text for e in running.wait_closed() if e.text.startswith("334")]
    assert prompts == ["334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6", "334 UGFzc3dvcmQ6"]


def test_non_ascii_address_needs_smtputf8_on_mail(serve) -> None:
    # RFC 6531 3.4: the client must say SMTPUTF8 on MAIL to use a UTF-8 address; accepted
    # silently, an application that forgot it passed here and failed on a real server.
    running = serve()
    raw = Raw(running.host, running.port)
    raw.send(b"EHLO ok.test\r\n")
    raw.reply()
    raw.send("MAIL FROM:<jöran@bücher.test>\r\n".encode())
    assert raw.reply() == b"553 5.6.7 Must declare SMTPUTF8 to send unicode address\r\n"
    raw.send(b"MAIL FROM:<a@x.test>\r\n")
    assert raw.reply().startswith(b"250")
    raw.send("RCPT TO:<zoë@x.test>\r\n".encode())
    assert raw.reply().startswith(b"553 5.6.7 ")
    raw.send(b"RSET\r\n")
    raw.reply()
    raw.send("MAIL FROM:<jöran@bücher.test> SMTPUTF8\r\nRCPT TO:<zoë@x.test>\r\n".encode())
    assert raw.reply().startswith(b"250") and raw.reply().startswith(b"250")
    raw.close()
    notes = [e.text for e in running.wait_closed() if e.direction == "local"]
    assert sum("without SMTPUTF8 on MAIL" in n for n in notes) == 2


def test_stored_note_escapes_the_addresses(serve) -> None:
    # Notes are smtpscope's words with foreign text escaped where they are made (the views
    # keep their backslashes); bidi overrides in the addresses reached the recording as sent.
    running = serve()
    raw = Raw(running.host, running.port)
    raw.send(b"EHLO ok.test\r\n")
    raw.reply()
    sender, recipient = "\u202eevil@x.test", "bob\u2067@x.test"
    raw.send(f"MAIL FROM:<{sender}> SMTPUTF8\r\nRCPT TO:<{recipient}>\r\nDATA\r\n".encode())
    assert [raw.reply()[:3] for _ in range(3)] == [b"250", b"250", b"354"]
    raw.send(b"Subject: t\r\n\r\nbody\r\n.\r\n")
    assert raw.reply().startswith(b"250")
    raw.close()
    notes = [e.text for e in running.wait_closed() if e.direction == "local"]
    stored = next(n for n in notes if n.startswith("stored "))
    assert r"from <\u202eevil@x.test> to <bob\u2067@x.test>" in stored


def test_reset_after_quit_is_a_normal_close(serve) -> None:
    # swaks over TLS resets the connection after 221 instead of answering close_notify; the
    # session said "Connection reset by peer" and its recording's outcome was "error".
    running = serve()
    raw = Raw(running.host, running.port)
    raw.send(b"EHLO ok.test\r\nSTARTTLS\r\n")
    raw.reply()
    assert raw.reply().startswith(b"220")
    tls = running.client_context().wrap_socket(raw.sock, server_hostname="localhost")
    replies = tls.makefile("rb")
    tls.sendall(b"EHLO ok.test\r\n")
    while replies.readline()[3:4] == b"-":
        pass
    tls.sendall(b"QUIT\r\n")
    assert replies.readline().startswith(b"221")
    tls.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    replies.close()  # else the file keeps the socket open
    tls.close()  # no close_notify: a reset
    closed = [e.text for e in running.wait_closed() if e.text.startswith("connection closed")]
    assert closed == ["connection closed"]
    footer = running.recordings()[0].read_text().splitlines()[-1]
    assert '"outcome":"closed"' in footer


def test_empty_recipient_is_refused_and_postmaster_is_taken(serve) -> None:
    # RFC 5321 4.1.1.3: only the reverse-path may be <>. Accepted, RCPT TO:<> was stored with
    # "Envelope-to: <>" and "for <<>>" in its Received line.
    running = serve()
    raw = Raw(running.host, running.port)
    raw.send(b"EHLO ok.test\r\nMAIL FROM:<>\r\nRCPT TO:<>\r\nRCPT TO:<Postmaster>\r\nDATA\r\n")
    assert [raw.reply() for _ in range(4)][1:] == [
        b"250 2.1.0 OK\r\n", b"501 5.1.3 Bad recipient address syntax\r\n", b"250 2.1.5 OK\r\n"]
    assert raw.reply().startswith(b"354")
    raw.send(b"Subject: bounce\r\n\r\nx\r\n.\r\n")
    assert raw.reply().startswith(b"250")
    raw.close()
    (stored,) = running.stored_files()
    assert stored.startswith(b"Return-Path: <>\r\nEnvelope-to: Postmaster\r\n")
    assert b"for <Postmaster>;" in stored
