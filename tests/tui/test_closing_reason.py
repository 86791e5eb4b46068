"""The end of a connection reads right wherever it is shown: the status bar, the recording's
footer (the history's outcome)."""

from __future__ import annotations

import pytest

from smtpscope.protocol import Reply
from smtpscope.record import read_recording
from smtpscope.server.demo import DemoServer
from smtpscope.session_types import closed_by_reply
from smtpscope.tui.screens.session import UNTRUSTED_OUTCOME
from smtpscope.tui.screens.tls_flow import RECONNECT_OUTCOME
from smtpscope.tui.widgets.status import StatusBar
from tests.tui.test_session_screen import (
    SIZE,
    app_for,
    banner_then_quit,
    replies,
    screen_of,
)
from tests.tui.waiting import until


async def test_status_bar_shows_the_end_of_a_quit_as_it_reads(demo: DemoServer) -> None:
    app = app_for(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await banner_then_quit(pilot, screen)
        await pilot.pause()
        status = screen.query_one(StatusBar)
        assert status.state == "closed after QUIT (221)"
        assert "closed (closed" not in status.full_text
        path = screen.recording_path
    footer = read_recording(path).footer
    assert footer is not None and footer["outcome"] == "closed after QUIT (221)"


@pytest.mark.parametrize("reason", [
    closed_by_reply(Reply(421, (b"4.3.2 going down",), b"421 4.3.2 going down\r\n")),
    "closed by server", "closed", RECONNECT_OUTCOME, UNTRUSTED_OUTCOME,
    "connection lost: [Errno 104] Connection reset by peer",
])
async def test_every_closing_reason_is_shown_once_as_it_reads(demo: DemoServer,
                                                               reason: str) -> None:
    app = app_for(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await until(pilot, lambda: replies(screen) == [220])
        screen._on_session_closed(screen.session, reason)
        assert screen.query_one(StatusBar).state == reason
