"""Session control of ``smtpscope send`` against Postfix: optional AUTH, drops, XCLIENT, PROXY."""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import threading
import time
import uuid

import pytest

from smtpscope.stop_points import DROP_POINTS, QUIT_POINTS, StopPoint, names
from smtpscope.transport import proxy as proxy_header


def test_proxy_headers_follow_the_haproxy_spec() -> None:
    v1 = proxy_header.build(1, ("198.51.100.7", 4444), ("127.0.0.1", 25))
    assert v1 == b"PROXY TCP4 198.51.100.7 127.0.0.1 4444 25\r\n"
    v6 = proxy_header.build(1, ("2001:db8::1", 1), ("::1", 2))
    assert v6 == b"PROXY TCP6 2001:db8::1 ::1 1 2\r\n"
    v2 = proxy_header.build(2, ("198.51.100.7", 4444), ("127.0.0.1", 25))
    assert v2 == (b"\r\n\r\n\x00\r\nQUIT\n" + b"\x21\x11\x00\x0c" + bytes([198, 51, 100, 7])
                  + bytes([127, 0, 0, 1]) + (4444).to_bytes(2, "big") + (25).to_bytes(2, "big"))
    with pytest.raises(proxy_header.ProxyError):
        proxy_header.build(1, ("198.51.100.7", 1), ("::1", 2))


def _log_lines(mta, needle: str, wait: float = 30.0, since: int = 0) -> list[str]:
    """Postfix log lines holding ``needle``, written after byte ``since`` of the log; waits
    up to ``wait`` seconds for one to appear."""
    deadline = time.monotonic() + wait
    while True:
        with mta.logs["postfix"].open("rb") as log:
            log.seek(since)
            text = log.read().decode(errors="replace")
        lines = [ln for ln in text.splitlines() if needle in ln]
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


def _port(mta, name: str) -> int:
    if name not in mta.ports:
        pytest.skip(f"this harness has no {name} listener (restart it from this tree)")
    return mta.ports[name]


def test_local_port_is_the_source_port(cli) -> None:
    seen: list[tuple[str, int]] = []
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)

        def answer() -> None:
            conn, addr = server.accept()
            seen.append(addr)
            conn.sendall(b"554 5.3.2 not today\r\n")
            conn.recv(100)
            conn.close()

        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            local_port = probe.getsockname()[1]
        result = cli("send", f"127.0.0.1:{server.getsockname()[1]}", "--from", "a@x.test",
                     "--to", "b@y.test", "--local-interface", "127.0.0.1",
                     "--local-port", str(local_port), "-4")
        thread.join(5)
    assert result.code == 21  # the banner was not 220
    assert seen == [("127.0.0.1", local_port)]


def test_ipv6_only_cannot_reach_an_ipv4_literal(cli) -> None:
    result = cli("send", "127.0.0.1:9", "-6", "--from", "a@x.test", "--to", "b@y.test")
    assert result.code == 2



@pytest.mark.peer
def test_local_interface_is_what_postfix_sees(mta, cli) -> None:
    since = mta.logs["postfix"].stat().st_size
    result = cli("send", f"{mta.host}:{mta.smtp}", "--tls", "none", "--local-interface",
                 "127.0.0.2", "--from", mta.address("bob"), "--to", mta.address("alice"),
                 "--quit-after", "ehlo")
    assert result.code == 0, result.err
    # Named "localhost" or "unknown", as the resolver has it: the address is what counts.
    assert [line for line in _log_lines(mta, "[127.0.0.2]", since=since)
            if "connect from " in line]


@pytest.mark.peer
def test_auth_optional_goes_on_without_auth(mta, cli, monkeypatch) -> None:
    monkeypatch.setenv("UNUSED_PW_VAR", "never-sent")
    token = uuid.uuid4().hex
    result = cli("send", f"{mta.host}:{mta.small}", "--auth-optional", "--user", "alice",
                 "--password-env", "UNUSED_PW_VAR", "--from", mta.address("bob"),
                 "--to", mta.address("alice"), "--h-Subject", token)
    assert result.code == 0, result.out + result.err
    assert "not offered: going on without authenticating" in result.out
    assert "C: AUTH" not in result.out and "never-sent" not in result.out
    assert mta.read_delivered("alice", match=token.encode())


