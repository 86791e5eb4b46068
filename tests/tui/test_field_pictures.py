"""A paste holding control characters: kept in the field's value, shown as pictures, never sent
to the terminal."""

from __future__ import annotations

from textual import events
from textual.app import App, ComposeResult
from textual.widgets import Input

from smtpscope.sanitize import pictured
from smtpscope.tui.keys import OrderedInput, OrderedTextArea
from tests.test_surfaces import HOSTILE, _painted, assert_inert
from tests.tui.test_key_order import SIZE, app_for, replies
from tests.tui.waiting import until
from tests.tui.wire_server import WireServer


def test_pictured_shows_one_character_for_one() -> None:
    shown = pictured(HOSTILE)
    assert len(shown) == len(HOSTILE)
    assert shown.startswith("evil\u241b[31mred\u241b]52;c;")  # ESC as its Control Picture
    assert "\u2421" not in shown and pictured("a\x7fb") == "a\u2421b"  # DEL
    assert pictured("\x9b\u202e\u2028") == "\ufffd" * 3  # C1, bidi override, separator
    assert_inert(shown)
    plain = "MAIL FROM:<a@b.test>\tSIZE=1 \\x1b é"
    assert pictured(plain) is plain  # nothing to picture: the very same text


class Fields(App[None]):
    def compose(self) -> ComposeResult:
        yield OrderedInput(HOSTILE, id="input")
        yield OrderedTextArea(f"Subject: {HOSTILE}\nbody {HOSTILE}", id="area")


async def test_the_fields_show_pasted_control_characters_as_pictures() -> None:
    app = Fields()
    async with app.run_test(size=(240, 12)) as pilot:
        await pilot.pause()
        painted = _painted(app)
        assert_inert(painted)
        assert "evil\u241b[31mred" in painted
        assert "body evil\u241b[31mred" in painted
        assert app.query_one("#input", Input).value == HOSTILE  # the value keeps them
        assert "body evil\x1b[31mred\x1b]52;c;" in app.query_one(OrderedTextArea).text


async def test_a_line_pasted_into_the_composer_shows_inert_and_goes_as_pasted(
        wire: WireServer) -> None:
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: replies(app) == [220])
        line = "NOOP \x1b]0;pwned\x07 \x1b[31mred\x1b[0m"
        paste = events.Paste(line)
        paste.set_sender(app)
        app._driver.send_message(paste)  # type: ignore[union-attr]
        await until(pilot, lambda: app.focused is not None
                    and getattr(app.focused, "value", "") == line)
        painted = _painted(app)
        assert "NOOP \u241b]0;pwned" in painted and "\u241b[31mred\u241b[0m" in painted
        await pilot.press("enter")
        await until(pilot, lambda: wire.commands() == [line])


async def test_a_paste_into_the_command_palette_shows_inert(wire: WireServer) -> None:
    from textual.command import CommandPalette

    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: replies(app) == [220])
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette)
                    and isinstance(app.focused, Input))
        paste = events.Paste(HOSTILE)
        paste.set_sender(app)
        app._driver.send_message(paste)  # type: ignore[union-attr]
        # An input takes a paste's first line (HOSTILE's NEL, U+0085, ends one).
        await until(pilot, lambda: getattr(app.focused, "value", "") == HOSTILE.splitlines()[0])
        painted = _painted(app)
        assert "evil\u241b[31mred" in painted
