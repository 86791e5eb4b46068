"""``smtpscope probe`` and ``send`` against the real Postfix + Dovecot harness."""

from __future__ import annotations

import base64
import json
import uuid

import pytest

from tests.cli.conftest import assert_no_credential

pytestmark = pytest.mark.peer


def test_probe_before_and_after_starttls(mta, cli) -> None:
    result = cli("probe", f"{mta.host}:{mta.smtp}", "--cafile", str(mta.ca_file), "--json")
    assert result.code == 0, result.out
    [data] = [json.loads(line) for line in result.out.splitlines()]
    before = {k["keyword"] for k in data["ehlo"]["plain"]["keywords"]}
    after = {k["keyword"]: k for k in data["ehlo"]["tls"]["keywords"]}
    assert {"STARTTLS", "PIPELINING", "CHUNKING"} <= before and "AUTH" not in before
    assert "STARTTLS" not in after
    assert {"PLAIN", "SCRAM-SHA-256"} <= set(after["AUTH"]["params"])
    assert data["starttls"]["reply"]["lines"] == ["2.0.0 Ready to start TLS"]
    starttls = base64.b64decode(data["starttls"]["reply"]["raw_base64"], validate=True)
    assert starttls == b"220 2.0.0 Ready to start TLS\r\n"  # the exact bytes, CRLF and all
    ehlo = base64.b64decode(data["ehlo"]["tls"]["raw_base64"], validate=True)
    assert ehlo.startswith(b"250-mx.example.test\r\n") and b"\r\n250-AUTH PLAIN " in ehlo
    assert data["tls"]["verified"] is True
    assert "STARTTLS" in data["capability_changes"]["removed"]


def test_probe_implicit_tls_port(mta, cli) -> None:
    result = cli("probe", f"smtps://{mta.host}:{mta.smtps}", "--cafile", str(mta.ca_file),
                 "--json")
    assert result.code == 0, result.out
    data = json.loads(result.out)
    assert data["ehlo"]["plain"] is None and data["ehlo"]["tls"]["code"] == 250
    assert data["starttls"]["attempted"] is False


def test_send_delivers_with_scram_over_submission(mta, cli, monkeypatch) -> None:
    monkeypatch.setenv("PW", mta.password("alice"))
    token = uuid.uuid4().hex
    result = cli("send", f"{mta.host}:{mta.submission}", "--cafile", str(mta.ca_file),
                 "--auth", "SCRAM-SHA-256", "--user", "alice", "--password-env", "PW",
                 "--from", mta.address("alice"), "--to", mta.address("bob"),
                 "--subject", token, "--pipeline")
    assert result.code == 0, result.out + result.err
    assert mta.password("alice") not in result.out
    assert "S: 235 2.7.0 Authentication successful" in result.out
    out = result.out.splitlines()
    # Pipelined: MAIL, RCPT and DATA leave before their replies come back.
    assert out.index("C: DATA") < out.index("S: 354 End data with <CR><LF>.<CR><LF>")
    assert out.index("C: DATA") - out.index("C: RCPT TO:<bob@example.test>") == 1
    assert mta.read_delivered("bob", match=token.encode())


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_send_json_never_holds_the_credential(mta, cli, monkeypatch, mechanism: str) -> None:
    password = mta.password("alice")
    monkeypatch.setenv("PW", password)
    result = cli("send", f"{mta.host}:{mta.submission}", "--cafile", str(mta.ca_file),
                 "--auth", mechanism, "--user", "alice", "--password-env", "PW", "--json",
                 "--from", mta.address("alice"), "--to", mta.address("bob"))
    assert result.code == 0, result.out + result.err
    [hidden] = assert_no_credential(result, "alice", password)
    assert f"[{mechanism} " in hidden["text"] and hidden["text"].endswith(" hidden]")


def test_bdat_with_pipeline_to_postfix(mta, cli) -> None:
    # RFC 3030 and RFC 2920 combine: MAIL and RCPT go in one batch, BDAT once a recipient is in.
    token = uuid.uuid4().hex
    result = cli("send", f"{mta.host}:{mta.smtp}", "--cafile", str(mta.ca_file), "--bdat",
                 "--pipeline", "--from", mta.address("bob"), "--to", mta.address("alice"),
                 "--to", mta.address("nobody"), "--subject", token)
    assert result.code == 0, result.out + result.err
    out = result.out.splitlines()
    last_rcpt = out.index("C: RCPT TO:<nobody@example.test>")
    assert out[last_rcpt + 1] == "S: 250 2.1.0 Ok"  # both RCPTs left before MAIL's reply
    bdat = next(i for i, line in enumerate(out) if line.startswith("C: BDAT "))
    assert out[bdat - 1].startswith("S: 550 5.1.1 <nobody@example.test>")
    assert "C: DATA" not in out
    assert mta.read_delivered("alice", match=token.encode())


