"""``smtpscope send`` against aiosmtpd: transcript, stages, exit codes, JSON, recordings."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.cli.conftest import PASSWORD, USER, assert_no_credential


def test_plain_send_prints_live_transcript_and_delivers(make_server, cli) -> None:
    server = make_server()
    result = cli("send", server.target, "--from", "a@x.test", "--to", "b@y.test",
                 "--subject", "hello there", "--body", "line one\\nline two")
    assert result.code == 0, result.err
    assert result.err == ""
    lines = result.out.splitlines()
    assert lines[0].startswith("-- Connecting to 127.0.0.1 port")
    assert "S: 220 localhost Python SMTP 1.4.6" in lines
    assert any(line.startswith("C: MAIL FROM:<a@x.test> SIZE=") for line in lines)
    assert "C: RCPT TO:<b@y.test>" in lines
    assert "C: Subject: hello there" in lines
    assert "C: ." in lines
    assert "!! STARTTLS not offered: going on without TLS" in lines
    assert lines.index("C: DATA") < lines.index("S: 250 2.0.0 queued as TEST")
    [(sender, rcpts, content)] = server.handler.messages
    assert (sender, rcpts) == ("a@x.test", ["b@y.test"])
    assert b"line one\r\nline two" in content


def test_starttls_and_auth_login_hide_the_password(make_server, cli, monkeypatch) -> None:
    server = make_server("starttls")
    monkeypatch.setenv("SMTPSCOPE_TEST_PW", PASSWORD)
    result = cli("send", server.target, "--from", "a@x.test", "--to", "b@y.test",
                 "--cafile", server.cafile, "--auth", "login", "--user", USER,
                 "--password-env", "SMTPSCOPE_TEST_PW")
    assert result.code == 0, result.err
    out = result.out
    assert "C: STARTTLS" in out
    assert "-- TLS started: TLSv1." in out and "certificate verified" in out
    assert "C: [LOGIN password hidden]" in out
    assert PASSWORD not in out
    assert base64.b64encode(PASSWORD.encode()).decode() not in out
    assert len(server.handler.messages) == 1



@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_json_gives_no_bytes_of_a_credential_line(make_server, cli, monkeypatch,
                                                  mechanism: str) -> None:
    server = make_server("starttls")
    monkeypatch.setenv("SMTPSCOPE_TEST_PW", PASSWORD)
    result = cli("send", server.target, "--from", "a@x.test", "--to", "b@y.test", "--json",
                 "--cafile", server.cafile, "--auth", mechanism, "--user", USER,
                 "--password-env", "SMTPSCOPE_TEST_PW")
    assert result.code == 0, result.err
    assert assert_no_credential(result, USER, PASSWORD)


def test_a_user_name_alone_asks_for_auth_as_in_swaks(make_server, cli, monkeypatch) -> None:
    # swaks: --auth-user implies --auth (any mechanism offered). Without it the user name was
    # silently ignored and the message went out unauthenticated.
    server = make_server("starttls")
    monkeypatch.setenv("SMTPSCOPE_TEST_PW", PASSWORD)
    result = cli("send", server.target, "--from", "a@x.test", "--to", "b@y.test",
                 "--cafile", server.cafile, "--auth-user", USER,
                 "--password-env", "SMTPSCOPE_TEST_PW")
    assert result.code == 0, result.err
    assert "C: AUTH " in result.out and "S: 235" in result.out
    assert PASSWORD not in result.out

@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("--auth", "PLAIN", "--user", USER), 28, "AUTH failed"),
        (("--to", "x@reject.test"), 24, "no recipient accepted"),
        (("--from", "blocked@x.test"), 23, "MAIL FROM failed"),
    ],
)
def test_rejections_exit_with_the_stage_code(make_server, cli, monkeypatch, args, code,
                                             message) -> None:
    server = make_server("starttls")
    monkeypatch.setenv("PW", "wrong-password")
    base = {"--from": "a@x.test", "--to": "b@y.test"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    argv = ["send", server.target, "--cafile", server.cafile, "--password-env", "PW"]
    for flag, value in base.items():
        argv += [flag, value]
    result = cli(*argv)
    assert result.code == code, result.out + result.err
    assert message in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert "Traceback" not in result.err
    assert "C: QUIT" in result.out  # a polite goodbye after the unexpected reply
    assert server.handler.messages == []


def test_oversize_message_refused_at_mail_by_its_declared_size(make_server, cli) -> None:
    server = make_server(data_size_limit=200)
    result = cli("send", server.target, "--from", "a@x.test", "--to", "b@y.test",
                 "--body", "x" * 500)
    assert result.code == 23
    [mail] = [line for line in result.out.splitlines() if line.startswith("C: MAIL FROM")]
    declared = int(mail.rpartition("SIZE=")[2])
    assert declared > 500
    assert "MAIL FROM failed" in result.err and "552" in result.err


def test_required_starttls_not_offered_exits_29(make_server, cli) -> None:
    server = make_server()
    result = cli("send", server.target, "--from", "a@x.test", "--to", "b@y.test",
                 "--tls", "starttls")
    assert result.code == 29
    assert "does not advertise STARTTLS" in result.err
    assert "C: MAIL" not in result.out


def test_untrusted_certificate_exits_29_with_a_hint(make_server, cli) -> None:
    server = make_server("starttls")
    result = cli("send", server.target, "--from", "a@x.test", "--to", "b@y.test")
    assert result.code == 29
    assert "TLS certificate not accepted" in result.err and "level verify" in result.err
    assert "Untrusted TLS connection" in result.err  # the certificate is shown anyway
    assert "SPKI SHA-256" in result.err
    assert "--cafile" in result.err and "--insecure" in result.err
    insecure = cli("send", server.target, "--from", "a@x.test", "--to", "b@y.test",
                   "--insecure")
    assert insecure.code == 0, insecure.err
    assert "verification OFF" in insecure.out


def test_implicit_tls(make_server, cli) -> None:
    server = make_server("implicit")
    result = cli("send", f"smtps://{server.target}", "--from", "a@x.test", "--to", "b@y.test",
                 "--cafile", server.cafile)
    assert result.code == 0, result.err
    assert "with implicit TLS" in result.out
    assert "C: STARTTLS" not in result.out
    assert len(server.handler.messages) == 1


def test_connection_refused_and_unknown_host_exit_2(cli) -> None:
    from tests.cli.conftest import free_port

    refused = cli("send", f"127.0.0.1:{free_port()}", "--from", "a@x.test", "--to", "b@y.test")
    assert refused.code == 2
    assert refused.err.startswith("smtpscope send: connecting failed: connection refused")
    unknown = cli("send", "no-such-host.invalid", "--from", "a@x.test", "--to", "b@y.test")
    assert unknown.code == 2
    assert "cannot resolve" in unknown.err


def test_bad_options_exit_1(cli) -> None:
    assert cli("send", "127.0.0.1", "--from", "a@x.test", "--to", "b@y.test",
               "--tls", "sometimes").code == 1
    assert cli("send", "127.0.0.1", "--to", "b@y.test").code == 1  # --from missing
    bad_target = cli("send", "smpt://host", "--from", "a@x.test", "--to", "b@y.test")
    assert bad_target.code == 1
    assert "did you mean smtp" in bad_target.err
    bad_header = cli("send", "127.0.0.1", "--from", "a", "--to", "b", "--header", "nocolon")
    assert bad_header.code == 1 and "--header" in bad_header.err


def test_record_into_a_missing_directory_is_a_usage_error(cli, tmp_path: Path) -> None:
    # Port 1: were the options accepted, the connection would be refused (exit 2), not hang.
    missing = tmp_path / "no-such-dir" / "x.jsonl"
    result = cli("send", "127.0.0.1:1", "--from", "a@x.test", "--to", "b@y.test",
                 "--record", str(missing))
    assert result.code == 1
    assert f"the directory {missing.parent} does not exist" in result.err
    assert not missing.parent.exists()
    folder = cli("send", "127.0.0.1:1", "--from", "a@x.test", "--to", "b@y.test",
                 "--record", str(tmp_path))
    assert folder.code == 1 and "it is a directory" in folder.err


def test_record_never_replaces_a_file_that_is_not_a_recording(make_server, cli,
                                                              tmp_path: Path) -> None:
    """Another file named by mistake is left as it was; an earlier recording (or an empty
    file) is recorded over, as the option asks."""
    notes = tmp_path / "notes.txt"
    notes.write_text("important\n")
    server = make_server()
    args = ("send", server.target, "--from", "a@x.test", "--to", "b@y.test", "--tls", "none")
    refused = cli(*args, "--record", str(notes))
    assert refused.code == 1
    assert f"cannot record to {notes}: the file exists and is not a smtpscope recording" \
        in refused.err
    assert notes.read_text() == "important\n" and server.handler.messages == []
    again = tmp_path / "session.jsonl"
    again.write_text("")
    for _ in range(2):  # empty, then the recording the first run left
        assert cli(*args, "--record", str(again)).code == 0
        assert again.read_text().startswith('{"schema":"smtpscope-recording"')
    assert len(server.handler.messages) == 2


@pytest.mark.parametrize("command", ["send", "probe", "mx"])
def test_a_ca_file_without_a_certificate_is_a_usage_error(cli, tmp_path: Path,
                                                          command: str) -> None:
    """Before any connection or look-up, not as "no CA certificates" at the handshake."""
    named = tmp_path / "hostname"
    named.write_text("mail.example.test\n")
    extra = ["--from", "a@x.test", "--to", "b@y.test"] if command == "send" else \
        ["--check-tls"] if command == "mx" else []
    target = "example.test" if command == "mx" else "127.0.0.1:9"
    result = cli(command, target, *extra, "--cafile", str(named))
    assert result.code == 1
    assert f"--cafile {named} holds no PEM certificate" in result.err


@pytest.mark.parametrize("command", ["send", "probe"])
@pytest.mark.parametrize("option", ["--cafile", "--tls-cert"])
def test_a_directory_given_as_a_certificate_file_is_named_so(cli, tmp_path: Path, command: str,
                                                             option: str) -> None:
    result = cli(command, "127.0.0.1:9", "--from", "a@x.test", "--to", "b@y.test",
                 option, str(tmp_path)) if command == "send" else \
        cli(command, "127.0.0.1:9", option, str(tmp_path))
    assert result.code == 1
    assert f"{option} {tmp_path} is a directory, not a file" in result.err


def test_never_prompts_without_a_terminal(make_server, cli, monkeypatch) -> None:
    server = make_server("starttls")
    monkeypatch.delenv("PW", raising=False)
    result = cli("send", server.target, "--from", "a@x.test", "--to", "b@y.test",
                 "--auth", "PLAIN", "--user", USER)
    assert result.code == 1
    assert "not a terminal" in result.err
    assert result.out == ""  # nothing was sent: credentials are checked before connecting


@pytest.mark.parametrize("user, password", [(USER, "p\udce4ss"), ("t\udce4m", PASSWORD)])
def test_credentials_that_are_not_utf8_are_refused_before_connecting(
        make_server, cli, monkeypatch, user: str, password: str) -> None:
    server = make_server("starttls")
    monkeypatch.setenv("PW", password)  # a Latin-1 byte, carried as a lone surrogate (PEP 383)
    result = cli("send", server.target, "--from", "a@x.test", "--to", "b@y.test",
                 "--auth", "PLAIN", "--user", user, "--password-env", "PW")
    assert result.code == 1
    assert "is not UTF-8 text" in result.err and result.out == ""


def test_quit_after_rcpt_sends_no_data(make_server, cli) -> None:
    server = make_server()
    result = cli("send", server.target, "--from", "a@x.test", "--to", "b@y.test",
                 "--quit-after", "rcpt")
    assert result.code == 0
    assert "C: RCPT TO:<b@y.test>" in result.out
    assert "C: DATA" not in result.out
    assert "C: QUIT" in result.out


# As in swaks, a run that stops before MAIL needs no sender, and one before RCPT no recipient.
@pytest.mark.parametrize("stop, given, sent", [
    ("ehlo", (), ["EHLO", "QUIT"]),
    ("auth", (), ["EHLO", "QUIT"]),
    ("mail", ("--from", "a@x.test"), ["EHLO", "MAIL", "QUIT"]),
    ("rcpt", ("--to", "b@y.test"), None),
    ("mail", ("--to", "b@y.test"), None),
    ("rcpt", ("--from", "a@x.test"), None),
])
def test_addresses_are_needed_only_where_the_run_gets_to(
        make_server, cli, stop: str, given: tuple[str, ...], sent: list[str] | None) -> None:
    server = make_server()
    result = cli("send", server.target, *given, "--quit-after", stop)
    if sent is None:
        assert result.code == 1 and result.out == ""
        assert ("--from is required" in result.err) != ("give at least one recipient"
                                                        in result.err)
    else:
        assert result.code == 0, result.err
        assert _sent(result.out) == sent


def _sent(out: str) -> list[str]:
    """The verbs smtpscope sent, with the STARTTLS handshake as "<tls>", and a drop as "<drop>"."""
    marks = {"-- TLS started": "<tls>", "-- Dropping the connection": "<drop>"}
    return [line[3:].split()[0] if line.startswith("C: ") else marks[prefix]
            for line in out.splitlines()
            for prefix in [next((m for m in marks if line.startswith(m)), "")]
            if line.startswith("C: ") or prefix]


# swaks' stop points, in any case and by any alias, stop where swaks stops.
@pytest.mark.parametrize("stop, sent", [
    ("connect", ["QUIT"]), ("BANNER", ["QUIT"]),
    ("first-helo", ["EHLO", "QUIT"]), ("First-Ehlo", ["EHLO", "QUIT"]),
    ("first-lhlo", ["EHLO", "QUIT"]),
    ("tls", ["EHLO", "STARTTLS", "<tls>", "QUIT"]),
    ("STARTTLS", ["EHLO", "STARTTLS", "<tls>", "QUIT"]),
    ("helo", ["EHLO", "STARTTLS", "<tls>", "EHLO", "QUIT"]),
    ("EHLO", ["EHLO", "STARTTLS", "<tls>", "EHLO", "QUIT"]),
    ("lhlo", ["EHLO", "STARTTLS", "<tls>", "EHLO", "QUIT"]),
    ("auth", ["EHLO", "STARTTLS", "<tls>", "EHLO", "QUIT"]),
    ("from", ["EHLO", "STARTTLS", "<tls>", "EHLO", "MAIL", "QUIT"]),
    ("TO", ["EHLO", "STARTTLS", "<tls>", "EHLO", "MAIL", "RCPT", "QUIT"]),
])
def test_quit_after_stops_where_swaks_does(make_server, cli, stop: str, sent: list[str]) -> None:
    server = make_server("starttls")
    result = cli("send", server.target, "--tls", "starttls", "--cafile", server.cafile,
                 "--from", "a@x.test", "--to", "b@y.test", "--quit-after", stop)
    assert result.code == 0, result.err
    assert _sent(result.out) == sent
    assert result.out.splitlines()[-1] == "-- Connection closed (after QUIT)"


def test_quit_after_tls_without_starttls_is_after_the_only_ehlo(make_server, cli) -> None:
    server = make_server()
    result = cli("send", server.target, "--from", "a@x.test", "--to", "b@y.test", "-q", "tls")
    assert result.code == 0, result.err
    assert _sent(result.out) == ["EHLO", "QUIT"]


def test_quit_after_tls_with_implicit_tls_is_after_the_banner(make_server, cli) -> None:
    server = make_server("implicit")
    result = cli("send", f"smtps://{server.target}", "--cafile", server.cafile,
                 "--from", "a@x.test", "--to", "b@y.test", "--quit-after", "starttls")
    assert result.code == 0, result.err
    assert _sent(result.out) == ["<tls>", "QUIT"]
    lines = result.out.splitlines()
    assert lines.index("C: QUIT") == lines.index("S: 220 localhost Python SMTP 1.4.6") + 1


@pytest.mark.parametrize("option, stop, sent", [
    ("--drop-after", "tls", ["EHLO", "STARTTLS", "<tls>", "<drop>"]),
    ("--drop", "ehlo", ["EHLO", "STARTTLS", "<tls>", "EHLO", "<drop>"]),
    ("--drop-after-send", "STARTTLS", ["EHLO", "STARTTLS", "<drop>"]),
    ("-das", "first-ehlo", ["EHLO", "<drop>"]),
    ("-das", "ehlo", ["EHLO", "STARTTLS", "<tls>", "EHLO", "<drop>"]),
])
def test_drops_stop_where_swaks_does(make_server, cli, option: str, stop: str,
                                     sent: list[str]) -> None:
    server = make_server("starttls")
    result = cli("send", server.target, "--tls", "starttls", "--cafile", server.cafile,
                 "--from", "a@x.test", "--to", "b@y.test", option, stop)
    assert result.code == 0, result.err
    assert _sent(result.out) == sent  # the drop right after what it follows, and no QUIT


def test_drop_after_send_helo_without_starttls_drops_after_the_reply(make_server, cli) -> None:
    server = make_server()  # as swaks: no greeting inside TLS to drop after
    result = cli("send", server.target, "--tls", "none", "--from", "a@x.test", "--to",
                 "b@y.test", "--drop-after-send", "helo")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert _sent(result.out) == ["EHLO", "<drop>"] and lines[-2] == "S: 250 HELP"
    assert lines[-1] == "-- Dropping the connection after helo (--drop-after-send), without QUIT"


@pytest.mark.parametrize("args", [("--quit-after", "data"), ("--quit-after", "dot"),
                                  ("--drop-after", "quit"), ("-q", "ehlo", "-da", "rcpt"),
                                  ("-das", "xclient")])
def test_stop_points_swaks_refuses_are_refused(cli, args: tuple[str, ...]) -> None:
    result = cli("send", "127.0.0.1:9", "--from", "a@x.test", "--to", "b@y.test", *args)
    assert result.code == 1 and result.out == ""


def test_json_result(make_server, cli) -> None:
    server = make_server()
    result = cli("send", server.target, "--from", "a@x.test", "--to", "b@y.test",
                 "--to", "c@reject.test", "--json")
    assert result.code == 0
    data = json.loads(result.out)
    assert data["status"] == "success" and data["exit_code"] == 0
    assert {k: v for k, v in data["recipients"].items() if k != "replies"} == {
        "accepted": ["b@y.test"], "rejected": ["c@reject.test"], "not_tried": [],
        "unknown": []}
    # Every recipient's own RCPT reply, SMTP as well as LMTP.
    assert [(r["address"], r["rcpt"], r["not_tried"]) for r in data["recipients"]["replies"]] \
        == [("b@y.test", 250, None), ("c@reject.test", 550, None)]
    kinds = [(e["dir"], e["kind"]) for e in data["transcript"]]
    assert ("server", "reply") in kinds and ("client", "content") in kinds
    rcpt_reply = next(e for e in data["transcript"] if e.get("reply", {}).get("code") == 550)
    assert rcpt_reply["text"] == "550 5.1.1 no such user here"
    # The exact bytes of each line on the wire; smtpscope's own notes have none.
    assert base64.b64decode(rcpt_reply["raw_base64"]) == b"550 5.1.1 no such user here\r\n"
    rcpt = next(e for e in data["transcript"] if e["text"] == "RCPT TO:<b@y.test>")
    assert base64.b64decode(rcpt["raw_base64"]) == b"RCPT TO:<b@y.test>\r\n"
    assert all("raw_base64" not in e for e in data["transcript"] if e["dir"] == "local")


def test_data_from_file_with_extra_header(make_server, cli, tmp_path: Path) -> None:
    server = make_server()
    message = tmp_path / "msg.eml"
    message.write_bytes(b"Subject: from a file\n\n.leading dot\nend\n")
    result = cli("send", server.target, "--from", "a@x.test", "--to", "b@y.test",
                 "--data", f"@{message}", "--header", "X-Test: yes")
    assert result.code == 0, result.err
    content = server.handler.messages[0][2]
    # swaks' --header: set where the message's own headers end (or replace one of that name)
    assert content.startswith(b"Subject: from a file\r\nX-Test: yes\r\n\r\n")
    assert b"\r\n.leading dot\r\n" in content  # dot-stuffed on the wire, unstuffed by the server
    assert "C: ..leading dot" in result.out


def test_bdat_without_chunking_exits_25(make_server, cli) -> None:
    server = make_server()
    result = cli("send", server.target, "--from", "a@x.test", "--to", "b@y.test", "--bdat")
    assert result.code == 25
    assert "CHUNKING" in result.err


def test_bdat_with_pipeline_is_not_a_usage_error(make_server, cli) -> None:
    # The combination is valid SMTP; this server lacks CHUNKING, so it fails at DATA (25).
    server = make_server()
    result = cli("send", server.target, "--from", "a@x.test", "--to", "b@y.test", "--bdat",
                 "--pipeline")
    assert result.code == 25, result.err
    assert "CHUNKING" in result.err


def test_record_then_replay_and_export(make_server, cli, tmp_path: Path) -> None:
    server = make_server()
    recording = tmp_path / "session.jsonl"
    sent = cli("send", server.target, "--from", "a@x.test", "--to", "b@y.test",
               "--record", str(recording))
    assert sent.code == 0
    text = cli("replay", str(recording), "--format", "text")
    assert text.code == 0
    assert "C: MAIL FROM:<a@x.test>" in text.out
    swaks = cli("replay", str(recording), "--format", "swaks")
    assert " -> MAIL FROM:<a@x.test>" in swaks.out
    assert "<-  250 2.0.0 queued as TEST" in swaks.out
    as_json = json.loads(cli("replay", str(recording), "--format", "json").out)
    assert as_json["header"]["schema"] == "smtpscope-recording"
    assert as_json["problems"] == []
    exported = cli("export", str(recording), "--as", "swaks")
    assert exported.code == 0
    assert exported.out.startswith(f"swaks --server {server.target} ")
    assert "--from a@x.test --to b@y.test" in exported.out


@pytest.mark.parametrize(
    ("option", "code", "stage", "param"),
    [
        (("--dsn-notify", "success"), 24, "rcpt", "--dsn-notify (NOTIFY=) needs DSN"),
        (("--dsn-ret", "full"), 23, "mail", "--dsn-ret (RET=) needs DSN"),
        (("--envid", "id1"), 23, "mail", "--envid (ENVID=) needs DSN"),
        (("--smtputf8", "--protocol", "smtp"), 23, "mail",
         "--smtputf8 (SMTPUTF8=) needs SMTPUTF8, and HELO announces no extension"),
    ],
)
def test_a_parameter_the_server_does_not_advertise_stops_before_mail(
        make_server, cli, option: tuple[str, ...], code: int, stage: str, param: str) -> None:
    # RFC 5321 §4.1.1.11, RFC 3461 §4: aiosmtpd does not advertise DSN, and HELO announces
    # nothing. The whole transaction is judged before MAIL: no half-done MAIL, then QUIT.
    server = make_server()
    result = cli("send", server.target, "--from", "a@x.test", "--to", "b@y.test", *option,
                 "--json")
    assert result.code == code, result.err
    data = json.loads(result.out)
    assert (data["status"], data["stage"], data["exit_code"]) == ("not-offered", stage, code)
    assert data["error"].startswith(param) and "no MAIL FROM was sent" in data["error"]
    assert "smtpscope TARGET" in data["hint"]
    sent = [e["text"] for e in data["transcript"] if e["dir"] == "client"]
    assert sent[-1] == "QUIT" and not any(text.startswith("MAIL") for text in sent)
    assert server.handler.messages == []


def test_a_rcpt_parameter_does_not_stop_a_run_that_ends_at_mail(make_server, cli) -> None:
    server = make_server()
    result = cli("send", server.target, "--from", "a@x.test", "--to", "b@y.test",
                 "--dsn-notify", "success", "--quit-after", "mail")
    assert result.code == 0, result.err
    assert "C: MAIL FROM:<a@x.test>" in result.out and "C: RCPT" not in result.out
