"""LMTP (Dovecot, over TCP and a UNIX socket) and ``--pipe`` (Postfix ``sendmail -bs``)."""

from __future__ import annotations

import json
import uuid

import pytest

pytestmark = pytest.mark.peer


def _send(cli, target: str, mta, *recipients: str, extra: tuple[str, ...] = ()):
    token = uuid.uuid4().hex
    args = [target] if target else []
    result = cli("send", *args, "--from", mta.address("bob"),
                 *[a for r in recipients for a in ("--to", r)], "--subject", token, *extra)
    return token, result


@pytest.mark.parametrize("over", ["tcp", "unix"])
def test_lmtp_one_recipient_delivered_one_refused_after_data(lmtp_mta, cli, over) -> None:
    mta = lmtp_mta
    target = f"lmtp://{mta.host}:{mta.lmtp}" if over == "tcp" else f"lmtp:{mta.lmtp_socket}"
    full = mta.address(mta.lmtp_full_user)
    token, result = _send(cli, target, mta, mta.address("alice"), full)
    out = result.out.splitlines()
    assert "C: LHLO smtpscope.localhost" in out
    # Both were accepted at RCPT: the quota is only known once the message is there.
    assert out.count("S: 250 2.1.5 OK") == 2
    # After the dot: one reply per accepted recipient, in RCPT order, both shown.
    dot = out.index("C: .")
    replies = [line for line in out[dot + 1:] if line.startswith("S: ")]
    assert replies[0].startswith("S: 250 ") and "<alice@example.test>" in replies[0]
    assert replies[1].startswith("S: 552 5.2.2 ") and f"<{full}>" in replies[1]
    assert any(line.startswith("-- alice@example.test: delivered (250 ") for line in out)
    assert any(line.startswith(f"!! {full}: refused (552 5.2.2 ") for line in out)
    assert "!! partial delivery: 1 of 2 recipients accepted the message" in out
    assert result.code == 0, result.out + result.err
    [message] = mta.read_delivered("alice", match=token.encode())
    assert b"Subject: " + token.encode() in message


def test_lmtp_no_recipient_takes_the_message_exits_26_json(lmtp_mta, cli) -> None:
    mta = lmtp_mta
    full = mta.address(mta.lmtp_full_user)
    _token, result = _send(cli, f"lmtp:{mta.lmtp_socket}", mta, full, extra=("--json",))
    # Dovecot took the RCPT and refused the message after the dot: swaks' 26, not 24.
    assert result.code == 26, result.out + result.err
    data = json.loads(result.out)
    assert data["stage"] == "dot" and data["status"] == "rejected"
    assert data["recipients"]["accepted"] == [] and data["recipients"]["rejected"] == [full]
    assert data["recipients"]["replies"] == [
        {"address": full, "rcpt": 250, "delivery": 552, "accepted": False, "not_tried": None}]
    assert "message refused after the final dot: 552 5.2.2" in result.err
    assert any(e["text"].startswith(f"{full}: refused (552 5.2.2 ")
               for e in data["transcript"] if e["kind"] == "warning")


def test_lmtp_bdat_gets_one_reply_per_recipient(lmtp_mta, cli) -> None:
    mta = lmtp_mta
    full = mta.address(mta.lmtp_full_user)
    token, result = _send(cli, f"lmtp://{mta.host}:{mta.lmtp}", mta, full,
                          mta.address("alice"), extra=("--bdat", "--json"))
    assert result.code == 0, result.out + result.err
    data = json.loads(result.out)
    assert [(r["address"], r["delivery"]) for r in data["recipients"]["replies"]] == [
        (full, 552), (mta.address("alice"), 250)]
    bdat = [e for e in data["transcript"] if e["text"].startswith("BDAT ")]
    assert len(bdat) == 1 and bdat[0]["text"].split("\r\n")[0].endswith(" LAST")
    after = data["transcript"][bdat[0]["seq"] + 1:]
    assert [e["reply"]["code"] for e in after if "reply" in e][:2] == [552, 250]
    assert mta.read_delivered("alice", match=token.encode())


def test_lmtp_unknown_user_refused_at_rcpt(lmtp_mta, cli) -> None:
    mta = lmtp_mta
    token, result = _send(cli, f"lmtp:{mta.lmtp_socket}", mta, "nobody@example.test",
                          mta.address("alice"))
    assert result.code == 0, result.out + result.err
    assert any(line.startswith("S: 550 5.1.1 <nobody@example.test>")
               for line in result.out.splitlines())
    assert mta.read_delivered("alice", match=token.encode())


def test_probe_lmtp_greets_with_lhlo(lmtp_mta, cli) -> None:
    mta = lmtp_mta
    for target in (f"lmtp://{mta.host}:{mta.lmtp}", f"lmtp:{mta.lmtp_socket}"):
        result = cli("probe", target, "--json")
        assert result.code == 0, result.out + result.err
        data = json.loads(result.out)
        keywords = {k["keyword"] for k in data["ehlo"]["plain"]["keywords"]}
        assert {"PIPELINING", "CHUNKING"} <= keywords
        assert data["banner"]["code"] == 220


def test_send_through_a_pipe_to_postfix_sendmail_bs(mta, cli) -> None:
    command = f"/usr/sbin/sendmail -C {mta.postfix_config_dir} -bs"
    token, result = _send(cli, "", mta, mta.address("alice"), extra=("--pipe", command))
    assert result.code == 0, result.out + result.err
    out = result.out.splitlines()
    assert out[0] == f"-- Starting '{command}', speaking SMTP on its stdin/stdout"
    assert any(line.startswith("S: 220 ") and "Postfix" in line for line in out)
    assert any(line.startswith("S: 250 2.0.0 Ok: queued as ") for line in out)
    assert out[-1] == f"-- '{command}' exited with status 0"
    [message] = mta.read_delivered("alice", match=token.encode())
    assert b"Subject: " + token.encode() in message


def test_probe_through_a_pipe(mta, cli) -> None:
    command = f"/usr/sbin/sendmail -C {mta.postfix_config_dir} -bs"
    result = cli("probe", "--pipe", command, "--json")
    assert result.code == 0, result.out + result.err
    data = json.loads(result.out)
    assert data["server"]["peer"] == f"pipe:{command}"
    assert data["ehlo"]["plain"]["code"] == 250
