"""Benchmark: a message pasted into the TUI in data mode, against the engine sending it alone.

Run ``python bench/paste_message.py [--runs R]`` (from the repository root). For each size
(1,000 and 10,000 lines, about 45 and 470 KB) the TUI runs headless against a small SMTP sink
in this process; after EHLO, MAIL, RCPT and DATA one bracketed paste brings the message, its
``.`` and QUIT. Timed: from the paste to the sink holding the whole message. The baseline is
the same message sent over the same sink by the engine alone (``Session.send_content``),
timed from its first byte to the sink holding it. Printed: each median, the paste's ratio to
the baseline, and how the paste's time per line grows from the small message to the large
(goal: at most 1.5x, which is linear; a pasted message used to cost in proportion to the
square of its lines). Medians of R runs; not a timed test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SIZES = (1_000, 10_000)


class Sink:
    """Just enough SMTP: a banner, 250 to every command, 354 to DATA, and the message kept."""

    def __init__(self) -> None:
        self.done: asyncio.Event = asyncio.Event()
        self.port = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> Sink:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 sink ESMTP\r\n")
        in_data = False
        while line := await reader.readline():
            if in_data:
                if line == b".\r\n":
                    in_data = False
                    self.done.set()
                    writer.write(b"250 2.0.0 kept\r\n")
                continue
            verb = line[:4].upper()
            if verb == b"EHLO":
                writer.write(b"250-sink\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                in_data = True
                writer.write(b"354 go ahead\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()


def message_lines(count: int) -> list[str]:
    return ["Subject: pasted", "", *(f"line {n} " + "x" * (n % 70) for n in range(count))]


def sink_app(sink: Sink) -> Any:
    """The TUI connecting to the sink."""
    from smtpscope.session import SessionOptions
    from smtpscope.tui.app import create_app

    return create_app(options=SessionOptions(host="127.0.0.1", port=sink.port, security="plain"),
                      target_label="sink")


async def greeted(pilot: Any) -> Any:
    """The session screen, once the sink's greeting has come."""
    from smtpscope.tui.screens.session import SessionScreen

    screen = pilot.app.screen
    while not (isinstance(screen, SessionScreen) and screen.session is not None
               and screen.session.greeting is not None):
        await pilot.pause(0.01)
        screen = pilot.app.screen
    return screen


async def paste_once(count: int) -> float:
    from textual import events

    sink = await Sink().start()
    app = sink_app(sink)
    async with app.run_test(size=(120, 40)) as pilot:
        await greeted(pilot)
        await pilot.pause(0.5)  # the first paints after start-up are over: the paste alone
        text = ("EHLO bench.test\nMAIL FROM:<a@bench.test>\nRCPT TO:<b@bench.test>\nDATA\n"
                + "\n".join(message_lines(count)) + "\n.\nQUIT\n")
        paste = events.Paste(text)
        paste.set_sender(app)
        start = time.perf_counter()
        app._driver.send_message(paste)
        await asyncio.wait_for(sink.done.wait(), 600)
        elapsed = time.perf_counter() - start
    sink.stop()
    return elapsed


async def engine_once(count: int) -> float:
    from smtpscope.protocol import Data, MailFrom, MessageContent, RcptTo
    from smtpscope.session import Session, SessionOptions

    sink = await Sink().start()
    session = Session(SessionOptions(host="127.0.0.1", port=sink.port, security="plain"))
    await session.connect()
    await session.ehlo()
    for command in (MailFrom("a@bench.test"), RcptTo("b@bench.test"), Data()):
        await session.command(command)
    body = "".join(f"{line}\r\n" for line in message_lines(count)).encode()
    start = time.perf_counter()
    await session.send_content(MessageContent(body))
    await asyncio.wait_for(sink.done.wait(), 600)
    elapsed = time.perf_counter() - start
    await session.quit(5)
    sink.stop()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    os.environ["SMTPSCOPE_HOME"] = tempfile.mkdtemp(prefix="smtpscope-bench-home-")
    os.environ.setdefault("SMTPSCOPE_CONFIG", os.path.join(os.environ["SMTPSCOPE_HOME"],
                                                           "none.toml"))
    asyncio.run(paste_once(100))  # warm every path once, untimed
    medians: dict[int, tuple[float, float]] = {}
    for count in SIZES:
        pasted = [asyncio.run(paste_once(count)) for _ in range(args.runs)]
        alone = [asyncio.run(engine_once(count)) for _ in range(args.runs)]
        medians[count] = statistics.median(pasted), statistics.median(alone)
        paste_s, engine_s = medians[count]
        print(f"{count:>6,} lines: paste {paste_s * 1000:8.1f} ms ({count / paste_s:>9,.0f} "
              f"lines/s), engine alone {engine_s * 1000:7.1f} ms: {paste_s / engine_s:5.1f}x")
    small, large = SIZES
    growth = (medians[large][0] / large) / (medians[small][0] / small)
    print(f"time per pasted line, {large:,} lines against {small:,}: {growth:.2f}x "
          "(goal <= 1.5x: linear)")


if __name__ == "__main__":
    main()
