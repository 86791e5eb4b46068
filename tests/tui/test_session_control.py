"""PROXY header and XCLIENT in the TUI: flags and connect-screen fields, on the wire."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from smtpscope.session import SessionOptions
from smtpscope.transport import proxy as proxy_header
from smtpscope.tui.app import create_app
from smtpscope.tui.screens.session import SessionScreen
from tests.tui.waiting import DEADLINE, until
from tests.tui.wire_server import LoopbackServer

SIZE = (120, 50)


@dataclass
class ControlServer(LoopbackServer):
    """Loopback SMTP server that takes an optional PROXY header and answers XCLIENT."""

    xclient: bool = True
    xclient_reply: str = "220 control.test ESMTP"
    delay: float = 0.0  # before each reply after the banner
    received: bytearray = field(default_factory=bytearray)
    header: bytes = b""  # the PROXY header as received, if any
    #: How long to wait for a PROXY header before greeting: a test that sends one raises it,
    #: as a loaded machine may take longer than the short default to send it.
    header_wait: float = 0.5
    port: int = 0
    _server: asyncio.base_events.Server | None = None

    def commands(self) -> list[bytes]:
        return bytes(self.received).splitlines(keepends=True)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def send(*lines: str) -> None:
            if self.delay and not lines[0].startswith("220 control.test ESMTP"):
                await asyncio.sleep(self.delay)
            writer.write(b"".join(line.encode() + b"\r\n" for line in lines))
            await writer.drain()

        try:
            first = await asyncio.wait_for(reader.read(5), self.header_wait)
        except TimeoutError:
            first = b""
        if first.startswith(b"PROXY"):
            self.header = first + await reader.readuntil(b"\r\n")
            first = b""
        elif first.startswith(proxy_header.V2_SIGNATURE[:5]):
            head = first + await reader.readexactly(11)
            self.header = head + await reader.readexactly(int.from_bytes(head[14:16], "big"))
            first = b""
        await send("220 control.test ESMTP")
        self.received += first
        try:
            while line := await reader.readline():
                self.received += line
                line = bytes(self.received).splitlines(keepends=True)[-1]
                verb = line.split(b" ", 1)[0].strip().upper()
                if verb == b"EHLO":
                    caps = ["control.test", "PIPELINING"]
                    if self.xclient:
                        caps.append("XCLIENT NAME ADDR PORT PROTO HELO LOGIN DESTADDR DESTPORT")
                    await send(*[f"250-{c}" for c in caps[:-1]], f"250 {caps[-1]}")
                elif verb == b"XCLIENT":
                    await send(self.xclient_reply)
                elif verb == b"QUIT":
                    await send("221 2.0.0 bye")
                    break
                else:
                    await send("250 2.0.0 ok")
        finally:
            writer.close()


@pytest.fixture
async def control() -> AsyncIterator[ControlServer]:
    server = await ControlServer().start()
    try:
        yield server
    finally:
        await server.stop()


def _session(app) -> SessionScreen:
    screen = app.screen
    assert isinstance(screen, SessionScreen)
    return screen


def _transcript(app) -> list[str]:
    session = _session(app).session
    assert session is not None
    return [e.text.rstrip("\r\n") for e in session.transcript]


async def unfolded(pilot, focus: str) -> Any:
    """The screen with its session-control section open, the field ``focus`` focused."""
    await pilot.pause()
    screen = pilot.app.screen
    screen.query_one("#session-control").collapsed = False
    await pilot.pause()
    screen.query_one(f"#{focus}").focus()
    return screen


def _connect_form_keys(port: int) -> list[str]:
    """Target, Tab through port, the timeout (typed), security, HELO (typed), the CA file,
    the verify box and both buttons, open the folded section below them, pick PROXY v1, then
    the addresses and the XCLIENT attributes, Enter to connect."""
    return [*f"127.0.0.1:{port}", "tab", "tab", *"7.5", "tab", "tab",
            "ctrl+a", "ctrl+k", *"tui.example", "tab", "tab", "tab", "tab", "tab",
            "enter", "tab", "enter", "down", "enter", "tab",
            *"192.0.2.7:4040", "tab", *"127.0.0.9:24", "backspace", "5", "tab",
            *"NAME=spoofed.example ADDR=192.0.2.7", "enter"]


async def test_connect_screen_fields_typed_with_no_pause_reach_the_wire(control) -> None:
    control.header_wait = DEADLINE
    app = create_app(initial_target="")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        # One press of the whole sequence.
        await pilot.press(*_connect_form_keys(control.port))
        await until(pilot, lambda: isinstance(app.screen, SessionScreen)
                    and _session(app).session is not None
                    and len(control.commands()) >= 3)
        assert control.header == b"PROXY TCP4 192.0.2.7 127.0.0.9 4040 25\r\n"
        assert control.commands() == [
            b"EHLO tui.example\r\n",
            b"XCLIENT NAME=spoofed.example ADDR=192.0.2.7\r\n",
            b"EHLO tui.example\r\n",
        ]
        assert _session(app).options.reply_timeout == 7.5
        await until(pilot, lambda: sum(1 for t in _transcript(app) if t.startswith("250")) >= 2)
        lines = _transcript(app)
        at = lines.index("XCLIENT NAME=spoofed.example ADDR=192.0.2.7")
        assert lines[at + 1] == "220 control.test ESMTP"
        assert lines[at + 2] == "EHLO tui.example"


async def test_connect_screen_keys_in_one_burst_reach_the_wire_in_order(control) -> None:
    """The same keys all queued at once, as a paste or fast typing delivers them, then a
    command: Tab off the selects, the switch and the buttons lands where it would by hand,
    and what is typed after Enter goes to the session, not into the XCLIENT field."""
    from tests.tui.test_key_order import burst

    control.header_wait = DEADLINE
    app = create_app(initial_target="")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        burst(app, *_connect_form_keys(control.port), *"NOOP", "enter")
        await until(pilot, lambda: len(control.commands()) >= 4)
        assert control.header == b"PROXY TCP4 192.0.2.7 127.0.0.9 4040 25\r\n"
        assert control.commands() == [
            b"EHLO tui.example\r\n",
            b"XCLIENT NAME=spoofed.example ADDR=192.0.2.7\r\n",
            b"EHLO tui.example\r\n",
            b"NOOP\r\n",
        ]


async def test_keys_after_the_connect_button_go_to_the_session(control) -> None:
    """Enter on the Connect button presses it through a message handled later: keys queued
    behind it wait for that, then for the session's composer."""
    from tests.tui.test_key_order import burst

    control.header_wait = 0.5
    app = create_app(initial_target=f"127.0.0.1:{control.port}")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.screen.query_one("#connect").focus()
        await pilot.pause()
        burst(app, "enter", *"NOOP", "enter", *"RSET", "enter")
        await until(pilot, lambda: len(control.commands()) >= 2)
        assert control.commands() == [b"NOOP\r\n", b"RSET\r\n"]


