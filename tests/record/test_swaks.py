"""swaks-format rendering (PROTOCOL.md §7.1 prefixes) and the swaks command line export."""

from __future__ import annotations

from typing import Any

import pytest

from smtpscope.record import Redactor, Transcript
from smtpscope.record.swaks import swaks_command, swaks_command_line, to_swaks


def reply(t: Transcript, raw: bytes, **extra: Any) -> None:
    code = int(raw[:3])
    t.add("server", "reply", raw, reply={"code": code, "lines": [], "warnings": [],
                                          "unsolicited": extra.pop("unsolicited", False)})


def session() -> Transcript:
    t = Transcript(redactor=Redactor())
    dialed = {"transport": "tcp", "to": "127.0.0.1", "port": 2525}
    t.note("Connecting to 127.0.0.1 port 2525", info={"connection": "connecting", **dialed})
    t.note("Connected to 127.0.0.1 port 2525", info={"connection": "connected", **dialed})
    reply(t, b"220 mx ESMTP\r\n")
    t.add("client", "command", b"EHLO client.test\r\n")
    reply(t, b"250-mx\r\n250-STARTTLS\r\n250 PIPELINING\r\n")
    t.add("client", "command", b"STARTTLS\r\n")
    reply(t, b"220 go ahead\r\n")
    t.tls_active = True
    t.add("local", "tls", b"TLS", "TLS", info={
        "version": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384", "bits": 256,
        "verified": True, "insecure": False, "verify_error": None,
        "server_hostname": "mx.test",
        "peer_chain": [{"subject": "CN=mx.test", "san": ["DNS:mx.test"],
                        "not_after": "2030-01-01T00:00:00+00:00"}]})
    t.add("client", "command", b"EHLO client.test\r\n")
    reply(t, b"250 mx\r\n")
    t.add("client", "command", b"MAIL FROM:<a@x.test>\r\n")
    t.add("client", "command", b"RCPT TO:<b@y.test>\r\n")
    t.add("client", "command", b"RCPT TO:<c@z.test>\r\n")
    t.add("client", "command", b"DATA\r\n")
    reply(t, b"250 ok\r\n")
    reply(t, b"250 ok\r\n")
    reply(t, b"550 5.1.1 unknown\r\n")
    reply(t, b"354 go\r\n")
    t.add("client", "content", b"Subject: hi\r\n\r\n..dot\r\n.\r\n")
    reply(t, b"250 queued\r\n")
    t.add("client", "raw", b"XYZZY\r\n", off_script=True)
    reply(t, b"502 what\r\n")
    t.add("client", "command", b"QUIT\r\n")
    reply(t, b"221 bye\r\n")
    t.note("Connection closed (after QUIT)", info={"connection": "closed"})
    t.note("The server closed the connection", info={"connection": "closed"})
    return t


EXPECTED = """\
=== Trying 127.0.0.1:2525...
=== Connected to 127.0.0.1.
<-  220 mx ESMTP
 -> EHLO client.test
<-  250-mx
<-  250-STARTTLS
<-  250 PIPELINING
 -> STARTTLS
<-  220 go ahead
=== TLS started with cipher TLSv1.3:TLS_AES_256_GCM_SHA384:256
=== TLS peer[0]   subject=[/CN=mx.test]
===               commonName=[mx.test], subjectAltName=[DNS:mx.test] \
notAfter=[2030-01-01T00:00:00Z]
=== TLS peer certificate passed CA verification, passed host verification (using host mx.test \
to verify)
 ~> EHLO client.test
<~  250 mx
 ~> MAIL FROM:<a@x.test>
 ~> RCPT TO:<b@y.test>
 ~> RCPT TO:<c@z.test>
 ~> DATA
<~  250 ok
<~  250 ok
<~* 550 5.1.1 unknown
<~  354 go
 ~> Subject: hi
 ~>\x20
 ~> ..dot
 ~> .
<~  250 queued
*~> XYZZY
<~* 502 what
 ~> QUIT
<~  221 bye
=== Connection closed with remote host.
"""


def test_swaks_prefixes_exact() -> None:
    assert to_swaks(session()) == EXPECTED


def test_plain_unexpected_reply_and_errors() -> None:
    t = Transcript()
    reply(t, b"554 go away\r\n")
    t.add("client", "command", b"QUIT\r\n")
    reply(t, b"221 bye\r\n")
    reply(t, b"421 shutting down\r\n", unsolicited=True)
    t.note("Connection lost: reset", kind="error")
    assert to_swaks(t).splitlines() == [
        "<** 554 go away", " -> QUIT", "<-  221 bye", "<** 421 shutting down",
        "*** Connection lost: reset", "=== Connection closed with remote host.",
    ]


