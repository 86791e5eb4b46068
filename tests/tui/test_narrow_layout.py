"""80x24: the side panel folds away (Ctrl+T toggles it), the essential keys stay in the footer,
and long notifications and the status bar are shown whole."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from textual.widgets._footer import FooterKey

from smtpscope.tui.app import create_app
from smtpscope.tui.screens.replay import ReplayScreen
from smtpscope.tui.widgets.status import StatusBar
from tests.tui.sample import write_sample
from tests.tui.waiting import DEADLINE, until


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    return write_sample(tmp_path / "sample.jsonl")


def footer_keys(app) -> dict[str, tuple[int, int]]:
    """action -> (x, right edge) of each footer key on screen."""
    return {key.action: (key.region.x, key.region.right)
            for key in app.screen.query(FooterKey) if key.region.width}


async def test_side_panel_collapses_at_80_columns_and_ctrl_t_toggles_it(recording: Path) -> None:
    app = create_app(replay_path=str(recording))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        side = screen.query_one("#side")
        assert not screen.side_shown and side.region.width == 0
        transcript = screen.query_one("#transcript")
        assert transcript.region.width >= 78
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert screen.side_shown and side.region.width >= 30
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert side.region.width == 0
        # Wide again: the panel is back without asking.
        await pilot.resize_terminal(140, 45)
        await pilot.pause()
        assert screen.side_shown and side.region.width >= 34


async def test_footer_keeps_help_reconnect_quit_at_80_columns() -> None:
    from smtpscope.session import SessionOptions

    # Port 1 on loopback: nothing listens, so the screen shows a failed connect at once.
    options = SessionOptions(host="127.0.0.1", port=1, security="plain")
    app = create_app(options=options, target_label="127.0.0.1:1")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await until(pilot, lambda: app.screen.query_one(StatusBar).state.startswith("failed")
                    and "reconnect" in footer_keys(app), what="the failed connect's footer")
        keys = footer_keys(app)
        for action in ("help", "reconnect", "quit_session", "quit"):
            assert action in keys, (action, keys)
            assert keys[action][1] <= 80
        # A long, bracketed error is shown whole in a toast.
        message = ("TLS certificate verification failed for 127.0.0.1:2525: [SSL: "
                   "CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed "
                   "certificate in certificate chain (_ssl.c:1006)")
        app.screen._toast(message, severity="error", timeout=DEADLINE)  # no expiry mid-test
        await pilot.pause()
        assert app._notifications and list(app._notifications)[-1].message == message
        from textual.widgets._toast import Toast

        def shown() -> list[str]:
            return [" ".join(str(toast.render()).split()) for toast in app.screen.query(Toast)]

        await until(pilot, lambda: any(message in text for text in shown()),
                    what="the toast, wrapped, never cut")
        # The status bar keeps one line: the end is cut with "…", and F1 shows it whole.
        status = app.screen.query_one(StatusBar)
        status.state = "failed: " + message
        await pilot.pause()
        assert status.region.height == 1
        assert status.render_lines(status.region.reset_offset)[0].text.rstrip().endswith("…")
        assert "failed: " + message in status.full_text


SIZES = {"narrow": (80, 24), "wide": (140, 45)}


@pytest.mark.parametrize("size", sorted(SIZES))
def test_replay_layout_snapshot(snap_compare, recording: Path, size: str) -> None:
    app = create_app(replay_path=str(recording))
    assert snap_compare(app, press=["a"], terminal_size=SIZES[size])


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_every_dialog_shows_all_its_buttons(size: tuple[int, int]) -> None:
    from textual.widgets import Button

    from smtpscope.server.demo import open_demo_server
    from tests.tui.test_session_screen import app_for, banner_then_ehlo, screen_of

    demo = await open_demo_server()
    try:
        app = app_for(demo)
        async with app.run_test(size=size) as pilot:
            await banner_then_ehlo(pilot, screen_of(app))
            session = app.screen
            for key in ("f5", "ctrl+n", "f4", "f12"):
                await pilot.press(key)
                await until(pilot, lambda: app.screen is not session, what=key)
                await pilot.pause()
                dialog = app.screen
                buttons = list(dialog.query(Button))
                assert buttons, key
                for button in buttons:
                    # The button is what is drawn where it stands: on screen, not cut off.
                    region = button.region
                    assert region.width and region.right <= size[0], (key, button.id)
                    assert region.bottom <= size[1], (key, button.id)
                    for x in (region.x, region.right - 1):
                        found, _ = dialog.get_widget_at(x, region.y + region.height // 2)
                        assert found is button or button in found.ancestors, (key, button.id)
                await pilot.press("escape")
                await until(pilot, lambda: app.screen is session, what=f"{key} closed")
    finally:
        await demo.aclose()


async def test_history_names_the_file_in_full_at_80_columns() -> None:
    from textual.widgets import DataTable, Static

    from smtpscope.config import recordings_dir

    folder = recordings_dir()
    names = [f"2026110{i}-000000-mx.a-rather-long-host-name.example.test-587.jsonl"
             for i in range(1, 4)]
    for i, name in enumerate(names):
        os.utime(write_sample(folder / name), (i + 1, i + 1))
    app = create_app(history=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        assert table.virtual_size.width <= table.size.width  # nothing to scroll sideways to
        line = app.screen.query_one("#history-file", Static)
        assert str(folder / names[-1]) in " ".join(str(line.render()).split())
        await pilot.press("end")  # the oldest, not the far right of the table
        assert table.cursor_row == len(names) - 1 and table.scroll_x == 0
        assert str(folder / names[0]) in " ".join(str(line.render()).split())
        await pilot.press("home")
        assert table.cursor_row == 0


async def test_footer_keys_are_drawn_with_characters_of_one_width() -> None:
    # A symbol such as ⏎ is one cell to Rich and two in many terminals: the footer's last cell
    # was then drawn twice ('^p palettee'). Every key is named in ASCII instead.
    from smtpscope.session import SessionOptions

    options = SessionOptions(host="127.0.0.1", port=1, security="plain")
    app = create_app(options=options, target_label="127.0.0.1:1")
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.screen.query_one(StatusBar).state.startswith("failed"))
        await pilot.press("escape")  # the transcript: Enter expands and folds a line
        await until(pilot, lambda: "toggle_fold" in footer_keys(app), what="the fold key")
        shown = {key.action: key.key_display for key in app.screen.query(FooterKey)}
        assert shown["toggle_fold"] == "enter"
        assert all(display.isascii() for display in shown.values()), shown


@pytest.mark.parametrize("width", [80, 120])
async def test_palette_key_covers_the_footer_to_its_last_column(width: int) -> None:
    # The keys that do not fit run on under the palette key docked at the right: a margin
    # after it let one of their letters show in the last column ('^p palettee').
    from smtpscope.session import SessionOptions

    options = SessionOptions(host="127.0.0.1", port=1, security="plain")
    app = create_app(options=options, target_label="127.0.0.1:1")
    async with app.run_test(size=(width, 40)) as pilot:
        await until(pilot, lambda: app.screen.query_one(StatusBar).state.startswith("failed"))
        await pilot.press("escape")  # the transcript focused: its keys join the footer
        await until(pilot, lambda: "toggle_fold" in footer_keys(app), what="the fold key")
        footer = app.screen.query_one("KeyFooter")
        assert footer.virtual_size.width > width  # the keys overflow: the case at issue
        palette = app.screen.query_one("FooterKey.-command-palette")
        assert palette.region.right == footer.region.right == width
        assert app.screen.get_widget_at(width - 1, footer.region.y)[0] is palette
