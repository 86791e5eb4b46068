"""The TUI against real Postfix: STARTTLS on submission, the capability diff, a message sent."""

from __future__ import annotations

import pytest

from smtpscope.session import SessionOptions
from smtpscope.transport.tls import TLSInfo
from smtpscope.tui.app import create_app
from smtpscope.tui.widgets.capabilities import CapabilityInspector
from smtpscope.tui.widgets.data_editor import DataEditor
from smtpscope.tui.widgets.status import StatusBar
from smtpscope.tui.widgets.transcript import TranscriptView
from tests.tui.test_session_screen import SIZE, replies, screen_of, shown, until

pytestmark = pytest.mark.peer


async def test_starttls_then_capability_diff_on_postfix_submission(mta) -> None:
    options = SessionOptions(host=mta.host, port=mta.ports["submission"], security="plain",
                             cafile=str(mta.ca_file), server_hostname="localhost")
    app = create_app(options=options, target_label="postfix submission")
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await until(pilot, lambda: screen.session is not None and replies(screen) == [220])
        await pilot.press("f2")
        await until(pilot, lambda: len(replies(screen)) == 2)
        inspector = screen.query_one(CapabilityInspector)
        before = inspector.capabilities
        assert before.has("STARTTLS") and not before.auth_mechanisms
        await pilot.press("f3")
        await until(pilot, lambda: len(replies(screen)) == 4)
        after = inspector.capabilities
        assert after is not before and not after.has("STARTTLS")
        assert {"PLAIN", "SCRAM-SHA-256"} <= set(after.auth_mechanisms)
        diff = inspector.previous.diff(after)
        assert [c.keyword for c in diff.removed] == ["STARTTLS"]
        assert [c.keyword for c in diff.added] == ["AUTH"]
        painted = shown(inspector)
        assert "+ AUTH" in painted and "- STARTTLS" in painted
        assert screen.query_one(StatusBar).tls_ok
        assert "certificate verified" in screen.query_one(TranscriptView).to_text()


async def test_korean_subject_through_the_editor_is_delivered(mta) -> None:
    token = "smtpscope-tui-peer-7f3a"
    options = SessionOptions(host=mta.host, port=mta.ports["smtp"], security="plain",
                             cafile=str(mta.ca_file))
    app = create_app(options=options, target_label="postfix")
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await until(pilot, lambda: screen.session is not None and replies(screen) == [220])
        await pilot.press("f2")
        await until(pilot, lambda: len(replies(screen)) == 2)
        await pilot.press("ctrl+n")
        await until(pilot, lambda: isinstance(app.screen, DataEditor))
        area = app.screen.query_one("#data-text")
        text = area.text.replace("Subject: smtpscope test", "Subject: 안녕하세요 " + token)
        text = text.replace("recipient@example.test", "alice@example.test")
        area.load_text(text.replace("sender@example.test", "tester@client.test"))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: len(replies(screen)) >= 6)
        assert replies(screen)[2:6] == [250, 250, 354, 250]
    delivered = mta.read_delivered("alice", match=token.encode())
    assert delivered and "안녕하세요".encode() in delivered[0]


@pytest.mark.parametrize(("port", "cert", "max_version", "said"), [
    ("ccert", True, None, "client certificate: sent (CN=smtpscope test client"),
    ("ccert", True, "1.2", "client certificate: sent (CN=smtpscope test client"),
    ("smtp", True, None, "client certificate: not sent, the server asked for none (CN=smtpscope"),
    ("ccert", False, None, "client certificate: none, but the server asked for one"),
])
async def test_the_tls_line_says_what_became_of_the_client_certificate(
        mta, port: str, cert: bool, max_version: str | None, said: str) -> None:
    from smtpscope.security.policy import TLSPolicy

    tls = dict(mta.state["tls"])
    policy = TLSPolicy(level="may", cafile=str(mta.ca_file), max_version=max_version,
                       client_cert=str(tls["client.pem"]) if cert else None,
                       client_key=str(tls["client.key"]) if cert else None)
    options = SessionOptions(host=mta.host, port=mta.ports[port], security="starttls",
                             cafile=str(mta.ca_file), server_hostname="localhost", tls=policy)
    app = create_app(options=options, target_label=f"postfix {port}")
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await until(pilot, lambda: screen.session is not None and screen.session.tls is not None
                    and len(replies(screen)) == 4)
        view = screen.query_one(TranscriptView)
        [tls_line] = [line for line in view.to_text().splitlines() if "TLS started" in line]
        assert said in tls_line
        if not cert:
            assert "sent" not in tls_line


@pytest.mark.parametrize("typed", [False, True], ids=["command-line target", "typed target"])
async def test_a_wrong_pin_refuses_the_certificate_whichever_way_the_target_came(
        mta, monkeypatch, typed: bool) -> None:
    """``--tls-fingerprint`` applies to a target typed on the connect screen as to one given
    on the command line: a wrong pin refuses Postfix's certificate, the right one accepts it."""
    from tests.tui.test_connect_screen import _session_of, app_from_command_line

    target = f"{mta.host}:{mta.ports['smtp']}"

    async def tls_with(pin: str) -> tuple[TLSInfo, bool]:  # and whether the session is open
        flags = ["--tls", "starttls", "--tls-fingerprint", f"SHA256:{pin}"]
        app = app_from_command_line(monkeypatch, flags if typed else [target, *flags])
        async with app.run_test(size=SIZE) as pilot:
            screen = await _session_of(app, pilot, target if typed else "")
            session = screen.session
            await until(pilot, lambda: session.tls is not None
                        and (not session.is_open or len(replies(screen)) >= 4))
            return session.tls, session.is_open

    refused, still_open = await tls_with("ab" * 32)
    assert (refused.level, refused.fingerprints_pinned) == ("fingerprint", 1)
    assert not refused.accepted and refused.fingerprint_match is None and not still_open
    accepted, still_open = await tls_with(refused.leaf.spki_sha256)
    assert accepted.accepted and accepted.trust == "fingerprint" and still_open


async def test_show_certs_notes_postfixs_certificate_as_the_harness_made_it(
        mta, monkeypatch) -> None:
    from pathlib import Path

    from tests.tui.test_connect_screen import _session_of, app_from_command_line
    from tests.tui.test_starttls_flow import _certificate_notes

    app = app_from_command_line(monkeypatch, [f"{mta.host}:{mta.ports['smtp']}", "--tls",
                                              "starttls", "--cafile", str(mta.ca_file),
                                              "--show-certs"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await _session_of(app, pilot)
        await until(pilot, lambda: _certificate_notes(screen.session) != [])
        [note] = _certificate_notes(screen.session)
    served = (Path(mta.ca_file).parent / "server.pem").read_text().strip()  # as Postfix has it
    assert note.startswith("The server's certificates (--show-certs):\n[0] server certificate\n")
    assert served in note
