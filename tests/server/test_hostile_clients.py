"""Hostile clients against ``serve``: endless lines cost counters not memory, AUTH guessing is
slowed and cut off, recordings are private."""

from __future__ import annotations

import base64
import collections
import socket
import stat
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from smtpscope.record import Transcript
from smtpscope.server.observe import OVERLONG_KEPT, MemoryBudget, SessionTap
from tests.server.conftest import PASSWORD, USER, Running


def _read_reply(sock: socket.socket) -> bytes:
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
        lines = data.split(b"\r\n")
        if len(lines) >= 2 and len(lines[-2]) >= 4 and lines[-2][3:4] == b" ":
            return data


def _connect(running: Running) -> socket.socket:
    sock = socket.create_connection((running.host, running.port), timeout=20)
    assert _read_reply(sock).startswith(b"220")
    return sock


def test_tap_keeps_only_the_start_of_an_endless_line() -> None:
    budget = MemoryBudget()
    tap = SessionTap(Transcript(), budget=budget)
    for _ in range(100):
        tap.drained(b"A" * 65536)  # 6.5 MB drained
    assert tap.overlong_pending == 100 * 65536
    assert budget.used == OVERLONG_KEPT
    entry = tap.client_line(b"END\r\n")
    # The kept start and the line's own ending; the rest was counted.
    assert entry.raw == b"A" * OVERLONG_KEPT + b"\r\n"
    assert f"{100 * 65536 + 3 - OVERLONG_KEPT} further octets of this line were counted, " \
        "not kept" in entry.notes
    warnings = [e.text for e in tap.transcript if e.kind == "warning"]
    # The true length, and no "connection ended": the line did end.
    assert warnings == [f"command line is {100 * 65536 + 5} octets, over the RFC 5321 limit "
                        "of 512 (CRLF included)"]
    tap.connection_closed(b"")
    assert budget.used == 0  # given back when the client leaves


def test_budget_is_shared_across_connections() -> None:
    budget = MemoryBudget(limit=3 * OVERLONG_KEPT)
    taps = [SessionTap(Transcript(), budget=budget) for _ in range(8)]
    for tap in taps:
        tap.drained(b"B" * (2 * OVERLONG_KEPT))
    assert budget.used == 3 * OVERLONG_KEPT  # three taps kept their share, five only counted
    assert sum(tap.overlong_pending for tap in taps) == 8 * 2 * OVERLONG_KEPT
    for tap in taps:
        tap.connection_closed(b"")
    assert budget.used == 0


def test_data_content_past_the_budget_is_counted_not_kept() -> None:
    budget = MemoryBudget(limit=1000)
    tap = SessionTap(Transcript(), budget=budget)
    tap.data_line(b"x" * 600 + b"\r\n")
    tap.data_line(b"y" * 600 + b"\r\n")  # over the budget: counted only
    entry = tap.data_line(b".\r\n")
    assert entry is not None
    assert entry.raw == b"x" * 600 + b"\r\n.\r\n"
    assert any("602 further octets" in note for note in entry.notes)


def test_unterminated_data_line_is_not_kept_by_the_server(
    serve: Callable[..., Running],
) -> None:
    running = serve(record=False, size=0)
    sock = _connect(running)
    for command in (b"EHLO c.test\r\n", b"MAIL FROM:<a@x.test>\r\n", b"RCPT TO:<b@x.test>\r\n",
                    b"DATA\r\n"):
        sock.sendall(command)
        assert _read_reply(sock)[:1] in (b"2", b"3")
    tracemalloc.start()
    try:
        chunk = b"Z" * (1 << 20)
        for _ in range(40):  # 40 MB on one line, no CRLF
            sock.sendall(chunk)
        sock.sendall(b"\r\n.\r\n")
        reply = _read_reply(sock)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert reply.startswith(b"500")
    assert peak < 8 * (1 << 20), f"peak {peak} bytes while a 40 MB line streamed in"
    sock.sendall(b"QUIT\r\n")
    _read_reply(sock)
    sock.close()
    entries = running.wait_closed()
    content = [e for e in entries if e.kind == "content"]
    assert content and len(content[0].raw) <= OVERLONG_KEPT + 8
    assert any("further octets" in n for e in content for n in e.notes)


def test_failed_auth_is_slowed_then_the_connection_dropped(
    serve: Callable[..., Running],
) -> None:
    running = serve(users={USER: PASSWORD}, record=False)
    sock = _connect(running)
    sock.sendall(b"EHLO c.test\r\n")
    _read_reply(sock)
    wrong = base64.b64encode(f"\0{USER}\0wrong".encode()) + b"\r\n"
    started = time.monotonic()
    replies = []
    for _ in range(4):
        sock.sendall(b"AUTH PLAIN " + wrong)
        replies.append(_read_reply(sock))
    # The 4th answer waits for the pauses after the first three failures (0.25 + 0.5 + 1).
    elapsed = time.monotonic() - started
    assert [r[:3] for r in replies] == [b"535"] * 4
    assert elapsed >= 1.7
    rest = b""
    while chunk := sock.recv(4096):  # then 421 and the server closes the connection
        rest += chunk
    assert (replies[3] + rest).endswith(
        b"\r\n421 4.7.0 Too many failed authentication attempts, closing\r\n")
    sock.close()
    # A right password on a fresh connection still works at once.
    sock = _connect(running)
    sock.sendall(b"EHLO c.test\r\n")
    _read_reply(sock)
    sock.sendall(b"AUTH PLAIN " + base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()) + b"\r\n")
    assert _read_reply(sock).startswith(b"235")
    sock.close()


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_recordings_are_private(serve: Callable[..., Running], umask: int) -> None:
    import os

    old = os.umask(umask)
    try:
        running = serve()
        sock = _connect(running)
        sock.sendall(b"QUIT\r\n")
        _read_reply(sock)
        sock.close()
        running.wait_closed()
    finally:
        os.umask(old)
    files = running.recordings()
    assert files
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(files[0].parent.stat().st_mode) == 0o700


