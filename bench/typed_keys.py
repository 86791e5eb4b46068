"""Benchmark: a message typed into the TUI as keys at paste speed, against a bare Textual Input.

Run ``python bench/typed_keys.py [--lines N] [--runs R] [--profile FILE]`` (from the repository
root). A terminal without bracketed paste (or ``tmux send-keys``, or a script) delivers a
pasted message as keys, all in one read. Here the TUI runs headless against a small SMTP sink in
this process; after EHLO, MAIL, RCPT and DATA, the keys of N message lines (each line's
characters, then Enter), the ``.`` line and QUIT's are posted at once. Timed: from the first key
to the sink holding the whole message (every key typed, in order, and sent).

The baseline is the smallest Textual app that takes the same keys: one ``Input`` whose Enter
keeps the line and clears it, timed until it has kept every line. It does not keep the keys in
order (Textual runs Enter after the printable keys queued behind it: textual#6605), which the
TUI must; the ratio is what the order, the SMTP composer and the transcript cost on top.
Printed: keys per second for each and their ratio. Medians of R runs; not a timed test.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from paste_message import Sink, greeted, sink_app  # the paste benchmark's sink and TUI


def message_lines(count: int) -> list[str]:
    return ["Subject: typed", "", *(f"line {n} " + "x" * (n % 40) for n in range(count))]


def keys_for(lines: list[str]) -> list[tuple[str, str]]:
    """(key, character) pairs as the terminal parser makes them for these lines typed."""
    from textual.keys import _character_to_key

    keys: list[tuple[str, str]] = []
    for line in lines:
        for char in line:
            keys.append((char if char.isalnum() else _character_to_key(char), char))
        keys.append(("enter", "\r"))
    return keys


def post(app: object, keys: list[tuple[str, str]]) -> None:
    from textual import events

    driver = app._driver  # type: ignore[attr-defined]
    for key, char in keys:
        event = events.Key(key, char)
        event.set_sender(app)  # type: ignore[arg-type]
        driver.send_message(event)


async def typed_once(count: int, profile: cProfile.Profile | None = None) -> tuple[float, int]:
    sink = await Sink().start()
    app = sink_app(sink)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await greeted(pilot)
        envelope = ["EHLO bench.test", "MAIL FROM:<a@bench.test>", "RCPT TO:<b@bench.test>",
                    "DATA"]
        post(app, keys_for(envelope))
        while screen.session.conn.state.name != "DATA":
            await pilot.pause(0.01)
        await pilot.pause(0.5)  # the 354's paints are over: the keys alone
        keys = keys_for([*message_lines(count), ".", "QUIT"])
        if profile is not None:
            profile.enable()
        start = time.perf_counter()
        post(app, keys)
        await asyncio.wait_for(sink.done.wait(), 900)
        elapsed = time.perf_counter() - start
        if profile is not None:
            profile.disable()
    sink.stop()
    return elapsed, len(keys)


async def bare_once(count: int) -> tuple[float, int]:
    from textual.app import App, ComposeResult
    from textual.widgets import Input

    kept: list[str] = []
    done = asyncio.Event()
    lines = message_lines(count)

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Input()

        def on_input_submitted(self, event: Input.Submitted) -> None:
            kept.append(event.value)
            event.input.value = ""
            if len(kept) == len(lines):
                done.set()

    app = Bare()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.5)
        keys = keys_for(lines)
        start = time.perf_counter()
        post(app, keys)
        await asyncio.wait_for(done.wait(), 900)
        elapsed = time.perf_counter() - start
    return elapsed, len(keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", help="write a cProfile of one typed run to this file")
    args = parser.parse_args()
    os.environ["SMTPSCOPE_HOME"] = tempfile.mkdtemp(prefix="smtpscope-bench-home-")
    os.environ.setdefault("SMTPSCOPE_CONFIG", os.path.join(os.environ["SMTPSCOPE_HOME"],
                                                           "none.toml"))
    if args.profile:
        profile = cProfile.Profile()
        asyncio.run(typed_once(args.lines, profile))
        profile.dump_stats(args.profile)
        return
    asyncio.run(typed_once(10))  # warm every path once, untimed
    asyncio.run(bare_once(10))
    typed, bare = [], []
    for _ in range(args.runs):  # alternated: this machine's speed drifts
        seconds, keys = asyncio.run(typed_once(args.lines))
        typed.append(keys / seconds)
        seconds, keys = asyncio.run(bare_once(args.lines))
        bare.append(keys / seconds)
    typed_rate, bare_rate = statistics.median(typed), statistics.median(bare)
    print(f"{args.lines} lines typed as keys, median of {args.runs} runs")
    print(f"  smtpscope, data mode, sent:   {typed_rate:8.0f} keys/s")
    print(f"  bare Textual Input:           {bare_rate:8.0f} keys/s")
    print(f"  ratio smtpscope/bare:         {typed_rate / bare_rate:8.2f}x")


if __name__ == "__main__":
    main()
