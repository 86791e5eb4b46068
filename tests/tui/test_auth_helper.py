"""Pilot tests for the AUTH helper against a scripted SMTP server that checks what it receives."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select

from smtpscope.auth import MECHANISMS
from smtpscope.auth.cram_md5 import cram_md5_digest
from smtpscope.conversation.auth import command_for
from smtpscope.protocol import Auth, AuthCancel, AuthResponse, Raw, Reply, State
from smtpscope.record import read_recording, to_text
from smtpscope.session import SessionOptions
from smtpscope.tui.app import SmtpScopeApp, create_app
from smtpscope.tui.screens.auth_exchange import Phase
from smtpscope.tui.screens.auth_helper import AuthHelperScreen
from smtpscope.tui.screens.session import SessionScreen
from smtpscope.tui.widgets.auth_values import (
    StepInfo,
    StepView,
    default_mechanism,
    mechanism_options,
    parse_response_line,
    render_plain,
)
from tests.tui.waiting import DEADLINE, until

USER = "alice"
PASSWORD = "hunter2-Kq9!zz"
CRAM_CHALLENGE = b"<1896.697170952@scripted.test>"
SALT = b"\x8a\x01salt-bytes\xff\x10"
ITERATIONS = 4096


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


TOKEN = "ya29.tok-Zq81_secret"
DIGEST_CHALLENGE = b'realm="scripted.test",nonce="OA6MG9tEQGm2hh",qop="auth",charset=utf-8,' \
    b'algorithm=md5-sess'


def _scram_keys(password: str, hash_name: str = "sha256") -> tuple[bytes, bytes, bytes]:
    salted = hashlib.pbkdf2_hmac(hash_name, password.encode(), SALT, ITERATIONS)
    client_key = hmac.digest(salted, b"Client Key", hash_name)
    return salted, client_key, hashlib.new(hash_name, client_key).digest()


@dataclass
class ScriptedServer:
    """Plays the server side of CRAM-MD5 and SCRAM-SHA-256, verifying the client for real."""

    mechanisms: tuple[str, ...] = ("CRAM-MD5", "SCRAM-SHA-256")
    password: str = PASSWORD
    port: int = 0
    # What the client sent as AUTH secrets, to assert they never reach a file or the screen.
    secrets: list[str] = field(default_factory=list)
    verified: list[str] = field(default_factory=list)
    server: asyncio.base_events.Server | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def send(line: str) -> None:
            writer.write(line.encode() + b"\r\n")
            await writer.drain()

        async def read() -> str:
            return (await reader.readline()).decode("utf-8", "replace").rstrip("\r\n")

        await send("220 scripted.test ESMTP")
        try:
            while line := await read():
                verb, _, arg = line.partition(" ")
                verb = verb.upper()
                if verb == "EHLO":
                    caps = ["scripted.test", "PIPELINING", "ENHANCEDSTATUSCODES"]
                    if self.mechanisms:
                        caps.append("AUTH " + " ".join(self.mechanisms))
                    for i, cap in enumerate(caps):
                        await send(f"250{' ' if i == len(caps) - 1 else '-'}{cap}")
                elif verb == "AUTH":
                    mech, _, ir = arg.partition(" ")
                    await self._auth(mech.upper(), ir, send, read)
                elif verb == "QUIT":
                    await send("221 2.0.0 bye")
                    break
                else:
                    await send("250 2.0.0 ok")
        finally:
            writer.close()

    async def _auth(self, mech: str, ir: str, send: Callable[[str], Any],
                    read: Callable[[], Any]) -> None:
        if mech not in self.mechanisms:
            await send("504 5.5.4 Unrecognized authentication type")
            return
        if mech == "CRAM-MD5":
            await send("334 " + b64(CRAM_CHALLENGE))
            answer = await read()
            if answer == "*":
                await send("501 5.7.0 Authentication aborted")
                return
            self.secrets.append(answer)
            user, _, digest = base64.b64decode(answer).decode().rpartition(" ")
            self.secrets.append(digest)
            ok = user == USER and digest == cram_md5_digest(self.password, CRAM_CHALLENGE)
            await send("235 2.7.0 Authentication successful" if ok
                       else "535 5.7.8 Error: authentication failed")
            return
        if mech in ("PLAIN", "LOGIN", "DIGEST-MD5", "XOAUTH2", "OAUTHBEARER"):
            await self._accept_any(mech, ir, send, read)
            return
        await self._scram("sha1" if mech == "SCRAM-SHA-1" else "sha256", ir, send, read)

    async def _accept_any(self, mech: str, ir: str, send: Callable[[str], Any],
                          read: Callable[[], Any]) -> None:
        """Collect the client's secret lines and accept: enough to check that none leaks."""
        first_challenge = {"LOGIN": "VXNlcm5hbWU6", "DIGEST-MD5": b64(DIGEST_CHALLENGE)}
        if not ir or mech == "DIGEST-MD5":
            await send("334 " + first_challenge.get(mech, ""))
            ir = await read()
        if mech == "LOGIN":
            await send("334 UGFzc3dvcmQ6")  # "Password:"
            ir = await read()
        self.secrets.append(ir)
        if mech == "DIGEST-MD5":
            directives = base64.b64decode(ir).decode()
            self.secrets.append(directives.split("response=")[1].split(",")[0])
        await send("235 2.7.0 Authentication successful")

    async def _scram(self, hash_name: str, ir: str, send: Callable[[str], Any],
                     read: Callable[[], Any]) -> None:
        """SCRAM (RFC 5802 / 7677), server side: checks the proof, signs the exchange."""
        if not ir:
            await send("334 ")
            ir = await read()
        if ir == "*":
            await send("501 5.7.0 Authentication aborted")
            return
        client_first = base64.b64decode(ir).decode()
        bare = client_first.split(",", 2)[2]
        cnonce = dict(p.split("=", 1) for p in bare.split(","))["r"]
        server_first = f"r={cnonce}srvNONCE42,s={b64(SALT)},i={ITERATIONS}"
        await send("334 " + b64(server_first.encode()))
        answer = await read()
        if answer == "*":
            await send("501 5.7.0 Authentication aborted")
            return
        self.secrets.append(answer)
        client_final = base64.b64decode(answer).decode()
        without_proof, _, proof_b64 = client_final.rpartition(",p=")
        self.secrets.append(proof_b64)
        self.secrets.append(base64.b64decode(proof_b64).hex())
        auth_message = f"{bare},{server_first},{without_proof}".encode()
        # In a thread: at a high iteration count PBKDF2 would stall the loop the app shares.
        salted, _, stored_key = await asyncio.to_thread(_scram_keys, self.password, hash_name)
        signature = hmac.digest(stored_key, auth_message, hash_name)
        client_key = bytes(a ^ b for a, b in zip(base64.b64decode(proof_b64), signature,
                                                 strict=True))
        if hashlib.new(hash_name, client_key).digest() != stored_key:
            await send("535 5.7.8 Error: authentication failed")
            return
        server_key = hmac.digest(salted, b"Server Key", hash_name)
        server_signature = b64(hmac.digest(server_key, auth_message, hash_name))
        self.verified.append(server_signature)
        await send("334 " + b64(f"v={server_signature}".encode()))
        if (await read()) == "*":
            await send("501 5.7.0 Authentication aborted")
            return
        await send("235 2.7.0 Authentication successful")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SMTPSCOPE_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
