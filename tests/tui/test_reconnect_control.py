"""F5 with the session-control section: the PROXY header and XCLIENT shown as the connection
used them, changed, cleared or refused before connecting again."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from textual.widgets import Input, Label, Select

from smtpscope.session import SessionOptions
from smtpscope.transport import proxy as proxy_header
from smtpscope.tui.app import create_app
from smtpscope.tui.screens.reconnect import ReconnectDialog
from smtpscope.tui.screens.session import SessionScreen
from tests.tui.test_session_control import SIZE, ControlServer, unfolded
from tests.tui.waiting import DEADLINE, until


@pytest.fixture
async def control() -> AsyncIterator[ControlServer]:
    server = await ControlServer(header_wait=DEADLINE).start()
    try:
        yield server
    finally:
        await server.stop()


def _field(dialog: ReconnectDialog, name: str) -> str:
    return dialog.query_one(f"#{name}", Input).value


async def _dialog(app, pilot) -> ReconnectDialog:
    await pilot.press("f5")
    await until(pilot, lambda: isinstance(app.screen, ReconnectDialog))
    await pilot.pause()
    return app.screen


async def _greeted(pilot, screen: SessionScreen) -> None:
    await until(pilot, lambda: screen.session is not None
                and screen.session.greeting is not None)


async def _reconnected(app, pilot, screen: SessionScreen, control: ControlServer) -> None:
    """Connect from the dialog; back once the new connection has its banner."""
    first = screen.session
    control.header = b""
    await pilot.press("ctrl+s")
    await until(pilot, lambda: not isinstance(app.screen, ReconnectDialog)
                and screen.session is not first and screen.session is not None
                and screen.session.greeting is not None)


async def test_f5_shows_changes_and_clears_the_proxy_header_and_xclient(control) -> None:
    app = create_app(initial_target=f"127.0.0.1:{control.port}")
    async with app.run_test(size=SIZE) as pilot:
        await unfolded(pilot, "proxy")
        await pilot.press("enter", "down", "enter", "tab", *"192.0.2.5:7", "tab", "tab",
                          *"NAME=a.example", "enter")
        await until(pilot, lambda: isinstance(app.screen, SessionScreen)
                    and len(control.commands()) >= 3)
        screen = app.screen
        assert control.header == f"PROXY TCP4 192.0.2.5 127.0.0.1 7 {control.port}\r\n".encode()

        dialog = await _dialog(app, pilot)
        assert not dialog.query_one("#session-control").collapsed
        assert dialog.query_one("#proxy", Select).value == 1
        assert (_field(dialog, "proxy-source"), _field(dialog, "proxy-dest"),
                _field(dialog, "xclient")) == ("192.0.2.5:7", "", "NAME=a.example")
        dialog.query_one("#proxy-source", Input).value = "192.0.2.99:8"
        dialog.query_one("#xclient", Input).value = "NAME=b.example ADDR=192.0.2.99"
        await _reconnected(app, pilot, screen, control)
        await until(pilot, lambda: len(control.commands()) >= 6)
        claimed = f"PROXY TCP4 192.0.2.99 127.0.0.1 8 {control.port}\r\n".encode()
        assert screen.options.preamble == claimed
        assert screen.options.xclient == ("NAME=b.example ADDR=192.0.2.99",)
        assert control.header == claimed
        assert control.commands()[3:] == [b"EHLO smtpscope.localhost\r\n",
                                          b"XCLIENT NAME=b.example ADDR=192.0.2.99\r\n",
                                          b"EHLO smtpscope.localhost\r\n"]

        dialog = await _dialog(app, pilot)  # the values of the connection just made
        assert _field(dialog, "proxy-source") == "192.0.2.99:8"
        assert _field(dialog, "xclient") == "NAME=b.example ADDR=192.0.2.99"
        dialog.query_one("#proxy", Select).value = 0
        for name in ("proxy-source", "xclient"):
            dialog.query_one(f"#{name}", Input).value = ""
        control.header_wait = 0.5  # no header comes now
        await _reconnected(app, pilot, screen, control)
        assert (screen.options.preamble, screen.options.xclient) == (b"", ())
        assert control.header == b""
        await pilot.press(*"NOOP", "enter")  # after anything XCLIENT would have sent
        await until(pilot, lambda: len(control.commands()) >= 7)
        assert control.commands()[6:] == [b"NOOP\r\n"]
        dialog = await _dialog(app, pilot)
        assert dialog.query_one("#session-control").collapsed  # nothing set any more


async def test_f5_refuses_bad_session_control_and_says_why(control) -> None:
    control.header_wait = 0.5
    options = SessionOptions(host="127.0.0.1", port=control.port, security="plain")
    app = create_app(options=options, target_label="control")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await _greeted(pilot, screen)
        dialog = await _dialog(app, pilot)
        error = dialog.query_one("#reconnect-error", Label)
        cases = [
            (0, "192.0.2.1", "", "PROXY header: pick v1 or v2 for the claimed addresses"),
            (1, "", "", "PROXY header: give the claimed client IP[:PORT]"),
            (1, "client.example", "", "PROXY header: 'client.example' is not an IP address"),
            # Pasted control characters are escaped once, where the message is made.
            (1, "a\x1bb", "", "PROXY header: 'a\\x1bb' is not an IP address"),
            (2, "192.0.2.1", "::1", "PROXY header: --proxy-source and --proxy-dest must both"),
            (0, "", "NAME", "NAME=VALUE"),
        ]
        for version, source, xclient, why in cases:
            dialog.query_one("#proxy", Select).value = version
            dialog.query_one("#proxy-source", Input).value = source
            dialog.query_one("#xclient", Input).value = xclient
            dialog.query_one("#proxy-dest", Input).value = "::1" if version == 2 else ""
            await pilot.press("ctrl+s")
            await until(pilot, lambda why=why: why in str(error.render()), what=why)
            assert app.screen is dialog
        assert control.header == b""


async def test_f5_keeps_what_it_cannot_show_unless_changed(control) -> None:
    """Options made in code carry a header with no values to show and several XCLIENT
    commands: Connect with the fields as shown keeps both."""
    header = proxy_header.build(2, ("192.0.2.1", 5), ("127.0.0.1", control.port))
    options = SessionOptions(host="127.0.0.1", port=control.port, security="plain",
                             preamble=header, xclient=("NAME=a.example", "ADDR=192.0.2.9"))
    app = create_app(options=options, target_label="control")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(control.commands()) >= 5)
        screen = app.screen
        dialog = await _dialog(app, pilot)
        assert _field(dialog, "xclient") == "NAME=a.example ADDR=192.0.2.9"
        await _reconnected(app, pilot, screen, control)
        await until(pilot, lambda: len(control.commands()) >= 10)
        assert (screen.options.preamble, screen.options.xclient) == (
            header, ("NAME=a.example", "ADDR=192.0.2.9"))
        assert control.header == header


async def test_f5_fields_typed_in_one_burst_reach_the_wire_in_order(control) -> None:
    """Tab through every kind of field (inputs, the TLS select, the switch, the folded
    section's title, the buttons) with the keys after each Tab already queued: each lands in
    the field the focus has reached, and the command typed after Ctrl+S goes on the new
    connection, after its XCLIENT."""
    from tests.tui.test_key_order import burst

    control.header_wait = 0.5  # no header comes
    options = SessionOptions(host="127.0.0.1", port=control.port, security="plain",
                             xclient=("NAME=a.example",))
    app = create_app(options=options, target_label="control")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(control.commands()) >= 3)
        screen = app.screen
        first = screen.session
        dialog = await _dialog(app, pilot)
        chain = [w.id for w in dialog.focus_chain]
        assert dialog.focused is not None and dialog.focused.id == "reconnect-port"
        # From the port: TLS, CA file, insecure, the section, PROXY, source, destination,
        # XCLIENT.
        tabs = chain.index("xclient") - chain.index("reconnect-port")
        assert tabs == 8
        burst(app, *["tab"] * tabs, "ctrl+u", *"NAME=c.example", "ctrl+s",
              *"EHLO y.example", "enter")
        await until(pilot, lambda: screen.session is not first
                    and len(control.commands()) >= 7)
        assert control.commands()[3:] == [b"EHLO smtpscope.localhost\r\n",
                                          b"XCLIENT NAME=c.example\r\n",
                                          b"EHLO smtpscope.localhost\r\n",
                                          b"EHLO y.example\r\n"]
        # Nothing typed reached the TLS select (its type-to-search takes letters) on the way.
        assert screen.options.security == "plain"
        assert screen.options.xclient == ("NAME=c.example",)


async def test_f5_takes_a_port_typed_at_once_and_enter_reconnects(control) -> None:
    """The dialog opens on the port with its text selected: digits typed replace it, and
    Enter connects, all in one burst with F5."""
    from tests.tui.test_key_order import burst

    control.header_wait = 0.5
    other = await ControlServer(header_wait=0.5).start()
    try:
        options = SessionOptions(host="127.0.0.1", port=control.port, security="plain")
        app = create_app(options=options, target_label="control")
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            await _greeted(pilot, screen)
            first = screen.session
            burst(app, "f5", *str(other.port), "enter", *"NOOP", "enter")
            await until(pilot, lambda: screen.session is not first
                        and other.commands() == [b"NOOP\r\n"])
            assert screen.options.port == other.port and control.commands() == []
            burst(app, "f5", "enter", *"RSET", "enter")  # Enter alone: the same again
            await until(pilot, lambda: other.commands()[-1:] == [b"RSET\r\n"])
            assert screen.options.port == other.port
    finally:
        await other.stop()


async def test_f5_to_another_port_keeps_the_flags_the_mx_route_and_finds_its_tlsa(
        monkeypatch) -> None:
    """``@domain`` typed on the connect screen under ``--tls-level dane --resolver``: F5 to
    another port goes to the same MX address (not the MX name looked up elsewhere) and the
    TLSA records asked for are that port's."""
    import socket

    from tests.dns.responder import Zone, serve
    from tests.tui.test_connect_screen import MX_ZONE, _session_of, app_from_command_line
    from tests.tui.test_key_order import burst
    from tests.tui.wire_server import WireServer

    first, other = await WireServer().start(), await WireServer().start()
    pin = "3 1 1 " + "ab" * 32
    zone = MX_ZONE + "".join(f"_{server.port}._tcp.mx 60 TLSA {pin}\n"
                             for server in (first, other))
    try:
        with serve(Zone(zone)) as resolver:
            app = app_from_command_line(monkeypatch, [
                "--tls-level", "dane", "--resolver", resolver, "--port", str(first.port),
                "--timeout", "3", "-4"])
            async with app.run_test(size=SIZE) as pilot:
                screen = await _session_of(app, pilot, "@d.test")
                assert sorted(screen.options.tls.tlsa) == [("mx.d.test", first.port)]
                started = screen.session
                burst(app, "f5", *str(other.port), "enter")
                await until(pilot, lambda: screen.session is not started
                            and screen.session is not None
                            and screen.session.greeting is not None)
    finally:
        for server in (first, other):
            await server.stop()
    options = screen.options
    [candidate] = options.route
    assert (candidate.host, candidate.address, candidate.port) == \
        ("mx.d.test", "127.0.0.1", other.port)
    assert (options.tls.level, options.family) == ("dane", socket.AF_INET)
    assert sorted(options.tls.tlsa) == [("mx.d.test", other.port)]
    assert options.tls.tlsa[("mx.d.test", other.port)].records


async def test_f5_to_another_port_files_what_is_typed_under_the_new_target(control) -> None:
    """History is per target: after F5 to another port, lines typed there are recalled for
    it (and kept under its name), not under the target the screen opened with."""
    from smtpscope.tui.widgets.composer import Composer
    from tests.tui.test_key_order import burst

    control.header_wait = 0.5
    other = await ControlServer(header_wait=0.5).start()
    try:
        options = SessionOptions(host="127.0.0.1", port=control.port, security="plain")
        app = create_app(options=options, target_label=f"127.0.0.1:{control.port}")
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            composer = screen.query_one(Composer)
            await _greeted(pilot, screen)
            first_key = composer.target_key
            first = screen.session
            burst(app, "f5", *str(other.port), "enter", *"NOOP", "enter")
            await until(pilot, lambda: screen.session is not first
                        and other.commands() == [b"NOOP\r\n"])
            assert composer.target_key == screen.target_label != first_key
            assert str(other.port) in composer.target_key
            assert composer.history[-1:] == ["NOOP"]
    finally:
        await other.stop()
