"""Keys sent in one burst on every dialog land as typed slowly would: fields, then the wire."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from textual.widgets import Input, Select

from smtpscope.auth.cram_md5 import cram_md5_digest
from smtpscope.server.demo import open_demo_server
from smtpscope.session import SessionOptions
from smtpscope.tui.app import create_app
from smtpscope.tui.screens.auth_exchange import Phase
from smtpscope.tui.screens.auth_helper import AuthHelperScreen
from smtpscope.tui.screens.certificate import UntrustedCertificateScreen
from smtpscope.tui.screens.session import SessionScreen
from smtpscope.tui.widgets.composer import Composer
from smtpscope.tui.widgets.data_editor import DataEditor
from tests.tui.test_auth_helper import (
    CRAM_CHALLENGE,
    PASSWORD,
    USER,
    ScriptedServer,
    assert_no_secrets,
)
from tests.tui.test_key_order import SIZE, app_for, burst, replies
from tests.tui.test_session_screen import replies as screen_replies
from tests.tui.waiting import until
from tests.tui.wire_server import WireServer


class _Recording:
    """A stream reader that keeps every line the client sent."""

    def __init__(self, reader: asyncio.StreamReader, lines: list[bytes]) -> None:
        self.reader, self.lines = reader, lines

    async def readline(self) -> bytes:
        line = await self.reader.readline()
        if line:
            self.lines.append(line)
        return line


@dataclass
class AuthServer(ScriptedServer):
    """The AUTH helper tests' server, keeping the bytes it received."""

    wire: list[bytes] = field(default_factory=list)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await super()._client(_Recording(reader, self.wire), writer)  # type: ignore[arg-type]


@pytest.fixture
async def auth_server() -> AsyncIterator[AuthServer]:
    server = AuthServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def _ehloed(pilot: Any, server: ScriptedServer) -> SessionScreen:
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, SessionScreen)
                and app.screen.session is not None and app.screen.session.greeting is not None)
    screen = app.screen
    screen.action_ehlo()
    await until(pilot, lambda: screen.session.conn.capabilities is not None)
    return screen


