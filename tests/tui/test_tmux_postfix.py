"""The real app in a real terminal (tmux) against Postfix: pasted and hand-typed mail delivered.

This is the telnet test: what a person pastes or types reaches the server in order and the
message lands in the Maildir exactly as typed (Postfix only adds its trace headers on top).
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.peer

ROOT = Path(__file__).resolve().parents[2]


class Terminal:
    """One tmux session on a private server socket, 120x40, running a command."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.socket = f"smtpscope-test-{uuid.uuid4().hex[:8]}"
        self.name = "app"
        line = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        # Keep the pane open after the app ends, so its last screen can still be read.
        shell = f"env {line} {shlex.join(command)}; sleep 30"
        self.tmux("new-session", "-d", "-s", self.name, "-x", "120", "-y", "40", shell)

    def tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True,
                              text=True, timeout=10, check=True)
        return done.stdout

    def keys(self, *keys: str) -> None:
        """Everything in one send-keys call: no pause between the keys."""
        self.tmux("send-keys", "-t", self.name, *keys)

    def paste(self, text: str) -> None:
        """A bracketed paste, as a terminal emulator does it."""
        self.tmux("set-buffer", "-b", "paste", text)
        self.tmux("paste-buffer", "-p", "-d", "-b", "paste", "-t", self.name)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.name)

    def app_pids(self) -> list[int]:
        """The processes the pane's shell started (the app), by their parent's pid."""
        shell = self.tmux("display-message", "-p", "-t", self.name, "#{pane_pid}").strip()
        children = Path(f"/proc/{shell}/task/{shell}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def wait_for(self, text: str, timeout: float = 30.0, count: int = 1) -> str:
        deadline = time.monotonic() + timeout
        while True:
            shown = self.screen()
            if shown.count(text) >= count:
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} (x{count}) never appeared; screen:\n{shown}")
            time.sleep(0.1)

    def close(self) -> list[int]:
        """Hang up the terminal; the app processes still running 15 s later (killed)."""
        apps = self.app_pids() if self.running() else []
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True,
                       timeout=10, check=False)
        deadline = time.monotonic() + 15
        while any(Path(f"/proc/{pid}").exists() for pid in apps) and time.monotonic() < deadline:
            time.sleep(0.1)
        stuck = [pid for pid in apps if Path(f"/proc/{pid}").exists()]
        for pid in stuck:
            os.kill(pid, signal.SIGKILL)  # never left behind by a test
        return stuck

    def running(self) -> bool:
        done = subprocess.run(["tmux", "-L", self.socket, "has-session", "-t", self.name],
                              capture_output=True, timeout=10, check=False)
        return done.returncode == 0


