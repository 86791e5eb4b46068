"""The composer's history side: lines kept per target, recalled with Up and Down."""

from __future__ import annotations

from typing import TYPE_CHECKING

from smtpscope.tui.history_store import HistoryStore

if TYPE_CHECKING:
    from textual.widgets import Input


class HistoryAssist:
    """Mixin for the composer: the history of the target it talks to, and the walk through it.

    Walking up keeps the unsent draft; walking back down past the newest line restores it.
    """

    _history: HistoryStore
    _history_index: int | None
    _draft: str

    if TYPE_CHECKING:  # provided by the composer
        @property
        def input(self) -> Input: ...
        def _set_value(self, value: str) -> None: ...

    def _start_history(self, target_key: str) -> None:
        self._history = HistoryStore(target_key)
        self._history_index = None
        self._draft = ""

    @property
    def history(self) -> list[str]:
        """Lines kept for this target, oldest first."""
        return self._history.entries

    def watch_target_key(self, key: str) -> None:
        self._start_history(key)

    def _leave_history(self) -> None:
        """A line went out: the next Up starts from the newest line again."""
        self._history_index = None
        self._draft = ""

    def action_history_prev(self) -> None:
        """Recall the previous line; the unsent draft is kept for coming back down."""
        entries = self._history.entries
        if not entries:
            return
        if self._history_index is None:
            self._draft = self.input.value
            self._history_index = len(entries) - 1
        elif self._history_index > 0:
            self._history_index -= 1
        self._set_value(entries[self._history_index])

    def action_history_next(self) -> None:
        """Walk forward through history, back to the draft at the end."""
        if self._history_index is None:
            return
        self._history_index += 1
        if self._history_index >= len(self._history.entries):
            self._history_index = None
            self._set_value(self._draft)
        else:
            self._set_value(self._history.entries[self._history_index])
