"""Exported command lines run under the real swaks against Postfix; what they lose is listed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.peer,
    pytest.mark.skipif(shutil.which("swaks") is None, reason="swaks is not installed"),
]


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "smtpscope", *args], capture_output=True,
                          text=True, timeout=60, env={**os.environ, **(env or {})}, check=False)


def _record_export_replay(mta, tmp_path: Path, args: list[str], password: str | None = None
                          ) -> tuple[list[str], list[str], subprocess.CompletedProcess[str]]:
    record = tmp_path / "session.jsonl"
    env = {"PW": password} if password else None
    sent = _run("send", *args, "--record", str(record), env=env)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    exported = _run("export", str(record), "--as", "swaks")
    assert exported.returncode == 0, exported.stderr
    # bash parses the line ($'...' quoting carries the message's CR and LF)
    script = f"for a in {exported.stdout.strip()}; do printf '%s\\0' \"$a\"; done"
    words = subprocess.run(["bash", "-c", script], capture_output=True, check=True).stdout
    argv = [os.fsdecode(word) for word in words.split(b"\0")[:-1]]
    notes = exported.stderr.splitlines()
    assert all(n.startswith("smtpscope export: note: ") and len(n) > 30 for n in notes), notes
    extra = ["--auth-password", password] if password else []
    swaks = subprocess.run([*argv, *extra], capture_output=True, text=True, timeout=60,
                           check=False)
    return argv, notes, swaks


def _delivered(mta, user: str, token: str) -> list[bytes]:
    """Both deliveries (smtpscope's and swaks'), however Postfix orders them."""
    return mta.read_delivered(user, match=token.encode(), count=2)


def test_dsn_session_runs_under_swaks(mta, tmp_path: Path) -> None:
    token = uuid.uuid4().hex
    _argv, notes, swaks = _record_export_replay(mta, tmp_path, [
        f"{mta.host}:{mta.smtp}", "--cafile", str(mta.ca_file), "--from", mta.address("bob"),
        "--to", mta.address("alice"), "--dsn-notify", "success,failure", "--dsn-ret", "hdrs",
        "--envid", "id1", "--h-Subject", token])
    assert swaks.returncode == 0, swaks.stdout + swaks.stderr
    assert any("RET=HDRS" in n for n in notes) and any("ENVID=id1" in n for n in notes)
    assert any("NOTIFY=SUCCESS,FAILURE" in n for n in notes)
    assert len(_delivered(mta, "alice", token)) == 2


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "CRAM-MD5", "LOGIN"])
def test_auth_sessions_run_under_swaks(mta, tmp_path: Path, mechanism: str) -> None:
    token = uuid.uuid4().hex
    argv, notes, swaks = _record_export_replay(mta, tmp_path, [
        f"{mta.host}:{mta.submission}", "--cafile", str(mta.ca_file), "--auth", mechanism,
        "--user", "alice", "--password-env", "PW", "--from", mta.address("alice"),
        "--to", mta.address("bob"), "--h-Subject", token, "--pipeline"],
        password=mta.password("alice"))
    assert swaks.returncode == 0, swaks.stdout + swaks.stderr
    assert argv[argv.index("--auth-user") + 1] == "alice"
    assert "--pipeline" in argv
    assert ("SCRAM" in mechanism) == any("no AUTH SCRAM-SHA-256" in n for n in notes)
    assert "<~  235 2.7.0 Authentication successful" in swaks.stdout
    assert mta.password("alice") not in " ".join(argv)
    assert len(_delivered(mta, "bob", token)) == 2


def test_smtputf8_and_8bitmime_are_listed_not_dropped(mta, tmp_path: Path) -> None:
    token = uuid.uuid4().hex
    _argv, notes, swaks = _record_export_replay(mta, tmp_path, [
        f"{mta.host}:{mta.smtp}", "--cafile", str(mta.ca_file), "--smtputf8",
        "--from", mta.address("bob"), "--to", mta.address("alice"), "--h-Subject", token,
        "--body", "gr\u00fc\u00dfe"])
    assert swaks.returncode == 0, swaks.stdout + swaks.stderr
    assert any("SMTPUTF8" in n for n in notes)
    assert any("BODY=8BITMIME" in n for n in notes)
    assert any("parameter SIZE=" in n for n in notes)
    delivered = _delivered(mta, "alice", token)
    assert len(delivered) == 2 and all("gr\u00fc\u00dfe".encode() in m for m in delivered)


@pytest.mark.parametrize(("name", "flags"), [
    ("proxy", ["--proxy", "v1", "--proxy-source", "198.51.100.20:4444"]),
    ("proxy", ["--proxy", "v2", "--proxy-source", "198.51.100.21:4444"]),
    ("xclient", ["--xclient", "NAME=spoofed.example ADDR=192.0.2.33"]),
])
def test_proxy_and_xclient_sessions_run_under_swaks(mta, tmp_path: Path, name: str,
                                                    flags: list[str]) -> None:
    if name not in mta.ports:
        pytest.skip(f"this harness has no {name} listener")
    argv, notes, swaks = _record_export_replay(mta, tmp_path, [
        f"{mta.host}:{mta.ports[name]}", "--tls", "none", *flags, "--from", mta.address("bob"),
        "--to", mta.address("alice"), "--quit-after", "rcpt"])
    assert swaks.returncode == 0, swaks.stdout + swaks.stderr
    assert notes == [n for n in notes if "SIZE=" in n]  # nothing else lost
    if name == "xclient":
        assert " -> XCLIENT NAME=spoofed.example ADDR=192.0.2.33" in swaks.stdout
    else:
        claimed = flags[-1].partition(":")[0]
        assert argv[argv.index("--proxy-source") + 1] == claimed
        log = mta.logs["postfix"].read_text(errors="replace")
        assert log.count(f"connect from unknown[{claimed}]") >= 2  # smtpscope, then swaks


def test_lmtp_socket_session_runs_under_swaks(mta, tmp_path: Path) -> None:
    socket_path = mta.state.get("lmtp_socket")
    if not socket_path:
        pytest.skip("this harness has no LMTP socket")
    token = uuid.uuid4().hex
    argv, notes, swaks = _record_export_replay(mta, tmp_path, [
        f"lmtp:{socket_path}", "--from", mta.address("bob"), "--to", mta.address("alice"),
        "--h-Subject", token])
    assert swaks.returncode == 0, swaks.stdout + swaks.stderr
    assert argv[1:5] == ["--socket", str(socket_path), "--protocol", "LMTP"]
    assert all("parameter SIZE=" in n for n in notes)  # nothing but the declared size is lost
    assert len(_delivered(mta, "alice", token)) == 2


def test_lmtp_tcp_session_is_recorded_as_lmtp(mta, tmp_path: Path) -> None:
    from smtpscope.record.store import read_header, session_label

    token = uuid.uuid4().hex
    argv, _notes, swaks = _record_export_replay(mta, tmp_path, [
        f"lmtp://{mta.host}:{mta.lmtp}", "--from", mta.address("bob"),
        "--to", mta.address("alice"), "--h-Subject", token])
    assert swaks.returncode == 0, swaks.stdout + swaks.stderr
    assert argv.count("--protocol") == 1 and argv[argv.index("--protocol") + 1] == "LMTP"
    header = read_header(tmp_path / "session.jsonl")
    assert session_label(header) == f"LMTP {mta.host}:{mta.lmtp}"
    assert len(_delivered(mta, "alice", token)) == 2


def _swaks_sent(stdout: str) -> list[str]:
    return [line.split()[1].upper() for line in stdout.splitlines()
            if line.startswith((" -> ", " ~> "))]


@pytest.mark.parametrize("stop, sent", [
    ("starttls", ["EHLO", "STARTTLS", "QUIT"]),
    ("ehlo", ["EHLO", "STARTTLS", "EHLO", "QUIT"]),
    ("xclient", ["EHLO", "STARTTLS", "EHLO", "XCLIENT", "QUIT"]),
    ("auth", ["EHLO", "STARTTLS", "EHLO", "XCLIENT", "EHLO", "QUIT"]),
])
def test_a_session_stopped_at_a_stop_point_runs_the_same_under_swaks(
        mta, tmp_path: Path, stop: str, sent: list[str]) -> None:
    from smtpscope.record.store import read_recording

    if "xclient" not in mta.ports:
        pytest.skip("this harness has no xclient listener")
    _argv, _notes, swaks = _record_export_replay(mta, tmp_path, [
        f"{mta.host}:{mta.ports['xclient']}", "--tls", "starttls", "--cafile", str(mta.ca_file),
        "--xclient", "ADDR=192.0.2.34", "--from", mta.address("bob"),
        "--to", mta.address("alice"), "--quit-after", stop])
    assert swaks.returncode == 0, swaks.stdout + swaks.stderr
    entries = read_recording(tmp_path / "session.jsonl").entries
    ours = [e.text.split()[0].upper() for e in entries if e.direction == "client"]
    assert ours == sent and _swaks_sent(swaks.stdout) == sent
