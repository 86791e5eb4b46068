"""Manual AUTH in the composer: 334 challenges decoded inline, Ctrl+G encodes, mistakes caught."""

from __future__ import annotations

import base64

import pytest

from smtpscope.server.demo import DemoServer
from smtpscope.session import SessionOptions
from smtpscope.tui.app import create_app
from smtpscope.tui.widgets.composer import Composer
from smtpscope.tui.widgets.transcript import TranscriptView
from tests.tui.test_session_screen import SIZE, banner_then_ehlo, replies, screen_of, until


def app_for(demo: DemoServer):
    options = SessionOptions(host=demo.host, port=demo.port, security="plain",
                             cafile=str(demo.cafile))
    return create_app(options=options, target_label="demo")


def challenge(screen) -> str:
    """The last 334 challenge decoded, as the transcript shows it (controls escaped)."""
    from smtpscope.sanitize import visible

    last = [e for e in screen.session.transcript if e.code == 334][-1]
    return visible(base64.b64decode(last.text.split()[1]).decode())


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def test_login_by_hand_challenges_decoded_and_ctrl_g_encodes(demo: DemoServer) -> None:
    app = app_for(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await banner_then_ehlo(pilot, screen)
        view = screen.query_one(TranscriptView)
        composer = screen.query_one(Composer)
        await pilot.press(*"auth login", "enter")
        await until(pilot, lambda: replies(screen)[-1:] == [334])
        await pilot.pause()
        # Decoded under the line, without selecting it.
        assert f"challenge decoded: {challenge(screen)}" in view.to_text()
        await pilot.press(*demo.user, "ctrl+g")
        assert composer.input.value == b64(demo.user.encode())
        await pilot.press("enter")
        await until(pilot, lambda: len(replies(screen)) == 4)
        await pilot.pause()
        assert f"challenge decoded: {challenge(screen)}" in view.to_text()
        # The `echo` mistake: a newline at the end of the password. Held, fix offered.
        await pilot.press(*b64(demo.password.encode() + b"\n"), "enter")
        assert composer.has_class("-warning") and "newline" in composer.hint
        assert demo.password not in composer.hint
        assert len(replies(screen)) == 4  # nothing sent
        await pilot.press("ctrl+g")
        assert composer.input.value == b64(demo.password.encode())
        await pilot.press("enter")
        await until(pilot, lambda: len(replies(screen)) == 5)
        assert replies(screen)[-1] == 235


@pytest.mark.parametrize("typed", [b"\\0{u}\\0{p}", b"\\{u}\\{p}", b"{u}\x00{p}",
                                   b"\\0{u}\\0{p}\n"])
async def test_plain_blob_mistakes_are_caught_and_fixed(demo: DemoServer, typed: bytes) -> None:
    blob = b64(typed.replace(b"{u}", demo.user.encode()).replace(b"{p}",
                                                                   demo.password.encode()))
    app = app_for(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await banner_then_ehlo(pilot, screen)
        composer = screen.query_one(Composer)
        await pilot.press(*"auth plain", "enter")
        await until(pilot, lambda: replies(screen)[-1:] == [334])
        await pilot.press(*blob, "enter")
        assert composer.has_class("-warning"), composer.hint
        assert "Ctrl+G" in composer.hint and demo.password not in composer.hint
        await pilot.press("ctrl+g", "enter")
        await until(pilot, lambda: replies(screen)[-1] != 334)
        assert replies(screen)[-1] == 235


async def test_a_mistaken_blob_can_still_be_sent_as_typed(demo: DemoServer) -> None:
    app = app_for(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await banner_then_ehlo(pilot, screen)
        await pilot.press(*"auth plain", "enter")
        await until(pilot, lambda: replies(screen)[-1:] == [334])
        wrong = b64(b"\\0" + demo.user.encode() + b"\\0" + demo.password.encode())
        await pilot.press(*wrong, "enter", "enter")
        await until(pilot, lambda: replies(screen)[-1] != 334)
        # The server judges the blob as sent (501 or 535 by server): it went out unchanged.
        assert replies(screen)[-1] // 100 == 5
        answers = [e for e in screen.session.transcript if e.direction == "client"]
        assert answers[-1].raw == wrong.encode() + b"\r\n" or answers[-1].redacted


async def test_auth_plain_initial_response_is_checked_too(demo: DemoServer) -> None:
    app = app_for(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await banner_then_ehlo(pilot, screen)
        composer = screen.query_one(Composer)
        wrong = b64(b"\\0" + demo.user.encode() + b"\\0" + demo.password.encode() + b"\n")
        await pilot.press(*f"auth plain {wrong}", "enter")
        assert composer.has_class("-warning") and "newline" in composer.hint
        assert len(replies(screen)) == 2  # held
        await pilot.press("ctrl+g")
        right = b64(b"\0" + demo.user.encode() + b"\0" + demo.password.encode())
        assert composer.input.value == f"auth plain {right}"
        await pilot.press("enter")
        await until(pilot, lambda: len(replies(screen)) == 3)
        assert replies(screen)[-1] == 235


def input_row(app) -> str:
    """The composer's input line as the terminal shows it."""
    from textual.widgets import Input

    return "".join(segment.text for segment in app.screen.query_one(Input).render_line(0))


async def test_answers_to_334_are_masked_with_a_reveal_key(demo: DemoServer) -> None:
    app = app_for(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await banner_then_ehlo(pilot, screen)
        composer = screen.query_one(Composer)
        # Typed in one go, faster than the 334 comes: each line is still the answer.
        await pilot.press(*"auth login", "enter", *demo.user, "ctrl+g", "enter",
                          *demo.password)
        await until(pilot, lambda: replies(screen)[-1:] == [334] and len(replies(screen)) == 4)
        await pilot.pause()
        assert composer.input.value == demo.password
        assert demo.password not in input_row(app) and "•" * len(demo.password) in input_row(app)
        assert demo.password not in composer.hint
        assert "reveal_answer" in {b.binding.action for b in screen.active_bindings.values()}
        await pilot.press("ctrl+l")
        assert demo.password in input_row(app)  # asked for: shown on screen
        await pilot.press("ctrl+l", "ctrl+g")
        assert composer.input.value == b64(demo.password.encode())
        assert composer.input.value not in input_row(app)
        await pilot.press("enter")
        await until(pilot, lambda: replies(screen)[-1] == 235)
        await pilot.pause()
        assert not composer.input.password  # the next line is a command again
        assert "reveal_answer" not in {b.binding.action for b in screen.active_bindings.values()}
        assert composer.history == ["auth login"]
        sent = [e.text for e in screen.session.transcript if e.direction == "client"]
        assert sent[-2].strip() == b64(demo.user.encode())  # the user name was the answer, encoded


async def test_the_status_bar_says_when_the_session_is_authenticated(demo: DemoServer) -> None:
    from smtpscope.tui.widgets.status import StatusBar
    from tests.tui.test_session_screen import shown

    app = app_for(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await banner_then_ehlo(pilot, screen)
        status = screen.query_one(StatusBar)
        assert "authenticated" not in shown(status)
        blob = b64(b"\0" + demo.user.encode() + b"\0" + demo.password.encode())
        await pilot.press(*f"auth plain {blob}", "enter")
        await until(pilot, lambda: replies(screen)[-1] == 235)
        await pilot.pause()
        assert "ident · authenticated (PLAIN)" in shown(status)
        await pilot.press("f8")  # QUIT: a closed connection is authenticated no more
        await until(pilot, lambda: screen.session.closed_reason is not None)
        await pilot.pause()
        assert "authenticated" not in shown(status)


async def test_the_empty_line_says_what_a_line_typed_now_is(demo: DemoServer) -> None:
    """The placeholder follows the mode: an answer to the 334 while AUTH waits for one, exact
    bytes in raw mode, the greeting example otherwise (never "EHLO ..." at a 334)."""
    app = app_for(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await banner_then_ehlo(pilot, screen)
        composer = screen.query_one(Composer)
        greeting = composer.input.placeholder
        assert greeting.startswith("EHLO ")
        await pilot.press(*"auth login", "enter")
        await until(pilot, lambda: replies(screen)[-1:] == [334])
        await pilot.pause()
        assert "334" in composer.input.placeholder and "base64" in composer.input.placeholder
        assert "334" in input_row(app)  # as painted, in the empty line
        await pilot.press("ctrl+r")
        assert "exact bytes" in composer.input.placeholder
        await pilot.press("ctrl+r", "*", "enter")
        await until(pilot, lambda: replies(screen)[-1] == 501)
        await pilot.pause()
        assert composer.input.placeholder == greeting