async def server() -> AsyncIterator[ScriptedServer]:
    srv = ScriptedServer()
    await srv.start()
    yield srv
    await srv.stop()


async def wait_for(pilot: Pilot[Any], condition: Callable[[], Any], what: str,
                   timeout: float = DEADLINE) -> None:
    await until(pilot, condition, timeout, what)


async def open_helper(pilot: Pilot[Any]) -> tuple[SessionScreen, AuthHelperScreen]:
    """Connect, EHLO through the session screen, and open the helper as Ctrl+A does."""
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, SessionScreen), "session screen")
    screen = app.screen
    assert isinstance(screen, SessionScreen)
    await wait_for(pilot, lambda: screen.session is not None
                   and screen.session.greeting is not None, "greeting")
    screen.action_ehlo()
    await wait_for(pilot, lambda: screen.session.conn.capabilities is not None, "EHLO")
    screen.action_auth_helper()
    await wait_for(pilot, lambda: isinstance(app.screen, AuthHelperScreen), "auth helper")
    helper = app.screen
    assert isinstance(helper, AuthHelperScreen)
    await wait_for(pilot, lambda: bool(helper.query("#auth-mech")), "the helper's form")
    return screen, helper


async def fill(pilot: Pilot[Any], helper: AuthHelperScreen, mech: str, *,
               password: str = PASSWORD, mode: str = "step", ir: str = "ir",
               token: str = "") -> None:
    helper.query_one("#auth-mech", Select).value = mech
    helper.query_one("#auth-mode", Select).value = mode
    helper.query_one("#auth-ir", Select).value = ir
    helper.query_one("#auth-user", Input).value = USER
    helper.query_one("#auth-password", Input).value = password
    helper.query_one("#auth-token", Input).value = token
    await pilot.pause()


