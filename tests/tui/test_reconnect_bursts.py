"""F5 and what is typed right after it, in one burst: every line goes to the new connection,
in order, and the old one gets nothing more."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from smtpscope.record import read_recording
from smtpscope.tui.screens.reconnect import ReconnectDialog
from smtpscope.tui.screens.tls_flow import RECONNECT_OUTCOME
from smtpscope.tui.widgets.status import StatusBar
from tests.tui.test_key_order import SIZE, app_for, burst, greeted, replies, until
from tests.tui.wire_server import WireServer


@dataclass
class CountingServer(WireServer):
    """A WireServer that keeps each connection's command lines apart."""

    connections: list[list[bytes]] = field(default_factory=list)
    #: Seconds each reply on the first connection takes (later ones answer at once).
    first_delay: float = 0.0

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.delay = 0.0 if self.connections else self.first_delay
        mine: list[bytes] = []
        self.connections.append(mine)
        original = reader.readline

        async def readline() -> bytes:
            line = await original()
            if line:
                mine.append(line)
            return line

        reader.readline = readline  # type: ignore[method-assign]
        await super()._client(reader, writer)


@pytest.fixture
async def counting() -> AsyncIterator[CountingServer]:
    server = await CountingServer().start()
    try:
        yield server
    finally:
        await server.stop()


async def test_lines_typed_right_after_f5_go_to_the_new_connection(
        counting: CountingServer) -> None:
    app = app_for(counting)
    async with app.run_test(size=SIZE) as pilot:
        await greeted(pilot)
        await pilot.press(*"EHLO one.example", "enter")
        await until(pilot, lambda: replies(app) == [220, 250])
        screen = app.screen
        first = screen.session
        burst(app, "f5", "enter", *"EHLO two.example", "enter", *"NOOP", "enter")
        await until(pilot, lambda: screen.session is not first
                    and len(counting.connections) == 2
                    and len(counting.connections[1]) == 2, what="both lines on the new one")
        assert counting.connections[0] == [b"EHLO one.example\r\n"]
        assert counting.connections[1] == [b"EHLO two.example\r\n", b"NOOP\r\n"]
        assert not isinstance(app.screen, ReconnectDialog)


async def test_f5_while_a_reply_is_awaited_sends_what_follows_on_the_new_connection(
        counting: CountingServer) -> None:
    counting.first_delay = 60.0  # the NOOP's reply never comes before F5
    app = app_for(counting)
    async with app.run_test(size=SIZE) as pilot:
        await greeted(pilot)
        screen = app.screen
        first, first_path = screen.session, screen.recording_path
        burst(app, *"NOOP", "enter")
        await until(pilot, lambda: counting.connections[0] == [b"NOOP\r\n"])
        burst(app, "f5", "enter", *"EHLO two.example", "enter", *"RSET", "enter")
        await until(pilot, lambda: screen.session is not first
                    and len(counting.connections) == 2
                    and len(counting.connections[1]) == 2, what="both lines on the new one")
        await until(pilot, lambda: replies(app) == [220, 250, 250])
        assert counting.connections[0] == [b"NOOP\r\n"]
        assert counting.connections[1] == [b"EHLO two.example\r\n", b"RSET\r\n"]
        # The old connection ends saying why, in its transcript and recording, with the
        # command it gave up on; the user's own F5 is no error to toast about.
        assert first.transcript.entries[-1].text == \
            "Disconnected to reconnect (F5): no reply came to NOOP"
        recorded = read_recording(first_path)
        assert recorded.entries[-1].text == first.transcript.entries[-1].text
        assert recorded.footer is not None and recorded.footer["outcome"] == RECONNECT_OUTCOME
        assert [n.message for n in app._notifications if n.severity == "error"] == []


@dataclass
class LateBannerServer(CountingServer):
    """The first connection gets its banner only after a minute (a hung server)."""

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.connections:
            self.connections.append([])
            with contextlib.suppress(Exception):
                await asyncio.sleep(60)
            writer.close()
            return
        await super()._client(reader, writer)


async def test_f5_while_the_banner_is_awaited_leaves_the_new_connection_alone() -> None:
    server = await LateBannerServer().start()
    try:
        app = app_for(server)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            await until(pilot, lambda: screen.session is not None and server.connections)
            first = screen.session
            burst(app, "f5", "enter", *"NOOP", "enter")
            await until(pilot, lambda: screen.session is not first
                        and len(server.connections) == 2
                        and server.connections[1] == [b"NOOP\r\n"], what="NOOP on the new one")
            await until(pilot, lambda: replies(app) == [220, 250])
            await pilot.pause(0.3)
            status = screen.query_one(StatusBar)
            assert status.state == "ready"
            assert [n.message for n in app._notifications if n.severity == "error"] == []
    finally:
        await server.stop()


