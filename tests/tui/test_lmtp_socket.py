"""The TUI on an LMTP server over a UNIX socket (``lmtp:/path``): F2 greets with LHLO."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from textual.app import App
from textual.pilot import Pilot

from smtpscope.session import SessionOptions
from smtpscope.target_options import options_for
from smtpscope.tui.app import create_app
from smtpscope.tui.screens.session import SessionScreen
from tests.tui.test_session_screen import until

SIZE = (120, 40)


def lmtp_app(path: str) -> App[int]:
    """The app on the LMTP server at UNIX socket ``path``."""
    options, label = options_for(f"lmtp:{path}")
    assert isinstance(options, SessionOptions) and options.lmtp and options.unix_path == path
    return create_app(options=options, target_label=label)


async def greeted(pilot: Pilot[int], app: App[int]) -> SessionScreen:
    """The session screen, once the server's greeting is in."""
    screen = app.screen
    assert isinstance(screen, SessionScreen)
    await until(pilot, lambda: screen.session is not None
                and screen.session.greeting is not None)
    return screen


@pytest.fixture
async def lmtp_socket(tmp_path: Path) -> AsyncIterator[tuple[str, list[bytes]]]:
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            writer.write(b"220 lmtp.test LMTP ready\r\n")
            while line := await reader.readline():
                seen.append(line)
                verb = line[:4].upper()
                if verb == b"LHLO":
                    writer.write(b"250-lmtp.test\r\n250 PIPELINING\r\n")
                elif verb == b"QUIT":
                    writer.write(b"221 bye\r\n")
                    break
                else:
                    writer.write(b"500 5.5.1 LHLO only here\r\n")
                await writer.drain()
        writer.close()

    path = tmp_path / "lmtp"
    server = await asyncio.start_unix_server(handle, str(path))
    try:
        yield str(path), seen
    finally:
        server.close()
        await server.wait_closed()


