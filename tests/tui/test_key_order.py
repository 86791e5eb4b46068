"""Keys pressed with no pause reach the wire in the order typed (textual#6605 worked around)."""

from __future__ import annotations

from smtpscope.session import SessionOptions
from smtpscope.tui.app import SmtpScopeApp, create_app
from smtpscope.tui.screens.session import SessionScreen
from tests.tui.waiting import until
from tests.tui.wire_server import WireServer

SIZE = (120, 40)


def app_for(server: WireServer) -> SmtpScopeApp:
    options = SessionOptions(host="127.0.0.1", port=server.port, security="plain")
    return create_app(options=options, target_label="wire")


def replies(app: SmtpScopeApp) -> list[int]:
    screen = app.screen
    assert isinstance(screen, SessionScreen) and screen.session is not None
    return [e.code for e in screen.session.transcript if e.kind == "reply" and e.code]


def burst(app: SmtpScopeApp, *keys: str) -> None:
    """Post every key at once, as a terminal delivers a paste or fast typing in one read.

    ``Pilot.press`` lets the app go idle between keys, which hides ordering bugs.
    """
    from textual import events
    from textual.keys import _character_to_key

    driver = app._driver
    assert driver is not None
    for key in keys:
        char = key if len(key) == 1 else ("\r" if key == "enter" else "\t" if key == "tab"
                                          else None)
        name = _character_to_key(key) if len(key) == 1 and not key.isalnum() else key
        event = events.Key(name, char)
        event.set_sender(app)
        driver.send_message(event)


async def greeted(pilot) -> None:
    await until(pilot, lambda: replies(pilot.app) == [220])


async def test_noop_enter_rset_enter_at_paste_speed(wire: WireServer) -> None:
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await greeted(pilot)
        await pilot.press(*"NOOP", "enter", *"RSET", "enter")
        await until(pilot, lambda: len(replies(app)) >= 3)
        await pilot.pause(0.3)
        assert wire.commands() == ["NOOP", "RSET"]
        assert replies(app) == [220, 250, 250]


async def test_noop_rset_burst_from_the_terminal(wire: WireServer) -> None:
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await greeted(pilot)
        burst(app, *"NOOP", "enter", *"RSET", "enter")
        await until(pilot, lambda: len(replies(app)) >= 3)
        await pilot.pause(0.3)
        assert wire.commands() == ["NOOP", "RSET"]


async def test_helper_fields_alice_tab_password_at_paste_speed() -> None:
    from textual.widgets import Input

    from tests.tui.test_auth_helper import (
        PASSWORD,
        USER,
        ScriptedServer,
        open_helper,
        step_through,
    )

    server = ScriptedServer()
    await server.start()
    try:
        app = create_app(options=SessionOptions("127.0.0.1", server.port, security="plain"))
        async with app.run_test(size=SIZE) as pilot:
            _screen, helper = await open_helper(pilot)
            user, password = helper.query_one("#auth-user", Input), \
                helper.query_one("#auth-password", Input)
            user.focus()
            await pilot.pause()
            burst(app, *"alice", "tab", *"wonderland")
            await until(pilot, lambda: password.value == "wonderland")
            assert user.value == "alice"
            user.value = password.value = ""
            user.focus()
            await pilot.pause()
            burst(app, *USER, "tab", *PASSWORD)
            await until(pilot, lambda: helper.query_one("#auth-password", Input).value
                        == PASSWORD)
            assert helper.query_one("#auth-user", Input).value == USER
            # The same again through Pilot, with a Backspace in the middle of the name.
            helper.query_one("#auth-user", Input).value = ""
            helper.query_one("#auth-password", Input).value = ""
            helper.query_one("#auth-user", Input).focus()
            await pilot.press(*"alix", "backspace", *"ce", "tab", *PASSWORD)
            assert helper.query_one("#auth-user", Input).value == USER
            assert helper.query_one("#auth-password", Input).value == PASSWORD
            await step_through(pilot, helper)
            assert helper.final_reply is not None and helper.final_reply.code == 235
            assert server.verified  # SCRAM proved the password to a server that checks it
    finally:
        await server.stop()


async def test_backspace_and_arrows_keep_their_place_in_a_burst(wire: WireServer) -> None:
    from smtpscope.tui.widgets.composer import Composer

    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await greeted(pilot)
        composer = app.screen.query_one(Composer)
        burst(app, *"NOOQ", "backspace", "P", "left", "left", "left", "left", "home",
              "delete", "N", "end", *" x", "backspace", "backspace", "!")
        # The last key makes the end state one no earlier moment has ("NOOP" is one too): a
        # loaded machine may still be working through the burst when "NOOP" first shows.
        await until(pilot, lambda: composer.input.value.endswith("!"))
        await pilot.pause(0.1)
        assert composer.input.value == "NOOP!"


async def test_editor_and_connect_fields_keep_key_order() -> None:
    from textual.widgets import Input, TextArea

    from smtpscope.tui.widgets.data_editor import DataEditor

    app = create_app(initial_target="")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        target = app.screen.query_one("#target", Input)
        target.focus()
        burst(app, *"127.0.0.2", "backspace", "1", "tab", *"2525")
        await until(pilot, lambda: app.screen.query_one("#port", Input).value == "2525")
        assert target.value == "127.0.0.1"
        app.push_screen(DataEditor(text=""))
        await until(pilot, lambda: isinstance(app.screen, DataEditor)
                    and bool(app.screen.query("#data-text")))
        area = app.screen.query_one("#data-text", TextArea)
        await until(pilot, lambda: area.has_focus)
        burst(app, *"Subject: hx", "backspace", "i", "enter", "enter", *"body", "left",
              "backspace", "D")
        await until(pilot, lambda: area.text == "Subject: hi\n\nboDy")
