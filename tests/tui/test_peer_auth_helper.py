"""The AUTH helper against real Dovecot (behind Postfix submission), every mechanism it offers:
235 with the right password and the status bar saying so, 535 with a wrong one, and neither
the password nor a line carrying it in the recording or on screen."""

from __future__ import annotations

from pathlib import Path

import pytest

from smtpscope.record import read_recording
from smtpscope.session import SessionOptions
from smtpscope.tui.app import create_app
from smtpscope.tui.screens.auth_exchange import Phase
from smtpscope.tui.screens.auth_helper import AuthHelperScreen
from smtpscope.tui.widgets.status import StatusBar
from tests.tui.test_auth_helper import fill
from tests.tui.test_session_screen import SIZE, replies, screen_of, until

pytestmark = pytest.mark.peer



@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SMTPSCOPE_HOME", str(tmp_path))
    return tmp_path


MECHANISMS = ["PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"]


@pytest.mark.parametrize("right", [True, False], ids=["right-password", "wrong-password"])
@pytest.mark.parametrize("mech", MECHANISMS)
async def test_the_helper_authenticates_against_dovecot(  # type: ignore[no-untyped-def]
        mta, home: Path, mech: str, right: bool) -> None:
    user = next(iter(mta.users))
    password = mta.password(user) if right else "not-" + mta.password(user)
    options = SessionOptions(host=mta.host, port=mta.ports["submission"], security="plain",
                             cafile=str(mta.ca_file), server_hostname="localhost")
    app = create_app(options=options)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await until(pilot, lambda: screen.session is not None and replies(screen) == [220])
        await pilot.press("f3")
        await until(pilot, lambda: len(replies(screen)) == 4)
        assert mech in screen.session.view.capabilities.auth_mechanisms
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, AuthHelperScreen)
                    and bool(app.screen.query("#auth-mech")))
        helper = app.screen
        await fill(pilot, helper, mech, password=password, mode="auto")
        helper.query_one("#auth-user").value = user
        await pilot.press("ctrl+s")
        await until(pilot, lambda: helper.phase is Phase.DONE)
        assert helper.final_reply is not None
        assert helper.final_reply.code == (235 if right else 535)
        shot = app.export_screenshot()
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)
        status = screen.query_one(StatusBar)
        assert status.auth == (mech if right else None)
        shots = shot + app.export_screenshot()
        recorded = "".join(e.text for e in read_recording(screen.recording_path).entries)
    for text in (shots, recorded):
        assert password not in text