async def test_proxy_v2_from_the_connect_screen_defaults_to_the_target(control) -> None:
    control.header_wait = DEADLINE
    app = create_app(initial_target=f"127.0.0.1:{control.port}")
    async with app.run_test(size=SIZE) as pilot:
        await unfolded(pilot, "proxy")
        await pilot.press("enter", "down", "down", "enter", "tab", *"192.0.2.5:7", "enter")
        await until(pilot, lambda: bool(control.header))
        assert control.header == proxy_header.build(2, ("192.0.2.5", 7),
                                                    ("127.0.0.1", control.port))
        await until(pilot, lambda: isinstance(app.screen, SessionScreen)
                    and "[binary, hex] 0d 0a 0d 0a" in "".join(_transcript(app)))


async def test_session_control_fields_keep_key_order_in_a_burst() -> None:
    from textual.widgets import Input

    from tests.tui.test_key_order import burst

    app = create_app(initial_target="127.0.0.1:1")
    async with app.run_test(size=SIZE) as pilot:
        screen = await unfolded(pilot, "proxy-source")
        burst(app, *"192.0.2.77", "backspace", "8", "tab", *"127.0.0.1:25", "tab",
              *"NAME=x", "backspace", *"y ADDR=192.0.2.78")
        xclient = screen.query_one("#xclient", Input)
        await until(pilot, lambda: xclient.value == "NAME=y ADDR=192.0.2.78")
        assert screen.query_one("#proxy-source", Input).value == "192.0.2.78"
        assert screen.query_one("#proxy-dest", Input).value == "127.0.0.1:25"


