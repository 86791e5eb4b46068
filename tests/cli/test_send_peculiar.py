"""``smtpscope send`` against scripted peers that do what aiosmtpd will not: stay silent, answer
a pipelined batch with 421, answer DATA with 250, refuse every LMTP recipient after the dot."""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.protocol.servers import (
    GMAIL_RATE_LIMITED,
    GMAIL_TOO_MANY_RECIPIENTS,
    POSTGREY_GREYLISTED,
)

FROM_TO = ("--from", "a@x.test", "--to", "b@y.test")


def greet(stream: Any, ehlo: bytes = b"250-peer.test\r\n250 PIPELINING\r\n") -> None:
    stream.write(b"220 peer.test ESMTP\r\n")
    stream.readline()
    stream.write(ehlo)


def answer(stream: Any, replies: dict[bytes, bytes]) -> None:
    """Answer each command by its verb, 250 by default, until QUIT or the end."""
    while line := stream.readline():
        verb = line.split()[0].upper() if line.split() else b""
        stream.write(replies.get(verb, b"250 2.0.0 ok\r\n"))
        if verb == b"QUIT":
            return


def test_silent_banner_waits_one_timeout_and_says_the_server_is_there(
        scripted_peer, cli, tmp_path: Path) -> None:
    port = scripted_peer(lambda stream: stream.read())  # accepts, never says a word
    recording = tmp_path / "silent.jsonl"
    started = time.monotonic()
    result = cli("send", f"127.0.0.1:{port}", *FROM_TO, "--timeout", "1",
                 "--record", str(recording))
    elapsed = time.monotonic() - started
    assert result.code == 21, result.err
    # --timeout is the limit for connecting and for each reply: not twice that for the banner.
    assert elapsed < 1.8
    assert "banner failed: timed out" in result.err
    # Connected, then silence: no firewall dropped anything; a TLS-first port may be why.
    assert "firewall" not in result.err
    assert f"smtps://127.0.0.1:{port}" in result.err and "accepted the connection" in result.err
    assert "C: QUIT" not in result.out  # a reply still owed would be taken for QUIT's
    lines = [json.loads(line) for line in recording.read_text().splitlines()]
    errors = [e["text"] for e in lines if e.get("kind") == "error"]
    assert errors == ["Timeout: no reply within 1 s"]
    assert lines[-1]["footer"] and lines[-1]["outcome"] == "timed out at banner"


def test_silent_ehlo_is_a_slow_server_not_a_firewall(scripted_peer, cli) -> None:
    def script(stream: Any) -> None:
        stream.write(b"220 peer.test ESMTP\r\n")
        stream.read()

    result = cli("send", f"127.0.0.1:{scripted_peer(script)}", *FROM_TO, "--timeout", "1",
                 "--json")
    assert result.code == 22
    data = json.loads(result.out)
    assert (data["status"], data["stage"]) == ("timeout", "ehlo")
    assert "did not reply in time" in data["hint"] and "firewall" not in data["hint"]
    assert "smtps://" not in data["hint"]  # it greeted in plain text: not a TLS-first port


def test_pipelined_421_to_rcpt_is_the_rcpt_failure(scripted_peer, cli) -> None:
    def script(stream: Any) -> None:
        greet(stream)
        for _ in range(3):  # MAIL, RCPT, DATA in one batch
            stream.readline()
        stream.write(b"250 2.1.0 ok\r\n421 4.3.2 shutting down now\r\n")

    result = cli("send", f"127.0.0.1:{scripted_peer(script)}", *FROM_TO, "--pipeline",
                 "--json")
    data = json.loads(result.out)
    # As without --pipeline: MAIL was accepted, the RCPT got the 421 (swaks: 24).
    assert (result.code, data["stage"], data["status"]) == (24, "rcpt", "rejected")
    assert "RCPT TO failed" in result.err and "421 4.3.2 shutting down now" in result.err


