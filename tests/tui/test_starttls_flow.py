"""STARTTLS like ``openssl s_client -starttls smtp``: EHLO first, EHLO again, and a quick hint
when a plain client meets an implicit-TLS port."""

from __future__ import annotations

import pytest

from smtpscope.server.demo import DemoServer
from smtpscope.session import SessionOptions
from smtpscope.tls_hints import GREETING_HINT_AFTER
from smtpscope.tui.app import create_app
from smtpscope.tui.widgets.transcript import TranscriptView
from tests.tui.demo_app import verified_app
from tests.tui.test_session_screen import SIZE, replies, screen_of, until


def sent(screen) -> list[str]:
    return [e.text.split()[0].upper() for e in screen.session.transcript
            if e.direction == "client" and e.text.strip()]


def notes(screen) -> str:
    return "\n".join(e.text for e in screen.session.transcript if e.direction == "local")


def assert_hint_while_waiting(screen) -> None:
    """The hint came from the greeting timer, seconds in, while the 5-minute greeting wait
    (RFC 5321 §4.5.3.2.1) still runs: not from that wait ending, however loaded the machine."""
    assert f"no greeting after {GREETING_HINT_AFTER:g} s" in notes(screen).lower()
    assert screen.session.greeting is None and screen.session.is_open


async def test_f3_in_the_ready_state_sends_ehlo_first(demo: DemoServer) -> None:
    app = verified_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await until(pilot, lambda: screen.session is not None and replies(screen) == [220])
        await pilot.press("f3")
        await until(pilot, lambda: len(replies(screen)) == 4)
        assert sent(screen) == ["EHLO", "STARTTLS", "EHLO"]
        assert replies(screen) == [220, 250, 220, 250]
        assert screen.session.tls is not None
        assert "send EHLO again" not in notes(screen)


@pytest.mark.parametrize("how", ["option", "submission"])
async def test_starttls_mode_does_ehlo_starttls_ehlo_on_connect(demo: DemoServer,
                                                                how: str) -> None:
    from smtpscope.target_options import options_for

    if how == "option":
        options, label = options_for(f"{demo.host}:{demo.port}", security="starttls",
                                     cafile=str(demo.cafile))
    else:
        options, label = options_for(f"submission://{demo.host}:{demo.port}",
                                     cafile=str(demo.cafile))
    assert options.security == "starttls"
    app = create_app(options=options, target_label=label)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await until(pilot, lambda: screen.session is not None and len(replies(screen)) == 4)
        assert sent(screen) == ["EHLO", "STARTTLS", "EHLO"]
        assert screen.session.tls is not None and screen.session.tls.verified
        assert screen.session.capabilities is not None
        assert not screen.session.capabilities.has("STARTTLS")
        assert "send EHLO again" not in notes(screen)


async def test_typed_starttls_still_says_to_send_ehlo_again(demo: DemoServer) -> None:
    from tests.tui.test_session_screen import banner_then_ehlo, type_line

    app = verified_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await banner_then_ehlo(pilot, screen)
        await type_line(pilot, "starttls")
        await until(pilot, lambda: len(replies(screen)) == 3)
        await until(pilot, lambda: "send EHLO again" in notes(screen))


async def test_ehlo_again_keeps_the_name_the_user_greeted_with(demo: DemoServer) -> None:
    """F3's EHLO inside TLS, and F2 after it, say the name typed in the first EHLO: a server's
    HELO checks must see one client, not the default name half way through."""
    from tests.tui.test_session_screen import type_line

    app = verified_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await until(pilot, lambda: replies(screen) == [220])
        await type_line(pilot, "ehlo typed.example")
        await until(pilot, lambda: len(replies(screen)) == 2)
        await pilot.press("f3")
        await until(pilot, lambda: len(replies(screen)) == 4)
        await pilot.press("f2")
        await until(pilot, lambda: len(replies(screen)) == 5)
        greetings = [e.text.strip() for e in screen.session.transcript
                     if e.direction == "client" and e.text.upper().startswith("EHLO")]
        assert greetings == ["EHLO typed.example"] * 3


async def test_plain_client_on_an_implicit_tls_port_gets_a_hint_in_seconds(
        demo: DemoServer) -> None:
    assert demo.tls_port
    options = SessionOptions(host=demo.host, port=demo.tls_port, security="plain",
                             cafile=str(demo.cafile))
    app = create_app(options=options, target_label=f"{demo.host}:{demo.tls_port}")
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await until(pilot, lambda: screen.session is not None
                    and "smtps://" in screen.query_one(TranscriptView).to_text())
        assert f"smtps://{demo.host}:{demo.tls_port}" in notes(screen)
        assert_hint_while_waiting(screen)


