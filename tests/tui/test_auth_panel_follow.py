"""The AUTH helper's exchange panel keeps the newest step in view, to its last line.

A step block that got its text only once mounted was first laid out empty: the panel scrolled
to the end of that, and the proposed line, the server's verification or the final reply sat
below the fold (DIGEST-MD5 against Dovecot in Auto mode: the panel stayed at the top).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from textual.containers import VerticalScroll

from smtpscope.tui.screens.auth_exchange import Phase
from smtpscope.tui.screens.auth_helper import AuthHelperScreen
from tests.tui.test_auth_helper import (
    PASSWORD,
    ScriptedServer,
    fill,
    make_app,
    open_helper,
    wait_for,
)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SMTPSCOPE_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
async def server() -> AsyncIterator[ScriptedServer]:
    srv = ScriptedServer()
    await srv.start()
    yield srv
    await srv.stop()


async def _settled(pilot: Any) -> None:
    for _ in range(4):
        await pilot.pause()


def _newest_step_in_view(helper: AuthHelperScreen) -> bool:
    steps = helper.query_one("#auth-steps", VerticalScroll)
    bottom = helper.step_views[-1].virtual_region.bottom
    return steps.max_scroll_y > 0 and \
        bottom <= steps.scroll_offset.y + steps.scrollable_content_region.height


async def test_each_proposal_is_shown_to_its_last_line(home: Path,
                                                       server: ScriptedServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        _, helper = await open_helper(pilot)
        await fill(pilot, helper, "SCRAM-SHA-256")
        await pilot.press("ctrl+s")
        for n in (1, 2, 3):
            await wait_for(pilot, lambda n=n: helper.phase is Phase.WAITING
                           and len(helper.step_views) == n, f"proposal {n}")
            await _settled(pilot)
            if n > 1:  # the first fits the panel
                assert _newest_step_in_view(helper), f"step {n} is cut off"
            await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: helper.phase is Phase.DONE, "the final reply")
        await _settled(pilot)
        assert helper.final_reply is not None and helper.final_reply.code == 235
        assert _newest_step_in_view(helper), "the final reply is cut off"


# Whether the old panel lost the race depended on timing: a few runs make it show.
@pytest.mark.parametrize("run", range(3))
@pytest.mark.parametrize("password", [PASSWORD, "wrong-password"])
async def test_auto_mode_ends_with_the_final_reply_in_view(
        home: Path, server: ScriptedServer, password: str, run: int) -> None:
    mech = "DIGEST-MD5"  # a big second step, then the final reply at once
    server.mechanisms = (mech,)
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        _, helper = await open_helper(pilot)
        await fill(pilot, helper, mech, mode="auto", password=password)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: helper.phase is Phase.DONE, "the final reply")
        await _settled(pilot)
        assert helper.final_reply is not None
        assert _newest_step_in_view(helper), "the final reply is cut off"
