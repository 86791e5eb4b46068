"""Replay: a recording opened read-only in the same panes, stepped through entry by entry."""

from __future__ import annotations

import asyncio
import gc
from bisect import bisect_left
from collections.abc import Iterator
from pathlib import Path
from time import perf_counter
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from smtpscope.record import Recording
from smtpscope.record.lazy import LazyRecording
from smtpscope.record.transcript import Entry
from smtpscope.sanitize import visible
from smtpscope.tui import collector
from smtpscope.tui.explain import capabilities_from_entry, explain_entry, selection_text
from smtpscope.tui.keys import keys_waiting
from smtpscope.tui.screens.layout import SidePanelLayout
from smtpscope.tui.screens.replay_auth import AuthTimeline
from smtpscope.tui.widgets.capabilities import CapabilityInspector
from smtpscope.tui.widgets.key_footer import KeyFooter
from smtpscope.tui.widgets.status import StatusBar, tls_label
from smtpscope.tui.widgets.transcript import TranscriptView

# Far from ``position`` ("show all" of a million-line recording) the panes catch up in slices
# of about this long, and the app paints and answers keys between them.
SLICE_SECONDS = 0.03
_CHECK_EVERY = 512  # entries between two looks at the clock
# Catching up over this many entries or more, the objects made are frozen (see
# _resume_collector); a step's few are left to the collector.
FREEZE_AFTER = 20_000
# A key on its way holds the next slice back (polled this often), for at most this long: keys
# held down (auto-repeat) must not stop "show all".
KEY_POLL = 0.004
KEY_WAIT_MAX = 0.25


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

    def __init__(self, recording: Recording | LazyRecording, *, step_mode: bool = True) -> None:
        super().__init__()
        self.recording = recording
        self.position = 0 if step_mode else len(recording.entries)
        # What the capability inspector shows, worked out once per entry as replay first
        # passes it: entry indices where the capabilities change, and (caps, previous, stage).
        self._scanned = 0
        self._last_command: Entry | None = None  # the last client command scanned
        self._hello: bool | None = False  # whether it was EHLO or LHLO (None: not looked yet)
        self._tls_seen = False
        self._caps_at: list[int] = []
        self._caps_states: list[tuple[Any, Any, str]] = []
        # Where each handshake is, and what it recorded, for the status bar's TLS word.
        self._tls_at: list[int] = []
        self._tls_infos: list[dict[str, Any]] = []
        self._auth = AuthTimeline()  # where a 235 authenticated, and where that was forgotten
        self._problems_told = 0
        self._catching_up = False  # a slice is scheduled for after the next paint
        self._key_wait_until = 0.0  # the next slice waits for keys until then (perf_counter)
        self._caught_up_from = 0  # entries shown when the collector was paused
        # Whether the cyclic collector ran before a catch-up paused it (None: not paused).
        # Parsing allocates a few objects per entry and frees none: the collector would scan
        # them again and again for nothing (a third of the time of "show all"). It is off
        # until the panes reach ``position`` and on again then (or when the screen goes);
        # not frozen, as the CLI does at start: this app runs on, and a closed replay's
        # widgets, which refer to each other, must stay collectable.
        self._collector_was: bool | None = None

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield TranscriptView(id="transcript")
                yield Static("", id="explain", classes="-empty")
            with VerticalScroll(id="side"):
                yield CapabilityInspector(id="capabilities")
        yield KeyFooter()

    def on_mount(self) -> None:
        status = self.query_one(StatusBar)
        status.target = f"replay of {self.recording.label}"
        status.peer = Path(self.recording.path).name
        view = self.query_one(TranscriptView)
        view.explain = explain_entry
        self._show()
        view.focus()

    def _show(self) -> None:
        """Bring the panes towards ``position``: only the entries stepped over are added or
        removed, so a step costs the same at the start of a million-line recording as at its
        end; many entries are added one slice at a time, painted in between."""
        view = self.query_one(TranscriptView)
        entries = self.recording.entries
        shown = view.entry_count
        if self.position > shown:
            if self._collector_was is None:
                self._collector_was = gc.isenabled()
                self._caught_up_from = shown
                gc.disable()
            view.add_entries(self._slice(shown, self.position))
            shown = view.entry_count
        elif self.position < shown:
            view.truncate(self.position)
            shown = self.position
        if shown != self.position and not self._catching_up:
            self._catching_up = True
            self.call_after_refresh(self._catch_up)
        elif shown == self.position:
            self._resume_collector(shown)
        caps, previous, stage = self._capabilities(shown)
        inspector = self.query_one(CapabilityInspector)
        if inspector.capabilities is not caps:
            inspector.previous = previous
            inspector.stage = stage
            inspector.capabilities = caps
        status = self.query_one(StatusBar)
        total = len(entries)
        going = "" if shown == self.position else f"  (going to {self.position})"
        status.state = f"entry {shown}/{total}{going}" + (
            "  (recording cut off)" if self.recording.truncated_line is not None else "")
        last = entries[shown - 1] if shown else None
        status.tls, status.tls_ok = self._tls_status(shown) if last is not None and last.tls \
            else ("plain", False)
        status.auth = self._auth.at(shown)
        # A recording opened for replay finds its damaged lines as replay reaches them.
        for problem in self.recording.problems[self._problems_told :]:
            self.notify(visible(problem), title="Recording damaged", severity="warning",
                        timeout=10, markup=False)
        self._problems_told = len(self.recording.problems)

    def _tls_status(self, shown: int) -> tuple[str, bool]:
        """The TLS word the live session showed, from the last handshake's recorded details."""
        i = bisect_left(self._tls_at, shown) - 1
        info = self._tls_infos[i] if i >= 0 else {}
        if not info:
            return "TLS", False  # no details recorded: nothing says the peer was checked
        return tls_label(str(info.get("version") or "TLS"), insecure=info.get("insecure") is True,
                         trust=info.get("trust"), verified=info.get("verified") is True)

    def _resume_collector(self, reached: int | None = None) -> None:
        """Turn the collector back on once the panes show ``reached`` entries (None: the
        screen is going)."""
        if self._collector_was:
            if reached is not None and reached - self._caught_up_from >= FREEZE_AFTER:
                # What catching up made (up to a million rows and entries, none in a cycle)
                # joins the objects the collector leaves alone; else its next full pass walks
                # them all, a pause of more than half a second on some later key. Let go of
                # when the screen goes, so that the screen itself can be collected.
                collector.freeze(self)
            gc.enable()
        self._collector_was = None

    def on_unmount(self) -> None:
        self._resume_collector()
        collector.release(self)

    async def _catch_up(self) -> None:
        # Every other task has its turn first. When nothing on the screen waits to be painted
        # (the pane has stopped following the end), Textual runs a call_after_refresh
        # callback straight from the screen's idle handler: each slice scheduling the next
        # then held the event loop to the very end, keys and paints waiting.
        await asyncio.sleep(0)
        if self.is_attached and keys_waiting(self.app) and perf_counter() < self._key_wait_until:
            # A key pressed during the last slice goes its way first, and its paint comes
            # before the next slice: else the key waited for that slice too.
            self.set_timer(KEY_POLL, lambda: self.call_after_refresh(self._catch_up))
            return
        self._key_wait_until = perf_counter() + KEY_WAIT_MAX
        self._catching_up = False
        if self.is_attached:
            self._show()

    def _slice(self, start: int, stop: int) -> Iterator[Entry]:
        """Entries from ``start`` towards ``stop``, for about SLICE_SECONDS."""
        entries = self.recording.entries
        deadline = perf_counter() + SLICE_SECONDS
        for i in range(start, stop):
            yield entries[i]  # one at least, whatever the clock says
            if (i - start) % _CHECK_EVERY == _CHECK_EVERY - 1 and perf_counter() > deadline:
                return

    def _capabilities(self, position: int) -> tuple[Any, Any, str]:
        """(capabilities, previous ones, stage) after the first ``position`` entries.

        Decided by each entry's typed fields: only a handshake, a joined recording's first
        entry, a client command and a server entry with a reply code can change anything;
        the last command's text is read only when a 250 might answer EHLO or LHLO.
        """
        entries, auth = self.recording.entries, self._auth
        for index in range(self._scanned, position):
            entry = entries[index]
            if not entry.plain:
                info = entry.info
                if info is not None and "recording" in info:
                    # Another recording joined on (record/store.py): a new session, nothing
                    # known.
                    self._tls_seen, self._last_command, self._hello = False, None, False
                    auth.restart(index)
                    self._caps_at.append(index)
                    self._caps_states.append((None, None, ""))
            kind, direction = entry.kind, entry.direction
            if kind == "tls":
                self._tls_seen = True
                self._tls_at.append(index)
                self._tls_infos.append(entry.info or {})
            if direction == "client":
                if kind == "command" or kind == "raw":
                    self._last_command, self._hello = entry, None
                    auth.follow(index, entry)
                continue  # no code: nothing else to follow
            if entry.reply is None:
                continue
            if direction == "server":
                auth.follow(index, entry)
            if entry.code == 250:
                self._capabilities_from(index, entry)
        self._scanned = max(self._scanned, position)
        i = bisect_left(self._caps_at, position) - 1
        return self._caps_states[i] if i >= 0 else (None, None, "")

    def _capabilities_from(self, index: int, entry: Entry) -> None:
        """Take in a 250 reply: capabilities if the last command was EHLO or LHLO."""
        if self._hello is None:  # the last command's verb, read once
            command = self._last_command
            text = "" if command is None else command.text.strip()
            self._hello = text.split(" ", 1)[0].upper() in ("EHLO", "LHLO")
        if not self._hello:
            return
        assert self._last_command is not None
        parsed = capabilities_from_entry(entry, self._last_command.text.strip())
        if parsed is not None:
            previous = self._caps_states[-1][0] if self._caps_states else None
            stage = "" if previous is None else "after STARTTLS" if self._tls_seen else "again"
            self._caps_at.append(index)
            self._caps_states.append((parsed, previous, stage))

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
        panel = self.query_one("#explain", Static)
        panel.update(text)
        panel.set_class(not text.plain, "-empty")  # no blank row when nothing is selected