@pytest.mark.parametrize("pipeline", [(), ("--pipeline",)])
def test_421_to_a_later_rcpt_is_the_rcpt_failure(scripted_peer, cli, pipeline) -> None:
    """Gmail rate-limits at the second RCPT, the first one accepted: the transaction ends
    there (RFC 5321 §3.8), not at a DATA sent into the closed connection."""
    seen: list[bytes] = []

    def script(stream: Any) -> None:
        greet(stream)
        while line := stream.readline():
            seen.append(line)
            if line == b"RCPT TO:<c@y.test>\r\n":
                stream.write(GMAIL_RATE_LIMITED)
            elif b"RCPT TO:<c@y.test>\r\n" in seen:
                continue  # closing: the rest of a pipelined batch is read, never answered
            else:
                stream.write(b"250 2.1.5 OK\r\n")

    rcpts = ("--from", "a@x.test", "--to", "b@y.test,c@y.test,d@y.test")
    result = cli("send", f"127.0.0.1:{scripted_peer(script)}", *rcpts, *pipeline, "--json")
    data = json.loads(result.out)
    assert (result.code, data["stage"], data["status"]) == (24, "rcpt", "rejected")
    assert "RCPT TO failed" in result.err and "421 4.7.0 [192.0.2.10" in result.err
    assert "try again later" in result.err
    if not pipeline:  # one at a time: nothing after the RCPT that closed the session
        assert seen[-1] == b"RCPT TO:<c@y.test>\r\n", seen


def test_an_unsolicited_reply_is_warned_about_once(scripted_peer, cli) -> None:
    def script(stream: Any) -> None:
        greet(stream)
        stream.readline()  # MAIL
        stream.write(b"250 2.1.0 ok\r\n421 4.3.2 shutting down now\r\n")

    result = cli("send", f"127.0.0.1:{scripted_peer(script)}", *FROM_TO)
    assert result.code == 6
    assert result.out.count("unsolicited reply") == 1, result.out


def test_250_to_data_is_not_called_a_refusal(scripted_peer, cli) -> None:
    def script(stream: Any) -> None:
        greet(stream)
        answer(stream, {b"DATA": b"250 ok\r\n", b"QUIT": b"221 bye\r\n"})

    result = cli("send", f"127.0.0.1:{scripted_peer(script)}", *FROM_TO)
    assert result.code == 25
    assert "DATA answered without 354 (start mail input): 250 ok" in result.err
    assert "refused" not in result.err


def test_a_message_refused_at_bdat_last_says_bdat_not_dot(scripted_peer, cli) -> None:
    def chunking(stream: Any) -> None:
        stream.write(b"220 mx.test ESMTP\r\n")
        while line := stream.readline():
            verb = line.split()[0].upper()
            if verb == b"BDAT":
                stream.read(int(line.split()[1]))  # the chunk: no 354, no dot
                stream.write(b"554 5.7.1 content rejected\r\n")
                continue
            stream.write({b"EHLO": b"250-mx.test\r\n250 CHUNKING\r\n",
                          b"QUIT": b"221 bye\r\n"}.get(verb, b"250 2.1.0 ok\r\n"))

    port = scripted_peer(chunking)
    result = cli("send", f"127.0.0.1:{port}", "--from", "a@x.test", "--to", "b@y.test",
                 "--bdat")
    assert result.code == 26, result.err
    assert "message refused after BDAT LAST: 554 5.7.1" in result.err
    assert "dot" not in result.err


def lmtp_server(after_dot: bytes, *, hang_up: bool = False) -> Callable[[Any], None]:
    """An LMTP server taking every command; the end of the data gets ``after_dot`` (then the
    connection is dropped when ``hang_up``)."""
    def lmtp(stream: Any) -> None:
        stream.write(b"220 lmtp.test LMTP\r\n")
        while line := stream.readline():
            verb = line.split()[0].upper()
            if verb == b"DATA":
                stream.write(b"354 go\r\n")
                while stream.readline() != b".\r\n":
                    pass
                stream.write(after_dot)
                if hang_up:
                    return
                continue
            stream.write({b"LHLO": b"250-lmtp.test\r\n250 PIPELINING\r\n",
                          b"QUIT": b"221 bye\r\n"}.get(verb, b"250 2.1.5 ok\r\n"))

    return lmtp