async def test_f2_greets_an_lmtp_socket_with_lhlo(lmtp_socket: tuple[str, list[bytes]]) -> None:
    path, seen = lmtp_socket
    app = lmtp_app(path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await greeted(pilot, app)
        await pilot.press("f2")
        await until(pilot, lambda: any(line.startswith(b"LHLO ") for line in seen))
        session = screen.session
        assert session is not None
        await until(pilot, lambda: session.view.capabilities is not None)
        assert session.view.capabilities.has("PIPELINING")
        assert session.view.peer == f"unix:{path}"
        assert not any(line.upper().startswith(b"EHLO") for line in seen)


async def test_lmtp_labels_say_lhlo_and_f3_leaves_once_no_starttls_is_offered(
        lmtp_socket: tuple[str, list[bytes]]) -> None:
    from smtpscope.tui.widgets.capabilities import CapabilityInspector
    from smtpscope.tui.widgets.composer import Composer
    from tests.tui.test_session_screen import shown

    path, seen = lmtp_socket
    app = lmtp_app(path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await greeted(pilot, app)
        await pilot.pause()

        def actions() -> set[str]:
            return {b.binding.action for b in screen.active_bindings.values()
                    if b.enabled and b.binding.show}

        inspector = screen.query_one(CapabilityInspector)
        assert screen.query_one(Composer).input.placeholder == "LHLO client.example"
        assert shown(inspector).startswith("LHLO capabilities\nSend LHLO to see")
        assert "starttls" in actions()  # nothing is known yet: F3 greets first, then tries
        # The footer names what F2 sends (the binding keeps its id for keymap.json).
        from textual.widgets._footer import FooterKey

        f2 = [key for key in screen.query(FooterKey) if key.action == "ehlo"]
        assert [key.description for key in f2] == ["LHLO"]
        assert screen.active_bindings["f2"].binding.id == "session.ehlo"
        commands = [c.title for c in app.get_system_commands(screen)]
        assert "LHLO" in commands and "EHLO" not in commands
        await pilot.press("f2")
        await until(pilot, lambda: screen.session.view.capabilities is not None)
        await pilot.pause()
        assert shown(inspector).startswith("LHLO capabilities")
        assert "starttls" not in actions()  # the LHLO reply lists no STARTTLS
        await pilot.press("f3")
        await pilot.pause(0.2)
        assert not any(line.upper().startswith(b"STARTTLS") for line in seen)


async def test_each_reply_after_the_data_shows_under_it_whose_it_is(tmp_path: Path) -> None:
    # Like Cyrus, this server's replies after the data do not name the recipient: only their
    # order says whose each is (RFC 2033 §4.2), and the transcript must say it.
    from smtpscope.tui.widgets.transcript import TranscriptView
    from tests.tui.test_session_screen import type_line
    from tests.tui.test_transcript_view import rows_text

    answers = {b"LHLO": b"250 lmtp.test\r\n", b"MAIL": b"250 2.1.0 Ok\r\n",
               b"DATA": b"354 go\r\n", b"QUIT": b"221 bye\r\n"}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 lmtp.test LMTP ready\r\n")
        while line := await reader.readline():
            if line.startswith(b"RCPT"):
                writer.write(b"550 5.1.1 no\r\n" if b"nobody" in line else b"250 2.1.5 Ok\r\n")
            elif line == b".\r\n":
                writer.write(b"250 2.0.0 Saved\r\n452 4.2.2 Mailbox full\r\n")
            else:
                writer.write(answers.get(line[:4].upper(), b""))
            await writer.drain()

    path = tmp_path / "lmtp"
    server = await asyncio.start_unix_server(handle, str(path))
    app = lmtp_app(str(path))
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = await greeted(pilot, app)
            await pilot.press("f2")
            session = screen.session
            assert session is not None
            await until(pilot, lambda: session.view.capabilities is not None)
            for line in ("MAIL FROM:<>", "RCPT TO:<alice@example.test>",
                         "RCPT TO:<nobody@example.test>", "RCPT TO:<carol@example.test>",
                         "DATA", "Subject: hi", "", "hello", "."):
                await type_line(pilot, line)
                await pilot.pause()
            await until(pilot, lambda: session.view.state.name == "IDENT")
            await pilot.pause()
            shown = rows_text(screen.query_one(TranscriptView))
            end = shown.index("C: .")
            assert shown[end + 1:end + 6] == [
                "S: 250 2.0.0 Saved",
                "   ↳ for <alice@example.test>",
                "S: 452 4.2.2 Mailbox full",
                "   ↳ for <carol@example.test>",
                "   ↳ 452 4.2.2 — Mailbox full (persistent transient failure)",
            ]
    finally:
        server.close()
        await server.wait_closed()


async def test_the_socket_is_named_once_and_the_status_bar_keeps_one_line(
        lmtp_socket: tuple[str, list[bytes]]) -> None:
    # The peer of a UNIX socket is its path again: 'lmtp:/path → unix:/path' ran onto a
    # second line. A target too long for the bar is cut in the middle; F1 shows it whole.
    from textual.geometry import Region

    from smtpscope.tui.screens.help import HelpScreen
    from smtpscope.tui.widgets.status import StatusBar

    path, _seen = lmtp_socket
    assert len(path) > 60  # with the facts after it, more than 80 columns
    app = lmtp_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await greeted(pilot, app)
        status = screen.query_one(StatusBar)
        await until(pilot, lambda: status.state == "ready")
        await pilot.pause()
        assert status.region.height == 1
        line = "".join(strip.text for strip in status.render_lines(Region(0, 0, 80, 1)))
        assert "unix:" not in line and "→" not in line
        assert line.lstrip().startswith("lmtp:/") and "…" in line
        assert "│ no TLS  │ ready  │ 00:0" in line  # the facts are never what is cut
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        about = str(app.screen.query_one("#help-about").render())
        assert f"lmtp:{path}  │ no TLS  │ ready" in about