@pytest.mark.peer
async def test_plain_client_on_postfix_smtps_gets_the_hint(mta) -> None:
    port = mta.ports["smtps"]
    options = SessionOptions(host=mta.host, port=port, security="plain", cafile=str(mta.ca_file))
    app = create_app(options=options, target_label=f"{mta.host}:{port}")
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await until(pilot, lambda: screen.session is not None and "smtps://" in notes(screen))
        assert_hint_while_waiting(screen)


async def test_f5_dialog_reconnects_with_implicit_tls_after_the_hint(demo: DemoServer) -> None:
    from textual.widgets import Input, Select, Switch

    from smtpscope.tui.screens.reconnect import ReconnectDialog

    options = SessionOptions(host=demo.host, port=demo.tls_port, security="plain",
                             cafile=str(demo.cafile))
    app = create_app(options=options, target_label="demo")
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await until(pilot, lambda: screen.session is not None and "smtps://" in notes(screen))
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, ReconnectDialog))
        dialog = app.screen
        assert dialog.query_one("#reconnect-tls", Select).value == "implicit"
        # What was typed (pasted: ESC, a backslash, a quote) is quoted, escaped once.
        port = dialog.query_one("#reconnect-port", Input)
        typed, port.value = port.value, "a\x1bb\\c'd"
        await pilot.press("ctrl+s")
        error = str(dialog.query_one("#reconnect-error").render())
        assert error == "port 'a\\x1bb\\\\c'd' is not a number", error
        port.value = typed
        # A CA file that does not exist is refused in the dialog, not by a traceback.
        dialog.query_one("#reconnect-cafile", Input).value = "/nonexistent/ca.pem"
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, ReconnectDialog)
        assert "does not exist" in str(dialog.query_one("#reconnect-error").render())
        dialog.query_one("#reconnect-cafile", Input).value = str(demo.cafile)
        await pilot.press("enter")  # the Connect button has the focus
        await until(pilot, lambda: not isinstance(app.screen, ReconnectDialog))
        await until(pilot, lambda: screen.session.greeting is not None
                    and screen.session.tls is not None)
        assert screen.options.security == "implicit" and screen.session.tls.verified
        assert screen.target_label == f"smtps://{demo.host}:{demo.tls_port}"
        # Insecure can be switched on from the same dialog; it is shown as such.
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, ReconnectDialog))
        app.screen.query_one("#reconnect-insecure", Switch).value = True
        app.screen.query_one("#reconnect-cafile", Input).value = ""
        await pilot.press("ctrl+s")
        await until(pilot, lambda: screen.session.greeting is not None
                    and screen.session.tls is not None and screen.session.tls.insecure)
        assert screen.options.verify is False


async def test_f5_escape_keeps_the_session(demo: DemoServer) -> None:
    from smtpscope.tui.screens.reconnect import ReconnectDialog

    app = verified_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await until(pilot, lambda: screen.session is not None and replies(screen) == [220])
        session = screen.session
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, ReconnectDialog))
        await pilot.press("escape")
        await pilot.pause()
        assert screen.session is session and session.is_open


@pytest.mark.peer
async def test_submission_target_on_postfix_does_ehlo_starttls_ehlo(mta) -> None:
    from smtpscope.target_options import options_for

    options, label = options_for(f"submission://{mta.host}:{mta.ports['submission']}",
                                 cafile=str(mta.ca_file))
    options.server_hostname = "localhost"
    app = create_app(options=options, target_label=label)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await until(pilot, lambda: screen.session is not None and len(replies(screen)) == 4)
        assert sent(screen) == ["EHLO", "STARTTLS", "EHLO"]
        assert screen.session.tls is not None and screen.session.tls.verified
        caps = screen.session.capabilities
        assert caps is not None and "PLAIN" in caps.auth_mechanisms
        assert "send EHLO again" not in notes(screen)