def test_lmtp_every_recipient_refused_after_the_dot_exits_26(scripted_peer, cli) -> None:
    port = scripted_peer(lmtp_server(b"552 5.2.2 mailbox full\r\n" * 2))  # one a recipient
    result = cli("send", f"lmtp://127.0.0.1:{port}", "--from", "a@x.test", "--to", "b@y.test",
                 "--to", "c@y.test")
    # Both RCPTs were accepted; the message was refused after the final dot (swaks: 26).
    assert result.code == 26, result.err
    assert "message failed: message refused after the final dot: 552 5.2.2" in result.err
    assert "!! b@y.test: refused (552 5.2.2 mailbox full)" in result.out
    assert "!! c@y.test: refused (552 5.2.2 mailbox full)" in result.out
    as_json = json.loads(cli("send", f"lmtp://127.0.0.1:{port}", "--from", "a@x.test",
                             "--to", "b@y.test", "--json").out)
    assert (as_json["exit_code"], as_json["stage"]) == (26, "dot")


def test_lmtp_hangup_between_recipient_replies_keeps_the_delivered_one(
        scripted_peer, cli) -> None:
    # b@'s reply to the data comes; c@'s never does.
    port = scripted_peer(lmtp_server(b"250 2.0.0 saved\r\n", hang_up=True))
    target = f"lmtp://127.0.0.1:{port}"
    rcpts = ("--from", "a@x.test", "--to", "b@y.test,c@y.test")
    result = cli("send", target, *rcpts)
    assert result.code == 6, result.err
    assert "-- b@y.test: delivered (250 2.0.0 saved)" in result.out
    assert "!! c@y.test: unknown (no reply to the message: it may or may not be delivered)" \
        in result.out
    data = json.loads(cli("send", target, *rcpts, "--json").out)
    assert data["recipients"]["accepted"] == ["b@y.test"]
    assert (data["recipients"]["rejected"], data["recipients"]["unknown"]) == ([], ["c@y.test"])
    assert [(r["delivery"], r["accepted"]) for r in data["recipients"]["replies"]] == \
        [(250, True), (None, None)]


def test_a_greeting_cut_short_by_the_timeout_is_kept_and_not_called_silence(
        scripted_peer, cli) -> None:
    def stalls(stream: Any) -> None:
        stream.write(b"220-mx.test ESMTP\r\n220 ti")  # a multi-line banner, then nothing
        stream.read()

    port = scripted_peer(stalls)
    result = cli("send", f"127.0.0.1:{port}", *FROM_TO, "--timeout", "0.5")
    assert result.code == 21
    # The bytes that came are shown, as the server sent them, when we hang up on them.
    assert "S! 220-mx.test ESMTP\nS! 220 ti\n!! unfinished reply when the connection was " \
        "closed" in result.out
    assert 'the reply began but did not end: "220-mx.test ESMTP\\x0d\\x0a220 ti"' in result.err
    # It did greet, slowly: no "sent no greeting", no TLS-first guess.
    assert "no greeting" not in result.err and "smtps://" not in result.err
    assert "began its reply but did not finish it in time" in result.err
    data = json.loads(cli("send", f"127.0.0.1:{port}", *FROM_TO, "--timeout", "0.5",
                          "--json").out)
    [raw] = [e for e in data["transcript"] if e["dir"] == "server"]
    assert base64.b64decode(raw["raw_base64"]) == b"220-mx.test ESMTP\r\n220 ti"
    probe = json.loads(cli("probe", f"127.0.0.1:{port}", "--timeout", "0.5", "--json").out)
    assert (probe["stage"], probe["status"]) == ("banner", "timeout")
    assert "smtps://" not in probe["hint"] and "220 ti" in probe["error"]


@pytest.mark.parametrize("then, code", [("hang up", 6), ("stall", 26)])
def test_no_reply_after_the_dot_warns_the_message_may_be_delivered(
        scripted_peer, cli, then: str, code: int) -> None:
    def script(stream: Any) -> None:
        greet(stream)
        while line := stream.readline():
            if line.upper() == b"DATA\r\n":
                stream.write(b"354 go\r\n")
                while stream.readline() != b".\r\n":
                    pass
                if then == "stall":
                    stream.read()
                return
            stream.write(b"250 ok\r\n")

    result = cli("send", f"127.0.0.1:{scripted_peer(script)}", *FROM_TO, "--data-timeout",
                 "0.5", "--json")
    data = json.loads(result.out)
    assert (result.code, data["stage"]) == (code, "dot")
    # Not a rate limit or a slow greeting: the message may be there, and a resend doubles it.
    assert "may have delivered it" in data["hint"] and "rate limits" not in data["hint"]