async def step_through(pilot: Pilot[Any], helper: AuthHelperScreen) -> None:
    """Press Start, then the Send button at every proposal until the final reply."""
    await pilot.click("#auth-start")
    for _ in range(8):
        await wait_for(pilot, lambda: helper.phase in (Phase.WAITING, Phase.DONE), "a proposal")
        if helper.phase is Phase.DONE:
            return
        await pilot.click("#auth-send")
        await wait_for(pilot, lambda: helper.phase is not Phase.SENDING, "the reply")
    raise AssertionError("the exchange did not end")


def make_app(server: ScriptedServer) -> SmtpScopeApp:
    return create_app(options=SessionOptions("127.0.0.1", server.port, security="plain"))


def assert_no_secrets(texts: dict[str, str], secrets: list[str]) -> None:
    for where, text in texts.items():
        for secret in secrets:
            assert secret not in text, f"{secret!r} leaked into the {where}"


def recording_text(screen: SessionScreen) -> str:
    assert screen.recording_path is not None
    raw = screen.recording_path.read_text(encoding="utf-8")
    # The recording stores raw bytes as base64: decode every entry so a secret can't hide there.
    entries = read_recording(screen.recording_path).entries
    return raw + "\n".join(e.raw.decode("utf-8", "replace") for e in entries)


# -- pure helpers -----------------------------------------------------------------------------


def test_mechanism_options_put_advertised_first_and_label_the_rest() -> None:
    options = mechanism_options(("CRAM-MD5", "GSSAPI", "PLAIN"))
    assert options[:2] == [("CRAM-MD5  (advertised)", "CRAM-MD5"), ("PLAIN  (advertised)", "PLAIN")]
    assert ("SCRAM-SHA-256  (not advertised)", "SCRAM-SHA-256") in options
    assert all(value != "GSSAPI" for _, value in options)
    assert default_mechanism(("PLAIN", "SCRAM-SHA-256")) == "SCRAM-SHA-256"
    assert default_mechanism(("LOGIN", "PLAIN")) == "PLAIN"


def test_parse_response_line_accepts_only_exact_base64() -> None:
    assert parse_response_line("") == b""
    assert parse_response_line("YWxpY2U=") == b"alice"
    assert parse_response_line("YWxpY2U") is None  # missing padding: sent as typed
    assert parse_response_line("not base64!") is None


def test_typed_lines_become_the_commands_they_stand_for() -> None:
    assert command_for("PLAIN", True, "") == (Auth("PLAIN"), False)
    assert command_for("PLAIN", True, "=") == (Auth("PLAIN", b""), False)
    assert command_for("PLAIN", True, "AGEAYg==") == (Auth("PLAIN", b"\0a\0b"), False)
    raw, off_script = command_for("PLAIN", True, "AGEAYg")
    assert off_script and isinstance(raw, Raw) and raw.data == b"AUTH PLAIN AGEAYg\r\n"
    assert command_for("CRAM-MD5", False, "*") == (AuthCancel(), False)
    assert command_for("CRAM-MD5", False, "") == (AuthResponse(b""), False)
    raw, off_script = command_for("CRAM-MD5", False, "x y")
    assert off_script and isinstance(raw, Raw) and raw.data == b"x y\r\n"


# -- secrets, for every mechanism ------------------------------------------------------------


@pytest.mark.parametrize("mech", list(MECHANISMS))
async def test_no_mechanism_leaks_a_secret_to_disk_export_or_screen(
        mech: str, home: Path) -> None:
    server = ScriptedServer(mechanisms=tuple(MECHANISMS))
    await server.start()
    try:
        app = make_app(server)
        async with app.run_test(size=(150, 60)) as pilot:
            screen, helper = await open_helper(pilot)
            await fill(pilot, helper, mech, mode="auto", token=TOKEN)
            await pilot.click("#auth-start")
            await wait_for(pilot, lambda: helper.phase is Phase.DONE, "the exchange")
            assert helper.final_reply is not None and helper.final_reply.code == 235
            assert server.secrets, "the server saw no secret line"
            shot = app.export_screenshot()
            panel = helper.panel_text(width=4000)  # wide: no secret escapes by wrapping
            helper.action_close()
            await pilot.pause()
            export = to_text(screen.session.transcript)
            assert "hidden]" in export
            assert_no_secrets(
                {"export": export, "recording": recording_text(screen), "screenshot": shot,
                 "helper panel": panel, "session screenshot": app.export_screenshot()},
                [PASSWORD, TOKEN, *server.secrets],
            )
    finally:
        await server.stop()


