"""Benchmark: SMTP reply lines parsed per second, smtpscope's engine against stdlib smtplib.

Both read the same byte stream in the same process: a realistic mix of greetings, an EHLO
reply per session, pipelined MAIL/RCPT/DATA replies and the end-of-data reply. smtplib reads it
through ``getreply()`` with its file object replaced by an in-memory buffer; the engine is fed the
stream in 4 KiB pieces (a typical socket read), with the state machine matching every reply to a
queued command, and drained two ways: ``next_event()`` once per reply, and ``next_events()`` once
per read (what the session does).

Run: ``python bench/engine.py [--sessions N] [--runs R]`` (with bytecode caching on, as usual;
one untimed pass first warms every path). Figures are medians of the runs.
"""

from __future__ import annotations

import argparse
import io
import smtplib
import statistics
import sys
import time
from pathlib import Path

# Runnable from a checkout without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from smtpscope.protocol import (
    NEED_DATA,
    Connection,
    Data,
    Ehlo,
    MailFrom,
    MessageContent,
    RcptTo,
    Reply,
)
from smtpscope.protocol.replies import ReplyReader

EHLO_REPLY = (
    b"250-mx.example.test Hello client.example [192.0.2.10]\r\n"
    b"250-SIZE 52428800\r\n"
    b"250-8BITMIME\r\n"
    b"250-PIPELINING\r\n"
    b"250-PIPECONNECT\r\n"
    b"250-CHUNKING\r\n"
    b"250-STARTTLS\r\n"
    b"250-ENHANCEDSTATUSCODES\r\n"
    b"250-SMTPUTF8\r\n"
    b"250 HELP\r\n"
)
TRANSACTION = (
    b"250 2.1.0 Ok\r\n"
    b"250 2.1.5 Ok\r\n"
    b"250 2.1.5 Ok\r\n"
    b"550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown\r\n"
    b"354 End data with <CR><LF>.<CR><LF>\r\n"
    b"250 2.0.0 Ok: queued as 4X%08X\r\n"  # a queue id differs from message to message
)
GREETING = b"220 mx.example.test ESMTP Exim 4.96 Fri, 27 Nov 2026 15:%02d:%02d +0000\r\n"
TRANSACTIONS_PER_SESSION = 20
CHUNK = 4096


def session_stream(number: int) -> bytes:
    """One session's server output; greetings and queue ids differ as they would live."""
    out = [GREETING % divmod(number % 3600, 60), EHLO_REPLY]
    for txn in range(TRANSACTIONS_PER_SESSION):
        out.append(TRANSACTION % (number * TRANSACTIONS_PER_SESSION + txn))
    return b"".join(out)


def build_stream(sessions: int) -> tuple[bytes, int, int]:
    """(stream, replies, lines) for ``sessions`` sessions' worth of server output."""
    stream = b"".join(session_stream(n) for n in range(sessions))
    lines = stream.count(b"\n")
    replies = sessions * (2 + 6 * TRANSACTIONS_PER_SESSION)
    return stream, replies, lines


def prepare_connections(sessions: int) -> list[Connection]:
    """One Connection per session, all its commands queued up front.

    force=True skips the send-time checks (queueing ahead of the greeting and the 354 is not
    something a real client does); every reply is still matched and the state machine runs.
    """
    conns = []
    for _ in range(sessions):
        conn = Connection()
        conn.send(Ehlo("client.example"), force=True)
        for _ in range(TRANSACTIONS_PER_SESSION):
            conn.send(MailFrom("alice@client.example"), force=True)
            conn.send(RcptTo("bob@example.test"), force=True)
            conn.send(RcptTo("carol@example.test"), force=True)
            conn.send(RcptTo("nobody@example.test"), force=True)
            conn.send(Data(), force=True)
            conn.send_content(MessageContent(b"Subject: hi\r\n\r\nhello\r\n"), force=True)
        conns.append(conn)
    return conns


def run_engine(sessions: int, batch: bool = False) -> tuple[float, int]:
    """Per event (``next_event()`` until NEED_DATA after every read) or, with ``batch``, per
    read (one ``next_events()`` after every read, as the session drains the engine)."""
    streams = [session_stream(n) for n in range(sessions)]
    replies = 2 + 6 * TRANSACTIONS_PER_SESSION
    conns = prepare_connections(sessions)
    count = 0
    t0 = time.perf_counter()
    for conn, stream in zip(conns, streams, strict=True):
        for i in range(0, len(stream), CHUNK):
            conn.receive_data(stream[i : i + CHUNK])
            if batch:
                count += len(conn.next_events())
                continue
            event = conn.next_event()
            while event is not NEED_DATA:
                count += 1
                event = conn.next_event()
    elapsed = time.perf_counter() - t0
    assert count == replies * sessions, (count, replies * sessions)
    return elapsed, count


def run_reader(stream: bytes, replies: int) -> float:
    reader = ReplyReader()
    count = 0
    t0 = time.perf_counter()
    for i in range(0, len(stream), CHUNK):
        reader.receive_data(stream[i : i + CHUNK])
        while reader.next_frame() is not None:
            count += 1
    elapsed = time.perf_counter() - t0
    assert count == replies, (count, replies)
    return elapsed


def run_smtplib(stream: bytes, replies: int) -> float:
    client = smtplib.SMTP()
    client.file = io.BufferedReader(io.BytesIO(stream), buffer_size=CHUNK)  # type: ignore[assignment]
    t0 = time.perf_counter()
    for _ in range(replies):
        client.getreply()
    elapsed = time.perf_counter() - t0
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    stream, replies, lines = build_stream(args.sessions)
    assert isinstance(Reply, type)
    runners = {
        "engine": lambda: run_engine(args.sessions)[0],
        "batch": lambda: run_engine(args.sessions, batch=True)[0],
        "reader": lambda: run_reader(stream, replies),
        "smtplib": lambda: run_smtplib(stream, replies),
    }
    for run in runners.values():  # warm-up, untimed
        run()
    results: dict[str, list[float]] = {name: [] for name in runners}
    # Each run's ratio is taken against smtplib in the same run, timed on either side of the
    # engine's: this machine's speed drifts over seconds, and a ratio of medians taken minutes
    # apart moves with it.
    ratios: dict[str, list[float]] = {name: [] for name in runners if name != "smtplib"}
    for _ in range(args.runs):
        base = [run_smtplib(stream, replies)]
        for name, ratio in ratios.items():
            took = runners[name]()
            base.append(run_smtplib(stream, replies))
            ratio.append((base[-2] + base[-1]) / 2 / took)
            results[name].append(lines / took)
        results["smtplib"].extend(lines / t for t in base)
    print(f"stream: {len(stream):,} bytes, {replies:,} replies, {lines:,} lines; "
          f"median of {args.runs} runs, each ratio against smtplib timed beside it")
    med = {k: statistics.median(v) for k, v in results.items()}
    ratio = {k: statistics.median(v) for k, v in ratios.items()}
    print(f"  engine  (next_event per reply, state tracked): {med['engine']:>12,.0f} lines/s"
          f"  {ratio['engine']:.2f}x smtplib (goal >= 1.0x)")
    print(f"  batch   (next_events per read, state tracked): {med['batch']:>12,.0f} lines/s"
          f"  {ratio['batch']:.2f}x smtplib (goal >= 1.0x)")
    print(f"  reader  (ReplyReader framing only):            {med['reader']:>12,.0f} lines/s"
          f"  {ratio['reader']:.2f}x smtplib")
    print(f"  smtplib (SMTP.getreply):                       {med['smtplib']:>12,.0f} lines/s")


if __name__ == "__main__":
    main()
