"""Escape followed at once by typed keys, and an ESC inside a paste: read as what they were."""

from __future__ import annotations

import importlib.util
import inspect
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
from textual import events
from textual._xterm_parser import XTermParser
from textual.drivers import linux_driver

from smtpscope.tui.keys import escape_then_key
from smtpscope.tui.screens.help import HelpScreen
from smtpscope.tui.terminal_input import (
    PASTE_MARK,
    WINDOWS_INPUT_MODULE,
    EscapeAwareParser,
    use_escape_aware_parser,
)
from tests.tui.test_key_order import SIZE, app_for, replies
from tests.tui.waiting import until
from tests.tui.wire_server import WireServer


def parsed(parser: XTermParser, *reads: str) -> list[str]:
    """What each read becomes: key names, or the class of any other event (with its text)."""
    out: list[str] = []
    for data in reads:
        for event in parser.feed(data):
            if isinstance(event, events.Key):
                out.append(event.key)
            else:
                out.append(f"{type(event).__name__}:{getattr(event, 'text', '')}")
    return out


KEYS = ["N", "O", "O", "P", "enter"]


@pytest.mark.parametrize(("reads", "expected"), [
    # Escape, then a command, in one read (tmux send-keys, a script, a busy app reading late).
    (["\x1bNOOP\r"], ["escape", *KEYS]),
    # ... after other keys, twice, and with Escape pressed twice.
    (["RSET\r\x1bNOOP\r"], ["R", "S", "E", "T", "enter", "escape", *KEYS]),
    (["\x1b\x1bNOOP\r"], ["escape", "escape", *KEYS]),
    # The read before ended on the Escape.
    (["ab\x1b", "NOOP\r"], ["a", "b", "escape", *KEYS]),
    # A character outside ASCII after Escape.
    (["\x1béa"], ["escape", "é", "a"]),
    # After a mouse report and an arrow key.
    (["\x1b[<0;10;5M\x1b[A\x1bQUIT\r"], ["MouseDown:", "up", "escape", "Q", "U", "I", "T",
                                         "enter"]),
])
def test_escape_then_keys_in_one_read(reads: list[str], expected: list[str]) -> None:
    assert parsed(EscapeAwareParser(), *reads) == expected