def test_a_hangup_before_the_message_went_out_is_a_plain_hangup(scripted_peer, cli,
                                                                 tmp_path: Path) -> None:
    """A server that resets the connection after its 354: the message cannot all go out (it is
    larger than any socket buffer on the way), so nothing says it may have been delivered."""
    def resets_after_354(stream: Any) -> None:
        greet(stream)
        while line := stream.readline():
            stream.write(b"354 go\r\n" if line.upper() == b"DATA\r\n" else b"250 ok\r\n")
            if line.upper() == b"DATA\r\n":
                # Linger 0: the close below is a reset, and the data still coming finds no one.
                sock = socket.socket(fileno=os.dup(stream.fileno()))
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()
                return

    body = tmp_path / "body.txt"
    body.write_bytes((b"x" * 76 + b"\n") * 400_000)  # 31 MB: more than the buffers hold
    result = cli("send", f"127.0.0.1:{scripted_peer(resets_after_354)}", *FROM_TO,
                 "--body", f"@{body}")
    assert result.code == 6 and "may have delivered it" not in result.err, result.err


def test_garbage_for_a_handshake_replays_as_swaks_words_it(scripted_peer, cli,
                                                           tmp_path: Path) -> None:
    """A server that answers our ClientHello in plain text after its 220 to STARTTLS: OpenSSL's
    error is kept typed in the recording, and swaks' lines say it as swaks does."""

    def script(stream: Any) -> None:
        greet(stream, b"250-peer.test\r\n250 STARTTLS\r\n")
        stream.readline()
        stream.write(b"220 2.0.0 go ahead\r\n")
        stream.read(5)  # the start of the ClientHello
        stream.write(b"this is not TLS at all\r\n" * 4)

    record = tmp_path / "s.jsonl"
    result = cli("send", f"127.0.0.1:{scripted_peer(script)}", "--tls", "starttls",
                 "--record", str(record), "--timeout", "10", *FROM_TO)
    assert result.code == 29, result.out + result.err
    swaks = cli("replay", "--format", "swaks", str(record))
    assert swaks.out.splitlines()[-3:] == [
        "<-  220 2.0.0 go ahead",
        "*** TLS startup failed (connect(): error:0A00010B:SSL routines::wrong version number)",
        "*** STARTTLS attempted but failed"]


def test_a_354_after_every_pipelined_rcpt_was_refused_gets_a_lone_dot(
        scripted_peer, cli) -> None:
    """RFC 2920 §3.1: the client must read DATA's reply even when no RCPT was accepted, and
    end the data with a single dot if it was a 354; only then can QUIT be understood."""
    seen: list[bytes] = []

    def script(stream: Any) -> None:
        greet(stream)
        for _ in range(3):  # MAIL, RCPT, DATA in one batch
            seen.append(stream.readline())
        stream.write(b"250 2.1.0 Ok\r\n" + POSTGREY_GREYLISTED
                     + b"354 End data with <CR><LF>.<CR><LF>\r\n")
        seen.append(stream.readline())
        stream.write(b"554 5.5.1 Error: no valid recipients\r\n")
        answer(stream, {b"QUIT": b"221 2.0.0 Bye\r\n"})

    result = cli("send", f"127.0.0.1:{scripted_peer(script)}", *FROM_TO, "--pipeline", "--json")
    data = json.loads(result.out)
    assert (result.code, data["stage"]) == (24, "rcpt")  # the refusal stays the failure
    assert seen[3] == b".\r\n"  # the empty message ends at once
    sent = [e["text"] for e in data["transcript"] if e["dir"] == "client"]
    assert sent[-2:] == [".", "QUIT"]
    assert "Greylisted" in data["error"]


@pytest.mark.parametrize("data_reply", [b"503 5.5.1 Error: need RCPT command\r\n",
                                        b"354 go ahead\r\n"])
