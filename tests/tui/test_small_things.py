"""Small things users hit: Ctrl+S names the recording in full, F9 shows this session as live,
an over-long command line is warned."""

from __future__ import annotations

from smtpscope.config import recordings_dir
from smtpscope.server.demo import DemoServer
from smtpscope.tui.widgets.composer import Composer
from tests.tui.test_session_screen import SIZE, app_for, banner_then_ehlo, replies, screen_of
from tests.tui.waiting import until


async def test_ctrl_s_shows_the_whole_path_in_the_recordings_directory(demo: DemoServer) -> None:
    app = app_for(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await banner_then_ehlo(pilot, screen)
        await pilot.press("ctrl+s")
        await pilot.pause()
        message = list(app._notifications)[-1].message
        path = screen.recording_path
        assert path is not None and path.parent.resolve() == recordings_dir().resolve()
        assert str(path.resolve()) in message
        assert b"EHLO" in path.read_bytes()


async def test_f9_shows_the_running_session_as_live(demo: DemoServer) -> None:
    from textual.widgets import DataTable

    app = app_for(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await banner_then_ehlo(pilot, screen)
        await pilot.press("f9")
        await pilot.pause()
        history = app.screen
        table = history.query_one(DataTable)
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
        mine = [row for row, past in zip(rows, history._sessions, strict=True)
                if past.path.name == screen.recording_path.name]
        assert mine and "live" in mine[0][2]
        assert not any("cut off" in row[2] for row in mine)


async def test_command_line_over_512_octets_is_warned(demo: DemoServer) -> None:
    app = app_for(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await banner_then_ehlo(pilot, screen)
        composer = screen.query_one(Composer)
        # Set rather than typed: 500 separate key presses would only slow the test down.
        composer.input.value = "vrfy " + "a" * 506  # 513 octets with CRLF
        await pilot.press("enter")
        await pilot.pause()
        assert "512" in composer.hint, composer.hint
        assert composer.has_class("-warning")
        assert len(replies(screen)) == 2  # held, nothing sent
        await pilot.press("enter")  # Enter again sends it anyway
        await until(pilot, lambda: len(replies(screen)) == 3)


def test_line_length_limit_is_512_octets_with_crlf() -> None:
    from smtpscope.protocol import parse_command
    from smtpscope.protocol.checks import line_length_problem

    assert line_length_problem(parse_command("VRFY " + "a" * 505).command) is None  # 512
    problem = line_length_problem(parse_command("VRFY " + "a" * 506).command)
    assert problem is not None and "513 octets" in problem


async def test_lines_typed_as_message_content_stay_out_of_history() -> None:
    from smtpscope.protocol import State
    from tests.tui.test_composer import Host, make

    composer = make(state=State.DATA)
    app = Host(composer)
    async with app.run_test() as pilot:
        await pilot.press(*"Subject: private", "enter")
        await pilot.pause()
        composer.state = State.IDENT
        await pilot.press(*"noop", "enter")
        await pilot.pause()
        assert composer.history == ["noop"]
