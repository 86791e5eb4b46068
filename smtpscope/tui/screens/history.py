"""History: past sessions from the recordings directory, newest first; Enter opens one."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from smtpscope.config import recordings_dir
from smtpscope.sanitize import notify, visible
from smtpscope.tui.widgets.status import cut_middle

# Cells beside the target column: the time (19), the longest outcome ("● live (this session)",
# 21), the three columns' padding and the scrollbar. A longer target (a pipe command, a socket
# path) is cut in the middle so that the outcome stays in view at 80 columns.
_BESIDE_TARGET = 48
#: No footer: the session ended without one (a crash, a kill), or it is still going on in
#: another window, which holds the file (see ``being_written``).
UNFINISHED = "unfinished (cut off)"
RUNNING = "running (elsewhere)"
_TARGET_AT_LEAST = 20


@dataclass(frozen=True)
class PastSession:
    """What the history list shows of one recording, read cheaply from its first/last lines."""

    path: Path
    target: str
    started: float
    outcome: str


def _last_line(path: Path) -> bytes:
    with path.open("rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - 4096))
        tail = fh.read().rstrip(b"\n")
    return tail.rsplit(b"\n", 1)[-1]


def list_sessions(directory: Path | None = None, limit: int = 500) -> list[PastSession]:
    """Recordings in ``directory`` (default: the user's), newest first; unreadable ones skipped."""
    return scan_sessions(directory, limit)[0]


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def scan_sessions(directory: Path | None = None,
                  limit: int = 500) -> tuple[list[PastSession], list[str]]:
    """Recordings newest first (by when they started, the time shown; the ``limit`` most
    recently written are read), and one line for each file skipped (with the reason)."""
    from smtpscope.record.store import RecordingError, being_written, read_header, session_label
    from smtpscope.record.validate import LineError, check_footer, loads

    folder = directory or recordings_dir()
    out: list[PastSession] = []
    skipped: list[str] = []
    files = sorted(folder.glob("*.jsonl"), key=_mtime, reverse=True)
    for path in files[:limit]:
        try:
            header = read_header(path)
        except RecordingError as exc:
            skipped.append(str(exc))
            continue
        outcome = UNFINISHED
        try:
            footer = loads(_last_line(path))
            if isinstance(footer, dict) and footer.get("footer") is True:
                outcome = check_footer(footer).get("outcome") or "ended"
        except (OSError, LineError):
            pass
        if outcome == UNFINISHED and being_written(path):
            outcome = RUNNING
        out.append(PastSession(
            path=path,
            target=session_label(header),  # with LMTP when it was
            started=float(header.get("started_wall", _mtime(path))),
            outcome=str(outcome),
        ))
    # A session written to for long was started before one written since: list by start.
    out.sort(key=lambda past: past.started, reverse=True)
    return out, skipped


class SessionTable(DataTable[object]):
    """The sessions, one a row: Home and End go to the newest and oldest (not sideways)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home", "scroll_top", "Newest", show=False),
        Binding("end", "scroll_bottom", "Oldest", show=False),
    ]


class HistoryScreen(Screen[None]):
    """Lists past sessions; Enter opens the selected one in the replay screen.

    The highlighted session's file is named in full under the table, where 80 columns are
    enough for it, rather than in a fourth column that would be cut off.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="history.close"),
    ]

    def __init__(self, live: Iterable[Path] = ()) -> None:
        super().__init__()
        self._live = {path.resolve() for path in live}
        """Recordings of sessions running now in this app: shown as live, not as cut off."""

    def compose(self) -> ComposeResult:
        yield Static("Past sessions (newest first) · Enter opens · Esc closes", id="history-title")
        yield SessionTable(id="history", cursor_type="row")
        yield Static("", id="history-file")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("when", "target", "outcome")
        self._sessions, skipped = scan_sessions()
        room = max(_TARGET_AT_LEAST, self.app.size.width - _BESIDE_TARGET)
        if skipped:
            notify(self, f"{len(skipped)} recording(s) could not be read and are not listed: "
                   + "; ".join(skipped[:3]), title="History", severity="warning", timeout=10)
        for past in self._sessions:
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(past.started))
            outcome = Text(visible(past.outcome))
            if past.path.resolve() in self._live:
                outcome = Text("● live (this session)", style="bold green")
            table.add_row(when, Text(cut_middle(visible(past.target), room)), outcome)
        if not self._sessions:
            self.query_one("#history-title", Static).update(
                Text(f"No recorded sessions yet in {visible(str(recordings_dir()))}"))
        table.focus()

    @on(DataTable.RowHighlighted)
    def name_file(self, event: DataTable.RowHighlighted) -> None:
        past = self._sessions[event.cursor_row]
        self.query_one("#history-file", Static).update(Text(visible(str(past.path)), style="dim"))

    @on(DataTable.RowSelected)
    def open_row(self, event: DataTable.RowSelected) -> None:
        from smtpscope.record import RecordingError, read_recording
        from smtpscope.tui.screens.replay import ReplayScreen

        past = self._sessions[event.cursor_row]
        try:
            recording = read_recording(past.path)
        except RecordingError as exc:
            self.notify(visible(str(exc)), severity="error", markup=False)
            return
        self.app.push_screen(ReplayScreen(recording, step_mode=False))

    def action_close(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
        else:
            self.app.exit()
