"""SCRAM at a server-chosen high iteration count: computed off the UI thread, with progress,
and F8 cancels it (``*`` to the server, the late result thrown away)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator

import pytest
from textual.widgets import ProgressBar

import tests.tui.test_auth_helper as helper_tests
from smtpscope.conversation.auth import AuthStepper
from smtpscope.tui.sasl_compute import ComputeProgress, hash_for, scram_iterations
from smtpscope.tui.screens.auth_exchange import Phase
from tests.tui.test_auth_helper import (
    ScriptedServer,
    fill,
    make_app,
    open_helper,
    wait_for,
)
from tests.tui.waiting import DEADLINE, until_plain

SLOW = 10_000_000  # the most smtpscope accepts: seconds of PBKDF2; the UI must stay live


class Gate:
    """Holds a SCRAM step computed off the UI thread once PBKDF2 is done, until the test
    opens it: the "computing" phase lasts exactly as long as the test needs, however fast or
    loaded the machine. Steps computed on the UI thread pass straight through."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.opened = threading.Event()
        self.computed = threading.Event()
        self.returned = threading.Event()
        self.threads: list[threading.Thread] = []
        receive = AuthStepper.receive

        def gated(stepper: AuthStepper, reply):  # type: ignore[no-untyped-def]
            if threading.current_thread() is threading.main_thread():
                return receive(stepper, reply)
            self.threads.append(threading.current_thread())
            try:
                move = receive(stepper, reply)
                self.computed.set()
                assert self.opened.wait(DEADLINE), "the test never let the step finish"
                return move
            finally:
                self.returned.set()

        monkeypatch.setattr(AuthStepper, "receive", gated)


@pytest.fixture
async def slow_server(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ScriptedServer]:
    monkeypatch.setattr(helper_tests, "ITERATIONS", SLOW)
    srv = ScriptedServer()
    await srv.start()
    yield srv
    await srv.stop()


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    held = Gate(monkeypatch)
    yield held
    held.opened.set()  # never leave a thread waiting, whatever the test did


def sasl_workers_done(helper) -> bool:  # type: ignore[no-untyped-def]
    return all(w.is_finished for w in helper.app.workers
               if w.node is helper and w.group == "sasl")


def test_iteration_count_is_read_from_the_server_first_message() -> None:
    assert scram_iterations("SCRAM-SHA-256", b"r=abc,s=c2FsdA==,i=4096") == 4096
    assert scram_iterations("SCRAM-SHA-1", b"r=x,i=9999999,s=c2FsdA==") == 9_999_999
    assert scram_iterations("CRAM-MD5", b"<1.2@x>") == 0
    assert scram_iterations("SCRAM-SHA-256", b"r=abc,s=c2FsdA==") == 0
    assert hash_for("SCRAM-SHA-256-PLUS") == "sha256" and hash_for("SCRAM-SHA-1") == "sha1"


async def test_slow_scram_runs_off_the_ui_thread_and_can_be_cancelled(
    slow_server: ScriptedServer, gate: Gate,
) -> None:
    app = make_app(slow_server)
    async with app.run_test(size=(140, 45)) as pilot:
        _, helper = await open_helper(pilot)
        await fill(pilot, helper, "SCRAM-SHA-256")
        await pilot.click("#auth-start")
        await wait_for(pilot, lambda: helper.phase is Phase.WAITING, "the client-first proposal")
        helper.send_proposal()  # (Pilot's click waits for an idle app: here it would not be)
        await until_plain(lambda: helper.phase is Phase.COMPUTING, "the computation")
        await until_plain(lambda: bool(helper.query("#compute-label")), "the progress display")
        progress = helper.query_one(ComputeProgress)
        assert f"{SLOW:,} PBKDF2 iterations" in str(progress.query_one("#compute-label").render())
        # The event loop keeps running while PBKDF2 runs: timers tick and the bar moves, the
        # phase is still "computing" (computed inline, the helper never showed this phase).
        bar = progress.query_one(ProgressBar)
        await until_plain(lambda: (bar.progress or 0) > 0, "the bar to move")
        assert helper.phase is Phase.COMPUTING and 0 < progress.fraction < 1
        assert gate.threads and threading.main_thread() not in gate.threads
        await pilot.press("f8")
        await wait_for(pilot, lambda: helper.phase is Phase.DONE, "the cancelled exchange")
        assert helper.final_reply is not None and helper.final_reply.code == 501
        assert not helper.query(ComputeProgress)
        # The thread's late result arrives and is thrown away.
        gate.opened.set()
        await until_plain(gate.returned.is_set, "the computation to end", 120)
        await wait_for(pilot, lambda: sasl_workers_done(helper), "the late result")
        await pilot.pause()
        assert gate.computed.is_set()
        assert helper.phase is Phase.DONE and helper.final_reply.code == 501
        assert not helper.query(ComputeProgress)


async def test_slow_scram_finishes_in_the_background(slow_server: ScriptedServer,
                                                     gate: Gate) -> None:
    app = make_app(slow_server)
    async with app.run_test(size=(140, 45)) as pilot:
        _, helper = await open_helper(pilot)
        await fill(pilot, helper, "SCRAM-SHA-256", mode="auto")
        await pilot.click("#auth-start")
        await wait_for(pilot, lambda: helper.phase is Phase.COMPUTING, "the computation")
        assert helper.query(ComputeProgress)
        gate.opened.set()
        await wait_for(pilot, lambda: helper.phase is Phase.DONE, "the end of the exchange", 120)
        assert len(gate.threads) == 1 and gate.threads[0] is not threading.main_thread()
        assert helper.final_reply is not None and helper.final_reply.code == 235
        assert slow_server.verified  # the server checked the proof computed in the thread
