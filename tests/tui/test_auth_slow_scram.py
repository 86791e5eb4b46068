"""SCRAM at a server-chosen high iteration count: computed off the UI thread, with progress,
and F8 cancels it (``*`` to the server, the late result thrown away)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from textual.widgets import ProgressBar

import tests.tui.test_auth_helper as helper_tests
from smtpscope.tui.sasl_compute import ComputeProgress, hash_for, scram_iterations
from tests.tui.test_auth_helper import (
    ScriptedServer,
    fill,
    make_app,
    open_helper,
    wait_for,
)

SLOW = 10_000_000  # the most smtpscope accepts: seconds of PBKDF2; the UI must stay live


async def until(condition, what: str, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    """Poll with plain sleeps (Pilot's pause also waits for the app to go idle)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


@pytest.fixture
async def slow_server(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ScriptedServer]:
    monkeypatch.setattr(helper_tests, "ITERATIONS", SLOW)
    srv = ScriptedServer()
    await srv.start()
    yield srv
    await srv.stop()


def test_iteration_count_is_read_from_the_server_first_message() -> None:
    assert scram_iterations("SCRAM-SHA-256", b"r=abc,s=c2FsdA==,i=4096") == 4096
    assert scram_iterations("SCRAM-SHA-1", b"r=x,i=9999999,s=c2FsdA==") == 9_999_999
    assert scram_iterations("CRAM-MD5", b"<1.2@x>") == 0
    assert scram_iterations("SCRAM-SHA-256", b"r=abc,s=c2FsdA==") == 0
    assert hash_for("SCRAM-SHA-256-PLUS") == "sha256" and hash_for("SCRAM-SHA-1") == "sha1"


async def test_slow_scram_runs_off_the_ui_thread_and_can_be_cancelled(
    slow_server: ScriptedServer,
) -> None:
    app = make_app(slow_server)
    async with app.run_test(size=(140, 45)) as pilot:
        _, helper = await open_helper(pilot)
        await fill(pilot, helper, "SCRAM-SHA-256")
        await pilot.click("#auth-start")
        await wait_for(pilot, lambda: helper.phase == "waiting", "the client-first proposal")
        helper.send_proposal()  # (Pilot's click waits for an idle app: here it would not be)
        await until(lambda: helper.phase == "computing", "the computation")
        await until(lambda: bool(helper.query("#compute-label")), "the progress display")
        progress = helper.query_one(ComputeProgress)
        assert f"{SLOW:,} PBKDF2 iterations" in str(progress.query_one("#compute-label").render())
        # The event loop keeps running while PBKDF2 runs: sleeps wake, timers tick, the phase
        # is still "computing" afterwards (computed inline, the helper never showed this phase).
        # (No wall-clock bound on the wakeups: the test machine may be loaded.)
        for _ in range(10):
            await asyncio.sleep(0.05)
        assert helper.phase == "computing" and 0 < progress.fraction < 1
        assert progress.query_one(ProgressBar).progress > 0  # the bar moves
        await pilot.press("f8")
        await wait_for(pilot, lambda: helper.phase == "done", "the cancelled exchange")
        assert helper.final_reply is not None and helper.final_reply.code == 501
        assert not helper.query(ComputeProgress)
        await asyncio.sleep(1.5)  # the thread's late result arrives and is thrown away
        await pilot.pause(0.1)
        assert helper.phase == "done" and helper.final_reply.code == 501


async def test_slow_scram_finishes_in_the_background(slow_server: ScriptedServer) -> None:
    app = make_app(slow_server)
    async with app.run_test(size=(140, 45)) as pilot:
        _, helper = await open_helper(pilot)
        await fill(pilot, helper, "SCRAM-SHA-256", mode="auto")
        await pilot.click("#auth-start")
        await wait_for(pilot, lambda: helper.phase == "computing", "the computation")
        await wait_for(pilot, lambda: helper.phase == "done", "the end of the exchange", 60)
        assert helper.final_reply is not None and helper.final_reply.code == 235
        assert slow_server.verified  # the server checked the proof computed in the thread