async def test_f5_shows_the_new_connection_from_nothing(demo: DemoServer) -> None:
    """TLS, capabilities and the selected line's explanation were about the old connection:
    after F5 to plain, nothing of them stays on screen."""
    import base64

    from smtpscope.tui.screens.reconnect import ReconnectDialog
    from smtpscope.tui.widgets.capabilities import CapabilityInspector
    from smtpscope.tui.widgets.status import StatusBar
    from tests.tui.test_session_screen import shown

    app = verified_app(demo)
    token = base64.b64encode(f"\0{demo.user}\0{demo.password}".encode()).decode()
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        status = screen.query_one(StatusBar)
        inspector = screen.query_one(CapabilityInspector)
        explain = screen.query_one("#explain")
        await until(pilot, lambda: screen.session is not None and replies(screen) == [220])
        await pilot.press("f3", *f"AUTH PLAIN {token}", "enter")
        await until(pilot, lambda: replies(screen) == [220, 250, 220, 250, 235])
        assert status.tls_ok and inspector.stage == "after STARTTLS"
        await pilot.press("escape")  # the transcript: the 235 is selected and explained
        await until(pilot, lambda: "235" in shown(explain))
        old = screen.session
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, ReconnectDialog))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: screen.session is not old and replies(screen) == [220])
        await pilot.pause()
        assert screen.query_one(TranscriptView).selected_entry is None
        assert "235" not in shown(explain) and explain.has_class("-empty")
        await pilot.press("escape", *"EHLO d.example", "enter")
        await until(pilot, lambda: replies(screen) == [220, 250])
        assert screen.session.tls is None
        assert (status.tls, status.tls_ok) == ("plain", False)
        assert "no TLS" in shown(status) and "TLSv1" not in shown(status)
        assert inspector.previous is None and inspector.stage == ""
        assert "STARTTLS" in [c.keyword for c in inspector.capabilities.keywords]
        assert "235" not in shown(explain) and explain.has_class("-empty")


def _certificate_notes(session) -> list[str]:
    """The note right after each TLS line (--show-certs puts the chain there)."""
    entries = list(session.transcript)
    return [entries[i + 1].text for i, entry in enumerate(entries[:-1]) if entry.kind == "tls"
            and entries[i + 1].kind == "note" and entries[i + 1].direction == "local"]


async def _chain_noted(pilot, screen) -> str:
    """The --show-certs note of the session's handshake, once there, checked line by line."""
    await until(pilot, lambda: screen.session is not None
                and _certificate_notes(screen.session) != [])
    [note] = _certificate_notes(screen.session)
    chain = screen.session.tls.peer_chain
    assert len(chain) == 2  # the demo sends its CA too: every certificate is noted
    assert "\n[0] server certificate\n" in note and "\n[1] chain certificate 1\n" in note
    # Each certificate's fields and PEM, as `smtpscope send --show-certs` gives them.
    for cert in chain:
        assert f"\n    subject:   {cert.subject}\n" in note
        assert f"\n    SHA-256:   {cert.fingerprint_sha256}\n" in note
        assert cert.pem.startswith("-----BEGIN CERTIFICATE-----\n")
        assert f"\n{cert.pem.rstrip()}" in note
    return note


@pytest.mark.parametrize("security", ["starttls", "implicit"])
async def test_show_certs_notes_the_chain_after_every_handshake(
        demo: DemoServer, monkeypatch, tmp_path, security: str) -> None:
    from smtpscope.record import read_recording
    from tests.tui.test_connect_screen import app_from_command_line

    recording = tmp_path / "r.jsonl"
    target = f"{demo.host}:{demo.port}" if security == "starttls" \
        else f"smtps://{demo.host}:{demo.tls_port}"
    app = app_from_command_line(monkeypatch, [target, "--tls", security, "--cafile",
                                              str(demo.cafile), "--show-certs",
                                              "--record", str(recording)])
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        note = await _chain_noted(pilot, screen)
        first = screen.session
        await pilot.press("f5")  # the new connection's handshake gets its own
        await until(pilot, lambda: app.screen is not screen)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: screen.session is not first)
        await _chain_noted(pilot, screen)
    recorded = [e.text for e in read_recording(recording).entries if e.kind == "note"]
    assert note in recorded  # the recording says it as the screen did


async def test_show_certs_shows_the_certificate_a_level_refuses(
        demo: DemoServer, monkeypatch) -> None:
    from tests.tui.test_connect_screen import app_from_command_line

    # The system's trust store does not know the demo's CA: `verify` refuses it.
    app = app_from_command_line(monkeypatch, [f"smtps://{demo.host}:{demo.tls_port}",
                                              "--tls-level", "verify", "--show-certs"])
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await until(pilot, lambda: screen.session is not None
                    and any(e.kind == "error" for e in screen.session.transcript))
        [note] = _certificate_notes(screen.session)
        assert "-----BEGIN CERTIFICATE-----" in note
        kinds = [e.kind for e in screen.session.transcript]
        assert kinds.index("tls") + 1 < kinds.index("error")  # the chain, then the refusal


async def test_without_show_certs_the_tls_line_stands_alone(demo: DemoServer) -> None:
    options = SessionOptions(host=demo.host, port=demo.tls_port, security="implicit",
                             cafile=str(demo.cafile))
    app = create_app(options=options, target_label="demo")
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await until(pilot, lambda: screen.session is not None
                    and screen.session.greeting is not None)
        assert "BEGIN CERTIFICATE" not in notes(screen)