def test_server_text_is_escaped() -> None:
    t = Transcript()
    reply(t, b"220 evil \x1b[31mred\r\n")
    assert "\x1b" not in to_swaks(t)
    assert "\\x1b[31mred" in to_swaks(t)


def test_auth_lines_stay_masked_and_count_as_expected() -> None:
    t = Transcript(redactor=Redactor())
    reply(t, b"220 mx\r\n")
    t.add("client", "command", b"AUTH LOGIN YWxpY2U=\r\n")
    reply(t, b"334 UGFzc3dvcmQ6\r\n")
    t.add("client", "command", b"c2VjcmV0\r\n")
    reply(t, b"235 ok\r\n")
    out = to_swaks(t)
    assert "c2VjcmV0" not in out
    assert "<** " not in out
    argv, _ = swaks_command({"target": "mx.test:587"}, t)
    assert argv[argv.index("--auth") + 1] == "LOGIN"
    assert argv[argv.index("--auth-user") + 1] == "alice"
    assert "--auth-password" not in argv  # swaks prompts for it
    assert argv[-2:] == ["--quit-after", "AUTH"]


def test_swaks_command_repeats_the_client_side() -> None:
    header = {"target": "127.0.0.1:2525", "security": "auto"}
    argv, notes = swaks_command(header, session())
    assert swaks_command_line(header, session())[1] == notes
    assert argv[:3] == ["swaks", "--server", "127.0.0.1:2525"]
    assert argv[argv.index("--helo") + 1] == "client.test"
    assert argv[argv.index("--from") + 1] == "a@x.test"
    assert argv[argv.index("--to") + 1] == "b@y.test,c@z.test"
    assert argv[argv.index("--data") + 1] == "Subject: hi\r\n\r\n..dot\r\n."  # as on the wire
    assert "--no-data-fixup" in argv
    assert "--tls" in argv and "--pipeline" in argv
    assert "--quit-after" not in argv
    assert notes == ["not repeated (swaks has no option for it): XYZZY"]


def test_a_server_side_recording_repeats_to_the_listen_address() -> None:
    # ``serve`` records the client's ephemeral address as target; it listened on ``listen``.
    header = {"target": "127.0.0.1:60174", "role": "server", "listen": "[::1]:2640",
              "tls": "starttls"}
    argv, _ = swaks_command(header, session())
    assert argv[:3] == ["swaks", "--server", "[::1]:2640"]
    assert "--tls" in argv and "--tls-on-connect" not in argv
    implicit = swaks_command({**header, "tls": "implicit"}, [])[0]
    assert implicit == ["swaks", "--server", "[::1]:2640", "--tls-on-connect", "--quit-after",
                        "CONNECT"]


def test_a_server_recording_answers_each_challenge_as_expected() -> None:
    """The server side keeps SASL answers as commands, unredacted user names among them: the
    334 to the user name is the exchange going on, not an error; the 535 is one."""
    t = Transcript()
    reply(t, b"220 mx\r\n")
    t.add("client", "command", b"AUTH LOGIN\r\n")
    reply(t, b"334 VXNlcm5hbWU6\r\n")
    t.add("client", "command", b"dGVzdGVy\r\n")
    reply(t, b"334 UGFzc3dvcmQ6\r\n")
    t.add("client", "command", b"[LOGIN password hidden]\r\n")
    reply(t, b"535 5.7.8 invalid\r\n")
    t.add("client", "command", b"NOOP\r\n")
    reply(t, b"334 not a challenge here\r\n")
    assert [line[:4] for line in to_swaks(t).splitlines() if line.startswith("<")] == [
        "<-  ", "<-  ", "<-  ", "<** ", "<** "]


def test_connection_lines_come_from_the_typed_event_not_the_wording() -> None:
    t = Transcript()
    t.note("Connecting to UNIX socket /run/smtp.sock",
           info={"connection": "connecting", "transport": "unix", "to": "/run/smtp.sock"})
    t.note("Starting 'sendmail -bs'",
           info={"connection": "connecting", "transport": "pipe", "to": "sendmail -bs"})
    t.note("Connected to \x1b[31mevil", info={"connection": "connected", "to": "\x1b[31mevil"})
    t.note("Connecting to 10.0.0.1 port 25")  # no typed event: shown as it is
    t.note("Connection closed (after QUIT)")
    assert to_swaks(t).splitlines() == [
        "=== Trying /run/smtp.sock...", "=== Trying pipe to sendmail -bs...",
        "=== Connected to \\x1b[31mevil.", "=== Connecting to 10.0.0.1 port 25",
        "=== Connection closed (after QUIT)", "=== Connection closed with remote host.",
    ]


