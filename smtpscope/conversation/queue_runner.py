"""Drive a send queue over a session: the lines of a message in one go, and without a UI the
whole queue (what a script or the CLI needs).

The TUI pumps its queue on every reply; a headless caller has nobody typing, so it sends the
lines the engine allows, waits for their replies, and goes on until the queue is empty or its
head is blocked (a line the engine refused: the caller decides what to do with it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from smtpscope.conversation.send_queue import (
    MESSAGE_LINES,
    BodyDeclaration,
    LineKind,
    QueuedLine,
    SendQueue,
    content_line_warnings,
    in_runs,
)
from smtpscope.protocol import LocalProtocolError, Reply
from smtpscope.session import Session


@dataclass(frozen=True)
class Sent:
    """One queued line and the reply it earned (None for a message line, which earns none)."""

    line: QueuedLine
    reply: Reply | None


async def send_message_lines(session: Session | None, queue: SendQueue,
                             lines: Sequence[QueuedLine],
                             body: Callable[[QueuedLine], BodyDeclaration | None],
                             ) -> tuple[list[QueuedLine], Reply | None]:
    """Message lines ``take_ready`` gave together (content, and perhaps the ``.``): each
    checked with ``started`` and given to the engine in this same step, then written at once.

    ``body`` gives what the message's transaction declared (the same for every line of it).
    Returns the lines that went and the reply to the one that ended the message, if any.
    Lines that could not go are back in the queue: behind a refused line, with no open
    connection, or after a line the engine took as the end of the message.
    """
    lines = [line for line in lines if queue.started(line)]
    if not lines:
        return [], None
    if session is None or not session.is_open:
        for line in lines:
            queue.requeue(line)  # they go after a reconnect, never silently nowhere
        return [], None
    declared = body(lines[0])
    count, reply = await session.send_data_lines(
        [(line.data, content_line_warnings(line.text, declared)) for line in lines])
    for line in lines[count:]:
        queue.requeue(line)
    return lines[:count], reply


async def run_queue(session: Session, queue: SendQueue) -> list[Sent]:
    """Send queued lines in order, pipelined where the engine allows, until none can go."""
    done: list[Sent] = []
    while batch := queue.take_ready(session.conn):
        # Each task hands its lines to the engine in its first step, in creation order, so
        # the lines of one pipelined group are written in the order they were queued.
        runs = in_runs(batch)
        tasks = [asyncio.ensure_future(_send(session, queue, run)) for run in runs]
        for task in tasks:
            done.extend(await task)
    return done


async def _send(session: Session, queue: SendQueue, run: list[QueuedLine]) -> list[Sent]:
    line = run[0]
    if line.kind in MESSAGE_LINES:
        went, reply = await send_message_lines(
            session, queue, run, lambda first: queue.body_declaration(session.conn, first))
        return [Sent(sent, reply if sent is went[-1] else None) for sent in went]
    if not queue.started(line):
        return []
    try:
        if line.kind is LineKind.COMMAND:
            assert line.command is not None
            return [Sent(line, await session.command(line.command, force=line.force))]
        return [Sent(line, await session.send_raw(line.data))]
    except LocalProtocolError as exc:
        queue.block(line, str(exc))
        return []
