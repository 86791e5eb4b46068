"""Snapshot tests of the main states, from a fixed recording (so no clock or port varies)."""

from __future__ import annotations

from pathlib import Path

import pytest

from smtpscope.protocol import Capabilities, parse_reply
from smtpscope.tui.app import SmtpScopeApp, create_app
from smtpscope.tui.widgets.data_editor import DataEditor
from tests.tui.sample import EHLO_TLS, write_sample
from tests.tui.waiting import steady_cursors, until

SIZE = (120, 36)

DRAFT = (
    "Date: Fri, 27 Nov 2026 10:00:00 +0000\n"
    "From: alice@example.test\n"
    "To: bob@example.test\n"
    "Subject: 안녕하세요, smtpscope\n"
    "Message-ID: <fixed.1@example.test>\n"
    "\n"
    "한국어 본문입니다.\n"
    ".a line that will be dot-stuffed\n"
)


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    return write_sample(tmp_path / "sample.jsonl")


def test_replay_after_ehlo(snap_compare, recording: Path) -> None:
    app = create_app(replay_path=str(recording))
    assert snap_compare(app, press=["space"] * 5, terminal_size=SIZE)


def test_replay_after_starttls_with_capability_diff_and_error(
    snap_compare, recording: Path
) -> None:
    app = create_app(replay_path=str(recording))
    assert snap_compare(app, press=["a"], terminal_size=SIZE)


def test_data_editor(snap_compare, recording: Path) -> None:
    caps = Capabilities.parse(parse_reply(EHLO_TLS))
    app: SmtpScopeApp = create_app(replay_path=str(recording))

    async def open_editor(pilot) -> None:
        editor = DataEditor(capabilities=caps, text=DRAFT)
        await pilot.app.push_screen(editor)
        await until(pilot, lambda: pilot.app.screen is editor and "bytes" in str(
            editor.query_one("#data-status").render()), what="the editor and its size line")
        steady_cursors(pilot.app)

    assert snap_compare(app, run_before=open_editor, terminal_size=SIZE)


def test_connect_screen_with_bad_target(snap_compare) -> None:
    app = create_app(initial_target="smpt://mx.example.test",
                     connect_error="unknown scheme 'smpt'; did you mean smtp?")

    async def focused(pilot) -> None:
        await until(pilot, lambda: pilot.app.focused is not None, what="the focused target")
        steady_cursors(pilot.app)

    assert snap_compare(app, run_before=focused, terminal_size=SIZE)