def _walk(*commands: bytes) -> Transcript:
    """A session that sent ``commands`` (each answered, STARTTLS with a handshake), then QUIT."""
    t = Transcript()
    reply(t, b"220 mx ESMTP\r\n")
    for command in commands:
        t.add("client", "command", command + b"\r\n")
        reply(t, b"220 go ahead\r\n" if command == b"STARTTLS" else b"250 mx\r\n")
        if command == b"STARTTLS":
            t.tls_active = True
            t.add("local", "tls", b"TLS", "TLS", info={"version": "TLSv1.3"})
    t.add("client", "command", b"QUIT\r\n")
    reply(t, b"221 bye\r\n")
    return t


# The recording's last step, as the swaks stop point that repeats it (swaks 20201014's places:
# TLS right after the handshake, HELO after the EHLO inside TLS and before XCLIENT).
@pytest.mark.parametrize("commands, stop", [
    ((), "CONNECT"),
    ((b"EHLO me",), "HELO"),
    ((b"EHLO me", b"STARTTLS"), "TLS"),
    ((b"EHLO me", b"STARTTLS", b"EHLO me"), "HELO"),
    ((b"EHLO me", b"STARTTLS", b"EHLO me", b"XCLIENT ADDR=192.0.2.7"), "XCLIENT"),
    ((b"EHLO me", b"STARTTLS", b"EHLO me", b"XCLIENT ADDR=192.0.2.7", b"EHLO me"), "AUTH"),
    ((b"EHLO me", b"XCLIENT ADDR=192.0.2.7", b"EHLO me"), "AUTH"),
    ((b"EHLO me", b"STARTTLS", b"EHLO me", b"MAIL FROM:<a@x.test>"), "MAIL"),
])
def test_the_quit_after_point_repeats_where_the_session_stopped(commands: tuple[bytes, ...],
                                                                 stop: str) -> None:
    argv, _ = swaks_command({"target": "mx.test:25"}, _walk(*commands))
    assert argv[-2:] == ["--quit-after", stop]
    assert ("--tls" in argv) == (b"STARTTLS" in commands)


def _auth_session(*exchanges: tuple[bytes, ...]) -> Transcript:
    """Each exchange: the client's lines, each answered by the reply that follows it."""
    t = Transcript(redactor=Redactor())
    reply(t, b"220 mx\r\n")
    t.add("client", "command", b"EHLO me.test\r\n")
    reply(t, b"250 mx\r\n")
    for exchange in exchanges:
        for client, server in zip(exchange[::2], exchange[1::2], strict=True):
            t.add("client", "command", client)
            reply(t, server)
    return t


@pytest.mark.parametrize(("exchanges", "auth", "note"), [
    # PLAIN succeeded, a second AUTH after it was refused: the one that worked is repeated.
    (((b"AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n", b"235 2.7.0 ok\r\n"),
      (b"AUTH LOGIN\r\n", b"503 5.5.1 already authenticated\r\n")),
     ["--auth", "PLAIN", "--auth-user", "alice"], "swaks repeats PLAIN, the one that succeeded"),
    # LOGIN refused, then CRAM-MD5 refused too: the last one tried.
    (((b"AUTH LOGIN\r\n", b"334 VXNlcm5hbWU6\r\n", b"Ym9i\r\n", b"334 UGFzc3dvcmQ6\r\n",
       b"c2VjcmV0\r\n", b"535 5.7.8 no\r\n"),
      (b"AUTH CRAM-MD5\r\n", b"504 5.5.4 not offered\r\n")),
     ["--auth", "CRAM-MD5"], "swaks repeats CRAM-MD5, the last"),
    # One LOGIN typed line by line: its first answer names the user.
    (((b"AUTH LOGIN\r\n", b"334 VXNlcm5hbWU6\r\n", b"Ym9i\r\n", b"334 UGFzc3dvcmQ6\r\n",
       b"c2VjcmV0\r\n", b"235 ok\r\n"),),
     ["--auth", "LOGIN", "--auth-user", "bob"], None),
])
def test_the_auth_swaks_repeats(exchanges: tuple[tuple[bytes, ...], ...], auth: list[str],
                                note: str | None) -> None:
    argv, notes = swaks_command({"target": "mx.test:587"}, _auth_session(*exchanges))
    at = argv.index("--auth")
    assert argv[at:at + len(auth)] == auth
    assert argv.count("--auth") == 1 and "--auth-password" not in argv
    assert (note is None) == (not any("tried AUTH" in n for n in notes))
    if note is not None:
        assert any(note in n for n in notes)
    assert not any("c2VjcmV0" in a or "secret" in a for a in argv)
