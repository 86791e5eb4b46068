"""The Textual application and the one factory that the CLI, tests and screenshots all use."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import CommandPalette
from textual.screen import Screen

from smtpscope.sanitize import notify, terminal_safe, visible
from smtpscope.tui.field_text import picture_fields
from smtpscope.tui.keymap import load_keymap
from smtpscope.tui.keys import KeyGate
from smtpscope.tui.terminal_input import use_escape_aware_parser

# Textual shows these keys as symbols whose width terminals disagree on (one cell to Rich, two
# in many terminals for ⏎; the arrows are East Asian ambiguous): a footer ending in one then
# draws its last cell twice. Names have one width everywhere.
KEY_SYMBOL_NAMES = str.maketrans({"⏎": "enter", "⌫": "bksp", "↑": "up", "↓": "down",
                                  "←": "left", "→": "right"})

# The terminal went away, or the system asks us to stop: both end the app the orderly way.
ENDING_SIGNALS = tuple(getattr(signal, name) for name in ("SIGHUP", "SIGTERM")
                       if hasattr(signal, name))
# Seconds an app ended by one of them has to shut down before the process ends regardless.
SIGNAL_EXIT_GRACE = 5.0


class SmtpScopeApp(KeyGate, App[int]):
    """smtpscope's TUI. The first screen is built by ``first_screen`` once the app runs.

    Keys reach the focused input one at a time, in the order typed (see :mod:`.keys`).
    """

    CSS_PATH = "app.tcss"
    TITLE = "smtpscope"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = [
        # Priority: a dialog (ModalScreen) cuts the app's other bindings off, and the message
        # editor and the auth helper have help of their own to show.
        Binding("f1", "help", "Help", id="app.help", priority=True),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
    ]

    def __init__(self, first_screen: Callable[[], Screen[Any]]) -> None:
        super().__init__()
        # Escape then keys, sent with no pause, are read as that (see .terminal_input).
        use_escape_aware_parser(self.driver_class.__module__)
        self._first_screen = first_screen
        self.hold_keys_until_first_screen()

    def on_mount(self) -> None:
        keymap, problem = load_keymap()
        problems = [problem] if problem else []
        if keymap:
            from smtpscope.tui.keymap_ids import keymap_problems, usable_keymap

            problems += keymap_problems(keymap)
            self.set_keymap(usable_keymap(keymap))
        if problems:
            # The file's ids and keys, with their backslashes shown as everywhere else (notify()
            # keeps backslashes: it is also for text escaped where it was made).
            shown = "; ".join(visible(problem) for problem in problems)
            notify(self, "keymap.json: " + shown, title="Keymap",
                   severity="warning", timeout=15)
        self.push_screen(self._first_screen())
        self.first_screen_pushed()  # what was typed so far goes to it once it has its focus
        self._end_on_signals()

    def _end_on_signals(self) -> None:
        """A closed terminal (SIGHUP) or SIGTERM ends the app as Ctrl+Q does: each session
        closes and its recordings get their footer, instead of the process dying mid-file."""
        loop = asyncio.get_running_loop()
        for sig in ENDING_SIGNALS:
            # Windows has no add_signal_handler; a loop off the main thread may not set one.
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self._end_by_signal, 128 + sig)

    def _end_by_signal(self, code: int) -> None:
        """Exit as Ctrl+Q does, and make sure the process ends even if restoring the terminal
        hangs: after a hang-up Textual's output thread can die on the vanished terminal and
        leave its shutdown waiting on a full queue for ever. The sessions' recordings are
        closed well before the grace runs out; an orphan holding a server connection is not."""
        import os
        import threading

        watchdog = threading.Timer(SIGNAL_EXIT_GRACE, os._exit, (code,))
        watchdog.daemon = True  # a normal exit does not wait for it
        watchdog.start()
        self.exit(None, code)

    def on_unmount(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in ENDING_SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)

    crash_report: Path | None = None
    """Where the traceback of an unexpected error went, once one happened."""

    def _fatal_error(self) -> None:
        # Textual's own report prints a traceback with local variables (a password can be
        # one): write the traceback without them to a file and print only its name.
        from rich.text import Text

        from smtpscope.cli.crash import crash_message, write_crash_report

        exc = self._exception or sys.exc_info()[1]
        if exc is None:  # pragma: no cover - Textual calls this while handling an exception
            super()._fatal_error()
            return
        self.crash_report = write_crash_report(exc)
        self.bell()
        # The whole message (with the file name, never wrapped or cut by the console's width)
        # is printed by the caller, smtpscope.cli.tui.run_app, once the screen is restored.
        self._exit_renderables.append(Text(crash_message(exc, None).split("\n")[0]))
        self._close_messages_no_wait()

    def get_key_display(self, binding: Binding) -> str:
        return super().get_key_display(binding).translate(KEY_SYMBOL_NAMES)

    def action_command_palette(self) -> None:
        super().action_command_palette()
        palette = self.screen
        if isinstance(palette, CommandPalette):
            # Its input is Textual's, not one of ours: a control character pasted into it shows
            # as a picture too (see .field_text).
            palette.call_later(picture_fields, palette)

    def action_help(self) -> None:
        from smtpscope.tui.help import HELP
        from smtpscope.tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)  # F1 again closes it
            return
        widget_id = None
        node: Any = self.focused
        while node is not None and widget_id is None:
            if getattr(node, "id", None) in HELP:
                widget_id = node.id
            node = node.parent
        from smtpscope.tui.widgets.status import StatusBar

        bars = self.screen.query(StatusBar)
        self.push_screen(HelpScreen(widget_id, bars.first().full_text if bars else ""))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        from smtpscope.tui.screens.session import SessionScreen

        if isinstance(screen, SessionScreen):
            verb = str(screen.greeting().kind)  # LHLO on an LMTP session
            for title, help_text, action in (
                (verb, f"Send {verb} with the configured name", screen.action_ehlo),
                ("STARTTLS", "Start TLS, then EHLO again", screen.action_starttls),
                ("Auth helper", "Walk through an AUTH exchange", screen.action_auth_helper),
                ("AUTH decoder", "Decode a base64 AUTH line or 334 challenge (F12)",
                 screen.action_auth_decoder),
                ("New message", "MAIL, RCPT, DATA and the message editor",
                 screen.action_new_message),
                ("RSET", "Reset the mail transaction", screen.action_rset),
                ("NOOP", "Ask the server for a 250", screen.action_noop),
                ("QUIT", "End the session politely", screen.action_quit_session),
                ("Reconnect", "Close and connect again", screen.action_reconnect),
                ("Toggle timestamps", "Show times and reply latency",
                 screen.action_toggle_timestamps),
                ("Save recording", "Show the full path of this session's recording",
                 screen.action_save_recording),
                ("Copy transcript", "Copy the S:/C: transcript (redacted)",
                 screen.action_copy_transcript),
                ("History", "Past sessions", screen.action_history),
            ):
                yield SystemCommand(title, help_text, action)
            found = screen.query("Composer")
            composer = found.first() if found else None
            actions = getattr(composer, "end_of_data_actions", None)
            if callable(actions):
                for _name, label, data in actions():
                    yield SystemCommand(
                        f"Send end-of-data variant {label}",
                        "Raw bytes for the line-ending lab (off-script)",
                        lambda data=data, label=label: screen.send_raw(data, label),
                    )


def run_app(app: App[Any], **kwargs: Any) -> int:
    """Run ``app`` and return the process exit code: non-zero when it crashed.

    Textual catches an unhandled exception, prints it and ends ``run()`` normally with
    ``return_code`` 1; returning only ``run()``'s value made a crash exit 0. A crash of
    smtpscope's app exits 70 and names the file with the traceback.
    """
    from smtpscope.cli.crash import EXIT_CRASH, report_crash

    if not kwargs.get("headless"):
        # A full-screen UI on a pipe would wait for keys that never come: say so at once.
        from smtpscope.cli.tui import EXIT_NO_TERMINAL, no_terminal

        if (problem := no_terminal()) is not None:
            print(terminal_safe(f"smtpscope: {problem}"), file=sys.stderr)
            return EXIT_NO_TERMINAL
    try:
        result = app.run(**kwargs)
    except Exception as exc:  # an error outside Textual's own handling
        return report_crash(exc)
    report = getattr(app, "crash_report", None)
    if report is not None:
        # Printed here, after the screen is restored, so the name is never wrapped or cut.
        print(f"the traceback is in {visible(str(report))}; please include it when reporting "
              "the problem.", file=sys.stderr)
        return EXIT_CRASH
    if app.return_code:
        return int(app.return_code)
    return int(result or 0) if isinstance(result, int) else 0


def create_app(
    *,
    options: Any = None,
    target_label: str | None = None,
    replay_path: str | None = None,
    history: bool = False,
    record_to: str | None = None,
    hint: str | None = None,
    connect_error: str | None = None,
    initial_target: str = "",
    connect_control: Any = None,
    connect_fields: Any = None,
    connect_flags: Any = None,
    history_key: str | None = None,
) -> SmtpScopeApp:
    """Build the app for one of its entry points: a session, a replay, history or connect.

    ``connect_flags`` (a ConnectFlags) are the command line's for every connection made;
    ``history_key`` names the composer history when the label would not (a port chosen per run).
    """

    def first() -> Screen[Any]:
        if replay_path is not None:
            from smtpscope.record.lazy import open_recording
            from smtpscope.tui.screens.replay import ReplayScreen

            return ReplayScreen(open_recording(replay_path))
        if history:
            from smtpscope.tui.screens.history import HistoryScreen

            return HistoryScreen()
        if options is not None:
            from smtpscope.tui.screens.session import SessionScreen

            return SessionScreen(options, target_label=target_label, record_to=record_to,
                                 hint=hint, control=connect_control, flags=connect_flags,
                                 history_key=history_key)
        from smtpscope.tui.screens.connect import ConnectScreen

        return ConnectScreen(initial_target=initial_target, error=connect_error,
                             record_to=record_to, control=connect_control,
                             fields=connect_fields, flags=connect_flags)

    return SmtpScopeApp(first)