# -- Step mode ---------------------------------------------------------------------------------


async def test_step_through_scram_sha_256_shows_the_computation_and_leaks_nothing(
        home: Path, server: ScriptedServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(150, 60)) as pilot:
        screen, helper = await open_helper(pilot)
        await fill(pilot, helper, "SCRAM-SHA-256")
        await step_through(pilot, helper)
        assert helper.final_reply is not None and helper.final_reply.code == 235
        assert server.verified, "the server never saw a valid proof"
        assert screen.session.conn.state is State.IDENT

        panel = helper.panel_text()
        assert "salt (hex)" in panel and SALT.hex() in panel
        assert "iterations" in panel and str(ITERATIONS) in panel
        assert "ClientProof" in panel
        assert "server verified" in panel and "yes" in panel
        assert server.verified[0] in panel  # the server signature, received and expected
        assert "235 2.7.0" in panel and "Authentication succeeded" in panel
        # The proof is masked on screen until revealed.
        proof_b64, proof_hex = server.secrets[1], server.secrets[2]
        assert proof_b64 not in panel
        screenshot = app.export_screenshot()
        helper.action_reveal()
        await pilot.pause()
        assert proof_b64 in helper.panel_text()
        helper.action_reveal()
        await pilot.pause()
        helper.action_close()
        await pilot.pause()
        assert isinstance(app.screen, SessionScreen)
        session_shot = app.export_screenshot()
        export = to_text(screen.session.transcript)
        assert "[SCRAM-SHA-256 client proof hidden]" in export
        assert "334 " in export  # challenges stay visible
        assert_no_secrets(
            {"export": export, "recording": recording_text(screen),
             "helper screenshot": screenshot, "session screenshot": session_shot},
            [PASSWORD, *server.secrets, proof_hex],
        )


async def test_step_through_cram_md5_revealing_changes_nothing_on_disk(
        home: Path, server: ScriptedServer) -> None:
    app = make_app(server)
    digest = cram_md5_digest(PASSWORD, CRAM_CHALLENGE)
    async with app.run_test(size=(150, 60)) as pilot:
        screen, helper = await open_helper(pilot)
        await fill(pilot, helper, "CRAM-MD5")
        await pilot.click("#auth-start")
        await wait_for(pilot, lambda: helper.phase is Phase.WAITING, "AUTH proposal")
        await pilot.click("#auth-send")
        await wait_for(pilot, lambda: helper.phase is Phase.WAITING and len(helper.step_views) == 2,
                       "the challenge")
        response = helper.query_one("#auth-response", Input)
        assert response.password and digest not in helper.panel_text()
        await pilot.press("ctrl+r")  # reveal on screen while the secret line is sent
        await pilot.pause()
        assert not response.password
        assert digest in helper.panel_text()
        await pilot.click("#auth-send")
        await wait_for(pilot, lambda: helper.phase is Phase.DONE, "the final reply")
        assert helper.final_reply is not None and helper.final_reply.code == 235
        await pilot.press("ctrl+r")
        await pilot.pause()
        panel = helper.panel_text()
        assert CRAM_CHALLENGE.decode() in panel  # the decoded challenge
        assert "cram-md5-challenge" in panel
        assert "HMAC-MD5 hex" in panel and digest not in panel
        screenshot = app.export_screenshot()
        export = to_text(screen.session.transcript)
        assert f"[CRAM-MD5 response for {USER} hidden]" in export
        assert_no_secrets(
            {"export": export, "recording": recording_text(screen), "screenshot": screenshot},
            [PASSWORD, digest, *server.secrets],
        )


def test_binary_challenge_is_shown_as_text_and_hex() -> None:
    reply = Reply(334, (b"AAH/YWJj",), b"334 AAH/YWJj\r\n")
    info = StepInfo("challenge", reply=reply, challenge=b"\x00\x01\xffabc")
    text = render_plain(StepView(info).content_renderable())
    assert "\\0\\x01\\xffabc" in text
    assert "hex: 00 01 ff 61 62 63" in text
    info = StepInfo("challenge", reply=reply, challenge=b"<1.2@host>")
    assert "hex:" not in render_plain(StepView(info).content_renderable())