@pytest.mark.peer
def test_auth_optional_strict_fails_when_auth_is_refused(mta, cli, monkeypatch) -> None:
    monkeypatch.setenv("PW", "wrong-password")
    result = cli("send", f"{mta.host}:{mta.submission}", "--cafile", str(mta.ca_file),
                 "--auth-optional-strict", "PLAIN", "--user", "alice", "--password-env", "PW",
                 "--from", mta.address("bob"), "--to", mta.address("alice"))
    assert result.code == 28
    assert "535" in result.err and "C: MAIL" not in result.out


@pytest.mark.peer
def test_drop_after_send_rcpt_closes_without_quit(mta, cli) -> None:
    result = cli("send", f"{mta.host}:{mta.small}", "--drop-after-send", "rcpt",
                 "--from", mta.address("bob"), "--to", mta.address("alice"))
    assert result.code == 0, result.err
    out = result.out.splitlines()
    assert out[-1].startswith("-- Dropping the connection after sending rcpt")
    assert "C: QUIT" not in out and not any(ln.startswith("S: 250 2.1.5") for ln in out)
    assert _log_lines(mta, "lost connection after RCPT from")


@pytest.mark.peer
def test_drop_after_data_leaves_no_message(mta, cli) -> None:
    token = uuid.uuid4().hex
    result = cli("send", f"{mta.host}:{mta.small}", "--drop-after", "data", "--from",
                 mta.address("bob"), "--to", mta.address("alice"), "--h-Subject", token)
    assert result.code == 0, result.err
    assert "S: 354 End data with <CR><LF>.<CR><LF>" in result.out
    assert "C: QUIT" not in result.out
    assert _log_lines(mta, "lost connection after DATA")
    assert mta.read_delivered("alice", wait=1.0, match=token.encode()) == []


@pytest.mark.peer
def test_xclient_then_ehlo_again_postfix_logs_the_claimed_client(mta, cli) -> None:
    port = _port(mta, "xclient")
    token = uuid.uuid4().hex
    addr = f"192.0.2.{random.randint(2, 250)}"
    result = cli("send", f"{mta.host}:{port}", "--tls", "none", "--xclient",
                 f"NAME=spoofed.example ADDR={addr}", "--from", mta.address("bob"),
                 "--to", mta.address("alice"), "--h-Subject", token)
    assert result.code == 0, result.out + result.err
    out = result.out.splitlines()
    # A known command, on script: no off-script mark, no note.
    xclient = out.index(f"C: XCLIENT NAME=spoofed.example ADDR={addr}")
    assert out[xclient + 1].startswith("S: 220 ")  # a new greeting
    assert out[xclient + 2] == "C: EHLO smtpscope.localhost"
    assert _log_lines(mta, f"client=spoofed.example[{addr}]")
    [delivered] = mta.read_delivered("alice", match=token.encode())
    assert f"spoofed.example [{addr}]".encode() in delivered


@pytest.mark.peer
def test_xclient_not_offered_exits_33(mta, cli) -> None:
    result = cli("send", f"{mta.host}:{mta.small}", "--xclient", "ADDR=192.0.2.1",
                 "--from", mta.address("bob"), "--to", mta.address("alice"))
    assert result.code == 33
    assert "does not advertise XCLIENT" in result.err


@pytest.mark.peer
@pytest.mark.parametrize("version", ["v1", "v2"])
def test_proxy_header_postfix_sees_the_claimed_source(mta, cli, version: str) -> None:
    port = _port(mta, "proxy")
    addr = f"198.51.100.{random.randint(2, 250)}"
    result = cli("send", f"{mta.host}:{port}", "--tls", "none", "--proxy", version,
                 "--proxy-source", f"{addr}:4444", "--from", mta.address("bob"),
                 "--to", mta.address("alice"), "--quit-after", "mail")
    assert result.code == 0, result.out + result.err
    if version == "v1":
        assert f"C! PROXY TCP4 {addr} 127.0.0.1 4444 {port}" in result.out
    else:
        assert "C! [binary, hex] 0d 0a 0d 0a 00 0d 0a 51 55 49 54 0a 21 11" \
            in result.out
    assert _log_lines(mta, f"connect from unknown[{addr}]")