async def test_connect_screen_explains_bad_session_control_fields() -> None:
    from textual.widgets import Input, Label

    app = create_app(initial_target="127.0.0.1:1")
    async with app.run_test(size=SIZE) as pilot:
        screen = await unfolded(pilot, "xclient")
        await pilot.press(*"NAME", "enter")
        await until(pilot, lambda: "NAME=VALUE" in str(
            screen.query_one("#connect-error", Label).render()))
        assert not isinstance(app.screen, SessionScreen)
        screen.query_one("#xclient", Input).value = ""
        screen.query_one("#proxy-source", Input).focus()
        await pilot.press(*"192.0.2.1", "enter")
        await until(pilot, lambda: "pick v1 or v2" in str(
            screen.query_one("#connect-error", Label).render()))
        assert not isinstance(app.screen, SessionScreen)


async def test_xclient_from_the_options_after_ehlo_and_greeting_again(control) -> None:
    options = SessionOptions(host="127.0.0.1", port=control.port, security="plain",
                             xclient=("NAME=a.example", "ADDR=192.0.2.9"))
    app = create_app(options=options, target_label="control")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(control.commands()) >= 5)
        assert control.header == b""
        assert control.commands() == [
            b"EHLO smtpscope.localhost\r\n",
            b"XCLIENT NAME=a.example\r\n",
            b"EHLO smtpscope.localhost\r\n",
            b"XCLIENT ADDR=192.0.2.9\r\n",
            b"EHLO smtpscope.localhost\r\n",
        ]


async def test_xclient_not_advertised_sends_nothing_and_says_so(control) -> None:
    control.xclient = False
    options = SessionOptions(host="127.0.0.1", port=control.port, security="plain",
                             xclient=("ADDR=192.0.2.9",))
    app = create_app(options=options, target_label="control")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: any("does not advertise XCLIENT" in t
                                       for t in _transcript(app)))
        await pilot.pause(0.2)
        assert control.commands() == [b"EHLO smtpscope.localhost\r\n"]


async def test_xclient_refused_stops_before_greeting_again(control) -> None:
    control.xclient_reply = "550 5.7.0 insufficient authorization"
    options = SessionOptions(host="127.0.0.1", port=control.port, security="plain",
                             xclient=("ADDR=192.0.2.9", "NAME=x.example"))
    app = create_app(options=options, target_label="control")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: any(t.startswith("XCLIENT not done: XCLIENT refused: 550")
                                       for t in _transcript(app)))
        await pilot.pause(0.2)
        assert control.commands() == [b"EHLO smtpscope.localhost\r\n",
                                      b"XCLIENT ADDR=192.0.2.9\r\n"]


def test_tui_command_line_takes_xclient() -> None:
    from smtpscope.cli import send_session
    from smtpscope.cli import tui as tui_cli

    args = tui_cli.build_parser().parse_args(
        ["127.0.0.1:25", "--xclient", "NAME=a.example ADDR=192.0.2.1", "--xclient", "PORT=1"])
    assert args.xclient == ["NAME=a.example ADDR=192.0.2.1", "PORT=1"]
    with pytest.raises(send_session.SessionUsage, match="NAME=VALUE"):
        send_session.check_xclient(["NAME"])
    assert tui_cli.run_target(["127.0.0.1:1", "--xclient", "ADDR=192.0.2.1\x1b"]) == 1