async def test_auth_helper_filled_and_run_in_one_burst(auth_server: AuthServer) -> None:
    """F4, the mechanism and mode picked in their selects, the user and password typed, Start:
    one burst; then Escape and a command in another."""
    app = create_app(options=SessionOptions("127.0.0.1", auth_server.port, security="plain"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await _ehloed(pilot, auth_server)
        burst(app, "f4", "shift+tab", "shift+tab", "shift+tab",
              "enter", "up", "enter", "tab", "enter", "down", "enter", "tab", "tab",
              *USER, "tab", *PASSWORD, "ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, AuthHelperScreen)
                    and app.screen.phase is Phase.DONE)
        helper = app.screen
        assert helper.query_one("#auth-mech", Select).value == "CRAM-MD5"
        assert helper.query_one("#auth-mode", Select).value == "auto"
        assert helper.query_one("#auth-user", Input).value == USER
        assert helper.query_one("#auth-password", Input).value == PASSWORD
        assert helper.final_reply is not None and helper.final_reply.code == 235
        shot = app.export_screenshot()
        burst(app, "escape", *"NOOP", "enter")
        await until(pilot, lambda: app.screen is screen and auth_server.wire[-1:] == [b"NOOP\r\n"])
        digest = cram_md5_digest(PASSWORD, CRAM_CHALLENGE)
        assert auth_server.wire[1:] == [
            b"AUTH CRAM-MD5\r\n",
            base64.b64encode(f"{USER} {digest}".encode()) + b"\r\n",
            b"NOOP\r\n",
        ]
        assert_no_secrets({"helper": shot, "session": app.export_screenshot()},
                          [PASSWORD, *auth_server.secrets])


async def test_auth_helper_stepped_with_the_decoder_in_bursts(
        auth_server: AuthServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Step mode: the form and Start, Enter sending the AUTH line, in one burst; at the
    challenge, Ctrl+O (the decoder shows it), Escape, Enter sending the answer, in another."""
    from smtpscope.tui.screens.decoder import DecoderScreen

    decoded: list[str | None] = []
    close = DecoderScreen.action_close
    monkeypatch.setattr(DecoderScreen, "action_close", lambda self: (
        decoded.append(self.decoded.kind if self.decoded else None), close(self)))
    app = create_app(options=SessionOptions("127.0.0.1", auth_server.port, security="plain"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await _ehloed(pilot, auth_server)
        burst(app, "f4", "shift+tab", "shift+tab", "shift+tab", "enter", "up", "enter",
              "tab", "tab", "tab", *USER, "tab", *PASSWORD, "ctrl+s", "enter")
        await until(pilot, lambda: isinstance(app.screen, AuthHelperScreen)
                    and app.screen.phase is Phase.WAITING
                    and len(app.screen.step_views) == 2)
        helper = app.screen
        burst(app, "ctrl+o", "escape", "enter")
        await until(pilot, lambda: helper.phase is Phase.DONE)
        assert decoded == ["cram-md5-challenge"]
        assert helper.final_reply is not None and helper.final_reply.code == 235
        digest = cram_md5_digest(PASSWORD, CRAM_CHALLENGE)
        assert auth_server.wire[1:] == [
            b"AUTH CRAM-MD5\r\n",
            base64.b64encode(f"{USER} {digest}".encode()) + b"\r\n",
        ]
        shot = app.export_screenshot()
        burst(app, "escape", *"NOOP", "enter")
        await until(pilot, lambda: app.screen is screen and auth_server.wire[-1:] == [b"NOOP\r\n"])
        assert_no_secrets({"helper": shot, "session": app.export_screenshot()},
                          [PASSWORD, digest, *auth_server.secrets])


# -- the DATA editor ---------------------------------------------------------------------------


@pytest.fixture
async def wire() -> AsyncIterator[WireServer]:
    server = await WireServer(chunking=True).start()
    try:
        yield server
    finally:
        await server.stop()


async def _ehlo(pilot: Any) -> None:
    burst(pilot.app, *"EHLO x.test", "enter")
    await until(pilot, lambda: replies(pilot.app) == [220, 250])


def _no_editor_and_empty(app: Any) -> bool:
    return not isinstance(app.screen, DataEditor) and \
        app.screen.query_one(Composer).input.value == ""


async def test_new_message_written_switched_to_bdat_and_sent_in_one_burst(
        wire: WireServer) -> None:
    """Ctrl+N, a header line typed at the top, Tab past "verbatim" to "use BDAT", Space, Tab
    to Send, Enter, then a command: the message goes with BDAT, the command after it."""
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await _ehlo(pilot)
        burst(app, "ctrl+n", "ctrl+a", "shift+down", "shift+down", "shift+down",
              *"From: ann@x.test", "enter", *"To: bob@x.test", "enter",
              "tab", "tab", "space", "tab", "enter", *"NOOP", "enter")
        await until(pilot, lambda: wire.commands()[-1:] == ["NOOP"])
        size = len(wire.messages[0])
        assert wire.commands()[1:] == [f"MAIL FROM:<ann@x.test> SIZE={size}",
                                       "RCPT TO:<bob@x.test>", f"BDAT {size} LAST", "NOOP"]
        assert wire.messages[0].startswith(b"From: ann@x.test\r\nTo: bob@x.test\r\n")
        assert b"Subject: smtpscope test\r\n" in wire.messages[0]
        assert _no_editor_and_empty(app)


# MAIL, RCPT and DATA typed with no pause, each ended with Enter.
_TRANSACTION = ["MAIL FROM:<ann@x.test>", "RCPT TO:<bob@x.test>", "DATA"]
_TRANSACTION_KEYS = [key for line in _TRANSACTION for key in (*line, "enter")]


async def test_ctrl_n_typed_ahead_of_the_354_opens_the_editor_for_it(wire: WireServer) -> None:
    """MAIL, RCPT, DATA, Ctrl+N and the message typed before any reply: the editor waits for
    the 354 (it is the one for that DATA, not a new transaction) and takes every key typed
    after Ctrl+N; Ctrl+S sends it and the command after goes once it is accepted."""
    wire.delay = 0.2
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await _ehlo(pilot)
        burst(app, *_TRANSACTION_KEYS, "ctrl+n", *"X-Typed: ahead", "enter", "ctrl+s",
              *"NOOP", "enter")
        await until(pilot, lambda: wire.commands()[-1:] == ["NOOP"])
        assert wire.commands()[1:] == [*_TRANSACTION, "NOOP"]
        [message] = wire.messages
        assert message.startswith(b"X-Typed: ahead\r\n")
        assert b"From: ann@x.test\r\nTo: bob@x.test\r\n" in message  # the envelope sent
        await until(pilot, lambda: replies(app)[-3:] == [354, 250, 250])
        assert _no_editor_and_empty(app)


async def test_ctrl_n_ahead_of_a_refused_data_leaves_the_keys_to_the_composer(
        wire: WireServer) -> None:
    wire.data_reply = "554 5.5.1 no valid recipients"
    wire.delay = 0.1
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await _ehlo(pilot)
        burst(app, *_TRANSACTION_KEYS, "ctrl+n", *"RSET", "enter")
        await until(pilot, lambda: wire.commands()[-1:] == ["RSET"])
        assert wire.commands()[1:] == [*_TRANSACTION, "RSET"]
        await until(pilot, lambda: replies(app)[-1:] == [250])
        assert _no_editor_and_empty(app)


# -- the untrusted-certificate dialog ---------------------------------------------------------


async def test_certificate_answered_and_a_command_typed_in_one_burst() -> None:
    """Tab to Continue, Enter, and a command, in one read: the command goes on the TLS
    session, after the EHLO that continuing starts; nothing of it reaches the dialog."""
    from tests.tui.test_untrusted_dialog import after_ehlo, armed, untrusted_app

    demo = await open_demo_server()
    try:
        app = untrusted_app(demo)
        async with app.run_test(size=SIZE) as pilot:
            screen = await after_ehlo(pilot)
            burst(app, "f3")
            await until(pilot, lambda: isinstance(app.screen, UntrustedCertificateScreen))
            await armed(pilot, app.screen)
            burst(app, "tab", "enter", *"MAIL FROM:<cd@example.test>", "enter")
            await until(pilot, lambda: len(screen_replies(screen)) == 5)
            sent = [e.text.rstrip() for e in screen.session.transcript if e.kind == "command"]
            assert sent[-3:] == ["STARTTLS", "EHLO smtpscope.localhost",
                                 "MAIL FROM:<cd@example.test>"]
            assert screen.session.tls is not None and screen.session.tls.trust == "untrusted"
            assert screen_replies(screen)[-1] == 250 and _no_editor_and_empty(app)
    finally:
        await demo.aclose()


async def test_certificate_refused_by_escape_then_f5_typed_in_one_burst() -> None:
    """Escape (disconnect), F5 and Escape right after: the reconnect dialog opens over the
    session (not over the closing certificate dialog) and the second Escape closes it."""
    from smtpscope.tui.screens.reconnect import ReconnectDialog
    from tests.tui.test_untrusted_dialog import after_ehlo, armed, untrusted_app

    demo = await open_demo_server()
    try:
        app = untrusted_app(demo)
        async with app.run_test(size=SIZE) as pilot:
            screen = await after_ehlo(pilot)
            dialogs: list[type] = []
            push = app.push_screen
            app.push_screen = lambda dialog, *a, **k: (  # type: ignore[method-assign]
                dialogs.append(type(dialog)), push(dialog, *a, **k))[1]
            burst(app, "f3")
            await until(pilot, lambda: isinstance(app.screen, UntrustedCertificateScreen))
            await armed(pilot, app.screen)
            burst(app, "escape", "f5", "escape")
            await until(pilot, lambda: screen.session is not None and not screen.session.is_open)
            await until(pilot, lambda: len(dialogs) == 2 and app.screen is screen
                        and app.focused is not None and app.focused.id == "composer-input")
            assert dialogs == [UntrustedCertificateScreen, ReconnectDialog]
    finally:
        await demo.aclose()


# -- history, the decoder, the line viewer, help: open, move, close, then a command ------------


def _closed(monkeypatch: pytest.MonkeyPatch, app: Any) -> list[tuple[str, Any]]:
    """Every screen popped, with what had the focus on it as it closed."""
    closed: list[tuple[str, Any]] = []
    pop = type(app).pop_screen

    def recording_pop(self: Any) -> Any:
        focused = self.screen.focused
        closed.append((type(self.screen).__name__, focused.id if focused else None))
        return pop(self)

    monkeypatch.setattr(type(app), "pop_screen", recording_pop)
    return closed


async def _typed_then_noop(pilot: Any, wire: WireServer, *keys: str) -> None:
    app = pilot.app
    sent = len(wire.commands())
    burst(app, *keys, *"NOOP", "enter")
    await until(pilot, lambda: wire.commands()[sent:] == ["NOOP"])
    await until(pilot, lambda: replies(app)[-1:] == [250] and len(replies(app)) > sent)
    assert _no_editor_and_empty(app)
    assert isinstance(app.focused, Input) and app.focused.id == "composer-input"


async def test_history_replay_stepped_and_closed_in_one_burst(
        wire: WireServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from smtpscope.tui.screens.replay import ReplayScreen

    monkeypatch.setenv("SMTPSCOPE_HOME", str(tmp_path))
    positions: list[int] = []
    close = ReplayScreen.action_close
    monkeypatch.setattr(ReplayScreen, "action_close",
                        lambda self: (positions.append(self.position), close(self)))
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await _ehlo(pilot)
        closed = _closed(monkeypatch, app)
        # F9, Enter opens this session's recording, s goes to its start, n n steps twice.
        await _typed_then_noop(pilot, wire, "f9", "enter", "s", "n", "n", "escape", "escape")
        assert positions == [2]
        assert closed == [("ReplayScreen", "transcript"), ("HistoryScreen", "history")]


async def test_decoder_filled_and_closed_in_one_burst(
        wire: WireServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from smtpscope.tui.screens.decoder import DecoderScreen

    seen: list[tuple[str, Any, bool, str | None]] = []
    close = DecoderScreen.action_close

    def recording_close(self: DecoderScreen) -> None:
        seen.append((self.query_one("#decoder-input", Input).value,
                     self.query_one("#decoder-mech", Select).value, self.reveal,
                     self.decoded.kind if self.decoded else None))
        close(self)

    monkeypatch.setattr(DecoderScreen, "action_close", recording_close)
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await _ehlo(pilot)
        blob = base64.b64encode(b"\0alice\0s3cret").decode()
        # F12, the blob pasted as keys, Tab to the mechanism, the first one after "any"
        # (PLAIN), Ctrl+R twice (shown, hidden again), Escape.
        await _typed_then_noop(pilot, wire, "f12", *blob, "tab", "enter", "down", "enter",
                               "ctrl+r", "ctrl+r", "escape")
        assert seen == [(blob, "PLAIN", False, "plain")]
        assert "s3cret" not in app.export_screenshot()


async def test_a_wide_line_viewed_and_closed_in_one_burst(
        wire: WireServer, monkeypatch: pytest.MonkeyPatch) -> None:

    wide = "NOOP " + "w" * 200
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await _ehlo(pilot)
        burst(app, *wide, "enter")
        await until(pilot, lambda: len(replies(app)) == 3)
        closed = _closed(monkeypatch, app)
        # Escape to the transcript (its last line selected), Up to the wide command, Enter
        # opens it whole, q closes it, Escape goes back to the composer.
        await _typed_then_noop(pilot, wire, "escape", "up", "enter", "down", "q", "escape")
        assert closed == [("LineViewer", "line-viewer")]
        assert wire.commands()[-2:] == [wide, "NOOP"]


@pytest.mark.parametrize("keys", [("f1", "down", "down", "escape"), ("f1", "f1"),
                                  ("f1", "q"), ("f12", "f1", "escape", "escape")])
async def test_help_opened_and_closed_in_one_burst(
        wire: WireServer, monkeypatch: pytest.MonkeyPatch, keys: tuple[str, ...]) -> None:
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await _ehlo(pilot)
        closed = _closed(monkeypatch, app)
        await _typed_then_noop(pilot, wire, *keys)
        assert [name for name, _ in closed] == (
            ["HelpScreen", "DecoderScreen"] if "f12" in keys else ["HelpScreen"])


async def test_escape_twice_comes_back_to_the_composer(wire: WireServer) -> None:
    """Escape moves to the transcript, Escape again back: the second must see the first's
    focus (has_focus is set only as the transcript handles its Focus)."""
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await _ehlo(pilot)
        await _typed_then_noop(pilot, wire, "escape", "escape")
        await _typed_then_noop(pilot, wire, "escape", "up", "escape")


async def test_keys_after_ctrl_q_in_the_same_read_end_nothing_badly(wire: WireServer) -> None:
    """Ctrl+Q and keys after it, in one read: the app ends as asked, with no screen left for
    those keys to reach (they used to crash it on the way out)."""
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await _ehlo(pilot)
        burst(app, "ctrl+q", *"NOOP", "enter", "escape", "f1")
        await until(pilot, lambda: not app.is_running)
    assert app.crash_report is None and app.return_code == 0
    assert wire.commands()[1:] == []
