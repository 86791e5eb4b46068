"""The TUI on an LMTP server over a UNIX socket (``lmtp:/path``): F2 greets with LHLO."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from smtpscope.session import SessionOptions
from smtpscope.target_options import options_for
from smtpscope.tui.app import create_app
from smtpscope.tui.screens.session import SessionScreen
from tests.tui.test_session_screen import until

SIZE = (120, 40)


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
    options, label = options_for(f"lmtp:{path}")
    assert isinstance(options, SessionOptions) and options.lmtp and options.unix_path == path
    app = create_app(options=options, target_label=label)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        await until(pilot, lambda: screen.session is not None
                    and screen.session.greeting is not None)
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
    options, label = options_for(f"lmtp:{path}")
    assert isinstance(options, SessionOptions)
    app = create_app(options=options, target_label=label)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        await until(pilot, lambda: screen.session is not None
                    and screen.session.greeting is not None)
        await pilot.pause()

        def actions() -> set[str]:
            return {b.binding.action for b in screen.active_bindings.values()
                    if b.enabled and b.binding.show}

        inspector = screen.query_one(CapabilityInspector)
        assert screen.query_one(Composer).input.placeholder == "LHLO client.example"
        assert shown(inspector).startswith("LHLO capabilities\nSend LHLO to see")
        assert "starttls" in actions()  # nothing is known yet: F3 greets first, then tries
        await pilot.press("f2")
        await until(pilot, lambda: screen.session.view.capabilities is not None)
        await pilot.pause()
        assert shown(inspector).startswith("LHLO capabilities")
        assert "starttls" not in actions()  # the LHLO reply lists no STARTTLS
        await pilot.press("f3")
        await pilot.pause(0.2)
        assert not any(line.upper().startswith(b"STARTTLS") for line in seen)
