"""F3 and F4 where they cannot act say why (a toast), and never send what cannot work."""

from __future__ import annotations

import asyncio

from smtpscope.server.demo import DemoServer
from smtpscope.session import SessionOptions
from smtpscope.tui.app import SmtpScopeApp, create_app
from smtpscope.tui.screens.auth_helper import AuthHelperScreen
from smtpscope.tui.widgets.status import StatusBar
from tests.tui.test_key_order import burst
from tests.tui.test_session_screen import (
    SIZE,
    app_for,
    banner_then_quit,
    replies,
    screen_of,
)
from tests.tui.waiting import until
from tests.tui.wire_server import LoopbackServer, WireServer


def toasts(app: SmtpScopeApp) -> list[str]:
    return [n.message for n in app._notifications]


def wire_app(wire: WireServer) -> SmtpScopeApp:
    options = SessionOptions(host="127.0.0.1", port=wire.port, security="plain")
    return create_app(options=options, target_label="wire")


def f3_in_footer(app: SmtpScopeApp) -> bool:
    return any(b.binding.id == "session.starttls" and b.enabled and b.binding.show
               for b in app.screen.active_bindings.values())


async def test_f3_with_tls_already_up_says_so_and_sends_nothing(demo: DemoServer) -> None:
    options = SessionOptions(host=demo.host, port=demo.tls_port, security="implicit",
                             cafile=str(demo.cafile))
    app = create_app(options=options, target_label="demo")
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await until(pilot, lambda: replies(screen) == [220])
        await pilot.pause()
        assert not f3_in_footer(app)  # nothing for it to do: not offered in the footer
        await pilot.press("f3")
        await until(pilot, lambda: any("TLS is already up" in t for t in toasts(app)))
        [told] = [t for t in toasts(app) if "TLS is already up" in t]
        assert "(TLSv1." in told and "type it and press Ctrl+O" in told
        await pilot.pause(0.2)
        assert not any(e.direction == "client" for e in screen.session.transcript)


async def test_f3_when_ehlo_offers_no_starttls_says_how_to_force_it(wire: WireServer) -> None:
    app = wire_app(wire)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await until(pilot, lambda: replies(screen) == [220])
        assert f3_in_footer(app)  # nothing known yet: F3 would greet first, then try
        await pilot.press("f2")
        await until(pilot, lambda: replies(screen) == [220, 250])
        await pilot.pause()
        assert not f3_in_footer(app)
        # Pressed with a command typed right after it, in one read: only the command goes.
        burst(app, "f3", *"NOOP", "enter")
        await until(pilot, lambda: wire.commands()[-1:] == ["NOOP"])
        assert wire.commands()[1:] == ["NOOP"]
        assert "The EHLO reply offers no STARTTLS: F3 sends nothing. To send it anyway, " \
            "type STARTTLS and press Ctrl+O." in toasts(app)


async def test_f3_and_f4_after_the_connection_closed_say_to_reconnect(demo: DemoServer) -> None:
    app = app_for(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await banner_then_quit(pilot, screen)
        await pilot.press("f3")
        await until(pilot, lambda: len(toasts(app)) == 1)
        await pilot.press("f4")
        await until(pilot, lambda: len(toasts(app)) == 2)
        assert toasts(app) == ["Not connected: press F5 to reconnect."] * 2
        assert app.screen is screen


class SilentServer(LoopbackServer):
    """Accepts and never greets: the client waits for its banner."""

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()


async def test_f3_before_the_greeting_waits_in_the_queue_like_f2() -> None:
    """No toast and nothing sent: F3's lines wait for the banner (what happens when it comes
    is in test_f3_queue)."""
    server = await SilentServer().start()
    try:
        options = SessionOptions(host="127.0.0.1", port=server.port, security="plain")
        app = create_app(options=options, target_label="silent")
        async with app.run_test(size=SIZE) as pilot:
            screen = screen_of(app)
            await until(pilot, lambda: screen.session is not None and screen.session.is_open)
            await pilot.press("f3")
            await pilot.pause(0.3)
            assert toasts(app) == []
            assert [item.text for item in screen.send_queue] == [
                "EHLO smtpscope.localhost", "STARTTLS", "EHLO smtpscope.localhost"]
            assert not any(e.direction == "client" for e in screen.session.transcript)
    finally:
        await server.stop()


async def test_f4_when_no_auth_is_offered_opens_the_helper_and_says_it_sends_anyway(
        wire: WireServer) -> None:
    app = wire_app(wire)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await until(pilot, lambda: replies(screen) == [220])
        await pilot.press("f2")
        await until(pilot, lambda: replies(screen) == [220, 250])
        caps = screen.session.view.capabilities
        assert caps is not None and not caps.auth_mechanisms
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, AuthHelperScreen))
        helper = app.screen
        notes = helper.mechanism_warnings(helper.selected_mechanism)
        assert ("The server advertises no AUTH (many offer it only after STARTTLS); the AUTH "
                "line will be sent anyway, marked off-script.") in notes


async def test_starttls_forced_where_the_engine_refuses_it_still_starts_tls(
        demo: DemoServer) -> None:
    """What F3's message offers: STARTTLS typed and sent with Ctrl+O (after HELO nothing is
    advertised). A 220 to it starts TLS, or the session would wait between the two for good."""
    from tests.tui.test_session_screen import type_line

    app = app_for(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await until(pilot, lambda: replies(screen) == [220])
        await type_line(pilot, "HELO helo.example")
        await until(pilot, lambda: replies(screen) == [220, 250])
        await pilot.press(*"STARTTLS", "ctrl+o")
        await until(pilot, lambda: screen.session.tls is not None)
        assert replies(screen) == [220, 250, 220]
        assert screen.session.tls.verified and screen.session.is_open
        await until(pilot, lambda: "TLSv1." in screen.query_one(StatusBar).tls)
