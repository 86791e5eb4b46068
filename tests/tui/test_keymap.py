"""Keymap ids: listed (F1, ``smtpscope keys``), and unknown ids or clashes reported at start."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from textual.binding import Binding

from smtpscope.config import data_dir
from smtpscope.sanitize import visible
from smtpscope.tui.app import create_app
from smtpscope.tui.keymap_ids import catalogue, is_key_name, keymap_problems, usable_keymap

ROOT = Path(__file__).resolve().parents[2]
BROKEN = {"session.ehlo": "f3", "session.elho": "f11"}


def write_keymap(mapping: dict[str, str]) -> None:
    (data_dir() / "keymap.json").write_text(json.dumps(mapping), encoding="utf-8")


def test_catalogue_knows_every_screen_and_its_keys() -> None:
    table = catalogue()
    assert table["session.ehlo"].keys == ("f2",)
    assert table["app.quit"].scopes == ("app",)
    assert set(table["transcript.last"].scopes) == {"session", "replay"}
    assert "composer.auth_assist" in table and "reconnect.connect" in table


def test_unknown_ids_and_clashes_are_named() -> None:
    problems = keymap_problems(BROKEN)
    assert any("unknown binding id 'session.elho'" in p for p in problems)
    assert any("'f3'" in p and "session.ehlo" in p and "session.starttls" in p for p in problems)
    # A key taken by the app (everywhere) clashes on every screen.
    assert any("ctrl+q" in p for p in keymap_problems({"replay.all": "ctrl+q"}))
    # The same key on two different screens is fine.
    assert keymap_problems({"replay.all": "f2"}) == []


def test_ids_and_keys_from_the_file_are_escaped_once_where_shown() -> None:
    # keymap.json is foreign text: ESC, a backslash and a quote in an id or a key.
    tricky = "a\x1bb\\c'd"
    problems = keymap_problems({tricky: "f5", "session.ehlo": tricky, "session.starttls": tricky})
    shown = "'a\\x1bb\\\\c'd'"
    assert f"unknown binding id {shown} (smtpscope keys lists them)" in map(visible, problems)
    # No key name, so it is left out (and clashes with nothing): said once for each id.
    assert sum(f"key {shown} for session." in visible(p) for p in problems) == 2
    write_keymap({tricky: "f5"})
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    bad = subprocess.run([sys.executable, "-m", "smtpscope", "keys"], capture_output=True,
                         text=True, env=env, timeout=60)
    assert f"smtpscope keys: unknown binding id {shown} " in bad.stderr


async def test_app_notification_escapes_keymap_ids_once() -> None:
    write_keymap({"a\x1bb\\c'd": "f5"})
    app = create_app(initial_target="")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any("unknown binding id 'a\\x1bb\\\\c'd'" in m for m in messages), messages


def test_an_id_mapped_to_no_key_is_named() -> None:
    # "" or "," would leave Quit (or any action) with no key at all, silently.
    for value in ("", " , "):
        assert keymap_problems({"app.quit": value}) == [
            "binding id 'app.quit' is mapped to no key: it cannot be used"]


def test_readme_keymap_example_uses_a_free_key() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    examples = re.findall(r'\{"[a-z_.]+": "[^"]+"\}', readme)
    assert examples
    for example in examples:
        assert keymap_problems(json.loads(example)) == [], example


def test_smtpscope_keys_lists_ids_and_reports_problems() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ok = subprocess.run([sys.executable, "-m", "smtpscope", "keys"], capture_output=True,
                        text=True, env=env, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert re.search(r"^session\.ehlo\s+f2\s+EHLO", ok.stdout, re.M)
    write_keymap(BROKEN)
    bad = subprocess.run([sys.executable, "-m", "smtpscope", "keys"], capture_output=True,
                         text=True, env=env, timeout=60)
    assert bad.returncode == 1
    assert "session.elho" in bad.stderr and "'f3'" in bad.stderr
    assert re.search(r"^session\.ehlo\s+\*f3", bad.stdout, re.M)


async def test_app_reports_keymap_problems_at_start_and_f1_lists_ids() -> None:
    from textual.widgets import Markdown

    write_keymap(BROKEN)
    app = create_app(initial_target="")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any("session.elho" in m and "'f3'" in m for m in messages), messages
        await pilot.press("f1")
        await pilot.pause()
        shown = app.screen.query_one(Markdown).source
        assert "`session.reconnect`" in shown and "keymap.json" in shown


def _tui_binding_classes() -> list[type]:
    """Every class in smtpscope.tui that declares BINDINGS of its own."""
    import importlib
    import inspect
    import pkgutil

    import smtpscope.tui as tui

    found: list[type] = []
    for module_info in pkgutil.walk_packages(tui.__path__, "smtpscope.tui."):
        module = importlib.import_module(module_info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and "BINDINGS" in cls.__dict__:
                found.append(cls)
    return found


def _bindings_of(cls: type) -> list[Binding]:
    return [b for b in cls.__dict__["BINDINGS"] if isinstance(b, Binding)]


def test_every_binding_with_an_id_can_be_remapped() -> None:
    # An id missing from the catalogue is refused in keymap.json and missing from F1's list.
    table = catalogue()
    ids = {b.id for cls in _tui_binding_classes() for b in _bindings_of(cls) if b.id}
    assert ids and ids <= set(table), sorted(ids - set(table))


# What every terminal sends, with no extended keyboard protocol: Enter, Tab and Backspace with
# a modifier arrive as the bare key (Ctrl+Enter and Alt+Enter read as Enter).
_PLAIN_KEYS = {"enter", "tab", "shift+tab", "escape", "backspace", "delete", "insert", "space",
               "home", "end", "pageup", "pagedown", "up", "down", "left", "right",
               *(f"f{n}" for n in range(1, 13)), *(f"ctrl+{c}" for c in "abcdefghjklnopqrstuvwxyz")}


def _plain(key: str) -> bool:
    return key in _PLAIN_KEYS or len(key) == 1 or (key.startswith("alt+") and len(key) == 5)


def test_every_binding_has_a_key_a_plain_terminal_sends() -> None:
    # Ctrl+Enter alone used to be "send anyway": unreachable in tmux and xterm.
    lacking = [f"{cls.__name__}: {b.key}" for cls in _tui_binding_classes()
               for b in _bindings_of(cls)
               if not any(_plain(k.strip()) for k in b.key.split(","))]
    assert lacking == []


def test_every_default_key_is_a_key_name() -> None:
    assert [k for info in catalogue().values() for k in info.keys if not is_key_name(k)] == []


def test_text_that_is_no_key_name_is_named_and_left_out() -> None:
    """``ctrl-q`` or ``F1`` never fire: said, with the spelling that works, and the id keeps
    its default keys rather than losing them."""
    mapping = {"app.quit": "ctrl-q", "app.help": "F1,f11", "session.ehlo": "esc"}
    assert usable_keymap(mapping) == {"app.help": "f11"}
    assert keymap_problems(mapping) == [
        "key 'ctrl-q' for app.quit is not a key name, left out (did you mean ctrl+q?); "
        "it keeps ctrl+q",
        "key 'F1' for app.help is not a key name, left out (did you mean f1?)",
        "key 'esc' for session.ehlo is not a key name, left out (keys are written ctrl+q, "
        "f11, escape, question_mark); it keeps f2",
    ]
    for good in ("ctrl+shift+up", "question_mark", "?", "f24", "alt+Q", "pageup", "plus"):
        assert is_key_name(good), good


async def test_a_mistyped_quit_key_still_quits() -> None:
    write_keymap({"app.quit": "ctrl-q"})
    app = create_app(initial_target="")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert any("ctrl-q" in n.message for n in app._notifications)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app.return_code is not None  # set when the app is told to exit