@dataclass
class ChallengeServer(CountingServer):
    """Offers AUTH LOGIN and answers AUTH with a 334 challenge."""

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        original = writer.write

        def write(data: bytes) -> None:
            if data.startswith(b"500") and self.connections[-1][-1:] and \
                    self.connections[-1][-1].upper().startswith(b"AUTH"):
                data = b"334 VXNlcm5hbWU6\r\n"
            original(data.replace(b"250-wire.test\r\n", b"250-wire.test\r\n250-AUTH LOGIN\r\n"))

        writer.write = write  # type: ignore[method-assign]
        await super()._client(reader, writer)


async def test_lines_typed_after_f5_in_an_auth_exchange_are_commands_again() -> None:
    server = await ChallengeServer().start()
    try:
        app = app_for(server)
        async with app.run_test(size=SIZE) as pilot:
            await greeted(pilot)
            await pilot.press(*"EHLO one.example", "enter")
            await until(pilot, lambda: replies(app) == [220, 250])
            burst(app, *"AUTH LOGIN", "enter")
            await until(pilot, lambda: replies(app) == [220, 250, 334])
            screen = app.screen
            first = screen.session
            burst(app, "f5", "enter", *"EHLO two.example", "enter")
            await until(pilot, lambda: screen.session is not first
                        and len(server.connections) == 2
                        and server.connections[1] == [b"EHLO two.example\r\n"],
                        what="EHLO on the new one")
            assert server.connections[0][-1:] == [b"AUTH LOGIN\r\n"]
    finally:
        await server.stop()


async def test_lines_typed_with_f5_to_starttls_wait_for_ehlo_starttls_ehlo() -> None:
    from smtpscope.server.demo import open_demo_server
    from smtpscope.session import SessionOptions
    from smtpscope.tui.app import create_app

    demo = await open_demo_server()
    try:
        options = SessionOptions(host=demo.host, port=demo.port, security="plain",
                                 cafile=str(demo.cafile))
        app = create_app(options=options, target_label="demo")
        async with app.run_test(size=SIZE) as pilot:
            await greeted(pilot)
            screen = app.screen
            first = screen.session
            burst(app, "f5", "tab", "enter", "down", "enter", "ctrl+s", *"NOOP", "enter",
                  *"RSET", "enter")
            await until(pilot, lambda: screen.session is not first
                        and len(replies(app)) == 6, what="six replies")
            sent = [e.text.split()[0].upper() for e in screen.session.transcript
                    if e.direction == "client" and e.text.strip()]
            assert sent == ["EHLO", "STARTTLS", "EHLO", "NOOP", "RSET"]
    finally:
        await demo.aclose()


async def test_f5_in_data_mode_says_the_message_was_left_open(counting: CountingServer) -> None:
    app = app_for(counting)
    async with app.run_test(size=SIZE) as pilot:
        await greeted(pilot)
        burst(app, *"EHLO one.example", "enter", *"MAIL FROM:<a@x.test>", "enter",
              *"RCPT TO:<b@x.test>", "enter", *"DATA", "enter")
        await until(pilot, lambda: replies(app) == [220, 250, 250, 250, 354])
        screen = app.screen
        first = screen.session
        # A header typed in data mode, F5, and commands: they are commands again on the new
        # connection, not lines of the old message.
        burst(app, *"Subject: x", "enter", "f5", "enter", *"EHLO two.example", "enter",
              *"NOOP", "enter")
        await until(pilot, lambda: screen.session is not first
                    and len(counting.connections) == 2
                    and len(counting.connections[1]) == 2, what="both lines on the new one")
        assert counting.connections[0][-1] == b"Subject: x\r\n"
        assert counting.connections[1] == [b"EHLO two.example\r\n", b"NOOP\r\n"]
        assert first.transcript.entries[-1].text == ("Disconnected to reconnect (F5): the "
                                                     "message was left open (no end of data sent)")


async def test_a_line_refused_on_the_old_connection_does_not_hold_up_the_new_one(
        counting: CountingServer) -> None:
    app = app_for(counting)
    async with app.run_test(size=SIZE) as pilot:
        await greeted(pilot)
        screen = app.screen
        # Typed ahead at paste speed, the second MAIL is refused by the engine (a transaction
        # is open) and blocks the queue: nothing may overtake it on this connection.
        burst(app, *"EHLO one.example", "enter", *"MAIL FROM:<a@x.test>", "enter",
              *"MAIL FROM:<b@x.test>", "enter")
        await until(pilot, lambda: any(item.blocked for item in screen.send_queue),
                    what="the second MAIL blocked")
        first = screen.session
        burst(app, "f5", "enter", *"EHLO two.example", "enter", *"NOOP", "enter")
        await until(pilot, lambda: screen.session is not first
                    and len(counting.connections) == 2
                    and len(counting.connections[1]) == 2, what="both lines on the new one")
        assert counting.connections[0] == [b"EHLO one.example\r\n", b"MAIL FROM:<a@x.test>\r\n"]
        assert counting.connections[1] == [b"EHLO two.example\r\n", b"NOOP\r\n"]
        assert len(screen.send_queue) == 0
        assert "Dropped from the queue, refused on the previous connection: " \
            "MAIL FROM:<b@x.test>" in [e.text for e in screen.session.transcript]
