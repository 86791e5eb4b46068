"""A hostile server against the whole app: its text is shown, never obeyed, in every pane."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator

import pytest

from smtpscope.session import SessionOptions
from smtpscope.tui.app import create_app
from smtpscope.tui.screens.session import SessionScreen
from smtpscope.tui.widgets.capabilities import CapabilityInspector
from smtpscope.tui.widgets.transcript import TranscriptView
from tests.tui.waiting import until

RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")

BANNER = (
    b"220 evil.test \x1b[31mRED\x1b[0m \x1b]8;;https://evil.test/\x07link\x1b]8;;\x07 "
    b"\x1b]52;c;cm0gLXJmIH4=\x07 [bold red]markup[/] bell\x07 nul\x00 c1\xc2\x9b2J\r\n"
)
EHLO = (
    b"250-evil.test \x1b[2J\r\n"
    b"250-X-\x1b[5mBLINK 1\r\n"
    b"250-SIZE [link=https://evil.test]99[/link]\r\n"
    b"250 AUTH PLAIN \x1b]0;title\x07\r\n"
)
LONG = b"250 " + b"A" * 60_000 + b"\r\n"  # under the engine's 64 KiB line limit
HUGE = b"250 " + b"B" * 200_000 + b"\r\n"  # over it: a protocol error, not a frozen UI


@pytest.fixture
async def hostile() -> AsyncIterator[int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(BANNER)
        await writer.drain()
        while line := await reader.readline():
            verb = line.split(b" ")[0].strip().upper()
            answers = {b"EHLO": EHLO, b"NOOP": LONG, b"HELP": HUGE, b"QUIT": b"221 bye\r\n"}
            writer.write(answers.get(verb, b"502 \x1b[1mno\x1b[0m\r\n"))
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield port
    finally:
        server.close()
        await server.wait_closed()


async def test_hostile_text_is_escaped_everywhere(hostile: int) -> None:
    app = create_app(options=SessionOptions("127.0.0.1", hostile, security="plain"))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        await until(pilot, lambda: screen.session is not None
                    and screen.session.greeting is not None, what="the greeting")
        await pilot.press("f2")
        await until(pilot, lambda: screen.session.capabilities is not None, what="EHLO")
        await pilot.press("f7")  # NOOP → a 60 KB reply line
        view = screen.query_one(TranscriptView)
        await until(pilot, lambda: "more chars" in view.to_text(), what="the NOOP reply")
        await pilot.pause()
        text = view.to_text()
        assert "\\x1b[31mRED" in text
        assert "\\x1b]52;c;" in text
        assert "[bold red]markup[/]" in text
        assert "\\x07" in text and "\\x00" in text and "\\x9b" in text
        assert "more chars" in text  # the 200 KB line is clipped, not painted whole
        assert not RAW_CONTROL.search(text)
        inspector = screen.query_one(CapabilityInspector)
        assert inspector.capabilities is not None
        # Every pane as painted: no control character, no link, no markup obeyed.
        svg = app.export_screenshot()
        assert "\x1b" not in svg and "\x07" not in svg
        assert "href" not in svg and "<a " not in svg  # OSC 8 and [link] made no link
        painted = html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")
        assert "220 evil.test \\x1b[31mRED\\x1b[0m" in painted
        assert "X-\\x1b[5MBLINK" in painted  # the inspector (keywords upper-cased) escapes too
        # A line past the limit ends the session with a clear error, never a hang.
        composer = screen.query_one("Composer")
        composer.input.value = "help"
        await pilot.press("enter")
        await until(pilot, lambda: "of a reply line without a line end" in view.to_text(),
                    what="the protocol error")
        assert screen.session is not None and screen.session.closed_reason is not None
