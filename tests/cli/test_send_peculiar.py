"""``smtpscope send`` against scripted peers that do what aiosmtpd will not: stay silent, answer
a pipelined batch with 421, answer DATA with 250, refuse every LMTP recipient after the dot."""

from __future__ import annotations

from typing import Any

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


def test_250_to_data_is_not_called_a_refusal(scripted_peer, cli) -> None:
    def script(stream: Any) -> None:
        greet(stream)
        answer(stream, {b"DATA": b"250 ok\r\n", b"QUIT": b"221 bye\r\n"})

    result = cli("send", f"127.0.0.1:{scripted_peer(script)}", *FROM_TO)
    assert result.code == 25
    assert "DATA answered without 354 (start mail input): 250 ok" in result.err
    assert "refused" not in result.err
