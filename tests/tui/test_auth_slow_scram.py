"""SCRAM at a server-chosen high iteration count: computed off the UI thread, with progress,
and F8 cancels it (``*`` to the server, the late result thrown away)."""

from __future__ import annotations

import asyncio
import time
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

SLOW = 6_000_000  # about two seconds of PBKDF2-SHA-256 here; the UI must stay live meanwhile


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
        await pilot.click("#auth-send")
        await wait_for(pilot, lambda: helper.phase == "computing", "the computation")
        progress = helper.query_one(ComputeProgress)
        assert f"{SLOW:,} PBKDF2 iterations" in str(progress.query_one("#compute-label").render())
        # The event loop keeps running while PBKDF2 runs: measure how late short sleeps wake.
        worst = 0.0
        for _ in range(10):
            before = time.monotonic()
            await asyncio.sleep(0.05)
            worst = max(worst, time.monotonic() - before - 0.05)
        assert worst < 0.2, f"the UI loop stalled {worst:.2f} s"
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
