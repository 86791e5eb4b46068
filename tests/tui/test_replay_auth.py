"""Replay's status bar says "authenticated (MECH)" from the step the recorded 235 is shown,
and forgets it where the live engine would: after the 220 to STARTTLS (not after EHLO or RSET),
and at the end of the connection."""

from __future__ import annotations

import itertools
from pathlib import Path

from smtpscope.record import Recorder, Redactor, Transcript, make_header
from smtpscope.tui.app import create_app
from smtpscope.tui.screens.replay import ReplayScreen
from smtpscope.tui.screens.replay_auth import auth_mechanism
from smtpscope.tui.widgets.status import StatusBar

SIZE = (100, 30)


def _write(path: Path) -> tuple[Path, list[str | None]]:
    """A recording, and what the bar's AUTH word is after each of its entries."""
    ticks = itertools.count()
    transcript = Transcript(redactor=Redactor(), clock=lambda: 100.0 + next(ticks) * 0.125,
                            wall_clock=lambda: 1_795_000_000.0)
    recorder = Recorder(path, make_header("mx.example.test:587", role="client",
                                          security="plain"))
    transcript.subscribe(recorder)
    expected: list[str | None] = []

    def server(raw: bytes, auth: str | None) -> None:
        transcript.add("server", "reply", raw, reply={"code": int(raw[:3])})
        expected.append(auth)

    def client(line: str, auth: str | None) -> None:
        transcript.add("client", "command", line.encode() + b"\r\n")
        expected.append(auth)

    transcript.note("Connected to 127.0.0.1 port 587")
    expected.append(None)
    server(b"220 mx.example.test ESMTP\r\n", None)
    client("EHLO client.example", None)
    server(b"250-mx.example.test\r\n250-AUTH PLAIN LOGIN\r\n250 STARTTLS\r\n", None)
    client("AUTH LOGIN", None)  # a failed exchange authenticates nothing
    server(b"334 VXNlcm5hbWU6\r\n", None)
    client("YWxpY2U=", None)
    server(b"334 UGFzc3dvcmQ6\r\n", None)
    client("d3Jvbmc=", None)
    server(b"535 5.7.8 Error: authentication failed\r\n", None)
    client("AUTH PLAIN AGFsaWNlAGFsaWNlLXNlY3JldC1wdw==", None)
    server(b"235 2.7.0 Authentication successful\r\n", "PLAIN")
    client("RSET", "PLAIN")
    server(b"250 2.0.0 Ok\r\n", "PLAIN")
    client("EHLO client.example", "PLAIN")  # EHLO does not forget it
    server(b"250-mx.example.test\r\n250 STARTTLS\r\n", "PLAIN")
    client("STARTTLS", "PLAIN")
    server(b"220 2.0.0 Ready to start TLS\r\n", None)  # RFC 3207: forgotten
    transcript.tls_active = True
    transcript.add("local", "tls", b"", "TLS started: TLSv1.3", info={"version": "TLSv1.3"})
    expected.append(None)
    client("EHLO client.example", None)
    server(b"250-mx.example.test\r\n250 AUTH PLAIN\r\n", None)
    client("AUTH PLAIN AGFsaWNlAGFsaWNlLXNlY3JldC1wdw==", None)
    server(b"235 2.7.0 Authentication successful\r\n", "PLAIN")
    client("QUIT", "PLAIN")
    server(b"221 2.0.0 Bye\r\n", None)
    recorder.write_footer(outcome="closed by server")
    recorder.close()
    return path, expected


async def test_replay_status_follows_authentication_step_by_step(tmp_path) -> None:
    path, expected = _write(tmp_path / "auth.jsonl")
    app = create_app(replay_path=str(path))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        status = screen.query_one(StatusBar)
        total = len(screen.recording.entries)
        assert total == len(expected)
        seen = [status.auth]
        for _ in range(total):
            await pilot.press("space")
            await pilot.pause()
            seen.append(status.auth)
            if status.auth is not None:
                assert "authenticated (PLAIN)" in status.full_text
            else:
                assert "authenticated" not in status.full_text
        assert seen == [None, *expected]
        for k in range(total - 1, -1, -1):  # and back again
            await pilot.press("p")
            await pilot.pause()
            assert status.auth == ([None, *expected])[k], k


def test_the_mechanism_comes_from_the_auth_command_even_when_hidden() -> None:
    assert auth_mechanism("AUTH PLAIN [PLAIN credentials for alice hidden]") == "PLAIN"
    assert auth_mechanism("auth scram-sha-256 biwsbj1") == "SCRAM-SHA-256"
    assert auth_mechanism("AUTH") is None and auth_mechanism("MAIL FROM:<a@b>") is None
