"""Typing the plain password at AUTH LOGIN's ``Password:`` prompt: sent as typed if insisted
on, but never quoted back in a note, the screen's transcript or the recording."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest

from tests.tui.test_auth_helper import (
    PASSWORD,
    USER,
    ScriptedServer,
    make_app,
    recording_text,
    wait_for,
)


@pytest.fixture
async def login_server() -> AsyncIterator[ScriptedServer]:
    srv = ScriptedServer(mechanisms=("LOGIN",))
    await srv.start()
    yield srv
    await srv.stop()


async def test_plain_password_typed_at_the_prompt_is_never_echoed(
    login_server: ScriptedServer,
) -> None:
    from smtpscope.tui.screens.session import SessionScreen
    from smtpscope.tui.widgets.transcript import TranscriptView

    app = make_app(login_server)
    async with app.run_test(size=(140, 45)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SessionScreen), "session screen")
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        await wait_for(pilot, lambda: screen.session is not None
                       and screen.session.greeting is not None, "greeting")
        composer = screen.query_one("Composer")
        view = screen.query_one(TranscriptView)

        async def type_line(text: str, presses: int = 1) -> None:
            composer.input.value = text
            for _ in range(presses):
                await pilot.press("enter")
                await pilot.pause(0.2)

        await type_line("EHLO me.test")
        await wait_for(pilot, lambda: screen.session.capabilities is not None, "EHLO")
        await type_line("AUTH LOGIN")
        await wait_for(pilot, lambda: "VXNlcm5hbWU6" in view.to_text(), "Username: prompt")
        await type_line(base64.b64encode(USER.encode()).decode())
        await wait_for(pilot, lambda: "UGFzc3dvcmQ6" in view.to_text(), "Password: prompt")
        # The mistake: the password itself, not its base64. Held once, sent on the second Enter.
        await type_line(PASSWORD, presses=2)
        await wait_for(pilot, lambda: "235" in view.to_text(), "the final reply")
        assert PASSWORD in login_server.secrets  # it really went to the server, as typed
        shown = view.to_text()
        hint = str(composer.query_one("#composer-hint").render())
        assert PASSWORD not in shown and PASSWORD not in hint
        recorded = recording_text(screen)
        assert PASSWORD not in recorded
        assert "not valid base64" in recorded  # the note is there, without the password
