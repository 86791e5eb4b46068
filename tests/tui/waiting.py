"""Waiting in Pilot tests for a condition to hold, never for a fixed time.

CI runs the suite on a small, possibly loaded machine: a reply, a timer or a repaint may take
seconds there. A condition that holds returns at once, so the deadline can be generous without
slowing a passing run; it only bounds how long a genuinely broken program is waited for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

DEADLINE = 30.0  # seconds; a failure, not a slow machine, is what should reach it
POLL = 0.02


async def until(pilot: Any, condition: Callable[[], Any], timeout: float = DEADLINE,
                what: str = "condition") -> None:
    """Let the app run until ``condition()`` is true; fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"{what} not reached in {timeout:g} s")
        await pilot.pause(POLL)


async def until_plain(condition: Callable[[], Any], what: str = "condition",
                      timeout: float = DEADLINE) -> None:
    """As :func:`until`, with plain sleeps: for moments when the app is busy on purpose and
    Pilot's pause (which waits for pending messages) would not return."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"{what} not reached in {timeout:g} s")
        await asyncio.sleep(POLL / 2)


def steady_cursors(app: Any) -> None:
    """Stop the cursors on the current screen blinking (shown, as in the first half second), so
    a screenshot does not depend on how long the machine took to get there."""
    from textual.widgets import Input, TextArea

    for widget in app.screen.query("Input, TextArea"):
        if isinstance(widget, Input | TextArea):
            widget.cursor_blink = False