@pytest.fixture
def terminal(mta, tmp_path: Path) -> Iterator[Terminal]:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    env = {"SMTPSCOPE_HOME": str(tmp_path / "home"), "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p), "TERM": "xterm-256color"}
    term = Terminal([sys.executable, "-m", "smtpscope", f"smtp://{mta.host}:{mta.smtp}"], env)
    try:
        yield term
    finally:
        stuck = term.close()
    # A hung-up terminal ends the app (SIGHUP), whatever it was doing: it used to hang for
    # ever in Textual's shutdown after a busy session, an orphan holding its connection.
    assert not stuck, "the app did not end after its terminal hung up"


def message_lines(token: str, to: str, subject: str) -> list[str]:
    """A complete message, so Postfix has no header to add inside it."""
    return ["From: Tester <tester@client.test>", f"To: {to}", f"Subject: {subject} {token}",
            "Date: Mon, 30 Nov 2026 12:00:00 +0000", f"Message-ID: <{token}@client.test>",
            "", "Hello over a real terminal.", "..a line that starts with a dot",
            "", "Last line.", "."]


def stored(lines: list[str]) -> bytes:
    """What the Maildir holds for typed ``lines``: LF line ends, one leading dot removed."""
    body = lines[:-1]  # the "." terminator is not part of the message
    return "".join((line[1:] if line.startswith(".") else line) + "\n"
                   for line in body).encode()


def test_pasted_envelope_and_hand_typed_message_reach_the_maildir(mta, terminal) -> None:
    to = mta.address("alice")
    term = terminal
    term.wait_for("S: 220")
    term.keys("EHLO tmux.test", "Enter")
    term.wait_for("250 CHUNKING")
    # 1. A pasted MAIL/RCPT/DATA block, then the message typed by hand, all without pauses.
    token1 = f"tmux-typed-{uuid.uuid4().hex[:8]}"
    term.paste(f"MAIL FROM:<tester@client.test>\nRCPT TO:<{to}>\nDATA\n")
    typed = message_lines(token1, to, "typed")
    keys: list[str] = []
    for line in typed:
        keys += ([line] if line else []) + ["Enter"]
    term.keys(*keys)
    first = mta.read_delivered("alice", match=token1.encode())
    # 2. The whole transaction pasted in one go, message included.
    token2 = f"tmux-pasted-{uuid.uuid4().hex[:8]}"
    pasted = message_lines(token2, to, "pasted")
    term.paste(f"MAIL FROM:<tester@client.test>\nRCPT TO:<{to}>\nDATA\n"
               + "\n".join(pasted) + "\n")
    second = mta.read_delivered("alice", match=token2.encode())
    term.keys("QUIT", "Enter")
    shown = term.wait_for("Connection closed")
    assert "failed" not in shown and "Traceback" not in shown

    for delivered, lines in ((first, typed), (second, pasted)):
        assert len(delivered) == 1, f"not delivered:\n{term.screen()}\n{mta.log_tail()}"
        data = delivered[0]
        expected = stored(lines)
        assert data.endswith(expected), (data, expected)
        # Above our bytes only Postfix's trace headers.
        added = data[: -len(expected)].decode().splitlines()
        names = {line.split(":", 1)[0] for line in added if line and line[0] not in " \t"}
        assert names <= {"Return-Path", "Delivered-To", "X-Original-To", "Received"}, names


def test_closing_the_terminal_ends_the_recording(mta, terminal, tmp_path: Path) -> None:
    # Killing the tmux server hangs up the terminal (SIGHUP): the app ends as Ctrl+Q ends it,
    # and the open session's recording gets its footer instead of reading as cut off.
    from smtpscope.record import read_recording

    terminal.wait_for("S: 220")
    terminal.keys("EHLO tmux.test", "Enter")
    terminal.wait_for("250 CHUNKING")
    [path] = (tmp_path / "home" / "recordings").glob("*.jsonl")
    assert read_recording(path).footer is None  # the session is still open
    terminal.close()
    deadline = time.monotonic() + 10
    while read_recording(path).footer is None and time.monotonic() < deadline:
        time.sleep(0.1)
    recording = read_recording(path)
    assert recording.footer is not None and recording.footer["outcome"] == "closed"
    assert not recording.problems


def test_a_held_line_goes_anyway_with_a_key_a_real_terminal_sends(mta, terminal) -> None:
    # Most terminals send Ctrl+Enter as Enter and Alt+Enter as ESC Enter, which reads as Enter:
    # the only "send anyway" key used to be unreachable there. Ctrl+O is a plain control byte.
    term = terminal
    term.wait_for("S: 220")
    term.keys("EHLO tmux.test", "Enter", "RCPT TO:<nobody@client.test>", "Enter", "C-o")
    shown = term.wait_for("S: 503")
    assert "C! RCPT TO:<nobody@client.test>" in shown  # sent, marked off-script
    assert "5.5.1" in shown.split("S: 503", 1)[1]  # Postfix: need MAIL command


def test_escape_then_a_command_in_one_go_closes_the_dialog_and_sends_it(mta, terminal) -> None:
    # The terminal sends Escape as ESC and the command right behind it, in one read: Textual
    # alone took both as one unknown escape sequence, so the dialog stayed open and the command
    # went into it with a "^" for the Escape.
    term = terminal
    term.wait_for("S: 220")
    term.keys("EHLO tmux.test", "Enter")
    term.wait_for("250 CHUNKING")
    term.keys("F4")
    term.wait_for("AUTH helper")
    sender = "MAIL FROM:<escape-then-typed@client.test>"  # longer than Textual's 32 characters
    term.keys("Escape", sender, "Enter", "RSET", "Enter")
    shown = term.wait_for("C: RSET")
    assert f"C: {sender}" in shown
    assert "AUTH helper" not in shown


def test_a_paste_with_an_escape_in_it_is_sent_as_pasted(mta, terminal) -> None:
    # Textual alone typed the text after a pasted ESC as keys, ahead of the paste: Postfix got
    # "^[31mred^[0m" first and hung up, and the pasted EHLO never went.
    term = terminal
    term.wait_for("S: 220")
    term.paste("EHLO tmux.test\nNOOP \x1b[31mred\x1b[0m\nRSET\n")
    shown = term.wait_for("S: 250", count=3)
    lines = [line for line in shown.splitlines() if line.startswith(("C", "S"))]
    assert [line[:72].rstrip() for line in lines if line.startswith("C")] == [
        "C: EHLO tmux.test", "C: NOOP \\x1b[31mred\\x1b[0m", "C: RSET"]


def test_keys_typed_as_the_app_starts_all_reach_the_server(mta, terminal) -> None:
    # Typed (or pasted by a script) the moment the command runs, before the first screen has
    # mounted and focused its input: the first key used to go to Textual's default screen,
    # and "EHLO" reached the server as "HLO".
    term = terminal
    term.keys("EHLO early.test", "Enter", "NOOP", "Enter")
    shown = term.wait_for("S: 250 2.0.0 Ok")
    assert "C: EHLO early.test" in shown
    assert "C: NOOP" in shown
    assert "HLO early.test" not in shown.replace("EHLO early.test", "")


def test_a_target_typed_before_the_app_started_connects(mta, tmp_path: Path) -> None:
    # Typed while the shell still starts the app, the keys go through the terminal's cooked
    # mode, which turns Enter's CR into LF: they reach the app as Ctrl+J. The connect screen
    # takes it as the Enter it was, as the session screen's composer does.
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    env = {"SMTPSCOPE_HOME": str(tmp_path / "home"), "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p), "TERM": "xterm-256color"}
    term = Terminal(["sh", "-c", f"sleep 1; exec {shlex.quote(sys.executable)} -m smtpscope"],
                    env)
    try:
        term.keys(f"{mta.host}:{mta.smtp}", "Enter", "EHLO cooked.test", "Enter")
        shown = term.wait_for("S: 250")
        assert "C: EHLO cooked.test" in shown
    finally:
        assert not term.close()
