"""``smtpscope serve`` as a user runs it: a subprocess, a message, Ctrl+C, a busy port."""

from __future__ import annotations

import os
import re
import signal
import smtplib
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smtpscope.cli import main
from smtpscope.record import read_recording

REPO = Path(__file__).resolve().parents[2]


def _env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(PYTHONPATH=str(REPO), SMTPSCOPE_HOME=str(home), PYTHONUNBUFFERED="1")
    env.update(extra or {})
    return env


def _start(home: Path, *args: str, env: dict[str, str] | None = None
           ) -> tuple[subprocess.Popen[str], int, list[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "smtpscope", "serve", *args],
        cwd=REPO,
        env=_env(home, env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + 20
    fd = proc.stdout.fileno()
    while time.monotonic() < deadline:
        # Byte by byte from the pipe itself: a buffered readline could swallow lines that
        # communicate() (which reads the file descriptor directly) would then never see.
        raw = b""
        while not raw.endswith(b"\n"):
            byte = os.read(fd, 1)
            if not byte:
                break
            raw += byte
        line = raw.decode()
        if not line:
            break
        seen.append(line)
        match = re.match(r"listening on 127\.0\.0\.1:(\d+) \(SMTP, ", line)
        if match:
            return proc, int(match.group(1)), seen
    proc.kill()
    pytest.fail(f"serve did not start: {seen} {proc.stderr.read() if proc.stderr else ''}")


def test_serve_receives_a_message_and_stops_cleanly_on_sigint(tmp_path: Path) -> None:
    maildir = tmp_path / "box"
    proc, port, _ = _start(
        tmp_path / "home", "--port", "0", "--maildir", str(maildir), "--user", "bob",
        "--password-env", "SERVE_TEST_PW", env={"SERVE_TEST_PW": "pw-123"},
    )
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.login("bob", "pw-123")
            client.sendmail("a@example.test", ["b@example.test"], b"Subject: cli\r\n\r\nhi\r\n")
        time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert out.rstrip().endswith("stopped")
    assert err == ""
    assert "users: bob (AUTH PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256)" in out
    assert re.search(r"#1\s+C: mail FROM:<a@example.test> size=20", out)
    queued = re.search(r"#1\s+S: 250 2\.0\.0 Ok: queued as ([0-9A-F]+) ", out)
    assert queued is not None
    assert "pw-123" not in out
    [path] = (maildir / "new").iterdir()
    # The id the client was told names the file and its Received line; below the trace
    # headers, the message as sent (the user's name is in no header).
    assert f"R{queued[1]}." in path.name
    head, _, message = path.read_bytes().partition(b"\r\nSubject: cli")
    assert message == b"\r\n\r\nhi\r\n"
    assert head.startswith(b"Return-Path: <a@example.test>\r\nEnvelope-to: b@example.test\r\n")
    assert f"with ESMTPA id {queued[1]}\r\n\tfor <b@example.test>; ".encode() in head
    assert b"bob" not in head
    recordings = list((tmp_path / "home" / "server-recordings").glob("*.jsonl"))
    assert len(recordings) == 1


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_stopping_says_421_to_every_session_and_stores_nothing_half_sent(
    tmp_path: Path, sig: signal.Signals
) -> None:
    maildir = tmp_path / "box"
    proc, port, _ = _start(tmp_path / "home", "--port", "0", "--maildir", str(maildir),
                           "--no-starttls")
    clients = []
    try:
        for name in ("idle", "in-data"):
            client = socket.create_connection(("127.0.0.1", port), timeout=10)
            replies = client.makefile("rb")
            replies.readline()
            client.sendall(f"HELO {name}.test\r\n".encode())
            replies.readline()
            clients.append((client, replies))
        client, replies = clients[1]
        for command in (b"MAIL FROM:<a@x.test>", b"RCPT TO:<b@x.test>", b"DATA"):
            client.sendall(command + b"\r\n")
            replies.readline()
        client.sendall(b"Subject: half\r\n\r\nthe first half\r\n")
        time.sleep(0.3)
        proc.send_signal(sig)
        # RFC 5321 3.8: each client hears why the connection ends, then the close.
        for _client, replies in clients:
            assert replies.read() == (
                b"421 4.3.2 localhost Service shutting down, closing transmission channel\r\n")
    finally:
        for client, replies in clients:
            replies.close()
            client.close()
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert out.rstrip().endswith("stopped")
    assert re.search(r"#2\s+-- message not stored: the server stopped before the end of data", out)
    for session in (1, 2):
        assert re.search(rf"#{session}\s+S: 421 4\.3\.2 localhost Service shutting down", out)
    assert not any(maildir.rglob("*.*"))  # neither new/ nor tmp/ holds a file
    for path in (tmp_path / "home" / "server-recordings").glob("*.jsonl"):
        recording = read_recording(path)
        assert recording.footer is not None and recording.footer["outcome"] == "server stopped"


def test_busy_port_is_reported_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "smtpscope", "serve", "--port", str(port)],
            cwd=REPO,
            env=_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert result.returncode == 2
    assert result.stderr == (
        f"smtpscope serve: port {port} on 127.0.0.1 is already in use; pick another with --port\n"
    )


def test_second_serve_on_the_same_port(tmp_path: Path) -> None:
    proc, port, _ = _start(tmp_path / "one", "--port", "0", "--no-starttls")
    try:
        result = subprocess.run(
            [sys.executable, "-m", "smtpscope", "serve", "--port", str(port)],
            cwd=REPO,
            env=_env(tmp_path / "two"),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)
    assert result.returncode == 2
    assert "is already in use; pick another with --port" in result.stderr


def test_non_loopback_host_needs_listen_any(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("smtpscope serve: --host 0.0.0.0 is not a loopback address")
    assert "--listen-any" in err


def test_bad_fail_spec_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--fail", "RCPT:250"]) == 1
    assert "code 250 is not a failure" in capsys.readouterr().err


def test_bad_user_spec_never_echoes_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--user", "hunter2"]) == 1  # no password source: stdin is no tty
    err = capsys.readouterr().err
    assert "--password-env" in err and "hunter2" not in err


def test_live_printer_escapes_control_characters_and_markup() -> None:
    from rich.console import Console

    from smtpscope.cli.serve import LivePrinter
    from smtpscope.record import Transcript

    console = Console(record=True, width=200, color_system=None)
    printer = LivePrinter(console)
    transcript = Transcript()
    transcript.subscribe(lambda entry: printer(7, entry))
    transcript.add("client", "command", b"EHLO [bold]x\x1b[2J\n")
    transcript.add("server", "reply", b"250 ok\r\n", "250 ok", reply={"code": 250})
    lines = console.export_text().splitlines()
    assert lines[0].endswith(r"#7   C: EHLO [bold]x\x1b[2J\x0a")  # its bare LF shown
    assert lines[1].endswith("#7   S: 250 ok")
    assert len(lines) == 2


def _printed(*adds: tuple[str, str, bytes, dict[str, object]]) -> list[str]:
    from rich.console import Console

    from smtpscope.cli.serve import LivePrinter
    from smtpscope.record import Transcript

    console = Console(record=True, width=2000, color_system=None)
    printer = LivePrinter(console)
    transcript = Transcript()
    transcript.subscribe(lambda entry: printer(3, entry))
    for direction, kind, raw, extra in adds:
        transcript.add(direction, kind, raw, **extra)  # type: ignore[arg-type]
    return [line.split("#3   ", 1)[1] for line in console.export_text().splitlines()]


def test_live_printer_keeps_the_escapes_notes_were_made_with() -> None:
    from smtpscope.server.observe import content_warnings

    (warning,) = [w for w in content_warnings(b"a\n.\nb") if "look-alike" in w]
    lines = _printed(("local", "warning", warning.encode(), {"text": warning}),
                     ("client", "command", b"X\r\n", {"notes": (r"saw \x0d here",)}))
    assert lines[0].startswith(r"!! end-of-data look-alike in the content (\x0a.\x0a): "
                               r"aiosmtpd ends DATA only at \r\n.\r\n,")
    assert lines[1:] == ["C: X", r"-- saw \x0d here"]  # an entry's notes are printed too


def test_live_printer_shows_line_endings_other_than_crlf() -> None:
    content = b"line1\r\n.\nMAIL FROM:<evil@x>\r\nb\r.\r\n.\r\n"
    lines = _printed(("client", "content", content, {}),
                     ("client", "command", b"NOOP\n", {}))
    # The bare-LF "." carries its \x0a: only the real terminator is a bare ".".
    assert lines == ["C: line1", r"C: .\x0a", "C: MAIL FROM:<evil@x>", r"C: b\x0d.", "C: .",
                     r"C: NOOP\x0a"]


def test_live_printer_cuts_long_lines() -> None:
    from smtpscope.cli.serve import MAX_LINE_CHARS

    (line,) = _printed(("client", "command", b"A" * 65536 + b"\r\n", {}))
    assert line == "C: " + "A" * MAX_LINE_CHARS + f" … ({65536 - MAX_LINE_CHARS:,} more chars)"
