"""The composer: one line that becomes a typed SMTP command, with hints, completion and history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.suggester import Suggester
from textual.widget import Widget
from textual.widgets import Input, Static

from smtpscope.protocol import (
    END_OF_DATA_VARIANTS,
    SYNTAX,
    Auth,
    CommandSyntaxError,
    Raw,
    State,
    parse_command,
)
from smtpscope.protocol.checks import command_problems
from smtpscope.tui.completion import completions, decode_escapes, end_of_data_label
from smtpscope.tui.widgets.composer_auth import (
    AUTH_ASSIST_BINDING,
    AUTH_REVEAL_BINDING,
    ENCODE_HINT,
    AuthAssist,
)
from smtpscope.tui.widgets.composer_history import HistoryAssist
from smtpscope.tui.widgets.composer_queue import _PLACEHOLDER, QueueAssist
from smtpscope.tui.widgets.queue_view import ComposerInput

if TYPE_CHECKING:
    from collections.abc import Callable

    from smtpscope.conversation.send_queue import SendQueue
    from smtpscope.protocol import Capabilities, Command, Connection


class _CommandSuggester(Suggester):
    """Ghost-text completion from :func:`completions` (uncached: capabilities change)."""

    def __init__(self, composer: Composer) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self._composer = composer

    async def get_suggestion(self, value: str) -> str | None:
        if self._composer.raw or self._composer.answering() or self._composer.data_mode:
            return None
        found = completions(value, self._composer.capabilities, lmtp=self._composer._lmtp())
        return found[0] if found else None


# -- the widget -------------------------------------------------------------------------------

_IDLE_HINT = "type an SMTP command · Tab completes · ↑↓ history · Ctrl+R raw bytes"
_RAW_HINT = "raw: exact bytes; add \\r\\n yourself · escapes \\r \\n \\t \\0 \\xNN \\\\"
_AUTH_HINT = ("AUTH exchange: type the base64 answer to the 334 challenge, or * to cancel · "
              + ENCODE_HINT)


class Composer(QueueAssist, AuthAssist, HistoryAssist, Widget):
    """Input line plus hint line. Set ``capabilities``, ``state``, ``in_auth`` and ``target_key``;
    listen for :class:`Composer.Submitted` and :class:`Composer.RawSubmitted`.
    """

    DEFAULT_CSS = """
    Composer { height: auto; }
    Composer > Input { border: tall $primary 50%; }
    Composer > Input:focus { border: tall $primary; }
    Composer.-raw > Input { border: tall $warning; }
    Composer.-data > Input { border: tall $success; }
    Composer > #composer-queue { height: auto; max-height: 8; padding: 0 1; color: $warning;
                                 text-wrap: nowrap; text-overflow: ellipsis; }
    Composer > #composer-queue.-empty { display: none; }
    Composer > #composer-hint { height: auto; max-height: 3; padding: 0 1; color: $text-muted; }
    Composer.-warning > #composer-hint { color: $warning; text-style: bold; }
    Composer.-error > #composer-hint { color: $error; text-style: bold; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "history_prev", "Previous line", show=False, id="composer.history_prev"),
        Binding("down", "history_next", "Next line", show=False, id="composer.history_next"),
        Binding("tab", "complete", "Complete", show=False, id="composer.complete"),
        Binding("ctrl+r", "toggle_raw", "Raw bytes", id="composer.raw"),
        AUTH_ASSIST_BINDING,
        AUTH_REVEAL_BINDING,
        Binding("ctrl+z", "cancel_queued", "Unqueue", show=False, id="composer.unqueue"),
        # Ctrl+O from any terminal; the others only where Enter's modifiers reach the app.
        Binding("ctrl+o,ctrl+enter,alt+enter", "send_anyway", "Send anyway", show=False,
                id="composer.send_anyway"),
    ]

    capabilities: reactive[Capabilities | None] = reactive(None, init=False)
    """What the server advertised in its last EHLO reply (None before EHLO)."""
    state: reactive[State | None] = reactive(None, init=False)
    """The engine's session state; None when unknown, which disables state warnings."""
    in_auth: reactive[bool] = reactive(False, init=False)
    """True during an AUTH exchange: lines are answers to 334 and are never kept in history."""
    target_key: reactive[str] = reactive("", init=False)
    """Names the history file; empty keeps history in memory only."""
    raw: reactive[bool] = reactive(False, init=False)
    """Raw mode: the line is exact bytes with escapes, no CRLF added."""
    data_mode: reactive[bool] = reactive(False, init=False)
    """After a 354 (or DATA typed ahead): lines are message content, sent exactly as typed."""

    @dataclass
    class Queued(Message):
        """Lines were added to (or taken from) the send queue: time to send what may go."""

        composer: Composer

        @property
        def control(self) -> Composer:
            return self.composer

    @dataclass
    class Submitted(Message):
        """A line parsed into a command. ``off_script``: confirmed past a warning (send forced)."""

        composer: Composer
        command: Command
        text: str
        off_script: bool = False
        notes: tuple[str, ...] = ()

        @property
        def control(self) -> Composer:
            return self.composer

    @dataclass
    class RawSubmitted(Message):
        """Exact bytes to put on the wire; ``label`` is what the transcript shows for them."""

        composer: Composer
        data: bytes
        label: str

        @property
        def control(self) -> Composer:
            return self.composer

    def __init__(self, *, target_key: str = "", name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._start_history(target_key)
        self.set_reactive(Composer.target_key, target_key)
        self._held: str | None = None  # line waiting for a second Enter after a warning
        self._cycle: list[str] = []  # Tab cycling candidates; current one is self._cycle[0]
        self._hint_shown: str | None = None
        # Set by the screen: lines then go to the send queue, checked against the state the
        # engine will be in once everything ahead of them has gone.
        self.queue: SendQueue | None = None
        self.engine: Callable[[], Connection | None] = lambda: None

    def compose(self) -> ComposeResult:
        yield Static("", id="composer-queue", classes="-empty")
        yield ComposerInput(self, placeholder=_PLACEHOLDER.format("EHLO"),
                            suggester=_CommandSuggester(self), id="composer-input",
                            select_on_focus=False)
        yield Static(_IDLE_HINT, id="composer-hint")

    @property
    def input(self) -> Input:
        """The inner Input (for tests and the screen's focus handling)."""
        return self.query_one("#composer-input", Input)

    def focus(self, scroll_visible: bool = True) -> Composer:
        """Focusing the composer focuses its input line."""
        self.input.focus(scroll_visible)
        return self

    # -- attributes down ---------------------------------------------------------------------

    def watch_raw(self, raw: bool) -> None:
        self.set_class(raw, "-raw")
        self._held = None
        self._update_hint()
        self.refresh_placeholder()

    def watch_in_auth(self) -> None:
        self._held = None
        self._update_hint()
        self.update_mask()

    def watch_state(self) -> None:
        self._update_hint()
        self.update_mask()
        self.refresh_placeholder()

    def watch_capabilities(self) -> None:
        self._update_hint()

    # -- hint line ---------------------------------------------------------------------------

    def _show(self, text: str, level: str = "") -> None:
        self.set_class(level == "warning", "-warning")
        self.set_class(level == "error", "-error")
        if self.is_mounted and text != self._hint_shown:
            # Text, not markup; only when new: an update lays the screen out (once per key).
            self._hint_shown = text
            self.query_one("#composer-hint", Static).update(Text(text))

    @property
    def hint(self) -> str:
        """The hint line as plain text."""
        return str(self.query_one("#composer-hint", Static).render())

    def _update_hint(self) -> None:
        if not self.is_mounted:
            return
        value = self.input.value
        if self._held is not None and self._held == value and self._held_recheck():
            return
        if self.raw:
            try:
                size = len(decode_escapes(value))
            except ValueError as exc:
                self._show(f"raw: {exc}", "error")
                return
            self._show(f"{_RAW_HINT} · {size} bytes", "")
        elif self.data_mode:
            warnings = self.content_warnings(value)
            self._show(f"⚠ {'; '.join(warnings)}" if warnings else self.data_hint(),
                       "warning" if warnings else "")
        elif self.answering():
            self._show(_AUTH_HINT)
        elif not value.strip():
            blocked = self.blocked_hint()  # the queue view shows its reason cut to one line
            self._show(blocked or _IDLE_HINT, "warning" if blocked else "")
        else:
            verb = value.split()[0].upper().split(":")[0]
            syntax = SYNTAX.get(verb)
            if syntax is None:
                matches = [v for v in SYNTAX if v.startswith(verb)]
                syntax = SYNTAX[matches[0]] if len(matches) == 1 else None
            self._show(syntax or f"{verb}: not a verb smtpscope knows; sent as typed")

    @on(Input.Changed, "#composer-input")
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._held is not None and event.value != self._held:
            self._held = None  # editing the line withdraws the pending warning
        if self._cycle and event.value != self._cycle[0]:
            self._cycle = []
        if self._held is None:
            self._update_hint()

    def _held_recheck(self) -> bool:
        """A held line meets a new state or advertisement: warn again if it still draws a
        warning (True), or let it go as an ordinary line when it no longer does (False)."""
        text = self._held or ""
        try:
            command = parse_command(text).command
        except CommandSyntaxError:
            return True  # a broken AUTH answer stays held as it was
        problems = self._problems(command, self._queued_state())
        if not problems:
            self._held = None
            return False
        self._show(f"⚠ {'; '.join(problems)} — Enter again to send anyway (off-script)",
                   "warning")
        return True

    def _problems(self, command: Command, state: State | None) -> list[str]:
        """The engine's objections to ``command`` in the state it will meet; waiting for
        replies is left to the send queue, which asks ``Connection.must_wait``."""
        return command_problems(command, state, self.capabilities, lmtp=self._lmtp())

    def _lmtp(self) -> bool | None:
        conn = self.engine()
        return conn.lmtp if conn is not None else None

    # -- sending -----------------------------------------------------------------------------

    def action_send_anyway(self) -> None:
        """Send the current line even though it draws a warning (off-script); with an empty
        line, send the blocked head of the queue anyway."""
        if not self.input.value and self.queue is not None:
            if self.queue.force_head() is not None:
                self._queued()
            return
        self.submit(self.input.value, force=True)

    def _queued_state(self) -> State | None:
        """The state the next line will meet: after everything in flight and queued."""
        conn = self.engine()
        if self.queue is None or conn is None:
            return self.state
        return self.queue.projected_state(conn)

    def _expects_content(self) -> bool:
        conn = self.engine()
        return self.queue is not None and conn is not None and self.queue.expects_content(conn)

    def submit(self, text: str, *, force: bool = False, pasted: bool = False) -> bool:
        """Interpret ``text`` as if typed and Enter pressed; True when something was taken.

        ``pasted``: the line came faster than anyone types (an unbracketed paste). A line that
        draws a warning is then queued rather than held, so the next pasted line cannot run
        into it; the engine blocks it visibly in the queue if it is really not allowed.
        """
        if not self.raw and self._expects_content():
            return self._submit_content(text)
        if self.raw:
            return self._submit_raw(text)
        if not text.strip():
            return False
        held = self._held is not None and self._held == text
        state = self._queued_state()
        in_auth = self.answering()
        try:
            # During AUTH the line is a SASL answer: base64, or "*" to cancel.
            parsed = parse_command(text, state=State.AUTH if in_auth else None)
        except CommandSyntaxError as exc:
            form = f" · right form: {exc.hint}" if exc.hint else ""
            if not in_auth:
                self._held = None
                self._show(f"✗ {exc.message}{form}", "error")
                return False
            if not (force or held):
                # A broken answer is a legitimate experiment: hold it, never refuse it.
                self._held = text
                self._show(f"⚠ {exc.message} — Enter again to send it as typed (off-script)",
                           "warning")
                return False
            raw = Raw(text.strip().encode("utf-8") + b"\r\n", note=exc.message)
            self._take(raw, text, True, (), remember=False)
            return True
        if in_auth:
            if not (force or held) and self.blob_warning(text):
                return False
            self._take(parsed.command, text, False, parsed.notes, remember=False)
            return True
        command = parsed.command
        problems = self._problems(command, state)
        confirmed = force or held
        if problems and pasted and self.queue is not None:
            self.queue.add_command(command, text)
            self._queued()
            self._sent(text)
            return True
        if problems and not confirmed:
            self._held = text
            self._show(f"⚠ {'; '.join(problems)} — Enter again to send anyway (off-script)",
                       "warning")
            return False
        if not confirmed and self.initial_response_warning(text, command):
            return False
        self._take(command, text, bool(problems), parsed.notes)
        return True

    def _queued_message(self) -> Message:
        return self.Queued(self)

    def _take(self, command: Command, text: str, off_script: bool, notes: tuple[str, ...],
              *, remember: bool = True) -> None:
        if self.queue is not None:
            # An answer to a 334, or an initial response: the queue view shows it masked.
            secret = not remember or (isinstance(command, Auth)
                                      and command.initial_response is not None)
            self.queue.add_command(command, text, force=off_script, secret=secret)
            self._queued()
        else:
            self.post_message(self.Submitted(self, command, text, off_script, notes))
        self._sent(text, remember=remember)

    def _submit_content(self, text: str) -> bool:
        """A message line in data mode: taken exactly as typed, empty lines included."""
        assert self.queue is not None
        self.queue.add_content(text, self.engine())
        self._sent(text, remember=False)
        warnings = self.content_warnings(text)
        if warnings:
            self._show(f"⚠ {'; '.join(warnings)}", "warning")
        self._queued()
        return True

    def _submit_raw(self, text: str) -> bool:
        try:
            data = decode_escapes(text)
        except ValueError as exc:
            self._show(f"raw: {exc}", "error")
            return False
        if not data:
            return False
        if self.queue is not None:
            self.queue.add_raw(data, f"raw: {text}", secret=self.answering())
            self._queued()
        else:
            self.post_message(self.RawSubmitted(self, data, f"raw: {text}"))
        self._sent(text, remember=not self.answering())
        return True

    def _sent(self, text: str, *, remember: bool = True) -> None:
        # Message content typed after a 354 is not a command to recall (and may be private).
        if remember and not self.in_auth and self.state is not State.DATA:
            self._history.add(text)
        self._held = None
        self._leave_history()
        self._cycle = []
        self.input.value = ""
        self._update_hint()

    # -- raw mode and end-of-data variants ---------------------------------------------------

    def action_toggle_raw(self) -> None:
        """Switch between command mode and raw bytes."""
        self.raw = not self.raw

    def end_of_data_actions(self) -> list[tuple[str, str, bytes]]:
        """``(name, label, bytes)`` for every end-of-data variant (PROTOCOL.md §5.4)."""
        return [(name, end_of_data_label(name, data), data)
                for name, data in END_OF_DATA_VARIANTS.items()]

    def send_end_of_data(self, name: str) -> None:
        """Post the end-of-data variant ``name`` as raw bytes."""
        data = END_OF_DATA_VARIANTS[name]
        label = f"end of data: {end_of_data_label(name, data)}"
        self.post_message(self.RawSubmitted(self, data, label))

    # -- completion --------------------------------------------------------------------------

    def action_complete(self) -> None:
        """Tab: take the first completion; Tab again cycles through the others. In data mode
        it is a character of the message (a folded header's continuation starts with one)."""
        if not self.raw and self._expects_content():
            self.input.insert_text_at_cursor("\t")
            return
        if self.raw or self.answering():
            return  # Tab stays in the composer: leaving it mid-line loses the user's place
        value = self.input.value
        if len(self._cycle) > 1 and value == self._cycle[0]:
            self._cycle = self._cycle[1:] + self._cycle[:1]
        else:
            found = completions(value, self.capabilities, lmtp=self._lmtp())
            if not found:
                return  # nothing to complete: Tab stays here (Esc moves to the transcript)
            self._cycle = found
        self._set_value(self._cycle[0])

    def _set_value(self, value: str) -> None:
        self.input.value = value
        self.input.cursor_position = len(value)
