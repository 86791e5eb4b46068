"""The TUI's --xclient and --proxy flags and connect-screen fields against real Postfix."""

from __future__ import annotations

import random
import time

import pytest

from smtpscope.tui.app import SmtpScopeApp
from smtpscope.tui.screens.session import SessionScreen
from tests.tui.test_connect_screen import app_from_command_line
from tests.tui.test_key_order import until

pytestmark = pytest.mark.peer

SIZE = (120, 50)


def _port(mta, name: str) -> int:
    if name not in mta.ports:
        pytest.skip(f"this harness has no {name} listener (restart it from this tree)")
    return mta.ports[name]


def _logged(mta, needle: str, wait: float = 30.0) -> list[str]:
    deadline = time.monotonic() + wait
    while True:
        lines = [ln for ln in mta.logs["postfix"].read_text(errors="replace").splitlines()
                 if needle in ln]
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


def _lines(app: SmtpScopeApp) -> list[str]:
    screen = app.screen
    if not isinstance(screen, SessionScreen) or screen.session is None:
        return []
    return [e.text.rstrip("\r\n") for e in screen.session.transcript]


def _codes(app: SmtpScopeApp) -> list[int]:
    screen = app.screen
    if not isinstance(screen, SessionScreen) or screen.session is None:
        return []
    return [e.code for e in screen.session.transcript if e.kind == "reply" and e.code]


async def test_xclient_flag_postfix_takes_the_claimed_client(mta, monkeypatch) -> None:
    port = _port(mta, "xclient")
    addr = f"192.0.2.{random.randint(2, 250)}"
    app = app_from_command_line(monkeypatch, [
        f"{mta.host}:{port}", "--tls", "none",
        "--xclient", f"NAME=spoofed-tui.example ADDR={addr}"])
    async with app.run_test(size=SIZE) as pilot:
        # Banner, EHLO, XCLIENT (a new 220 greeting), EHLO again.
        await until(pilot, lambda: _codes(app)[:4] == [220, 250, 220, 250])
        lines = _lines(app)
        at = lines.index(f"XCLIENT NAME=spoofed-tui.example ADDR={addr}")
        assert lines[at - 1].startswith("250")  # after the first EHLO's reply
        assert lines[at + 2] == "EHLO smtpscope.localhost"
        # Postfix logs the client of a transaction once a recipient is accepted.
        await pilot.press(*f"MAIL FROM:<{mta.address('bob')}>", "enter",
                          *f"RCPT TO:<{mta.address('alice')}>", "enter")
        await until(pilot, lambda: len(_codes(app)) >= 6)
        assert _codes(app)[4:6] == [250, 250]
        assert _logged(mta, f"client=spoofed-tui.example[{addr}]")


async def test_proxy_v1_flag_postfix_sees_the_claimed_source(mta, monkeypatch) -> None:
    port = _port(mta, "proxy")
    addr = f"198.51.100.{random.randint(2, 250)}"
    app = app_from_command_line(monkeypatch, [
        f"{mta.host}:{port}", "--tls", "none", "--proxy", "v1",
        "--proxy-source", f"{addr}:4444"])
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: _codes(app)[:1] == [220])
        lines = _lines(app)
        header = lines.index(f"PROXY TCP4 {addr} 127.0.0.1 4444 {port}")
        assert header < next(i for i, t in enumerate(lines) if t.startswith("220 "))
        assert _logged(mta, f"connect from unknown[{addr}]")


async def test_connect_screen_proxy_v2_typed_postfix_sees_the_claimed_source(mta) -> None:
    from smtpscope.tui.app import create_app

    port = _port(mta, "proxy")
    addr = f"198.51.100.{random.randint(2, 250)}"
    app = create_app(initial_target="")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        # Target, then Tab past port, timeout, security, HELO, CA file, verify and the two
        # buttons to the folded section; open it, pick v2, claim the client, Enter to connect.
        await pilot.press(*f"{mta.host}:{port}", *["tab"] * 9, "enter", "tab",
                          "enter", "down", "down", "enter", "tab", *f"{addr}:5555", "enter")
        await until(pilot, lambda: _codes(app)[:1] == [220])
        v2 = "[binary, hex] 0d 0a 0d 0a 00 0d 0a 51 55 49 54 0a 21 11 00 0c"
        assert any(t.startswith(v2) for t in _lines(app))
        assert _logged(mta, f"connect from unknown[{addr}]")
        await pilot.press("f2")
        await until(pilot, lambda: len(_codes(app)) >= 2)
        assert _codes(app)[1] == 250


async def test_xclient_after_starttls_inside_tls(mta, monkeypatch) -> None:
    port = _port(mta, "xclient")
    addr = f"192.0.2.{random.randint(2, 250)}"
    app = app_from_command_line(monkeypatch, [
        f"{mta.host}:{port}", "--tls", "starttls", "--cafile", str(mta.ca_file),
        "--xclient", f"NAME=tls-tui.example ADDR={addr}"])
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(_codes(app)) >= 6)
        assert _codes(app)[:6] == [220, 250, 220, 250, 220, 250]
        screen = app.screen
        assert isinstance(screen, SessionScreen) and screen.session is not None
        assert screen.session.view.tls is not None
        commands = [e.text.split()[0] for e in screen.session.transcript
                    if e.direction == "client"]
        assert commands == ["EHLO", "STARTTLS", "EHLO", "XCLIENT", "EHLO"]
        await pilot.press(*f"MAIL FROM:<{mta.address('bob')}>", "enter",
                          *f"RCPT TO:<{mta.address('alice')}>", "enter")
        await until(pilot, lambda: len(_codes(app)) >= 8)
        assert _codes(app)[6:8] == [250, 250]
        assert _logged(mta, f"client=tls-tui.example[{addr}]")
