"""The composer's queue side: pasted lines, taking a queued line back, showing the queue."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.widgets import Static

from smtpscope.conversation.send_queue import (
    LineKind,
    content_line_bytes,
    content_line_warnings,
)
from smtpscope.protocol import CommandSyntaxError, Raw, State, parse_command
from smtpscope.sanitize import visible
from smtpscope.tui.widgets.queue_view import raw_paste, render_queue, split_paste

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.app import App
    from textual.message import Message
    from textual.suggester import Suggester
    from textual.widgets import Input

    from smtpscope.conversation.send_queue import BodyDeclaration, SendQueue
    from smtpscope.protocol import Connection
    from smtpscope.tui.history_store import HistoryStore

_PLACEHOLDER = "{} client.example"  # EHLO, or LHLO on an LMTP session
_DATA_HINT = ("DATA mode, the message is open: every Enter sends the line as typed (empty "
              "lines too) · '.' alone ends it · Ctrl+P end-of-data variants · Ctrl+N editor")
# Content sent verbatim ended inside a line: "." would only go on with that line.
_UNFINISHED_LINE_HINT = ("the message is open and its last line has no CRLF yet: Enter on an "
                         "empty line ends that line, then '.' alone ends the message · Ctrl+P "
                         "end-of-data variants")
_QUEUE_KEYS = "Ctrl+Z takes back the newest"


class QueueAssist:
    """Mixin for the composer: ``queue``, ``engine`` and ``body`` are set by the screen."""

    queue: SendQueue | None = None
    engine: Callable[[], Connection | None] = staticmethod(lambda: None)
    #: What the transaction after a 354 lets message lines carry; None: nothing to check.
    body: Callable[[], BodyDeclaration | None] = staticmethod(lambda: None)
    #: False once the connection failed or closed: queued lines then wait for F5.
    connected: Callable[[], bool] = staticmethod(lambda: True)
    _command_suggester: Suggester | None = None  # kept while data mode has none

    if TYPE_CHECKING:  # provided by the composer
        app: App[Any]
        raw: bool
        data_mode: bool
        is_mounted: bool
        _held: str | None
        _history: HistoryStore

        def submit(self, text: str, *, force: bool = False, pasted: bool = False) -> bool: ...
        def _queued_state(self) -> State | None: ...
        def _expects_content(self) -> bool: ...
        def _sent(self, text: str, *, remember: bool = True) -> None: ...
        def _set_value(self, value: str) -> None: ...
        def _update_hint(self) -> None: ...
        def _show(self, text: str, level: str = "") -> None: ...
        def update_mask(self) -> None: ...
        def answering(self) -> bool: ...
        def _lmtp(self) -> bool | None: ...
        @property
        def input(self) -> Input: ...
        def post_message(self, message: Message) -> bool: ...
        def _queued_message(self) -> Message: ...

    def paste(self, text: str) -> None:
        """Several pasted lines: each one a command (or a message line after DATA), in order.

        Commands that would draw a warning are queued all the same (the engine blocks them when
        they come up, visibly); a last line without a line break stays in the input to finish.
        """
        if self.raw:
            # Raw mode is exact bytes: the line breaks become visible escapes, sent with Enter.
            self.input.insert_text_at_cursor(raw_paste(text))
            return
        lines, tail = split_paste(text)
        lines[0] = self.input.value + lines[0]
        content = self._expects_content()
        for line in lines:
            if self.queue is None:
                self.submit(line, force=True)
            elif content:
                # A message line, queued as typed; the hint and the view are brought up to
                # date once, below (line by line, a pasted message cost n * n).
                content = self.queue.add_content(line, self.engine()).kind is not LineKind.END
            elif line.strip():
                self._queue_pasted_command(line)
                content = self._expects_content()  # after a DATA
        self._sent("", remember=False)
        self._set_value(tail)
        self._queued()

    def _queue_pasted_command(self, line: str) -> None:
        assert self.queue is not None
        answer = self.answering()  # an answer to a 334: never kept
        try:
            parsed = parse_command(line, state=State.AUTH if answer else None)
        except CommandSyntaxError as exc:
            self.queue.add_command(Raw(line.encode("utf-8") + b"\r\n", note=exc.message),
                                   line, force=True, secret=answer)
            return
        self.queue.add_command(parsed.command, line, secret=answer)
        if not answer:
            self._history.add(line)

    def action_cancel_queued(self) -> None:
        """Take the newest queued line back into the input, which must be empty: the line
        there (one taken back before, or typed) is the user's, never overwritten."""
        if self.queue is None or not len(self.queue):
            self.app.bell()
            return
        if self.input.value:
            self.app.bell()
            self._held = None  # the hint below replaces a held line's warning: Enter warns anew
            self._show("⚠ Ctrl+Z takes a line back into an empty input: send or clear "
                       "(Ctrl+U) this one first; nothing was taken back", "warning")
            return
        item = self.queue.cancel()
        assert item is not None
        self._set_value(item.text)
        self._queued()

    def data_hint(self) -> str:
        """What an Enter in data mode does; after verbatim content that stopped inside a line,
        that a ``.`` line would not end the message."""
        conn = self.engine()
        queued = self.queue is not None and len(self.queue) > 0
        if conn is not None and conn.message_open and not queued \
                and not conn.ends_message(content_line_bytes(".")):
            return _UNFINISHED_LINE_HINT
        return _DATA_HINT

    def content_warnings(self, text: str) -> tuple[str, ...]:
        """What the server will make of ``text`` as a message line, in this transaction."""
        return content_line_warnings(text, self.body())

    def blocked_hint(self) -> str | None:
        """Why the head of the queue is blocked, whole, and the way past it; None if it is not."""
        head = self.queue.head if self.queue is not None else None
        if head is None or head.blocked is None:
            return None
        return (f"⛔ first queued line held: {visible(head.blocked)} · Ctrl+O on this empty line "
                f"sends it anyway · Ctrl+Z takes back the newest")

    def _queued(self) -> None:
        self.sync_queue()
        self.post_message(self._queued_message())

    def sync_queue(self) -> None:
        """Show what waits in the queue, and data mode when lines are message content."""
        if not self.is_mounted:
            return
        self.data_mode = self._expects_content()
        self.update_mask()  # what is queued may make the next line an answer to a 334
        if self._held is not None or not self.input.value:
            # What is queued may have made a held line valid (or not), or blocked the head;
            # a hint about a line being typed stays until that line changes.
            self._update_hint()
        widget: Any = self  # a Composer: the widget methods come from there
        view = widget.query_one("#composer-queue", Static)
        items = list(self.queue) if self.queue is not None else []
        view.set_class(not items, "-empty")
        if not items:
            return
        connected = self.connected()
        view.update(render_queue(items, _QUEUE_KEYS, connected=connected))

    def refresh_placeholder(self) -> None:
        """The example in the empty line says what a line typed now is: exact bytes, a message
        line, an answer to a 334; else the greeting."""
        if not self.is_mounted:
            return
        if self.raw:
            text = "exact bytes, e.g. NOOP\\r\\n"
        elif self.data_mode:
            text = "a line of the message ('.' alone ends it)"
        elif self.answering():
            text = "the answer to the 334, in base64 ('*' cancels)"
        else:
            lmtp = self.engine() is not None and self._lmtp()
            text = _PLACEHOLDER.format("LHLO" if lmtp else "EHLO")
        self.input.placeholder = text

    def watch_data_mode(self, on: bool) -> None:
        widget: Any = self
        widget.set_class(on, "-data")
        self.refresh_placeholder()
        self._update_hint()
        self.update_mask()
        self._complete_commands(not on)

    def _complete_commands(self, on: bool) -> None:
        """Offer command completion, or not: message lines get none, and without a suggester
        the input starts no suggestion worker for each key (and its three state messages),
        which made a message typed at paste speed 10-20% slower."""
        field = self.input
        if on:
            field.suggester = self._command_suggester or field.suggester
        elif field.suggester is not None:
            self._command_suggester, field.suggester = field.suggester, None

