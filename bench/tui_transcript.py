"""Benchmark the transcript pane: append rate, peak RSS, scroll-key-to-paint, launch-to-banner.

Run ``python bench/tui_transcript.py`` (from the repository root). Every measurement runs in a
fresh child process so that peak RSS and start-up times are not polluted by earlier parts; the
parent prints medians. Goals (from the issue): >= 200,000 lines/s appended, <= 300 MB peak RSS
with 1,000,000 lines, <= 50 ms from a scroll key to the next paint, <= 0.5 s launch to banner.

"Paint" here is the headless equivalent of a terminal write: the app's ``_display`` hook is
called with the compositor's update, which this script also serialises to terminal bytes (the
headless driver would otherwise skip that step).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")  # scroll latency is measured unanimated
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

LINES = 1_000_000
BATCH = 10_000  # entries per add_entries call: a flood arrives in reads, not one by one
WALL0 = 1_700_000_000.0


def make_entry(seq: int) -> Any:
    """A deterministic entry of a realistic session mix (the same seq gives the same entry)."""
    from smtpscope.record.transcript import Entry

    step = seq % 12
    txn = seq // 12
    direction, kind, extra = "server", "reply", {}
    if step == 0:
        direction, kind = "client", "command"
        text = f"MAIL FROM:<sender{txn}@example.com> SIZE={txn % 90_000 + 1000}\r\n"
    elif step == 1:
        text, extra = "250 2.1.0 Sender ok\r\n", {"reply": {"code": 250}, "latency": 0.0042}
    elif step in (2, 4):
        direction, kind = "client", "command"
        text = f"RCPT TO:<user{txn}.{step}@example.net>\r\n"
    elif step == 3:
        text, extra = "250 2.1.5 Recipient ok\r\n", {"reply": {"code": 250}, "latency": 0.0031}
    elif step == 5:
        text = "550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown\r\n"
        extra = {"reply": {"code": 550, "enhanced": "5.1.1"}, "latency": 0.012}
    elif step == 6:
        direction, kind, text = "client", "command", "DATA\r\n"
    elif step == 7:
        text = "354 End data with <CR><LF>.<CR><LF>\r\n"
        extra = {"reply": {"code": 354}, "latency": 0.002}
    elif step == 8:
        direction, kind = "client", "content"
        text = (
            f"From: sender{txn}@example.com\r\nTo: user{txn}@example.net\r\n"
            f"Subject: bench message {txn}\r\nMessage-ID: <{txn}@bench.example>\r\n\r\n"
            "Hello,\r\nthis is a benchmark body line.\r\nBye.\r\n"
        )
    elif step == 9:
        text = f"250 2.0.0 Ok: queued as {txn:012X}\r\n"
        extra = {"reply": {"code": 250}, "latency": 0.025}
    elif step == 10:
        direction, kind, text = "client", "command", "RSET\r\n"
    else:
        text = (
            "250-mx.bench.example\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n"
            "250-ENHANCEDSTATUSCODES\r\n250 SMTPUTF8\r\n"
        )
        extra = {"reply": {"code": 250}, "latency": 0.001}
    return Entry(
        seq=seq,
        mono=seq * 0.001,
        wall=WALL0 + seq * 0.001,
        direction=direction,  # type: ignore[arg-type]
        kind=kind,
        raw=text.encode(),
        text=text,
        **extra,
    )


def explain(entry: Any) -> str | None:
    """A stand-in for the catalogue: one short line for 4xx/5xx."""
    return f"{entry.code} — bench explanation (permanent failure)"


def batches() -> Iterator[list[Any]]:
    seq = 0
    while True:
        yield [make_entry(i) for i in range(seq, seq + BATCH)]
        seq += BATCH


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def paint_hooked_app(base: type) -> type:
    """An app class whose every paint sets ``painted`` and records its time."""

    class Painted(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.painted = asyncio.Event()
            self.paint_time = 0.0
            self.paint_text = ""

        def _display(self, screen: Any, renderable: Any) -> None:
            super()._display(screen, renderable)
            if renderable is None:
                return
            self.paint_text = renderable.render_segments(self.console)  # the terminal's bytes
            self.paint_time = time.perf_counter()
            self.painted.set()

    return Painted


# -- part 1 + 2: append a million lines, then scroll ----------------------------------------


async def part_append(retain: bool) -> dict[str, Any]:
    from textual import events
    from textual.app import App, ComposeResult

    from smtpscope.tui.widgets.transcript import TranscriptView

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield TranscriptView(explain=explain, lookup=None if retain else make_entry)

    from smtpscope.record.transcript import Transcript

    app = paint_hooked_app(Host)()
    rss_before = rss_mb()
    # As in the app: the session's Transcript owns every Entry and the view shares them.
    owner = Transcript() if retain else None
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(TranscriptView)
        add_time = 0.0
        started = time.perf_counter()
        for batch in batches():
            if owner is not None:
                owner.entries.extend(batch)
            t0 = time.perf_counter()
            view.add_entries(batch)
            add_time += time.perf_counter() - t0
            await asyncio.sleep(0)  # let the app paint between reads, as it would live
            if view.row_count >= LINES:
                break
        del batch
        total_time = time.perf_counter() - started
        rows = view.row_count
        await pilot.pause()
        rss_after = rss_mb()

        view.focus()
        await pilot.pause()

        async def key_to_paint(key: str) -> float:
            await pilot.pause()
            await asyncio.sleep(0.02)  # let any pending refresh land first
            app.painted.clear()
            t0 = time.perf_counter()
            assert app._driver is not None
            app._driver.send_message(events.Key(key, None))
            await asyncio.wait_for(app.painted.wait(), 5)
            return (app.paint_time - t0) * 1000

        page_up = [await key_to_paint("pageup") for _ in range(40)]
        cursor_up = [await key_to_paint("up") for _ in range(40)]  # first press selects a row
        jumps = [await key_to_paint(k) for k in ("home", "end") * 10]
    return {
        "rows": rows,
        "entries": view.entry_count,
        "append_lines_per_s": rows / add_time,
        "append_incl_entry_creation_and_paints_lines_per_s": rows / total_time,
        "rss_before_mb": rss_before,
        "peak_rss_mb": rss_after,
        "pageup_ms": page_up,
        "up_ms": cursor_up,
        "home_end_ms": jumps,
    }


# -- part 3: launch to banner ------------------------------------------------------------------


async def part_launch(kind: str, spawned: float) -> dict[str, Any]:
    from textual.app import App, ComposeResult

    from smtpscope.record.transcript import Transcript
    from smtpscope.tui.widgets.transcript import TranscriptView

    imported = time.time()

    async def banner_server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 bench ESMTP\r\n")
        await writer.drain()
        await reader.read()
        writer.close()

    server = await asyncio.start_server(banner_server, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]

    class Empty(App[None]):
        pass

    class Banner(App[None]):
        def compose(self) -> ComposeResult:
            yield TranscriptView()

        async def on_mount(self) -> None:
            self.run_worker(self.read_banner(), exclusive=True)

        async def read_banner(self) -> None:
            transcript = Transcript()
            transcript.subscribe(self.query_one(TranscriptView).add_entry)
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            line = await reader.readline()
            transcript.add("server", "reply", line, reply={"code": int(line[:3])})
            writer.close()

    app = paint_hooked_app(Empty if kind == "empty" else Banner)()
    start = time.perf_counter()
    start_wall = time.time()
    task = asyncio.create_task(app.run_async(headless=True, size=(120, 40)))
    while True:
        await asyncio.wait_for(app.painted.wait(), 10)
        app.painted.clear()
        if kind == "empty" or "220 bench ESMTP" in app.paint_text:
            break
    painted = app.paint_time
    app.exit()
    await task
    server.close()
    return {
        "app_to_paint_s": painted - start,
        "process_to_paint_s": start_wall + (painted - start) - spawned,
        "import_s": imported - spawned,
    }


# -- part 4: replay of a million-line recording ------------------------------------------------


def recording_path() -> Path:
    """A recording of the same million-line session, written once and reused (in /tmp)."""
    import tempfile

    from smtpscope.record.store import make_header

    path = Path(tempfile.gettempdir()) / f"smtpscope-bench-{LINES}-lines.jsonl"
    if path.exists():
        return path
    partial = path.with_suffix(".partial")
    with open(partial, "w", encoding="utf-8") as out:
        out.write(json.dumps(make_header("bench.example:25")) + "\n")
        lines = seq = 0
        while lines < LINES:
            entry = make_entry(seq)
            seq += 1
            lines += entry.text.count("\n") or 1
            out.write(json.dumps(entry.to_json(), ensure_ascii=False, separators=(",", ":")))
            out.write("\n")
        out.write(json.dumps({"footer": True, "ended_wall": WALL0 + seq * 0.001}) + "\n")
    partial.replace(path)
    return path


async def part_replay(path: str) -> dict[str, Any]:
    from textual import events

    from smtpscope.tui.app import create_app
    from smtpscope.tui.widgets.transcript import TranscriptView

    app: Any = create_app(replay_path=path)
    painted = asyncio.Event()
    paint_time = [0.0]
    display = app._display

    def hooked(screen: Any, renderable: Any) -> None:  # the app's paint, timed
        display(screen, renderable)
        if renderable is not None:
            paint_time[0] = time.perf_counter()
            painted.set()

    app._display = hooked
    started = time.perf_counter()
    async with app.run_test(size=(120, 40)) as pilot:
        await asyncio.wait_for(painted.wait(), 30)
        opened = paint_time[0] - started
        view = app.screen.query_one(TranscriptView)
        total = len(app.screen.recording.entries)
        shown_at_paint = [0]  # entries in the pane at the last paint

        def counted(screen: Any, renderable: Any) -> None:
            shown_at_paint[0] = view.entry_count
            hooked(screen, renderable)

        app._display = counted

        async def key_to_paint(key: str, entries: int | None = None) -> float:
            """Milliseconds from the key to the first paint (with ``entries`` shown if given)."""
            await pilot.pause()
            await asyncio.sleep(0.02)
            painted.clear()
            t0 = time.perf_counter()
            app._driver.send_message(events.Key(key, None))
            while True:
                await asyncio.wait_for(painted.wait(), 60)
                painted.clear()
                if entries is None or shown_at_paint[0] == entries:
                    return (paint_time[0] - t0) * 1000

        async def keys_during_show_all() -> list[float]:
            """Key -> paint of Up (the line cursor moves) pressed while "show all" of the
            parsed entries is under way; then waits for it to end."""
            latencies = []
            app._driver.send_message(events.Key("a", None))
            for _ in range(8):
                await asyncio.sleep(0.25)
                if view.entry_count >= total:
                    break
                before = view._cursor
                painted.clear()
                t0 = time.perf_counter()
                app._driver.send_message(events.Key("up", None))
                while True:
                    await asyncio.wait_for(painted.wait(), 60)
                    painted.clear()
                    if view._cursor != before:
                        latencies.append((paint_time[0] - t0) * 1000)
                        break
            while view.entry_count < total:
                await asyncio.sleep(0.05)
            if view._cursor >= 0:
                await key_to_paint("escape")  # no line selected, following the end again
            return latencies

        first_steps = [await key_to_paint(k) for k in ("space",) * 20 + ("p",) * 10]
        show_all, end_steps, restarts, during = [], [], [], []
        for n in range(3):
            show_all.append(await key_to_paint("a", total))
            end_steps += [await key_to_paint(k) for k in ("p",) * 10 + ("space",) * 5]
            restarts.append(await key_to_paint("s", 0))
            if n == 0:
                during += await keys_during_show_all()
                await key_to_paint("s", 0)
    return {"open_s": opened, "entries": total,
            "steps_start_ms": first_steps, "show_all_ms": show_all,
            "steps_end_ms": end_steps, "restart_ms": restarts, "during_show_all_ms": during}


# -- driver --------------------------------------------------------------------------------------


def child(args: list[str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def med(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["append", "launch", "replay"])
    parser.add_argument("--recording", help="(replay part) the recording to open")
    parser.add_argument("--only-replay", action="store_true", help="run just the replay part")
    parser.add_argument("--retain", action="store_true", help="the view keeps every Entry")
    parser.add_argument("--kind", default="banner", choices=["banner", "empty"])
    parser.add_argument("--spawned", type=float, default=0.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-retain", action="store_true")
    opts = parser.parse_args()
    if opts.part == "append":
        print(json.dumps(asyncio.run(part_append(opts.retain))))
        return
    if opts.part == "launch":
        print(json.dumps(asyncio.run(part_launch(opts.kind, opts.spawned))))
        return
    if opts.part == "replay":
        print(json.dumps(asyncio.run(part_replay(opts.recording))))
        return
    if opts.only_replay:
        replay_report(opts.repeat)
        return

    runs = [child(["--part", "append"]) for _ in range(opts.repeat)]
    print(f"transcript pane, {runs[0]['rows']:,} lines ({runs[0]['entries']:,} entries), "
          f"median of {opts.repeat} runs")
    rate = med([r["append_lines_per_s"] for r in runs])
    print(f"  append rate (add_entries only)   {rate:>12,.0f} lines/s   (goal >= 200,000)")
    incl = med([r["append_incl_entry_creation_and_paints_lines_per_s"] for r in runs])
    print(f"  incl. Entry creation + paints    {incl:>12,.0f} lines/s")
    print(f"  peak RSS                         {med([r['peak_rss_mb'] for r in runs]):>12.0f} MB"
          f"        (goal <= 300; app alone {med([r['rss_before_mb'] for r in runs]):.0f} MB)")
    for label, key in (("pageup", "pageup_ms"), ("up (cursor)", "up_ms"),
                       ("home/end", "home_end_ms")):
        values = [v for r in runs for v in r[key]]
        print(f"  key->paint {label:<21} {med(values):>10.1f} ms median, "
              f"{p95(values):.1f} ms p95 (goal <= 50)")
    if not opts.skip_retain:
        kept = child(["--part", "append", "--retain"])
        print(f"  peak RSS with every Entry held    {kept['peak_rss_mb']:>12.0f} MB"
              "        (goal <= 300; the Transcript owns them, the view shares them, "
              "as in the app)")
        slowest = max(v for key in ("pageup_ms", "up_ms", "home_end_ms") for v in kept[key])
        print(f"  slowest of its 100 keys          {slowest:>12.1f} ms"
              "        (a full pass of the cyclic collector over every Entry lands on a key)")

    launches: dict[str, list[dict[str, Any]]] = {"empty": [], "banner": []}
    for _ in range(max(5, opts.repeat)):
        for kind in ("empty", "banner"):
            launches[kind].append(
                child(["--part", "launch", "--kind", kind, "--spawned", repr(time.time())])
            )
    for key, label in (("app_to_paint_s", "app start"), ("process_to_paint_s", "process spawn")):
        empty = med([r[key] for r in launches["empty"]])
        banner = med([r[key] for r in launches["banner"]])
        print(f"  {label:>13} -> banner painted  {banner:8.3f} s   empty App first paint "
              f"{empty:.3f} s   ratio {banner / empty:.2f}   (goal <= 0.5 s)")
    print(f"  (imports in the child: {med([r['import_s'] for r in launches['banner']]):.3f} s)")

    replay_report(opts.repeat)


def replay_report(repeat: int) -> None:
    path = str(recording_path())
    runs = [child(["--part", "replay", "--recording", path]) for _ in range(repeat)]
    print(f"replay of a {LINES:,}-line recording ({runs[0]['entries']:,} entries), "
          f"median of {repeat} runs")
    print(f"  open -> first paint              {med([r['open_s'] for r in runs]):>10.2f} s"
          "          (goal <= 2 s)")
    for label, key in (("step at the start", "steps_start_ms"),
                       ("step at the end", "steps_end_ms")):
        values = [v for r in runs for v in r[key]]
        print(f"  key->paint {label:<21} {med(values):>10.1f} ms median, "
              f"{p95(values):.1f} ms p95 (goal <= 50)")
    first = [r["show_all_ms"][0] for r in runs]
    again = [v for r in runs for v in r["show_all_ms"][1:]]
    print(f"  key->paint of all, 'show all'    {med(first):>10.0f} ms median    "
          "(goal <= 1000; parses and lays out every entry)")
    print(f"  the same again (entries parsed)  {med(again):>10.0f} ms median    (goal <= 1000)")
    during = [v for r in runs for v in r["during_show_all_ms"]]
    print(f"  key->paint of Up in 'show all'   {med(during):>10.1f} ms median, "
          f"{p95(during):.1f} ms p95 (goal <= 100; entries parsed, {len(during)} keys)")
    restarts = [v for r in runs for v in r["restart_ms"]]
    print(f"  key->paint restart after it      {med(restarts):>10.1f} ms median, "
          f"{p95(restarts):.1f} ms p95 (goal <= 50)")

if __name__ == "__main__":
    main()
