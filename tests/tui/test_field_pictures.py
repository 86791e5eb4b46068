"""A paste holding control characters: kept in the field's value, shown as pictures, never sent
to the terminal."""

from __future__ import annotations

import pytest
from rich.style import Style
from textual import events
from textual.app import App, ComposeResult
from textual.strip import Strip
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


class Dropped(App[None]):
    # Rich's Text drops exactly these five from a string: the field must show them anyway.
    VALUE = "a\x07b\x08c\x0bd\x0ce\rf"

    def compose(self) -> ComposeResult:
        yield OrderedInput(self.VALUE, id="input")


async def test_characters_rich_drops_still_show_and_keep_the_cursor_in_place() -> None:
    app = Dropped()
    async with app.run_test(size=(80, 6)) as pilot:
        field = app.query_one("#input", Input)
        field.cursor_blink = False  # the cursor stays drawn
        field.focus()
        field.cursor_position = 4  # on the "c", after BEL and BS
        await pilot.pause()
        painted = _painted(app)
        assert "a\u2407b\u2408c\u240bd\u240ce\u240df" in painted
        assert_inert(painted, markup=False)
        # One cell per character of the value: the cursor and the scrolling count the same.
        assert field.content_width == len(Dropped.VALUE) + 1
        line = field.render_line(0)
        cells = "".join(segment.text for segment in line)
        styles = _cell_styles(line)
        assert cells.startswith("a\u2407b\u2408c\u240b")
        # The cursor is drawn on the "c": the one letter styled unlike the others.
        letters = [styles[i] for i in (0, 2, 4, 6, 8, 10)]
        assert letters[2] != letters[0] and letters.count(letters[0]) == 5
        assert field.value == Dropped.VALUE


def _cell_styles(strip: Strip) -> list[Style | None]:
    return [segment.style for segment in strip for _ in segment.text]


@pytest.mark.parametrize(("line", "shown"), [
    ("NOOP \x1b]0;pwned\x07 \x1b[31mred\x1b[0m",
     "NOOP \u241b]0;pwned\u2407 \u241b[31mred\u241b[0m"),
    # Only CR and LF end a pasted line: Textual's Input cut this at the VT, dropping the rest.
    ("NOOP a\x0bb\x0cc\x85d\u2028e\x1cf", "NOOP a\u240bb\u240cc\ufffdd\ufffde\u241cf"),
])
async def test_a_line_pasted_into_the_composer_shows_inert_and_goes_as_pasted(
        wire: WireServer, line: str, shown: str) -> None:
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: replies(app) == [220])
        paste = events.Paste(line)
        paste.set_sender(app)
        app._driver.send_message(paste)  # type: ignore[union-attr]
        await until(pilot, lambda: app.focused is not None
                    and getattr(app.focused, "value", "") == line)
        painted = _painted(app)
        # (the screenshot may drop a space between two differently styled runs)
        assert all(piece in painted for piece in shown.split(" ")), painted
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
        # Textual's own input takes a paste's first line (HOSTILE's NEL, U+0085, ends one).
        await until(pilot, lambda: getattr(app.focused, "value", "") == HOSTILE.splitlines()[0])
        painted = _painted(app)
        assert "evil\u241b[31mred" in painted