def test_bdat_and_dsn_to_postfix(mta, cli) -> None:
    token = uuid.uuid4().hex
    result = cli("send", f"{mta.host}:{mta.smtp}", "--cafile", str(mta.ca_file), "--bdat",
                 "--dsn-notify", "success,failure", "--dsn-ret", "hdrs", "--envid", "id1",
                 "--from", mta.address("bob"), "--to", mta.address("alice"), "--subject", token)
    assert result.code == 0, result.out + result.err
    [mail] = [line for line in result.out.splitlines() if line.startswith("C: MAIL FROM:")]
    assert mail.startswith("C: MAIL FROM:<bob@example.test> SIZE=")
    assert mail.endswith(" RET=HDRS ENVID=id1")
    assert "C: RCPT TO:<alice@example.test> NOTIFY=SUCCESS,FAILURE" in result.out
    assert any(line.startswith("C: BDAT ") and line.endswith(" LAST")
               for line in result.out.splitlines())
    assert mta.read_delivered("alice", match=token.encode())


def test_relay_denied_exits_24(mta, cli) -> None:
    result = cli("send", f"{mta.host}:{mta.smtp}", "--cafile", str(mta.ca_file),
                 "--from", mta.address("bob"), "--to", "someone@elsewhere.test")
    assert result.code == 24
    assert "Relay access denied" in result.err
    assert "S: 554 5.7.1 <someone@elsewhere.test>: Relay access denied" in result.out


def test_wrong_password_exits_28(mta, cli, monkeypatch) -> None:
    monkeypatch.setenv("PW", "not-the-password")
    result = cli("send", f"{mta.host}:{mta.submission}", "--cafile", str(mta.ca_file),
                 "--auth", "PLAIN", "--user", "alice", "--password-env", "PW",
                 "--from", mta.address("alice"), "--to", mta.address("bob"))
    assert result.code == 28
    assert "535" in result.err and "AUTH PLAIN failed" in result.err
    assert "not-the-password" not in result.out


def test_oversize_message_refused_at_mail_by_its_size_exits_23(mta, cli) -> None:
    body = "0123456789" * (mta.message_size_limit // 5)
    result = cli("send", f"{mta.host}:{mta.small}", "--tls", "none",
                 "--from", mta.address("bob"), "--to", mta.address("alice"), "--body", body)
    # SIZE= in MAIL FROM (RFC 1870) lets Postfix refuse before a byte of the message is sent.
    assert result.code == 23
    assert "SIZE=" in result.out and "552" in result.err
    assert "C: DATA" not in result.out


def test_starttls_required_but_not_offered_exits_29(mta, cli) -> None:
    # The 'small' port runs with smtpd_tls_security_level=none: no STARTTLS in its EHLO.
    result = cli("send", f"{mta.host}:{mta.small}", "--tls", "starttls",
                 "--from", mta.address("bob"), "--to", mta.address("alice"))
    assert result.code == 29
    assert "does not advertise STARTTLS" in result.err
    assert "C: MAIL" not in result.out


def test_implicit_tls_send_quit_after_ehlo(mta, cli) -> None:
    result = cli("send", f"{mta.host}:{mta.smtps}", "--cafile", str(mta.ca_file), "--tls",
                 "implicit", "--from", mta.address("bob"), "--to", mta.address("alice"),
                 "--quit-after", "ehlo")
    assert result.code == 0, result.err
    assert "with implicit TLS" in result.out and "C: MAIL" not in result.out


def test_a_quoted_local_part_with_a_comma_reaches_postfix_whole(mta, cli) -> None:
    # RFC 5321 §4.1.2: "a,b"@example.test is one mailbox; --to splits only between addresses.
    result = cli("send", f"{mta.host}:{mta.smtp}", "--cafile", str(mta.ca_file),
                 "--from", '"x y"@example.test', "--to", '"a,b"@example.test,user@[127.0.0.1]')
    out = result.out.splitlines()
    assert 'C: MAIL FROM:<"x y"@example.test> SIZE=' in "\n".join(out)
    assert 'C: RCPT TO:<"a,b"@example.test>' in out
    assert "C: RCPT TO:<user@[127.0.0.1]>" in out
    rcpt = out.index('C: RCPT TO:<"a,b"@example.test>')
    # Postfix's own answer, shown: one recipient, unknown to it (not two, nor a syntax error).
    assert out[rcpt + 1].startswith("S: 550 5.1.1 <a,b@example.test>: Recipient address rejected")
    assert result.code == 24
