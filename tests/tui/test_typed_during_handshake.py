"""Lines typed while the TLS handshake runs (after the 220 to STARTTLS) wait for it and go as
typed: judged against the state the handshake ends in, not held as "send anyway" with the
next keys running on into them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from smtpscope.server.demo import DemoServer
from smtpscope.transport.tcp import Stream
from smtpscope.tui.widgets.composer import Composer
from tests.tui.demo_app import verified_app
from tests.tui.test_key_order import burst
from tests.tui.test_session_screen import SIZE, replies, screen_of
from tests.tui.waiting import until

HANDSHAKE_DELAY = 0.6


@pytest.fixture
def slow_handshake(monkeypatch: pytest.MonkeyPatch) -> None:
    """A handshake that takes its time, as on a loaded machine or a far server."""
    start_tls = Stream.start_tls

    async def slowly(self: Stream, *args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(HANDSHAKE_DELAY)
        return await start_tls(self, *args, **kwargs)

    monkeypatch.setattr(Stream, "start_tls", slowly)


async def test_keys_typed_during_the_handshake_go_as_typed(demo: DemoServer,
                                                          slow_handshake: None) -> None:
    app = verified_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await until(pilot, lambda: replies(screen) == [220])
        burst(app, *"EHLO x", "enter", *"STARTTLS", "enter")
        await until(pilot, lambda: replies(screen)[-1:] == [220] and len(replies(screen)) == 3)
        # The handshake is under way. Enter comes at a person's pace (a line whose keys all
        # come at once reads as a paste, and a pasted line is queued whatever it draws).
        for line in ("EHLO y", "NOOP"):
            burst(app, *line)
            await pilot.pause(0.1)
            burst(app, "enter")
        await until(pilot, lambda: len(replies(screen)) == 5, timeout=10)
        sent = [e.text.strip() for e in screen.session.transcript if e.direction == "client"]
        assert sent == ["EHLO x", "STARTTLS", "EHLO y", "NOOP"]
        composer = screen.query_one(Composer)
        assert composer.input.value == ""
        assert "send anyway" not in composer._hint_shown
