"""A server that says 220 to STARTTLS, then answers the ClientHello with plaintext: the session
screen says so and shows what it said, escaped."""

from __future__ import annotations

import asyncio

from smtpscope.session import SessionOptions
from smtpscope.tui.app import create_app
from smtpscope.tui.widgets.transcript import TranscriptView
from tests.tui.test_session_screen import SIZE, screen_of, until
from tests.tui.wire_server import LoopbackServer


class PlaintextAfterStarttls(LoopbackServer):
    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 fake ESMTP\r\n")
        while line := await reader.readline():
            verb = line.split(maxsplit=1)[0].upper() if line.strip() else b""
            if verb == b"EHLO":
                writer.write(b"250-fake\r\n250 STARTTLS\r\n")
            elif verb == b"STARTTLS":
                writer.write(b"220 go ahead\r\n")
                await reader.read(5)  # the ClientHello has begun
                writer.write(b"454 4.7.0 TLS not available \x1b[2J[bold]x[/]\r\n")
                await writer.drain()
                await reader.read()  # until the client hangs up
                break
        writer.close()


async def test_the_session_screen_shows_the_plaintext_answer() -> None:
    server = await PlaintextAfterStarttls().start()
    try:
        options = SessionOptions(host="127.0.0.1", port=server.port, security="starttls")
        app = create_app(options=options, target_label="plaintext")
        async with app.run_test(size=SIZE) as pilot:
            screen = screen_of(app)

            def errors() -> list[str]:
                return [e.text for e in screen.session.transcript if e.kind == "error"] \
                    if screen.session is not None else []

            await until(pilot, lambda: bool(errors()))
            [error] = errors()
            assert "accepted STARTTLS, then answered the TLS handshake with plaintext: " \
                   '"454 4.7.0 TLS not available \\x1b[2J[bold]x[/]"' in error
            assert "implicit-TLS port" not in error
            await pilot.pause()
            shown = screen.query_one(TranscriptView).to_text()
            assert "454 4.7.0 TLS not available \\x1b[2J[bold]x[/]" in shown
            assert "\x1b" not in shown
    finally:
        await server.stop()