def test_a_refused_pipelined_mail_still_reads_the_group_and_quits(
        scripted_peer, cli, data_reply: bytes) -> None:
    """RFC 2920 §3.1: MAIL refused in a pipelined group, the RCPTs and DATA sent with it are
    answered all the same. Each recipient keeps its own reply, a 354 (a server that took
    DATA anyway) gets its lone dot, and QUIT follows, as after any refused MAIL."""
    seen: list[bytes] = []

    def script(stream: Any) -> None:
        greet(stream)
        for _ in range(4):  # MAIL, two RCPTs, DATA in one batch
            seen.append(stream.readline())
        stream.write(b"550 5.7.1 <a@x.test>: Sender address rejected: Access denied\r\n"
                     + b"503 5.5.1 Error: need MAIL command\r\n" * 2 + data_reply)
        if data_reply.startswith(b"354"):
            seen.append(stream.readline())
            stream.write(b"554 5.5.1 Error: no valid recipients\r\n")
        answer(stream, {b"QUIT": b"221 2.0.0 Bye\r\n"})

    result = cli("send", f"127.0.0.1:{scripted_peer(script)}", "--from", "a@x.test",
                 "--to", "b@y.test", "--to", "c@y.test", "--pipeline", "--json")
    data = json.loads(result.out)
    assert (result.code, data["stage"]) == (23, "mail")  # the MAIL refusal stays the failure
    assert "Sender address rejected" in data["error"]
    recipients = data["recipients"]
    assert recipients["rejected"] == ["b@y.test", "c@y.test"] and not recipients["not_tried"]
    assert [r["rcpt"] for r in recipients["replies"]] == [503, 503]
    sent = [e["text"] for e in data["transcript"] if e["dir"] == "client"]
    if data_reply.startswith(b"354"):
        assert seen[4] == b".\r\n" and sent[-2:] == [".", "QUIT"]
    else:
        assert sent[-1] == "QUIT" and len(seen) == 4


def gmail_limited(limit: int) -> Callable[[Any], None]:
    """A server refusing every RCPT past ``limit`` as Gmail does, taking the message."""
    def gmail(stream: Any) -> None:
        greet(stream)
        rcpts = 0
        while line := stream.readline():
            verb = line.split()[0].upper()
            rcpts += verb == b"RCPT"
            stream.write(GMAIL_TOO_MANY_RECIPIENTS if verb == b"RCPT" and rcpts > limit
                         else b"354 go\r\n" if verb == b"DATA" else b"250 2.1.5 OK\r\n")
            if verb == b"DATA":
                while stream.readline() != b".\r\n":
                    pass
                stream.write(b"250 2.0.0 OK 1795000000 a1si - gsmtp\r\n")

    return gmail


def test_recipients_refused_while_the_message_went_are_named(scripted_peer, cli) -> None:
    """Gmail's 452 to the RCPT past its limit: the message goes to the others (exit 0, as
    swaks), and the refused recipient is said, not left to be found in the transcript."""
    rcpts = ("--from", "a@x.test", "--to", "b@y.test,c@y.test")
    result = cli("send", f"127.0.0.1:{scripted_peer(gmail_limited(1))}", *rcpts)
    assert result.code == 0, result.err
    assert "!! c@y.test: refused (452 4.5.3 Your message has too many recipients." in result.out
    assert "!! partial delivery: 1 of 2 recipients accepted the message" in result.out
    assert "b@y.test: " not in result.out  # accepted: its 250 says so
    # Everyone accepted: nothing more to say.
    whole = cli("send", f"127.0.0.1:{scripted_peer(gmail_limited(2))}", *rcpts)
    assert whole.code == 0 and "refused" not in whole.out and "partial" not in whole.out


def test_greylisting_is_said_to_be_temporary(scripted_peer, cli) -> None:
    """postgrey's 450 to RCPT: exit 24 as swaks, and the one line says to try again later; a
    5xx (sendmail's "Relaying denied") does not."""
    def server(rcpt_reply: bytes) -> Callable[[Any], None]:
        def script(stream: Any) -> None:
            greet(stream)
            answer(stream, {b"RCPT": rcpt_reply, b"QUIT": b"221 2.0.0 Bye\r\n"})
        return script

    result = cli("send", f"127.0.0.1:{scripted_peer(server(POSTGREY_GREYLISTED))}", *FROM_TO,
                 "--json")
    data = json.loads(result.out)
    assert (result.code, data["stage"]) == (24, "rcpt")
    assert "Greylisted" in data["error"] and "try again later" in data["hint"]
    assert "try again later" in result.err
    denied = b"550 5.7.1 <b@y.test>... Relaying denied\r\n"
    result = cli("send", f"127.0.0.1:{scripted_peer(server(denied))}", *FROM_TO, "--json")
    assert result.code == 24 and json.loads(result.out)["hint"] is None
