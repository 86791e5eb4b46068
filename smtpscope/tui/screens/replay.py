"""Replay: a recording opened read-only in the same panes, stepped through entry by entry."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from smtpscope.record import Recording
from smtpscope.sanitize import visible
from smtpscope.tui.explain import capabilities_from_entry, explain_entry, selection_text
from smtpscope.tui.screens.layout import SidePanelLayout
from smtpscope.tui.widgets.capabilities import CapabilityInspector
from smtpscope.tui.widgets.key_footer import KeyFooter
from smtpscope.tui.widgets.status import StatusBar
from smtpscope.tui.widgets.transcript import TranscriptView


class ReplayScreen(SidePanelLayout, Screen[None]):
    """Shows a recording; Space steps forward, P back, A shows all, S starts again."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *SidePanelLayout.SIDE_BINDINGS,
        # Priority: the transcript pane keeps its own arrows, Home and End for moving around.
        Binding("space,n", "step(1)", "Step", priority=True, id="replay.next"),
        Binding("p,backspace", "step(-1)", "Back", priority=True, id="replay.prev"),
        Binding("a", "show_all", "All", priority=True, id="replay.all"),
        Binding("s", "restart", "Start", priority=True, id="replay.start"),
        Binding("f10", "toggle_timestamps", "Times", id="replay.timestamps"),
        Binding("escape", "close", "Close", id="replay.close"),
    ]

    def __init__(self, recording: Recording, *, step_mode: bool = True) -> None:
        super().__init__()
        self.recording = recording
        self.position = 0 if step_mode else len(recording.entries)

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield TranscriptView(id="transcript")
                yield Static("", id="explain")
            with VerticalScroll(id="side"):
                yield CapabilityInspector(id="capabilities")
        yield KeyFooter()

    def on_mount(self) -> None:
        status = self.query_one(StatusBar)
        status.target = f"replay of {self.recording.target}"
        status.peer = Path(self.recording.path).name
        view = self.query_one(TranscriptView)
        view.explain = explain_entry
        for problem in self.recording.problems:
            self.notify(visible(problem), title="Recording damaged", severity="warning",
                        timeout=10, markup=False)
        self._show()
        view.focus()

    def _show(self) -> None:
        view = self.query_one(TranscriptView)
        view.clear()
        shown = self.recording.entries[: self.position]
        view.add_entries(shown)
        caps: Any = None
        previous: Any = None
        stage = ""
        tls_seen = False
        last_command = ""
        for entry in shown:
            if entry.kind == "tls":
                tls_seen = True
            if entry.direction == "client" and entry.kind in ("command", "raw"):
                last_command = entry.text.strip()
            parsed = capabilities_from_entry(entry, last_command)
            if parsed is not None:
                if caps is not None:
                    previous, stage = caps, ("after STARTTLS" if tls_seen else "again")
                caps = parsed
        inspector = self.query_one(CapabilityInspector)
        inspector.previous = previous
        inspector.stage = stage
        inspector.capabilities = caps
        status = self.query_one(StatusBar)
        total = len(self.recording.entries)
        status.state = f"entry {self.position}/{total}" + (
            "  (recording cut off)" if self.recording.truncated_line is not None else "")
        status.tls = "TLS" if shown and shown[-1].tls else "plain"
        status.tls_ok = bool(shown and shown[-1].tls)

    def action_step(self, delta: int) -> None:
        self.position = max(0, min(len(self.recording.entries), self.position + delta))
        self._show()

    def action_show_all(self) -> None:
        self.position = len(self.recording.entries)
        self._show()

    def action_restart(self) -> None:
        self.position = 0
        self._show()

    def action_toggle_timestamps(self) -> None:
        view = self.query_one(TranscriptView)
        view.show_timestamps = not view.show_timestamps
        view.show_latency = view.show_timestamps

    def action_close(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
        else:
            self.app.exit()

    @on(TranscriptView.EntrySelected)
    def on_entry_selected(self, message: TranscriptView.EntrySelected) -> None:
        view = self.query_one(TranscriptView)
        text = selection_text(message.entry, max(20, view.size.width - 4))
        self.query_one("#explain", Static).update(text)