def _after_a_pause(parser: XTermParser, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the driver's tick gives out once ESCAPE_DELAY has passed with no read."""
    from textual import _parser, constants

    now = _parser.get_time()
    monkeypatch.setattr(_parser, "get_time", lambda: now + constants.ESCAPE_DELAY + 0.05)
    out = [event.key if isinstance(event, events.Key) else type(event).__name__
           for event in parser.tick()]
    monkeypatch.undo()
    return out


@pytest.mark.parametrize(("held", "after"), [
    ("\x1b", ["escape"]),  # Escape, then a human pause before the next key
    ("ab\x1b", ["escape"]),
    ("\x1b[20", None),  # a read cut inside what might have begun a paste, then nothing
])
def test_keys_after_a_pause_are_typed_as_they_were(monkeypatch: pytest.MonkeyPatch,
                                                  held: str, after: list[str] | None) -> None:
    """The parser gives out a held ESC when it stops waiting; the next read must not complete
    it again (its completion was typed as "[27u" ahead of the keys)."""
    parser = EscapeAwareParser()
    first = parsed(parser, held)
    paused = _after_a_pause(parser, monkeypatch)
    if after is not None:
        assert paused == after
    typed = parsed(parser, "NOOP\r")
    assert typed == KEYS
    assert "[" not in "".join(first + paused + typed).replace("left_square_bracket", "")


def test_textual_alone_turns_the_escape_into_a_caret() -> None:
    """What the parser fixes: the ESC and the 32 characters after it read as one unknown
    sequence, then handed out as keys with the ESC as ``^`` (shorter ones wait 100 ms, then
    the first character comes as Alt+character)."""
    read = "RSET\r\x1bMAIL FROM:<someone@example.test>\r"
    assert parsed(XTermParser(), read)[5:7] == ["circumflex_accent", "M"]
    assert parsed(EscapeAwareParser(), read)[5:7] == ["escape", "M"]
    assert len(parsed(EscapeAwareParser(), read)) == len(read)


@pytest.mark.parametrize("reads", [
    ["\x1b[A\x1b[1;5C"],          # arrows (CSI)
    ["\x1bOP\x1bOA"],             # F1 and Up as SS3 sequences
    ["\x1bOPEN"],                 # ... so Escape then OP stays F1: the bytes are the same
    ["\x1b[27;5;13~"],            # a modified key (xterm)
    ["\x1bx"],                    # Alt+x pressed on its own: left to Textual's timing
    ["\x1b\r"],                   # Alt+Enter
    ["\x1b]11;rgb:0000/0000/0000\x1b\\"],  # an OSC answer from the terminal
])
def test_sequences_read_as_textual_reads_them(reads: list[str]) -> None:
    assert parsed(EscapeAwareParser(), *reads) == parsed(XTermParser(), *reads)


PASTED = "line1\n\x1b[31mred\x1b[0m\nQUIT\n"


@pytest.mark.parametrize("reads", [
    ["\x1b[200~" + PASTED + "\x1b[201~"],
    # Both paste markers split across reads, and an ESC of the text at the end of a read.
    ["\x1b[20", "0~line1\n\x1b", "[31mred\x1b[0m\nQUIT\n\x1b[2", "01~"],
    ["\x1b", "[200~line1\n\x1b[31mred\x1b[0m\nQUIT\n\x1b", "[201~"],
])
def test_a_paste_with_escapes_in_it_stays_one_paste(reads: list[str]) -> None:
    parser = EscapeAwareParser()
    assert parsed(parser, *reads, "\x1bNO\r") == [f"Paste:{PASTED}", "escape", "N", "O",
                                                  "enter"]


def test_a_paste_holding_the_parsers_own_mark_arrives_as_it_was() -> None:
    text = f"a{PASTE_MARK}e{PASTE_MARK}m\x1b{PASTE_MARK}"
    assert parsed(EscapeAwareParser(), f"\x1b[200~{text}\x1b[201~") == [f"Paste:{text}"]


def test_textual_alone_types_what_follows_an_escape_in_a_paste() -> None:
    """What the parser fixes: the pasted text after the ESC typed as keys, QUIT and its line
    end included, before the paste's first line."""
    keys = parsed(XTermParser(), "\x1b[200~" + PASTED + "\x1b[201~")
    assert keys[-1] == "Paste:line1\n"
    assert keys[-6:-1] == ["Q", "U", "I", "T", "ctrl+j"]


def test_the_parser_is_put_where_textuals_linux_driver_builds_its_own(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The driver builds its parser from the name in its module: a Textual that stops doing so
    # must fail here, not leave Escape lost again without a word.
    assert "XTermParser(" in inspect.getsource(linux_driver.LinuxDriver.run_input_thread)
    monkeypatch.setattr(linux_driver, "XTermParser", XTermParser)
    assert use_escape_aware_parser(linux_driver.__name__)
    assert linux_driver.XTermParser is EscapeAwareParser
    assert use_escape_aware_parser(linux_driver.__name__)  # twice: still ours
    assert not use_escape_aware_parser("textual.drivers.headless_driver")


def test_windows_reads_its_console_with_the_parser_too(monkeypatch: pytest.MonkeyPatch) -> None:
    # Windows' driver reads the console in textual.drivers.win32 (importable on Windows only).
    spec = importlib.util.find_spec(WINDOWS_INPUT_MODULE)
    assert spec is not None and spec.origin is not None
    assert "XTermParser(" in Path(spec.origin).read_text(encoding="utf-8")
    win32 = ModuleType(WINDOWS_INPUT_MODULE)
    win32.XTermParser = XTermParser  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, WINDOWS_INPUT_MODULE, win32)
    assert use_escape_aware_parser("textual.drivers.windows_driver")
    assert win32.XTermParser is EscapeAwareParser  # type: ignore[attr-defined]


def _screen(*bound: str) -> Any:
    return SimpleNamespace(active_bindings=dict.fromkeys(bound))


def _names(keys: Any) -> Any:
    return keys and [(key.key, key.character) for key in keys]


def test_an_unbound_alt_key_is_escape_and_the_character() -> None:
    assert _names(escape_then_key(events.Key("alt+shift+n", "N"), _screen())) == [
        ("escape", "\x1b"), ("N", "N")]
    assert _names(escape_then_key(events.Key("alt+n", "n"), _screen())) == [
        ("escape", "\x1b"), ("n", "n")]
    assert _names(escape_then_key(events.Key("alt+full_stop", "."), _screen())) == [
        ("escape", "\x1b"), ("full_stop", ".")]


def test_a_bound_alt_key_and_other_keys_stay_as_they_are() -> None:
    assert escape_then_key(events.Key("alt+x", "x"), _screen("alt+x")) is None
    assert escape_then_key(events.Key("alt+enter", "\r"), _screen()) is None
    assert escape_then_key(events.Key("alt+up", None), _screen()) is None
    assert escape_then_key(events.Key("n", "n"), _screen()) is None
    assert escape_then_key(events.Key("ctrl+n", None), _screen()) is None


async def test_escape_typed_fast_before_a_command_closes_the_dialog(wire: WireServer) -> None:
    """Escape and N within 100 ms reach the app as Alt+N: the help page closes, NOOP is sent."""
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: replies(app) == [220])
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        driver = app._driver
        assert driver is not None
        for key, char in [("alt+shift+n", "N"), ("O", "O"), ("O", "O"), ("P", "P"),
                          ("enter", "\r")]:
            event = events.Key(key, char)
            event.set_sender(app)
            driver.send_message(event)
        await until(pilot, lambda: wire.commands() == ["NOOP"])
        assert not isinstance(app.screen, HelpScreen)
