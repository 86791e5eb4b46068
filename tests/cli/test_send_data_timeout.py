"""``smtpscope send --data-timeout``: the reply to the message waits RFC 5321's 10 minutes
(§4.5.3.2.6), or its own limit, while ``--timeout`` keeps every other reply short."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

FROM_TO = ("--from", "a@x.test", "--to", "b@y.test")


def filtering(delay: float | None) -> Callable[[Any], None]:
    """A server that answers every command at once and the message (after the dot or BDAT
    LAST) only after ``delay`` seconds of content filtering; None: never."""
    def script(stream: Any) -> None:
        stream.write(b"220 filter.test ESMTP\r\n")
        while line := stream.readline():
            verb = line.split()[0].upper() if line.split() else b""
            if verb == b"DATA":
                stream.write(b"354 go ahead\r\n")
                while stream.readline() != b".\r\n":
                    pass
            elif verb == b"BDAT":
                stream.read(int(line.split()[1]))  # one chunk, LAST: the whole message
            if verb in (b"DATA", b"BDAT"):
                if delay is None:
                    stream.read()
                    return
                time.sleep(delay)
                stream.write(b"250 2.0.0 queued as 4XyZ\r\n")
                continue
            stream.write({b"EHLO": b"250-filter.test\r\n250 CHUNKING\r\n",
                          b"QUIT": b"221 2.0.0 bye\r\n"}.get(verb, b"250 2.1.0 ok\r\n"))
            if verb == b"QUIT":
                return

    return script


@pytest.mark.parametrize("how", [(), ("--bdat",)], ids=["data", "bdat"])
def test_a_slow_filter_is_waited_for_past_the_timeout(scripted_peer, cli,
                                                      how: tuple[str, ...]) -> None:
    port = scripted_peer(filtering(1.2))
    started = time.monotonic()
    result = cli("send", f"127.0.0.1:{port}", *FROM_TO, *how, "--timeout", "0.2", "--json")
    assert result.code == 0, result.out
    assert time.monotonic() - started >= 1.2
    data = json.loads(result.out)
    assert (data["status"], data["recipients"]["accepted"]) == ("success", ["b@y.test"])
    assert not [e for e in data["transcript"] if e.get("kind") == "error"]


def test_its_own_limit_longer_than_the_transactions_share(scripted_peer, cli) -> None:
    # Five --timeout limits (1 s) are less than the filter takes: --data-timeout counts.
    port = scripted_peer(filtering(1.5))
    result = cli("send", f"127.0.0.1:{port}", *FROM_TO, "--timeout", "0.2",
                 "--data-timeout", "5")
    assert result.code == 0, result.err
    assert "S: 250 2.0.0 queued as 4XyZ" in result.out


def test_a_short_data_timeout_says_which_limit_expired(scripted_peer, cli,
                                                       tmp_path: Path) -> None:
    recording = tmp_path / "late.jsonl"
    started = time.monotonic()
    result = cli("send", f"127.0.0.1:{scripted_peer(filtering(None))}", *FROM_TO,
                 "--timeout", "5", "--data-timeout", "0.3", "--json", "--record", str(recording))
    assert time.monotonic() - started < 3  # --data-timeout, not --timeout, for this reply
    data = json.loads(result.out)
    assert (result.code, data["status"], data["stage"]) == (26, "timeout", "dot")
    assert data["error"] == "timed out: no reply within 0.3 s"
    # It all went out: maybe delivered, and a resend may deliver it twice.
    assert "may have delivered it" in data["hint"] and "--data-timeout" in data["hint"]
    lines = [json.loads(line) for line in recording.read_text().splitlines()]
    assert [e["text"] for e in lines if e.get("kind") == "error"] == \
        ["Timeout: no reply within 0.3 s"]
    # A reply still owed would be taken for QUIT's: the connection is dropped instead.
    sent = [e["text"] for e in lines if e.get("dir") == "client"]
    assert sent[-1].endswith("\r\n.\r\n") and "QUIT\r\n" not in sent


def test_a_profile_sets_both_limits(scripted_peer, cli, tmp_path: Path, monkeypatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[profiles.quick]\ntimeout = 0.2\n'
                      '[profiles.impatient]\ntimeout = 5\ndata-timeout = 0.3\n')
    monkeypatch.setenv("SMTPSCOPE_CONFIG", str(config))
    port = scripted_peer(filtering(0.8))
    # A short timeout from a profile still leaves the message its 10 minutes...
    result = cli("send", f"127.0.0.1:{port}", *FROM_TO, "--profile", "quick")
    assert result.code == 0, result.err
    # ...and a profile's data-timeout is the limit for it.
    result = cli("send", f"127.0.0.1:{port}", *FROM_TO, "--profile", "impatient")
    assert result.code == 26 and "no reply within 0.3 s" in result.err