def test_server_bytes_that_are_not_utf8_are_shown_as_sent() -> None:
    # A byte that is not UTF-8, a backslash and an ESC in a SCRAM e= and a DIGEST-MD5 realm:
    # values as the challenge shows them, the warning escaped once (a real backslash doubled).
    mech = MECHANISMS["SCRAM-SHA-256"](username=USER, password=PASSWORD, cnonce="abc")
    mech.initial_response()
    mech.respond(b"r=abcdef,s=QSXCR+Q6sek8bf92,i=4096")
    step = mech.respond(b"e=bad \xff\\\x1b")
    text = render_plain(StepView(StepInfo("server-final", step=step)).content_renderable())
    lines = [" ".join(line.split()) for line in text.splitlines()]
    assert r"server error bad \xff\\x1b" in lines
    assert r"⚠ SCRAM server error e=bad \xff\\\x1b" in lines
    mech = MECHANISMS["DIGEST-MD5"](username=USER, password=PASSWORD, host="h")
    step = mech.respond(b'realm="r\\\\\xff\x1b",nonce="n",qop="auth",algorithm=md5-sess')
    text = render_plain(StepView(StepInfo("challenge", step=step)).content_renderable())
    lines = [" ".join(line.split()) for line in text.splitlines()]
    assert r"directive realm r\\xff\x1b" in lines
    assert "\ufffd" not in text and "\x1b" not in text


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN", "XOAUTH2"])
def test_reveal_shows_every_masked_value_of_the_step(mech: str) -> None:
    from smtpscope.auth import MECHANISMS

    secret = "s3cr3t-pw"
    mechanism = MECHANISMS[mech](username=USER, password=secret, token=secret)
    step = mechanism.initial_response() if mech != "LOGIN" else None
    if step is None:
        mechanism.respond(b"Username:")
        step = mechanism.respond(b"Password:")
    view = StepView(StepInfo("step", step=step, proposed=step.wire().decode()))
    masked = render_plain(view.content_renderable())
    assert secret not in masked and "••••" in masked
    view.reveal = True
    revealed = render_plain(view.content_renderable())
    assert "••••" not in revealed
    for label, _value in step.revealed:  # password/token and layout rows, not only the line
        row = next(line for line in revealed.splitlines() if line.strip().startswith(label))
        assert secret in row, row
    assert all(secret not in value for _, value in step.values)  # what gets printed or kept


async def test_wrong_password_gets_535_explained(home: Path, server: ScriptedServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(150, 60)) as pilot:
        screen, helper = await open_helper(pilot)
        await fill(pilot, helper, "SCRAM-SHA-256", password="not-the-password")
        await step_through(pilot, helper)
        assert helper.final_reply is not None and helper.final_reply.code == 535
        panel = helper.panel_text()
        assert "535 5.7.8" in panel and "Authentication credentials invalid" in panel
        assert "Wrong user name or password" in panel
        assert "not-the-password" not in recording_text(screen)


async def test_cancel_with_star_gets_501(home: Path, server: ScriptedServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(150, 60)) as pilot:
        screen, helper = await open_helper(pilot)
        await fill(pilot, helper, "CRAM-MD5")
        await pilot.click("#auth-start")
        await wait_for(pilot, lambda: helper.phase is Phase.WAITING, "AUTH proposal")
        await pilot.click("#auth-send")
        await wait_for(pilot, lambda: helper.phase is Phase.WAITING and len(helper.step_views) == 2,
                       "the challenge")
        await pilot.click("#auth-cancel")
        await wait_for(pilot, lambda: helper.phase is Phase.DONE, "the final reply")
        assert helper.final_reply is not None and helper.final_reply.code == 501
        panel = helper.panel_text()
        assert "C: *" in panel
        assert "cancelled ('*')" in panel
        assert "C: *" in to_text(screen.session.transcript)
        assert screen.session.conn.state is State.IDENT