async def test_flags_without_a_target_fill_the_connect_screen(control, monkeypatch) -> None:
    from textual.widgets import Collapsible, Input

    from smtpscope.cli import tui as tui_cli
    from smtpscope.tui import app as app_module

    control.header_wait = DEADLINE
    made: list = []
    monkeypatch.setattr(app_module, "run_app", lambda app: made.append(app) or 0)
    assert tui_cli.run_target(["--proxy", "v1", "--proxy-source", "192.0.2.3",
                               "--proxy-source-port", "99", "--xclient", "NAME=a.example",
                               "--xclient", "ADDR=192.0.2.3"]) == 0
    [app] = made
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert not screen.query_one("#session-control", Collapsible).collapsed
        assert screen.query_one("#proxy-source", Input).value == "192.0.2.3:99"
        assert screen.query_one("#xclient", Input).value == "NAME=a.example ADDR=192.0.2.3"
        await pilot.press(*f"127.0.0.1:{control.port}", "enter")
        await until(pilot, lambda: len(control.commands()) >= 5)
        assert control.header == f"PROXY TCP4 192.0.2.3 127.0.0.1 99 {control.port}\r\n".encode()
        # The field left as shown: two --xclient stay two commands, as with a target given on
        # the command line.
        assert control.commands() == [b"EHLO smtpscope.localhost\r\n",
                                      b"XCLIENT NAME=a.example\r\n",
                                      b"EHLO smtpscope.localhost\r\n",
                                      b"XCLIENT ADDR=192.0.2.3\r\n",
                                      b"EHLO smtpscope.localhost\r\n"]


async def test_proxy_to_a_named_target_asks_for_the_claimed_server() -> None:
    from textual.widgets import Input, Label, Select

    app = create_app(initial_target="localhost:1")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        screen.query_one("#session-control").collapsed = False
        screen.query_one("#proxy", Select).value = 1
        await pilot.pause()
        screen.query_one("#proxy-source", Input).focus()
        await pilot.press(*"192.0.2.1", "enter")
        error = screen.query_one("#connect-error", Label)
        await until(pilot, lambda: "give the claimed server address" in str(error.render()))
        screen.query_one("#proxy-dest", Input).focus()
        await pilot.press(*"127.0.0.1:1", "enter")
        await until(pilot, lambda: isinstance(app.screen, SessionScreen))
        assert _session(app).options.preamble == \
            b"PROXY TCP4 192.0.2.1 127.0.0.1 0 1\r\n"


async def test_attribute_the_server_does_not_list_is_sent_with_a_warning(control) -> None:
    options = SessionOptions(host="127.0.0.1", port=control.port, security="plain",
                             xclient=("NAME=a.example DESTPORT=1 REVERSE_NAME=b.example",))
    app = create_app(options=options, target_label="control")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(control.commands()) >= 3)
        assert control.commands()[1] == \
            b"XCLIENT NAME=a.example DESTPORT=1 REVERSE_NAME=b.example\r\n"
        session = _session(app).session
        warnings = [e.text for e in session.transcript if e.kind == "warning"]
        assert warnings == ["XCLIENT: the server does not list the attribute REVERSE_NAME"]


async def test_folded_section_reachable_by_keyboard_at_80x24() -> None:
    from textual.widgets import Input

    app = create_app(initial_target="")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press(*["tab"] * 9, "enter", "tab", "tab", "tab", "tab", *"NAME=x")
        xclient = app.screen.query_one("#xclient", Input)
        await until(pilot, lambda: xclient.value == "NAME=x")
        assert xclient.has_focus
        box = app.screen.query_one("#connect-box")
        # The scroll to the focused field is animated.
        await until(pilot, lambda: box.scroll_y > 0 and app.screen.region.intersection(
            xclient.region).height == xclient.region.height, what="the field scrolled into view")
        assert box.scroll_y > 0
        shown = app.screen.region.intersection(xclient.region)
        assert shown.height == xclient.region.height > 0


