"""The AUTH helper when the server hangs up (or goes quiet) after a line went out: the step
shows the line as sent, since the transcript and the server have it, and says no reply came."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

from smtpscope.record import read_recording
from smtpscope.session import SessionOptions
from smtpscope.tui.app import create_app
from smtpscope.tui.screens.auth_exchange import Phase
from tests.conversation.test_flows import tcp_peer
from tests.tui.test_auth_helper import fill, home, open_helper, wait_for

__all__ = ["home"]  # the fixture, used by name

PASSWORD = "pencil-Hq7!pw"


async def test_a_hang_up_after_the_password_shows_it_sent_without_a_reply(home: Path) -> None:
    got: list[bytes] = []

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 hangup.test ESMTP\r\n")
        await reader.readline()
        writer.write(b"250-hangup.test\r\n250 AUTH LOGIN\r\n")
        got.append(await reader.readline())
        writer.write(b"334 " + base64.b64encode(b"Password:") + b"\r\n")
        got.append(await reader.readline())
        writer.close()  # no reply to the password

    async with tcp_peer(script) as port:
        app = create_app(options=SessionOptions("127.0.0.1", port, security="plain"))
        async with app.run_test(size=(140, 45)) as pilot:
            screen, helper = await open_helper(pilot)
            await fill(pilot, helper, "LOGIN", password=PASSWORD)
            await pilot.press("ctrl+s", "ctrl+s")
            await wait_for(pilot, lambda: helper.phase is Phase.WAITING
                           and not helper._proposal.initial, "the password proposal")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: helper.phase is Phase.DONE, "the hang-up")
            panel = helper.panel_text()
            recording = read_recording(screen.recording_path)
    assert got[-1] == base64.b64encode(PASSWORD.encode()) + b"\r\n"
    assert "C: [LOGIN password hidden]" in panel
    assert "No reply: connection ended: closed by server" in panel
    assert "Not sent" not in panel and "proposed:" not in panel.split("Step 2")[1]
    assert PASSWORD not in panel
    assert [e.text for e in recording.entries if e.direction == "client"][-1] == \
        "[LOGIN password hidden]"
