"""Drive a send queue over a session without a UI: what a script or the CLI needs.

The TUI pumps its queue on every reply; a headless caller has nobody typing, so it sends the
lines the engine allows, waits for their replies, and goes on until the queue is empty or its
head is blocked (a line the engine refused: the caller decides what to do with it).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from smtpscope.conversation.send_queue import LineKind, QueuedLine, SendQueue, content_line_warnings
from smtpscope.protocol import LocalProtocolError, Reply
from smtpscope.session import Session


@dataclass(frozen=True)
class Sent:
    """One queued line and the reply it earned (None for a message line, which earns none)."""

    line: QueuedLine
    reply: Reply | None


async def run_queue(session: Session, queue: SendQueue) -> list[Sent]:
    """Send queued lines in order, pipelined where the engine allows, until none can go."""
    done: list[Sent] = []
    while batch := queue.take_ready(session.conn):
        # Each task hands its line to the engine in its first step, in creation order, so
        # the lines of one pipelined group are written in the order they were queued.
        tasks = [asyncio.ensure_future(_send(session, queue, line)) for line in batch]
        for line, task in zip(batch, tasks, strict=True):
            sent = await task
            if sent is not None:
                done.append(Sent(line, sent[0]))
    return done


async def _send(session: Session, queue: SendQueue,
                line: QueuedLine) -> tuple[Reply | None] | None:
    if not queue.started(line):
        return None
    try:
        if line.kind is LineKind.COMMAND:
            assert line.command is not None
            return (await session.command(line.command, force=line.force),)
        if line.kind is LineKind.RAW:
            return (await session.send_raw(line.data),)
        body = queue.body_declaration(session.conn, line)
        return (await session.send_data_line(line.data,
                                             notes=content_line_warnings(line.text, body)),)
    except LocalProtocolError as exc:
        queue.block(line, str(exc))
        return None
