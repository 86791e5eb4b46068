"""``smtpscope send`` when the recipient stage ends early: a recipient the server refused (with
its reply) is told apart from one it never judged (its RCPT unsent, or sent and unanswered)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.cli.test_json_schemas import _valid

RCPTS = ("--from", "a@x.test", "--to", "b@y.test,c@y.test,d@y.test")


def second_rcpt_ends(hang_up_silently: bool, pipelined: bool) -> Any:
    """A server that takes the first RCPT, then answers the second with 421 and closes (or,
    ``hang_up_silently``, closes without a word). Whatever followed it in a pipelined batch
    is read, never answered (unread, the close would be a reset that may lose the replies
    before it)."""
    def script(stream: Any) -> None:
        stream.write(b"220 peer.test ESMTP\r\n")
        rcpts = 0
        while line := stream.readline():
            verb = line.split()[0].upper()
            if verb == b"EHLO":
                stream.write(b"250-peer.test\r\n250 PIPELINING\r\n")
            elif verb == b"RCPT" and (rcpts := rcpts + 1) == 2:
                if hang_up_silently:
                    for _ in range(2 if pipelined else 0):  # RCPT d@, DATA
                        stream.readline()
                    return  # the connection closes without a word
                stream.write(b"421 4.3.2 shutting down\r\n")
                while stream.readline():  # the rest of a batch, until the client hangs up
                    pass
                return
            else:
                stream.write(b"250 2.1.5 ok\r\n")

    return script


@pytest.mark.parametrize("pipeline", [False, True], ids=["one-by-one", "pipelined"])
def test_421_to_the_second_rcpt_leaves_the_third_not_tried(scripted_peer, cli,
                                                             pipeline: bool) -> None:
    port = scripted_peer(second_rcpt_ends(hang_up_silently=False, pipelined=pipeline))
    extra = ("--pipeline",) if pipeline else ()
    result = cli("send", f"127.0.0.1:{port}", *RCPTS, *extra, "--json")
    data = json.loads(result.out)
    _valid("send", data)
    assert (result.code, data["status"], data["stage"]) == (24, "rejected", "rcpt")  # swaks
    recipients = data["recipients"]
    assert recipients["accepted"] == ["b@y.test"]
    assert recipients["rejected"] == ["c@y.test"]  # the 421 was its reply
    assert recipients["not_tried"] == ["d@y.test"]
    # One at a time, d's RCPT never went out; pipelined, it went and was never answered.
    why = "no-reply" if pipeline else "not-sent"
    assert [(r["address"], r["rcpt"], r["accepted"], r["not_tried"])
            for r in recipients["replies"]] == [
        ("b@y.test", 250, True, None), ("c@y.test", 421, False, None),
        ("d@y.test", None, False, why)]

    text = cli("send", f"127.0.0.1:{port}", *RCPTS, *extra)
    assert text.code == 24
    assert "!! c@y.test: refused (421 4.3.2 shutting down)" in text.out
    sent = "answered" if pipeline else "sent"
    assert f"!! d@y.test: not tried (its RCPT was never {sent}: the connection closed first)" \
        in text.out
    assert "d@y.test: refused" not in text.out
    assert "partial delivery" not in text.out  # no message went to anyone


@pytest.mark.parametrize("pipeline", [False, True], ids=["one-by-one", "pipelined"])
def test_a_hang_up_at_the_second_rcpt_keeps_the_first_accepted(scripted_peer, cli,
                                                                 pipeline: bool) -> None:
    port = scripted_peer(second_rcpt_ends(hang_up_silently=True, pipelined=pipeline))
    extra = ("--pipeline",) if pipeline else ()
    result = cli("send", f"127.0.0.1:{port}", *RCPTS, *extra, "--json")
    data = json.loads(result.out)
    _valid("send", data)
    assert (result.code, data["status"], data["stage"]) == (6, "closed", "rcpt")  # swaks
    recipients = data["recipients"]
    # b's 250 came before the hang-up: it stays accepted, not refused.
    assert (recipients["accepted"], recipients["rejected"]) == (["b@y.test"], [])
    assert recipients["not_tried"] == ["c@y.test", "d@y.test"]
    assert [r["not_tried"] for r in recipients["replies"]] == \
        [None, "no-reply", "no-reply" if pipeline else "not-sent"]