def test_stored_mail_is_private(serve: Callable[..., Running]) -> None:
    import os

    old = os.umask(0o022)
    try:
        running = serve(record=False)
        sock = _connect(running)
        for line in (b"EHLO c.test\r\n", b"MAIL FROM:<a@x.test>\r\n", b"RCPT TO:<b@x.test>\r\n",
                     b"DATA\r\n", b"Subject: s\r\n\r\nprivate\r\n.\r\n", b"QUIT\r\n"):
            sock.sendall(line)
            _read_reply(sock)
        sock.close()
        running.wait_closed()
    finally:
        os.umask(old)
    stored = list((running.maildir / "new").iterdir())
    assert len(stored) == 1 and stat.S_IMODE(stored[0].stat().st_mode) == 0o600


def _config(*argv: str):  # type: ignore[no-untyped-def]
    from smtpscope.cli import build_parser
    from smtpscope.cli.serve import build_config

    args = build_parser(only="serve").parse_args(["serve", *argv])
    return build_config(args)


def test_serve_user_password_from_the_environment(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SERVE_PW", "from-env-pw")
    config = _config("--user", "carol", "--password-env", "SERVE_PW")
    assert config.users == {"carol": "from-env-pw"}
    assert capsys.readouterr().err == ""


def test_serve_user_with_password_on_the_command_line_warns(
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = _config("--user", "dave:on-the-cmdline")
    assert config.users == {"dave": "on-the-cmdline"}
    err = capsys.readouterr().err
    assert "process list" in err and "on-the-cmdline" not in err


def test_serve_users_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    users = tmp_path / "users"
    users.write_text("erin:file-pw\n# comment\n", encoding="utf-8")
    users.chmod(0o600)
    assert _config("--users-file", str(users)).users == {"erin": "file-pw"}
    assert capsys.readouterr().err == ""
    users.chmod(0o644)
    assert _config("--users-file", str(users)).users == {"erin": "file-pw"}
    err = capsys.readouterr().err
    assert "other users can read it (mode 0644); chmod 600" in err and "file-pw" not in err


def test_serve_user_without_a_password_source_fails_without_echo(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from smtpscope.server.config import ConfigError

    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    with pytest.raises(ConfigError) as info:
        _config("--user", "s3cr3t-typed-by-mistake")
    assert "s3cr3t" not in str(info.value)


def test_serve_user_password_from_the_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def fake_getpass(prompt: str) -> str:
        asked.append(prompt)
        return "typed-at-prompt"

    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("getpass.getpass", fake_getpass)
    assert _config("--user", "frank").users == {"frank": "typed-at-prompt"}
    assert asked == ["password for frank: "]


def test_hostile_client_recording_exports_inert(
    serve: Callable[..., Running], capsys: pytest.CaptureFixture[str]
) -> None:
    """A client's EHLO with escape sequences, recorded by serve, then exported and replayed."""
    import re

    from smtpscope.cli import main

    running = serve()
    sock = _connect(running)
    evil = b"evil\x1b]0;pwned\x07\x1b]52;c;R05VQ0JB\x1b\\\xc2\x9b2J\xe2\x80\xae"
    for line in (b"EHLO " + evil + b"\r\n", b"MAIL FROM:<a@x.test>\r\n", b"QUIT\r\n"):
        sock.sendall(line)
        _read_reply(sock)
    sock.close()
    running.wait_closed()
    recording = str(running.recordings()[0])
    forbidden = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
    for argv in (["export", recording], ["replay", recording, "--format", "swaks"],
                 ["replay", recording, "--format", "text"]):
        assert main(argv) == 0
        out, err = capsys.readouterr()
        assert "evil" in out
        assert not forbidden.search(out) and not forbidden.search(err), argv


def test_parallel_connections_do_not_multiply_the_guessing_rate(
    serve: Callable[..., Running],
) -> None:
    import threading

    from smtpscope.server.smtp import server_wide_delay

    assert server_wide_delay(collections.deque([0.0] * 5), 1.0) == 0.0
    assert server_wide_delay(collections.deque([0.0] * 30), 1.0) == 2.0
    assert server_wide_delay(collections.deque([0.0] * 30), 60.0) == 0.0  # the window passed
    running = serve(users={USER: PASSWORD}, record=False)
    wrong = b"AUTH PLAIN " + base64.b64encode(f"\0{USER}\0wrong".encode()) + b"\r\n"
    attempts: list[float] = []

    def guesser() -> None:
        sock = _connect(running)
        sock.sendall(b"EHLO c.test\r\n")
        _read_reply(sock)
        for _ in range(3):
            sock.sendall(wrong)
            _read_reply(sock)
            attempts.append(time.monotonic())
        sock.close()

    started = time.monotonic()
    threads = [threading.Thread(target=guesser) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    elapsed = max(attempts) - started
    assert len(attempts) == 48
    # Per connection alone, 16 connections would answer 48 guesses in under a second.
    assert len(attempts) / elapsed < 20, f"{len(attempts) / elapsed:.0f} guesses a second"
