"""Pilot tests of the untrusted-certificate dialog: continue (marked) and disconnect."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from smtpscope.server.demo import DemoServer, open_demo_server
from smtpscope.session import SessionOptions
from smtpscope.tui.app import create_app
from smtpscope.tui.screens.certificate import UntrustedCertificateScreen
from smtpscope.tui.widgets.status import StatusBar
from smtpscope.tui.widgets.transcript import TranscriptView
from tests.tui.test_session_screen import SIZE, replies, screen_of, shown, until


@pytest.fixture
async def demo() -> AsyncIterator[DemoServer]:
    server = await open_demo_server()
    try:
        yield server
    finally:
        await server.aclose()


def untrusted_app(demo: DemoServer):  # type: ignore[no-untyped-def]
    # No cafile: the demo server's private CA is unknown here, as on a first visit.
    options = SessionOptions(host=demo.host, port=demo.port, security="plain")
    return create_app(options=options, target_label="demo")


async def open_dialog(pilot) -> UntrustedCertificateScreen:  # type: ignore[no-untyped-def]
    screen = screen_of(pilot.app)
    await until(pilot, lambda: replies(screen) == [220])
    await pilot.press("f2")
    await until(pilot, lambda: len(replies(screen)) == 2)
    await pilot.press("f3")
    await until(pilot, lambda: isinstance(pilot.app.screen, UntrustedCertificateScreen))
    dialog = pilot.app.screen
    assert isinstance(dialog, UntrustedCertificateScreen)
    return dialog


async def test_continue_keeps_the_session_marked_untrusted(demo: DemoServer) -> None:
    app = untrusted_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        dialog = await open_dialog(pilot)
        reason = shown(dialog.query_one("#cert-reason"))
        assert "Untrusted TLS connection" in reason and "issued by a CA" in reason
        chain = shown(dialog.query_one("#cert-chain"))
        assert "CN=localhost" in chain and "SPKI SHA-256" in chain
        await pilot.press("c")
        screen = screen_of(app)
        # EHLO after TLS follows only once the user chose to go on.
        await until(pilot, lambda: len(replies(screen)) == 4)
        session = screen.session
        assert session is not None and session.is_open and session.tls is not None
        assert session.tls.trust == "untrusted" and session.tls.trust_reason_code == "unknown-ca"
        status = screen.query_one(StatusBar)
        assert "UNTRUSTED" in status.tls and not status.tls_ok
        text = screen.query_one(TranscriptView).to_text()
        assert "Untrusted TLS connection" in text and "stays marked" in text
        tls_entry = next(e for e in session.transcript if e.kind == "tls")
        assert tls_entry.info["trust"] == "untrusted"


async def test_disconnect_closes_without_ehlo(demo: DemoServer) -> None:
    app = untrusted_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot)
        await pilot.press("d")
        screen = screen_of(app)
        await until(pilot, lambda: screen.session is not None and not screen.session.is_open)
        assert len(replies(screen)) == 3  # banner, EHLO, STARTTLS: no EHLO over TLS
        assert "not trusted" in screen.query_one(TranscriptView).to_text()


async def test_selected_tls_line_shows_the_chain(demo: DemoServer) -> None:
    from smtpscope.tui.explain import selection_text

    app = untrusted_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot)
        await pilot.press("c")
        screen = screen_of(app)
        await until(pilot, lambda: len(replies(screen)) == 4)
        assert screen.session is not None
        entry = next(e for e in screen.session.transcript if e.kind == "tls")
        shown_text = selection_text(entry, 80).plain
        leaf = screen.session.tls.peer_chain[0]  # type: ignore[union-attr]
        assert f"SPKI SHA-256 {leaf.spki_sha256}" in shown_text
        assert "[1] subject" in shown_text  # the CA certificate the demo server sends too


async def test_implicit_tls_asks_right_after_connecting(demo: DemoServer) -> None:
    options = SessionOptions(host=demo.host, port=demo.tls_port, security="implicit")
    app = create_app(options=options, target_label="demo")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(pilot.app.screen, UntrustedCertificateScreen))
        await pilot.press("escape")  # Escape is the safe answer: disconnect
        screen = screen_of(app)
        await until(pilot, lambda: screen.session is not None and not screen.session.is_open)
        assert screen.session.tls is not None and screen.session.tls.trust == "untrusted"