@pytest.mark.peer
def test_proxy_listener_drops_a_client_without_the_header(mta, cli) -> None:
    port = _port(mta, "proxy")
    result = cli("send", f"{mta.host}:{port}", "--tls", "none", "--timeout", "10",
                 "--from", mta.address("bob"), "--to", mta.address("alice"))
    assert result.code in (6, 21)  # no banner: closed or garbage instead of 220


@pytest.mark.peer
def test_probe_through_the_proxy_listener_from_a_local_interface(mta, cli) -> None:
    import json

    port = _port(mta, "proxy")
    addr = f"198.51.100.{random.randint(2, 250)}"
    result = cli("probe", f"{mta.host}:{port}", "--proxy", "v1", "--proxy-source",
                 f"{addr}:5555", "--local-interface", "127.0.0.4", "--cafile",
                 str(mta.ca_file), "--json")
    data = json.loads(result.out)
    assert result.code == 0 and data["status"] == "success", result.err
    assert data["tls"] is not None
    assert _log_lines(mta, f"connect from unknown[{addr}]")


def test_tui_takes_the_connection_flags() -> None:
    from smtpscope.cli import tui as tui_cli

    args = tui_cli.build_parser().parse_args(
        ["127.0.0.1:25", "--proxy", "v2", "--proxy-source", "192.0.2.1:1", "-4",
         "--local-interface", "127.0.0.2"])
    from smtpscope.cli.send_session import apply
    from smtpscope.session_types import SessionOptions

    options = SessionOptions(host="127.0.0.1", port=25)
    apply(args, options)
    assert options.local_addr == ("127.0.0.2", 0)
    assert options.preamble.startswith(proxy_header.V2_SIGNATURE)
    assert options.family == socket.AF_INET


def test_send_refuses_a_bad_xclient_before_connecting(cli) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(0.5)
        port = listener.getsockname()[1]
        result = cli("send", f"127.0.0.1:{port}", "--tls", "none", "--xclient",
                     "NAME=a\r\nRSET", "--from", "a@example.test", "--to", "b@example.test")
        assert result.code == 1
        assert "--xclient: XCLIENT attribute 'RSET' is not NAME=VALUE" in result.err
        with pytest.raises(TimeoutError):
            listener.accept()  # nothing connected


def _swaks(mta, *args: str) -> list[str]:
    """What swaks sends with ``args`` on the STARTTLS port: each verb, and "<tls>"."""
    done = subprocess.run(
        ["swaks", "--server", f"{mta.host}:{mta.smtp}", "-tls", "--tls-verify", "--tls-ca-path",
         str(mta.ca_file), "--from", mta.address("bob"), "--to", mta.address("alice"), *args],
        capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return ["<tls>" if line.startswith("=== TLS started") else line.split()[1].upper()
            for line in done.stdout.splitlines()
            if line.startswith((" -> ", " ~> ", "=== TLS started"))]


@pytest.mark.peer
@pytest.mark.skipif(shutil.which("swaks") is None, reason="swaks is not installed")
@pytest.mark.parametrize("args", [
    *(("--quit-after", name) for name in names(QUIT_POINTS) if name != StopPoint.XCLIENT),
    *(("--drop-after", p) for p in DROP_POINTS if p not in (StopPoint.XCLIENT, StopPoint.DOT)),
    # swaks never drops on connect, nor on auth without --auth: it sends the message
    *(("--drop-after-send", p) for p in DROP_POINTS if p not in (
        StopPoint.CONNECT, StopPoint.XCLIENT, StopPoint.AUTH, StopPoint.DOT)),
], ids=" ".join)
def test_stop_points_send_what_swaks_sends(mta, cli, args: tuple[str, str]) -> None:
    result = cli("send", f"{mta.host}:{mta.smtp}", "--tls", "starttls", "--cafile",
                 str(mta.ca_file), "--from", mta.address("bob"), "--to", mta.address("alice"),
                 *args)
    assert result.code == 0, result.err
    ours = ["<tls>" if line.startswith("-- TLS started") else line.split()[1].upper()
            for line in result.out.splitlines() if line.startswith(("C: ", "-- TLS started"))]
    assert ours == _swaks(mta, *args)