async def test_tui_session_with_proxy_and_xclient_exports_to_swaks(control, tmp_path) -> None:
    from smtpscope.record import read_recording
    from smtpscope.record.swaks import swaks_command

    path = tmp_path / "control.jsonl"
    control.header_wait = DEADLINE
    options = SessionOptions(host="127.0.0.1", port=control.port, security="plain",
                             preamble=proxy_header.build(1, ("192.0.2.9", 9),
                                                         ("127.0.0.1", control.port)),
                             xclient=("NAME=a.example ADDR=192.0.2.9",))
    app = create_app(options=options, target_label="control", record_to=str(path))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(control.commands()) >= 3)
        await pilot.press("f8")
        await until(pilot, lambda: _session(app).session.closed_reason is not None)
    recording = read_recording(path)
    argv, _notes = swaks_command(recording.header, recording.entries)
    assert argv[argv.index("--xclient") + 1] == "NAME=a.example ADDR=192.0.2.9"
    assert argv[argv.index("--proxy-version") + 1] == "1"
    assert argv[argv.index("--proxy-source") + 1] == "192.0.2.9"


async def test_typed_xclient_accepted_asks_for_ehlo_again(control) -> None:
    options = SessionOptions(host="127.0.0.1", port=control.port, security="plain")
    app = create_app(options=options, target_label="control")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "220 control.test ESMTP" in _transcript(app))
        await pilot.press("f2", *"XCLIENT ADDR=192.0.2.4", "enter")
        await until(pilot, lambda: any(t.startswith("XCLIENT accepted") for t in _transcript(app)))
        last = list(_session(app).session.transcript)[-3:]
        assert [(e.direction, e.text.rstrip("\r\n")[:7]) for e in last] == \
            [("client", "XCLIENT"), ("server", "220 con"), ("local", "XCLIENT")]
        assert control.commands() == [b"EHLO smtpscope.localhost\r\n",
                                      b"XCLIENT ADDR=192.0.2.4\r\n"]


async def test_raw_xclient_accepted_asks_for_ehlo_again_as_a_typed_one_does(control) -> None:
    options = SessionOptions(host="127.0.0.1", port=control.port, security="plain")
    app = create_app(options=options, target_label="control")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "220 control.test ESMTP" in _transcript(app))
        await pilot.press("f2")
        await until(pilot, lambda: _session(app).session.view.capabilities is not None)
        await pilot.press("ctrl+r", *r"XCLIENT ADDR=192.0.2.4\r\n", "enter")
        await until(pilot, lambda: any(t.startswith("XCLIENT accepted") for t in _transcript(app)))
        last = list(_session(app).session.transcript)[-3:]
        assert [(e.direction, e.kind, e.text.rstrip("\r\n")[:7]) for e in last] == \
            [("client", "raw", "XCLIENT"), ("server", "reply", "220 con"), ("local", "note",
                                                                             "XCLIENT")]
        assert control.commands()[-1] == b"XCLIENT ADDR=192.0.2.4\r\n"


async def test_typed_xclient_is_a_known_command_that_completes_and_starts_over(control) -> None:
    from smtpscope.protocol import State
    from smtpscope.tui.widgets.status import StatusBar

    options = SessionOptions(host="127.0.0.1", port=control.port, security="plain")
    app = create_app(options=options, target_label="control")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "220 control.test ESMTP" in _transcript(app))
        screen = _session(app)
        session = screen.session
        await pilot.press("f2")
        await until(pilot, lambda: session.view.capabilities is not None)
        # Tab offers the attribute names the EHLO reply listed after XCLIENT: NAME, then ADDR.
        await pilot.press(*"XCLIENT ", "tab", "tab", *"192.0.2.4", "enter")
        await until(pilot, lambda: any(t.startswith("XCLIENT accepted") for t in _transcript(app)))
        [sent] = [e for e in session.transcript if e.direction == "client"
                  and e.text.startswith("XCLIENT")]
        assert sent.text == "XCLIENT ADDR=192.0.2.4\r\n"
        assert sent.kind == "command" and not sent.off_script and not sent.notes
        # The server started over: the engine and the status bar say EHLO is needed.
        assert session.view.state is State.READY and session.view.capabilities is None
        assert screen.query_one(StatusBar).state == "ready"
        await pilot.press("f2", *"MAIL FROM:<a@b.test>", "enter")
        await until(pilot, lambda: len(control.commands()) == 4)
        assert control.commands() == [b"EHLO smtpscope.localhost\r\n",
                                      b"XCLIENT ADDR=192.0.2.4\r\n",
                                      b"EHLO smtpscope.localhost\r\n",
                                      b"MAIL FROM:<a@b.test>\r\n"]


