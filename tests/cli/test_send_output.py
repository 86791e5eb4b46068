"""Output control of ``smtpscope send``: --silent levels, --suppress-data, time lapse, a file."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest


def _send(cli, server, *extra: str, to: str = "b@y.test"):
    return cli("send", server.target, "--from", "a@x.test", "--to", to, *extra)


def test_silent_1_prints_nothing_on_success(make_server, cli) -> None:
    result = _send(cli, make_server(), "--silent")
    assert result.code == 0 and result.out == "" and result.err == ""


def test_silent_1_prints_everything_once_an_error_occurs(make_server, cli) -> None:
    result = _send(cli, make_server(), "--silent", "1", to="x@reject.test")
    assert result.code == 24
    assert "S: 550 5.1.1 no such user here" in result.out
    assert result.out.startswith("-- Connecting to")
    assert "RCPT TO failed" in result.err


def test_silent_2_prints_only_the_error(make_server, cli) -> None:
    result = _send(cli, make_server(), "--silent", "2", to="x@reject.test")
    assert result.code == 24 and result.out == ""
    assert result.err.count("\n") == 1 and "no recipient accepted" in result.err


def test_silent_3_prints_nothing_even_on_error(make_server, cli) -> None:
    result = _send(cli, make_server(), "-S", "3", to="x@reject.test")
    assert result.code == 24 and result.out == "" and result.err == ""


def test_suppress_data_summarises_a_20kb_attachment(make_server, cli, tmp_path: Path) -> None:
    blob = tmp_path / "big.bin"
    blob.write_bytes(b"\x00\xff" * 10_000)
    server = make_server()
    result = _send(cli, server, "--attach", f"@{blob}", "--suppress-data")
    assert result.code == 0, result.err
    [line] = [ln for ln in result.out.splitlines() if "message not shown" in ln]
    lines, size = map(int, re.findall(r"(\d+) lines, (\d+) bytes", line)[0])
    wire = server.handler.messages[0][2]
    assert size > 27_000 and lines > 350  # base64 of 20 KB
    assert abs(size - len(wire)) < 10
    assert len(result.out) < 3000


def test_time_lapse_follows_each_reply(make_server, cli) -> None:
    result = _send(cli, make_server(), "--show-time-lapse")
    out = result.out.splitlines()
    lapses = [i for i, line in enumerate(out) if re.fullmatch(r"-- \d+\.\d{3} ms", line)]
    replies = [i for i, line in enumerate(out) if line.startswith("S: ")
               and (i + 1 == len(out) or not out[i + 1].startswith("S: "))]
    assert lapses and [i - 1 for i in lapses] == replies


def test_output_file_gets_transcript_and_error(make_server, cli, tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    result = _send(cli, make_server(), "--output-file", str(path), to="x@reject.test")
    assert result.code == 24 and result.out == "" and result.err == ""
    text = path.read_text()
    assert "S: 550 5.1.1 no such user here" in text and "RCPT TO failed" in text


@pytest.mark.peer
def test_suppress_data_and_time_lapse_against_postfix(mta, cli) -> None:
    token = uuid.uuid4().hex
    result = cli("send", f"{mta.host}:{mta.smtp}", "--cafile", str(mta.ca_file), "-n",
                 "--show-time-lapse", "--from", mta.address("bob"), "--to",
                 mta.address("alice"), "--h-Subject", token)
    assert result.code == 0, result.out + result.err
    assert token not in result.out  # the message itself is not printed
    [line] = [ln for ln in result.out.splitlines() if "message not shown" in ln]
    size = int(re.findall(r"(\d+) bytes", line)[0])
    [delivered] = mta.read_delivered("alice", match=token.encode())
    assert size < len(delivered)  # Postfix adds Return-Path and Received
    assert any(re.fullmatch(r"-- \d+\.\d{3} ms", ln) for ln in result.out.splitlines())
