"""PIPELINING (RFC 2920): advertised, and a batch is served in order, however it arrives."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from smtpscope.protocol import Capabilities, parse_reply
from tests.server.conftest import Raw

REPO = Path(__file__).resolve().parents[2]
FIRST = b"Subject: one\r\n\r\n..dot-stuffed\r\n"
SECOND = b"Subject: two\r\n\r\nsecond\r\n"
# Each group ends with DATA (RFC 2920 3.1); the second opens with the first's content, which
# may lead a group. The RCPT of a non-ASCII address without SMTPUTF8 is refused on its own.
GROUPS = [
    b"MAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\n" + "RCPT TO:<bü@x.test>\r\n".encode()
    + b"RCPT TO:<c@x.test>\r\nDATA\r\n",
    FIRST + b".\r\nMAIL FROM:<d@x.test>\r\nRCPT TO:<e@x.test>\r\nDATA\r\n",
    SECOND + b".\r\nQUIT\r\n",
]
REPLIES = [
    [b"250 2.1.0 OK", b"250 2.1.5 OK", b"553 5.6.7 Must declare SMTPUTF8 to send unicode address",
     b"250 2.1.5 OK", b"354 End data with <CR><LF>.<CR><LF>"],
    [b"250 2.0.0 Ok: queued as ", b"250 2.1.0 OK", b"250 2.1.5 OK",
     b"354 End data with <CR><LF>.<CR><LF>"],
    [b"250 2.0.0 Ok: queued as ", b"221 2.0.0 Bye"],
]


def _send_split(raw: Raw, group: bytes, split: str) -> None:
    if split == "one-segment":
        raw.send(group)
        return
    # Cut inside lines and right after CRs: the server must not care where segments end.
    for start in range(0, len(group), 7):
        raw.send(group[start:start + 7])


@pytest.mark.parametrize("split", ["one-segment", "cut-mid-line"])
def test_a_pipelined_batch_gets_every_reply_in_order(serve, split: str) -> None:
    running = serve()
    raw = Raw(running.host, running.port)
    raw.send(b"EHLO pipe.test\r\n")
    assert Capabilities.parse(parse_reply(raw.reply())).has("PIPELINING")
    for group, expected in zip(GROUPS, REPLIES, strict=True):
        _send_split(raw, group, split)
        replies = [raw.reply().rstrip(b"\r\n") for _ in expected]
        assert [r[:len(e)] for r, e in zip(replies, expected, strict=True)] == expected
    assert raw.file.read() == b""  # nothing more: one reply per command
    raw.close()
    assert running.stored() == [FIRST.replace(b"..", b"."), SECOND]


def test_smtpscope_send_pipelines_against_serve(serve, tmp_path: Path) -> None:
    running = serve()
    env = dict(os.environ, PYTHONPATH=str(REPO), SMTPSCOPE_HOME=str(tmp_path / "home"))
    result = subprocess.run(
        [sys.executable, "-m", "smtpscope", "send", f"{running.host}:{running.port}",
         "--from", "a@x.test", "--to", "b@x.test", "--to", "c@x.test", "--pipeline",
         "--tls", "none", "--body", "pipelined"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    batch = lines.index("C: DATA")
    # MAIL, both RCPTs and DATA went out before the first of their replies came back.
    assert [line.split(":")[0] for line in lines[batch - 3:batch + 5]] == ["C"] * 4 + ["S"] * 4
    assert lines[batch + 1:batch + 5] == ["S: 250 2.1.0 OK"] + ["S: 250 2.1.5 OK"] * 2 + [
        "S: 354 End data with <CR><LF>.<CR><LF>"]
    assert len(running.stored()) == 1