async def test_ctrl_s_starts_sends_and_starts_again_only_when_the_exchange_ended(
        home: Path, server: ScriptedServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(150, 60)) as pilot:
        _screen, helper = await open_helper(pilot)
        await fill(pilot, helper, "CRAM-MD5")
        start = helper.query_one("#auth-start")
        assert helper.phase is Phase.IDLE and not start.disabled
        await pilot.press("ctrl+s")  # idle: starts
        await wait_for(pilot, lambda: helper.phase is Phase.WAITING, "AUTH proposal")
        assert start.disabled  # a second Start would drop the exchange under way
        helper.start_exchange()
        assert len(helper.step_views) == 1 and helper.phase is Phase.WAITING
        await pilot.press("ctrl+s")  # waiting: sends the proposal
        await wait_for(pilot, lambda: helper.phase is Phase.WAITING and len(helper.step_views) == 2,
                       "the challenge")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: helper.phase is Phase.DONE, "the final reply")
        assert helper.final_reply is not None and helper.final_reply.code == 235
        assert not start.disabled
        await pilot.press("ctrl+s")  # done: a new exchange
        await wait_for(pilot, lambda: helper.phase is Phase.WAITING
                       and len(helper.step_views) == 1, "the new AUTH proposal")


async def test_auto_mode_runs_the_whole_exchange(home: Path, server: ScriptedServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(150, 60)) as pilot:
        screen, helper = await open_helper(pilot)
        await fill(pilot, helper, "SCRAM-SHA-256", mode="auto")
        await pilot.click("#auth-start")
        await wait_for(pilot, lambda: helper.phase is Phase.DONE, "the exchange")
        assert helper.final_reply is not None and helper.final_reply.code == 235
        assert len(helper.step_views) == 4  # AUTH, server-first, server-final, 235
        export = to_text(screen.session.transcript)
        assert export.count("C: ") >= 4
        assert_no_secrets({"export": export, "recording": recording_text(screen)},
                          [PASSWORD, *server.secrets])


async def test_no_initial_response_waits_for_an_empty_334(home: Path,
                                                          server: ScriptedServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(150, 60)) as pilot:
        screen, helper = await open_helper(pilot)
        await fill(pilot, helper, "SCRAM-SHA-256", ir="none")
        await step_through(pilot, helper)
        assert helper.final_reply is not None and helper.final_reply.code == 235
        lines = to_text(screen.session.transcript).splitlines()
        assert "C: AUTH SCRAM-SHA-256" in lines
        assert "S: 334 " in lines


async def test_edited_line_is_sent_as_typed(home: Path, server: ScriptedServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(150, 60)) as pilot:
        screen, helper = await open_helper(pilot)
        await fill(pilot, helper, "CRAM-MD5")
        await pilot.click("#auth-start")
        await wait_for(pilot, lambda: helper.phase is Phase.WAITING, "AUTH proposal")
        await pilot.click("#auth-send")
        await wait_for(pilot, lambda: len(helper.step_views) == 2 and helper.phase is Phase.WAITING,
                       "the challenge")
        response = helper.query_one("#auth-response", Input)
        assert response.password  # the computed line is secret: masked on screen
        wrong = b64(f"{USER} {'0' * 32}".encode())
        response.value = wrong
        await pilot.click("#auth-send")
        await wait_for(pilot, lambda: helper.phase is Phase.DONE, "the final reply")
        assert helper.final_reply is not None and helper.final_reply.code == 535
        assert server.secrets[0] == wrong
        assert "Edited" in helper.panel_text()
        assert wrong not in recording_text(screen)


async def test_unadvertised_mechanism_warns_and_is_sent_anyway(home: Path,
                                                               server: ScriptedServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(150, 60)) as pilot:
        screen, helper = await open_helper(pilot)
        await fill(pilot, helper, "PLAIN")
        notes = str(helper.query_one("#auth-notes").render())
        assert "PLAIN is not advertised" in notes
        assert "plaintext connection" in notes
        await step_through(pilot, helper)
        assert helper.final_reply is not None and helper.final_reply.code == 504
        export = to_text(screen.session.transcript)
        assert f"C! AUTH PLAIN [PLAIN credentials for {USER} hidden]" in export
        assert_no_secrets({"export": export, "recording": recording_text(screen)},
                          [PASSWORD, b64(f"\0{USER}\0{PASSWORD}".encode())])


async def test_helper_form_defaults_to_the_strongest_advertised(home: Path,
                                                                server: ScriptedServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(150, 60)) as pilot:
        _, helper = await open_helper(pilot)
        assert helper.query_one("#auth-mech", Select).value == "SCRAM-SHA-256"
        assert helper.query_one("#auth-password", Input).password
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, SessionScreen)
