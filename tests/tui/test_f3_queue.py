"""F3 takes its place in the send queue like F2: keys sent in one burst put exactly the lines
pressed and typed on the wire, in order (STARTTLS ends its group, RFC 3207 / RFC 2920)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest

from smtpscope.record import Entry
from smtpscope.server.demo import DemoServer, open_demo_server
from smtpscope.server.faults import Fault
from smtpscope.session import SessionOptions
from smtpscope.tui.app import SmtpScopeApp, create_app
from smtpscope.tui.screens.certificate import UntrustedCertificateScreen
from tests.tui.test_key_order import burst
from tests.tui.test_session_screen import SIZE, replies, screen_of
from tests.tui.test_untrusted_dialog import armed
from tests.tui.waiting import until
from tests.tui.wire_server import LoopbackServer, WireServer


class SlowRelay(LoopbackServer):
    """Relays to a server, each chunk from it late (``delay``), as over a slow link: keys
    pressed in one burst all land before the first reply. Until ``gate`` is set nobody
    gets through: the client waits for its banner."""

    def __init__(self, host: str, port: int, delay: float = 0.15) -> None:
        self.target, self.delay = (host, port), delay
        self.gate = asyncio.Event()
        self.gate.set()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self.gate.wait()
        up_reader, up_writer = await asyncio.open_connection(*self.target)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter,
                       delay: float) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    await asyncio.sleep(delay)
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer, 0), pipe(up_reader, writer, self.delay))


@dataclass
class Demo:
    """The embedded server, with every line it read from the client (inside TLS too)."""

    server: DemoServer
    relay: SlowRelay
    lines: list[str] = field(default_factory=list)

    def app(self, *, cafile: bool = True) -> SmtpScopeApp:
        options = SessionOptions(host=self.server.host, port=self.relay.port,
                                 security="plain",
                                 cafile=str(self.server.cafile) if cafile else None)
        return create_app(options=options, target_label="demo")


def _recorder(lines: list[str]) -> Callable[[int, Entry], None]:
    def seen(sid: int, entry: Entry) -> None:
        if entry.direction == "client" and entry.kind == "command":
            lines.append(entry.text.rstrip("\r\n"))
    return seen


async def _demo(*faults: Fault) -> AsyncIterator[Demo]:
    lines: list[str] = []
    server = await open_demo_server(on_entry=_recorder(lines), faults=faults)
    relay = await SlowRelay(server.host, server.port).start()
    try:
        yield Demo(server, relay, lines)
    finally:
        relay.gate.set()  # a client still waiting at the gate ends instead of being cancelled
        await relay.stop()
        await server.aclose()


@pytest.fixture
async def demo(request: pytest.FixtureRequest) -> AsyncIterator[Demo]:
    """Through a slow link; ``indirect`` parameters are failures the server injects."""
    async for found in _demo(*getattr(request, "param", ())):
        yield found


EHLO = "EHLO smtpscope.localhost"


async def _greeted(pilot, demo: Demo) -> None:  # type: ignore[no-untyped-def]
    await until(pilot, lambda: screen_of(pilot.app).session is not None
                and replies(screen_of(pilot.app)) == [220])


async def test_f2_f3_in_one_burst_greets_once_before_tls(demo: Demo) -> None:
    app = demo.app()
    async with app.run_test(size=SIZE) as pilot:
        await _greeted(pilot, demo)
        burst(app, "f2", "f3")
        screen = screen_of(app)
        await until(pilot, lambda: len(replies(screen)) == 4, what="four replies")
        await pilot.pause(0.3)
        assert demo.lines == [EHLO, "STARTTLS", EHLO]
        assert screen.session.tls is not None and len(screen.send_queue) == 0


async def test_noop_typed_before_f3_is_not_overtaken(demo: Demo) -> None:
    app = demo.app()
    async with app.run_test(size=SIZE) as pilot:
        await _greeted(pilot, demo)
        burst(app, *"NOOP", "enter", "f3")
        screen = screen_of(app)
        await until(pilot, lambda: len(replies(screen)) == 5, what="five replies")
        await pilot.pause(0.3)
        assert demo.lines == ["NOOP", EHLO, "STARTTLS", EHLO]


@pytest.mark.parametrize("typed", ["MAIL FROM:<a@example.test>", "AUTH PLAIN"])
async def test_lines_typed_right_after_f3_go_after_the_ehlo_over_tls(demo: Demo,
                                                                      typed: str) -> None:
    read = typed
    if typed == "AUTH PLAIN":
        token = base64.b64encode(f"\0{demo.server.user}\0{demo.server.password}".encode())
        typed = f"AUTH PLAIN {token.decode()}"
        read = "AUTH PLAIN [PLAIN credentials for demo hidden]"  # the server's record
    app = demo.app()
    async with app.run_test(size=SIZE) as pilot:
        await _greeted(pilot, demo)
        burst(app, "f3", *typed, "enter", *"NOOP", "enter")
        screen = screen_of(app)
        await until(pilot, lambda: len(replies(screen)) == 6, what="six replies")
        await pilot.pause(0.3)
        assert demo.lines == [EHLO, "STARTTLS", EHLO, read, "NOOP"]
        assert replies(screen) == [220, 250, 220, 250, 235 if "AUTH" in typed else 250, 250]


async def test_f3_typed_ehlo_and_f3_again_greet_with_the_typed_name(demo: Demo) -> None:
    """A typed EHLO ahead of F3 is its greeting; the EHLO over TLS uses its name. A second
    F3 in the same burst finds TLS up at its turn: it says so and sends nothing."""
    app = demo.app()
    async with app.run_test(size=SIZE) as pilot:
        await _greeted(pilot, demo)
        burst(app, *"EHLO typed.example", "enter", "f3", "f3", *"RSET", "enter")
        screen = screen_of(app)
        await until(pilot, lambda: len(replies(screen)) == 5, what="five replies")
        await until(pilot, lambda: any("TLS is already up" in n.message
                                       for n in app._notifications), what="the toast")
        await pilot.pause(0.3)
        assert demo.lines == ["EHLO typed.example", "STARTTLS", "EHLO typed.example", "RSET"]
        assert len(screen.send_queue) == 0


@pytest.mark.parametrize("demo", [(Fault("STARTTLS", 454),), (Fault("STARTTLS", 502),)],
                         ids=["454", "502"], indirect=True)
async def test_starttls_refused_sends_no_ehlo_and_typed_lines_still_go(demo: Demo) -> None:
    app = demo.app()
    async with app.run_test(size=SIZE) as pilot:
        await _greeted(pilot, demo)
        burst(app, "f2", "f3", *"NOOP", "enter", *"RSET", "enter")
        screen = screen_of(app)
        await until(pilot, lambda: len(replies(screen)) == 5, what="five replies")
        await pilot.pause(0.3)
        assert demo.lines == [EHLO, "STARTTLS", "NOOP", "RSET"]
        code = replies(screen)[2]
        assert code in (454, 502) and replies(screen) == [220, 250, code, 250, 250]
        assert screen.session.tls is None and len(screen.send_queue) == 0


async def test_f3_where_ehlo_offers_no_starttls_is_judged_at_its_turn(wire: WireServer) -> None:
    options = SessionOptions(host="127.0.0.1", port=wire.port, security="plain")
    app = create_app(options=options, target_label="wire")
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await until(pilot, lambda: replies(screen) == [220])
        burst(app, "f2", "f3", *"NOOP", "enter")
        await until(pilot, lambda: wire.commands()[-1:] == ["NOOP"], what="the NOOP")
        await pilot.pause(0.3)
        assert wire.commands() == [EHLO, "NOOP"]
        assert "The EHLO reply offers no STARTTLS: F3 sends nothing. To send it anyway, " \
            "type STARTTLS and press Ctrl+O." in [n.message for n in app._notifications]
        assert len(screen.send_queue) == 0


async def test_f3_while_connecting_waits_for_the_greeting_like_f2(demo: Demo) -> None:
    demo.relay.gate.clear()
    app = demo.app()
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await until(pilot, lambda: screen.session is not None and screen.session.is_open)
        burst(app, "f3", *"NOOP", "enter")
        await until(pilot, lambda: len(screen.send_queue) == 4, what="four lines queued")
        assert screen.session.greeting is None and not app._notifications
        assert [item.text for item in screen.send_queue] == [EHLO, "STARTTLS", EHLO,
                                                             "NOOP"]
        demo.relay.gate.set()
        await until(pilot, lambda: len(replies(screen)) == 5, what="five replies")
        await pilot.pause(0.3)
        assert demo.lines == [EHLO, "STARTTLS", EHLO, "NOOP"]


@pytest.mark.parametrize("trust", [True, False])
async def test_untrusted_certificate_asked_before_anything_more_goes(demo: Demo,
                                                                     trust: bool) -> None:
    app = demo.app(cafile=False)
    async with app.run_test(size=SIZE) as pilot:
        await _greeted(pilot, demo)
        screen = screen_of(app)
        burst(app, "f2", "f3", *"NOOP", "enter")
        await until(pilot, lambda: isinstance(app.screen, UntrustedCertificateScreen))
        dialog = app.screen
        await armed(pilot, dialog)
        await pilot.pause(0.3)
        assert demo.lines == [EHLO, "STARTTLS"]  # nothing while the question is open
        await pilot.press(*(["tab", "enter"] if trust else ["enter"]))  # Continue, Disconnect
        if trust:
            await until(pilot, lambda: len(replies(screen)) == 5, what="five replies")
            await pilot.pause(0.3)
            assert demo.lines == [EHLO, "STARTTLS", EHLO, "NOOP"]
        else:
            await until(pilot, lambda: not screen.session.is_open, what="closed")
            await pilot.pause(0.3)
            assert demo.lines == [EHLO, "STARTTLS"]
            assert screen.session.closed_reason == "closed: certificate not trusted"
            # The EHLO that belonged to the TLS session is gone; the typed line waits for F5.
            assert [item.text for item in screen.send_queue] == ["NOOP"]


@pytest.mark.peer
async def test_f2_f3_and_a_typed_line_in_one_burst_on_postfix(mta) -> None:
    options = SessionOptions(host=mta.host, port=mta.ports["smtp"], security="plain",
                             cafile=str(mta.ca_file), server_hostname="localhost")
    app = create_app(options=options, target_label="postfix")
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await until(pilot, lambda: screen.session is not None and replies(screen) == [220])
        burst(app, "f2", "f3", *"MAIL FROM:<tester@client.test>", "enter", *"RSET", "enter")
        await until(pilot, lambda: len(replies(screen)) == 6, what="six replies")
        await pilot.pause(0.3)
        sent = [e.text.rstrip("\r\n") for e in screen.session.transcript
                if e.direction == "client"]
        assert sent == [EHLO, "STARTTLS", EHLO, "MAIL FROM:<tester@client.test>", "RSET"]
        assert replies(screen) == [220, 250, 220, 250, 250, 250]
        assert screen.session.tls is not None and screen.session.tls.verified
