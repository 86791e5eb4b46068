"""Regenerate the SVG screenshots in this folder from the app factory the tests use.

Run from the repository root: ``python screenshots/generate.py``. It starts the embedded server
on free loopback ports (with one injected RCPT failure, so an error can be explained), drives
the TUI headless through a real session, and saves one SVG per state (one at 80x24).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIZE = (120, 36)
NARROW = (80, 24)


async def until(pilot, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise SystemExit("screenshots: the session did not reach the expected state")
        await pilot.pause(0.05)


def save(app, name: str) -> None:
    path = HERE / f"{name}.svg"
    path.write_text(app.export_screenshot(), encoding="utf-8")
    print(f"wrote {path.relative_to(HERE.parent)}")


async def type_line(pilot, text: str) -> None:
    composer = pilot.app.screen.query_one("Composer")
    composer.input.focus()
    composer.input.value = text
    composer.input.cursor_position = len(text)
    await pilot.press("enter")


async def auth_shot(pilot, demo) -> None:
    """SCRAM-SHA-256 in Step mode, stopped just after the server's signature was verified."""
    from textual.widgets import Input, Select

    from smtpscope.tui.screens.auth_exchange import Phase

    await pilot.press("f4")
    await pilot.pause(0.3)
    helper = pilot.app.screen
    helper.query_one("#auth-mech", Select).value = "SCRAM-SHA-256"
    helper.query_one("#auth-user", Input).value = demo.user
    helper.query_one("#auth-password", Input).value = demo.password
    await pilot.pause(0.1)
    # Ctrl+S proposes the AUTH line, then sends each proposed line: AUTH with the client-first
    # message, the client-final message (proof masked), the empty answer to the server's v=.
    for _ in range(6):
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        await until(pilot, lambda: helper.phase is not Phase.SENDING)
        if helper.phase is Phase.DONE:
            break
    await pilot.pause(0.3)
    save(pilot.app, "auth-helper-scram")
    await pilot.press("escape")
    await pilot.pause(0.2)


async def session_shots() -> Path:
    from smtpscope.server.demo import open_demo_server
    from smtpscope.server.faults import parse_fault
    from smtpscope.session import SessionOptions
    from smtpscope.tui.app import create_app

    demo = await open_demo_server(faults=(parse_fault("RCPT:550:1"),))
    try:
        options = SessionOptions(host=demo.host, port=demo.port, security="plain",
                                 cafile=str(demo.cafile))
        app = create_app(options=options, target_label=f"demo {demo.host}:{demo.port}")
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen

            def replies() -> int:
                return sum(1 for e in screen.session.transcript if e.kind == "reply")

            await until(pilot, lambda: screen.session is not None and replies() == 1)
            await pilot.press("f2")
            await until(pilot, lambda: replies() == 2)
            save(app, "main-after-ehlo")
            await pilot.press("f3")
            await until(pilot, lambda: replies() == 4)
            await pilot.pause(0.2)
            save(app, "starttls-capability-diff")
            await type_line(pilot, "mail from:<demo@example.test>")
            await until(pilot, lambda: replies() == 5)
            await type_line(pilot, "rcpt to:<bob@example.test>")
            await until(pilot, lambda: replies() == 6)
            view = screen.query_one("TranscriptView")
            view.focus()
            await pilot.press("end")
            while view.selected_entry is not None and view.selected_entry.code != 550:
                await pilot.press("up")
            await pilot.pause(0.2)
            save(app, "error-explained")
            await type_line(pilot, "rset")
            await until(pilot, lambda: replies() == 7)
            # An 80x24 terminal: the side panel folds away (Ctrl+T), the footer keeps the
            # essential keys; back in the composer the transcript follows again.
            await pilot.resize_terminal(*NARROW)
            await pilot.pause(0.3)
            save(app, "narrow-80x24")
            await pilot.resize_terminal(*SIZE)
            await pilot.pause(0.3)
            await auth_shot(pilot, demo)
            await pilot.press("ctrl+n")
            await pilot.pause(0.4)
            editor = app.screen
            area = editor.query_one("#data-text")
            area.load_text(area.text.replace("Subject: smtpscope test",
                                             "Subject: 안녕하세요 — smtpscope"))
            await pilot.pause(0.4)
            save(app, "data-editor")
            await pilot.press("escape")
            await pilot.press("f8")
            await until(pilot, lambda: screen.session.closed_reason is not None)
            recording = screen.recording_path
    finally:
        await demo.aclose()
    assert recording is not None
    return recording


async def replay_shot(recording: Path) -> None:
    from smtpscope.tui.app import create_app

    app = create_app(replay_path=str(recording))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*["space"] * 9)
        await pilot.pause(0.2)
        save(app, "replay")


async def untrusted_shot() -> None:
    """The dialog an untrusted certificate opens: no CA file, so the demo CA is unknown."""
    from smtpscope.server.demo import open_demo_server
    from smtpscope.session import SessionOptions
    from smtpscope.tui.app import create_app
    from smtpscope.tui.screens.certificate import UntrustedCertificateScreen

    demo = await open_demo_server()
    try:
        options = SessionOptions(host=demo.host, port=demo.port, security="plain")
        app = create_app(options=options, target_label=f"demo {demo.host}:{demo.port}")
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.screen.session is not None
                        and app.screen.session.greeting is not None)
            await pilot.press("f3")
            await until(pilot, lambda: isinstance(app.screen, UntrustedCertificateScreen))
            await pilot.pause(0.3)
            save(app, "untrusted-certificate")
            await pilot.pause(0.5)  # keys in the dialog's first half second are held for later
            await pilot.press("escape")  # disconnect
            await until(pilot, lambda: not isinstance(app.screen, UntrustedCertificateScreen))
    finally:
        await demo.aclose()


async def connect_shot() -> None:
    """The connect screen as `smtpscope --tls-level verify --resolver …` opens it, a target
    typed and the flags no field shows named above Connect."""
    from smtpscope.cli.tui_flags import ConnectFlags
    from smtpscope.security.policy import TLSPolicy
    from smtpscope.tui.app import create_app

    flags = ConnectFlags(policy=TLSPolicy(level="verify"), resolver="127.0.0.1:5353")
    app = create_app(connect_flags=flags, initial_target="@example.test")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.focused is not None)
        await pilot.pause(0.2)
        save(app, "connect-screen")


async def main() -> None:
    await connect_shot()
    recording = await session_shots()
    await replay_shot(recording)
    await untrusted_shot()


if __name__ == "__main__":
    # Keep the user's history and recordings out of it.
    os.environ["SMTPSCOPE_HOME"] = tempfile.mkdtemp(prefix="smtpscope-shots-")
    sys.path.insert(0, str(HERE.parent))
    asyncio.run(main())
