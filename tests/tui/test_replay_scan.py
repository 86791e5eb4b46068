"""Replay's scan for the capability pane, TLS and AUTH words skips entries that cannot change
them, with the same answer at every position as the scan that looked at each entry."""

from __future__ import annotations

from bisect import bisect_left
from typing import Any

import pytest

from smtpscope.record.transcript import Entry
from smtpscope.tui.explain import capabilities_from_entry
from smtpscope.tui.screens.replay import ReplayScreen
from smtpscope.tui.screens.replay_auth import AuthTimeline

CAPS = b"250-mx.example\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n"
CAPS_TLS = b"250-mx.example\r\n250-SIZE 1000\r\n250 AUTH PLAIN LOGIN CRAM-MD5\r\n"
CAPS_AGAIN = b"250-mx.example\r\n250 8BITMIME\r\n"


def session() -> list[Entry]:
    out: list[Entry] = []

    def add(direction: str, kind: str, raw: bytes, **extra: Any) -> None:
        if direction == "server" and kind == "reply" and "reply" not in extra:
            extra["reply"] = {"code": int(raw[:3])}
        out.append(Entry(seq=len(out), mono=len(out) * 0.1, wall=1e9 + len(out),
                         direction=direction, kind=kind, raw=raw, **extra))

    C, S = "client", "server"
    add(S, "reply", b"220 mx.example ESMTP\r\n")
    add(C, "command", b"EHLO me\r\n")
    add(S, "reply", CAPS)
    add(C, "command", b"NOOP\r\n")
    add(S, "reply", b"250 ok\r\n")  # a 250 that does not answer EHLO
    add(C, "command", b"EHLO me\r\n")
    add(S, "reply", CAPS_AGAIN)  # EHLO again, before TLS
    add(C, "command", b"STARTTLS\r\n")
    add(S, "reply", b"220 go ahead\r\n")
    add("local", "tls", b"TLSv1.3\n", info={"version": "TLSv1.3", "verified": True})
    add(C, "command", b"EHLO me\r\n")
    add(S, "reply", CAPS_TLS)  # after STARTTLS
    add(C, "command", b"AUTH PLAIN AGVtZQBzZWNyZXQ=\r\n", text="AUTH PLAIN <redacted>",
        redacted=True)
    add(S, "reply", b"535 5.7.8 no\r\n", reply={"code": 535, "enhanced": "5.7.8"})  # failed
    add(C, "command", b"AUTH LOGIN\r\n")
    add(S, "reply", b"334 VXNlcm5hbWU6\r\n")
    add(C, "command", b"bWU=\r\n", text="<redacted>", redacted=True)
    add(S, "reply", b"334 UGFzc3dvcmQ6\r\n")
    add(C, "command", b"c2VjcmV0\r\n", text="<redacted>", redacted=True)
    add(S, "reply", b"235 2.7.0 ok\r\n", reply={"code": 235, "enhanced": "2.7.0"})
    add(C, "command", b"ehlo me again\r\n")
    add(S, "reply", CAPS_AGAIN)  # EHLO again
    add(C, "command", b"MAIL FROM:<a@b>\r\n")
    add(S, "reply", b"250 ok\r\n")
    add(C, "command", b"DATA\r\n")
    add(S, "reply", b"354 go\r\n")
    add(C, "content", b"Subject: x\r\n\r\nEHLO in a body\r\n")
    add(S, "reply", b"250 queued\r\n")
    add(S, "raw", b"garbage\r\n", off_script=True)
    add("local", "note", b"a note\n")
    add(C, "command", b"QUIT\r\n")
    add(S, "reply", b"221 bye\r\n")
    add(C, "command", b"EHLO cut short\r\n")  # no reply: the recording ends here
    add("local", "note", b"joined\n", info={"recording": {"target": "x"}})  # a new session
    add(S, "reply", CAPS)  # answers no EHLO of this session
    add(S, "reply", b"220 again\r\n")
    add(C, "raw", b"LHLO me\r\n")
    add(S, "reply", CAPS)
    add(C, "command", b"XCLIENT ADDR=1.2.3.4\r\n")
    add(S, "reply", b"220 restart\r\n")
    add(C, "command", b"EHLO\tme\r\n")  # a tab: not the word EHLO for the old scan either
    add(S, "reply", CAPS_AGAIN)
    add(S, "reply", b"421 closing\r\n")
    return out


def full_scan(entries: list[Entry]) -> list[tuple[Any, ...]]:
    """At each position: (capabilities state, TLS handshake index, AUTH) the old way, every
    entry looked at whole."""
    tls_seen, last_command = False, ""
    auth = AuthTimeline()
    caps_at: list[int] = []
    states: list[tuple[Any, Any, str]] = []
    tls_at: list[int] = []
    for index, entry in enumerate(entries):
        if entry.info is not None and "recording" in entry.info:
            tls_seen, last_command = False, ""
            auth.restart(index)
            caps_at.append(index)
            states.append((None, None, ""))
        if entry.kind == "tls":
            tls_seen = True
            tls_at.append(index)
        if entry.direction == "client" and entry.kind in ("command", "raw"):
            last_command = entry.text.strip()
        auth.follow(index, entry)
        parsed = capabilities_from_entry(entry, last_command)
        if parsed is not None:
            previous = states[-1][0] if states else None
            stage = "" if previous is None else "after STARTTLS" if tls_seen else "again"
            caps_at.append(index)
            states.append((parsed, previous, stage))
    out = []
    for k in range(len(entries) + 1):
        i = bisect_left(caps_at, k) - 1
        state = states[i] if i >= 0 else (None, None, "")
        out.append((state, bisect_left(tls_at, k) - 1, auth.at(k)))
    return out


class Held:
    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries


@pytest.mark.parametrize("stride", [1, 2, 3, 7, 100])
def test_every_position_as_the_full_scan(stride: int) -> None:
    entries = session()
    expected = full_scan(entries)
    # The cases this is about are there: capabilities after STARTTLS and again, AUTH kept after
    # a 235 (not after the 535), forgotten after STARTTLS, XCLIENT and the end.
    stages = {state[2] for state, _, _ in expected}
    assert {"", "after STARTTLS", "again"} <= stages
    assert [a for _, _, a in expected].count("LOGIN") >= 10
    screen = ReplayScreen(Held(entries), step_mode=True)  # type: ignore[arg-type]
    positions = [*range(0, len(entries) + 1, stride), len(entries)]
    for k in positions:  # scanned a stride at a time, as replay passes them
        state = screen._capabilities(k)
        assert (state, bisect_left(screen._tls_at, k) - 1, screen._auth.at(k)) == expected[k], k
    for k in range(len(entries) + 1):  # and every position again, once scanned
        state = screen._capabilities(k)
        assert (state, bisect_left(screen._tls_at, k) - 1, screen._auth.at(k)) == expected[k], k
