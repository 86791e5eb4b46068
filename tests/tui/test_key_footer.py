"""The footer rebuilds its keys only when what they show changes.

Textual's footer rebuilds every key widget on each ``refresh_bindings()``; the session screen
refreshes its bindings after every reply and queued line, so a pasted message queued
thousands of rebuilds behind it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import App, ComposeResult
from textual.widgets._footer import FooterKey

from smtpscope.tui.widgets.key_footer import KeyFooter
from tests.tui.waiting import until


class Keys(App[None]):
    BINDINGS: ClassVar = [("f2", "two", "Two"), ("f3", "three", "Three"),
                          ("f4", "four", "Four")]

    def __init__(self) -> None:
        super().__init__()
        self.three: bool | None = True  # None: shown, disabled; False: hidden

    def compose(self) -> ComposeResult:
        yield KeyFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.three if action == "three" else True


def shown(app: App[Any]) -> list[tuple[str, bool]]:
    return [(key.description, key.has_class("-disabled"))
            for key in app.screen.query(FooterKey)
            if not key.has_class("-command-palette")]


async def test_the_same_keys_are_not_rebuilt_and_a_change_is_shown() -> None:
    app = Keys()
    async with app.run_test(size=(100, 10)) as pilot:
        await until(pilot, lambda: shown(app) == [("Two", False), ("Three", False),
                                                  ("Four", False)])
        before = list(app.screen.query(FooterKey))
        for _ in range(20):
            app.screen.refresh_bindings()
        await pilot.pause(0.2)
        assert list(app.screen.query(FooterKey)) == before  # the same widgets

        app.three = None
        app.screen.refresh_bindings()
        await until(pilot, lambda: ("Three", True) in shown(app), what="Three disabled")
        app.three = False
        app.screen.refresh_bindings()
        await until(pilot, lambda: shown(app) == [("Two", False), ("Four", False)],
                    what="Three hidden")
        app.three = True
        app.screen.refresh_bindings()
        await until(pilot, lambda: ("Three", False) in shown(app), what="Three back")