async def test_xclient_from_the_options_is_not_off_script(control) -> None:
    options = SessionOptions(host="127.0.0.1", port=control.port, security="plain",
                             xclient=("ADDR=192.0.2.4",))
    app = create_app(options=options, target_label="control")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(control.commands()) >= 3)
        [sent] = [e for e in _session(app).session.transcript if e.direction == "client"
                  and e.text.startswith("XCLIENT")]
        assert sent.kind == "command" and not sent.off_script


async def test_automatic_xclient_needs_no_hint(control) -> None:
    options = SessionOptions(host="127.0.0.1", port=control.port, security="plain",
                             xclient=("ADDR=192.0.2.4",))
    app = create_app(options=options, target_label="control")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(control.commands()) >= 3)
        await pilot.pause(0.2)
        assert not any(t.startswith("XCLIENT accepted") for t in _transcript(app))


@pytest.mark.parametrize("delay", [0.0, 0.3])
async def test_lines_typed_during_the_automatic_steps_wait_for_them(control, delay) -> None:
    control.delay = delay
    options = SessionOptions(host="127.0.0.1", port=control.port, security="plain",
                             xclient=("ADDR=192.0.2.4",))
    app = create_app(options=options, target_label="control")
    async with app.run_test(size=SIZE) as pilot:
        # Typed at once, before the banner: they wait for EHLO, XCLIENT, EHLO.
        await pilot.press(*"NOOP", "enter", *"RSET", "enter")
        await until(pilot, lambda: len(control.commands()) >= 5)
        assert control.commands() == [b"EHLO smtpscope.localhost\r\n",
                                      b"XCLIENT ADDR=192.0.2.4\r\n",
                                      b"EHLO smtpscope.localhost\r\n",
                                      b"NOOP\r\n", b"RSET\r\n"]
        await pilot.press("f8")  # a slow server's late replies must not outlive the screen
        await until(pilot, lambda: _session(app).session.closed_reason is not None)


def test_retarget_moves_only_the_claimed_server_port() -> None:
    v1 = proxy_header.build(1, ("192.0.2.1", 5), ("127.0.0.1", 25))
    assert proxy_header.retarget(v1, 25, 587) == b"PROXY TCP4 192.0.2.1 127.0.0.1 5 587\r\n"
    assert proxy_header.retarget(v1, 2525, 587) == v1  # another port was claimed on purpose
    v2 = proxy_header.build(2, ("2001:db8::1", 5), ("::1", 25))
    assert proxy_header.parse(proxy_header.retarget(v2, 25, 465)) == \
        (2, "TCP6", ("2001:db8::1", 5), ("::1", 465))


async def test_reconnect_to_another_port_claims_that_port(control) -> None:
    other = await ControlServer(header_wait=DEADLINE).start()
    control.header_wait = DEADLINE
    try:
        options = SessionOptions(host="127.0.0.1", port=control.port, security="plain",
                                 preamble=proxy_header.build(1, ("192.0.2.1", 5),
                                                             ("127.0.0.1", control.port)))
        app = create_app(options=options, target_label="control")
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: bool(control.header))
            screen = _session(app)
            screen._reconnect_with(screen.options._replace(port=other.port))
            await until(pilot, lambda: bool(other.header))
            assert other.header == f"PROXY TCP4 192.0.2.1 127.0.0.1 5 {other.port}\r\n".encode()
            await pilot.press("f8")
            await until(pilot, lambda: screen.session.closed_reason is not None)
    finally:
        await other.stop()
