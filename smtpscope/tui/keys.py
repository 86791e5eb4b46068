"""Keys in the order typed: an ordering guard for every text input, and the app's key gate.

Textual (8.x) inserts printable keys in ``Input._on_key``/``TextArea._on_key`` but runs Enter,
Tab, Backspace and the arrows as bindings only after the key has bubbled up to the app
(Textualize/textual#6605). Keys that arrive faster than that round trip overtake each other:
``NOOP`` Enter ``RSET`` Enter becomes ``NOOPRSET`` twice. Two pieces fix it:

- :class:`OrderedKeys`, mixed into an input, runs a key's bindings (the same chain the app
  would walk: the input, its ancestors, the screen, the app) inside ``_on_key``, in turn with
  the printable keys queued behind it.
- :class:`KeyGate`, mixed into the app, hands the focused widget one key (or paste) at a time
  and holds the next until the key is done: a guarded input says so itself; for any other
  widget (a select, a switch, a button) the gate follows the key up the DOM to the app, where
  its bindings run. A key that set something going (Enter's ``Submitted``, a button's
  ``Pressed``) is followed once more, so those handlers run before the next key. A key that
  moves the focus (Tab) then sends the keys after it to the newly focused widget, as typed.
  A key that opened or closed a screen (F4, Escape) holds the keys after it until the screen
  on top has mounted and set its focus: a new screen's widgets are not there at once.
- :func:`hold_keys` holds every key while a screen is on its way (Enter on the connect screen
  starts the session, Ctrl+N ahead of a 354 waits for it); :func:`release_keys` sends them on
  to what has the focus once the screen on top has set it.

A dialog that opens on its own (the untrusted-certificate question) must not take keys typed
before it appeared: :func:`arm_keys` makes the gate keep those aside and :func:`typed_ahead_resume`
sends them, first, to the screen below once the dialog has closed.
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING, Any

from textual import events
from textual._time import get_time  # the clock Textual stamps ``Message.time`` with
from textual.widgets import Input, TextArea
from textual.widgets.text_area import Document

from smtpscope.tui.field_text import PicturedHighlighter, pictured_line
from smtpscope.tui.line_ends import MailDocument, first_line, mail_lines

if TYPE_CHECKING:
    from rich.text import Text
    from textual.app import App

# A guarded input that never handles a key it was given (removed while keys were queued for
# it) must not hold the keyboard for ever. Well above what a key takes on a loaded machine
# (F1 building its help page took over 1 s there): a key let go early is overtaken.
STUCK_AFTER = 5.0

# A person needs this long to notice a dialog that opened while they typed; keys stamped before
# it are typed-ahead and never answer the dialog.
ARM_AFTER = 0.5

_RELEASING = object()


class OrderedKeys:
    """Mixin placed before ``Input``/``TextArea``: every key is handled where it is received."""

    if TYPE_CHECKING:
        app: App[Any]

    async def on_event(self, event: events.Event) -> None:
        try:
            await super().on_event(event)  # type: ignore[misc]
        finally:
            if isinstance(event, events.Key | events.Paste):
                key_handled(self.app, event)

    def _handles_natively(self, event: events.Key) -> bool:
        """True for keys the widget's own ``_on_key`` acts on (it runs right after ours)."""
        return event.is_printable

    async def _on_key(self, event: events.Key) -> None:
        # Textual calls every ``_on_key`` along the MRO, ours first; preventing the default
        # stops the base class from handling a key a binding already took.
        if self._handles_natively(event):
            return
        if await run_bindings_now(self.app, event.key):
            event.stop()
            event.prevent_default()
            gate = getattr(self.app, "_key_gate", None)
            if isinstance(gate, _Gated) and gate.event is event:
                gate.acted = True  # Enter's Submitted, say, must be handled before what follows

    def _on_unmount(self) -> None:
        gate = getattr(self.app, "_key_gate", None)
        if isinstance(gate, _Gated) and gate.target is self:
            key_handled(self.app, gate.event)


class OrderedInput(OrderedKeys, Input):
    """An ``Input`` whose Enter, Tab, Backspace and arrows keep their place among typed keys,
    and whose pasted control characters show as pictures (see :mod:`.field_text`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.highlighter is None:
            self.highlighter = PicturedHighlighter(self)

    def _on_paste(self, event: events.Paste) -> None:
        # Input keeps a paste's first line as ``str.splitlines`` finds it, and drops the rest
        # unseen: only CR and LF end one here (see .line_ends).
        event.stop()
        event.prevent_default()  # Input's own handler would insert the paste again
        line = first_line(event.text)
        if line:
            start, end = sorted(self.selection)
            self.replace(line, start, end)


class OrderedTextArea(OrderedKeys, TextArea):
    """A ``TextArea`` whose Backspace, arrows and Escape keep their place among typed keys."""

    def _handles_natively(self, event: events.Key) -> bool:
        if event.is_printable or event.key == "enter":
            return not self.read_only
        return self.tab_behavior == "indent" and event.key in ("tab", "escape")

    def _set_document(self, text: str, language: str | None) -> None:
        # Textual builds a plain Document here (at start and on load_text), and offers no
        # other way to give a TextArea its own: it gets the text lines end in as SMTP ends
        # them, and becomes the Document class that splits every later edit the same way.
        super()._set_document(mail_lines(text), language)
        if type(self.document) is Document:
            self.document.__class__ = MailDocument

    def get_line(self, line_index: int) -> Text:
        # Textual's documented place to change how a line shows: pasted control characters as
        # pictures (see .field_text).
        shown = pictured_line(self.document.get_line(line_index))
        return super().get_line(line_index) if shown is None else shown


async def run_bindings_now(app: App[Any], key: str) -> bool:
    """Run the non-priority bindings for ``key`` from the focused widget up; True if one ran.

    Textual keeps this walk private (``App._check_bindings``); without it the key takes the
    usual bubbling route, which is still correct, only not ordered.
    """
    check = getattr(app, "_check_bindings", None)
    if check is None:
        return False
    return bool(await check(key))


class _Gated:
    __slots__ = ("acted", "event", "refocused", "screen", "settling", "since", "target")

    def __init__(self, event: events.Event, target: object, screen: object) -> None:
        self.event = event
        self.target = target
        self.screen = screen  # the screen on top when the key was handed out
        self.since = time.monotonic()
        # Whether the key may have set something going (a binding ran, or it went to a widget
        # that does not say), and whether what it posted is being followed (_key_done).
        self.acted = not isinstance(target, OrderedKeys)
        self.settling = False
        self.refocused = False  # the widget it focused has been followed (_key_done)


class _Held:
    """Keys wait for the app to say where they go: a screen is on its way (hold_keys)."""

    __slots__ = ()


def _typed_enter(event: events.Key) -> events.Key:
    """The Enter key that reached us as LF, read when it was."""
    enter = events.Key("enter", "\r")
    enter.time = event.time
    return enter


def key_handled(app: object, event: events.Event) -> None:
    """A guarded input has finished with ``event``: let the app hand it the next key."""
    done = getattr(app, "_key_done", None)
    if done is not None:
        done(event)


def hold_keys(app: object, seconds: float) -> None:
    """Hold every key from now until :func:`release_keys` (at most ``seconds``): the screen
    they are meant for is on its way (Enter on the connect screen starts the session)."""
    hold = getattr(app, "_hold_keys", None)
    if hold is not None:
        hold(seconds)


def release_keys(app: object) -> None:
    """End a :func:`hold_keys`: held keys go on, in order, to what has the focus once the
    screen on top (pushed just now, maybe) has mounted and set it."""
    if isinstance(getattr(app, "_key_gate", None), _Held):
        app._release_when_settled()  # type: ignore[attr-defined]


def arm_keys(screen: object) -> None:
    """From now (and a moment to notice it), ``screen`` takes keys; older ones wait for it."""
    screen.keys_from = get_time() + ARM_AFTER  # type: ignore[attr-defined]


def typed_ahead_resume(app: object) -> None:
    """The armed screen has gone: the keys it kept aside go on to the screen below, first."""
    resume = getattr(app, "_resume_typed_ahead", None)
    if resume is not None:
        resume()


def keys_waiting(app: object) -> bool:
    """Whether a key is on its way through the app, or held behind one: long work that
    yields to the event loop in slices (replay's "show all") lets it through first."""
    return isinstance(getattr(app, "_key_gate", None), _Gated) or bool(
        getattr(app, "_held_keys", None))


def escape_then_key(event: events.Key, screen: Any) -> tuple[events.Key, events.Key] | None:
    """An Alt+character that nothing on ``screen`` is bound to, as the Escape and the
    character it may have been: the terminal sends both the same (ESC, then the character),
    and Textual reads them as Alt+character when the character came within 100 ms of the
    Escape. Typed that fast after Escape, the character would otherwise be typed into the
    dialog Escape was to close (see :mod:`.terminal_input`). None for any other key."""
    name, char = event.key, event.character
    if not name.startswith("alt+") or char is None or len(char) != 1 or not char.isprintable():
        return None
    if any(alias in screen.active_bindings for alias in event.aliases):
        return None
    plain = name.removeprefix("alt+")
    if plain.startswith("shift+") and char.isupper():
        plain = char  # Textual names a capital by the letter itself
    escape, typed = events.Key("escape", "\x1b"), events.Key(plain, char)
    escape.time = typed.time = event.time
    return escape, typed


def _inserts(event: events.Event) -> bool:
    """A printable key or a paste: text typed, nothing set going."""
    return isinstance(event, events.Paste) or bool(getattr(event, "is_printable", False))


class KeyGate:
    """Mixin for the ``App``: one key at a time to a guarded input, the rest held in order."""

    if TYPE_CHECKING:
        focused: Any
        screen: Any
        screen_stack: list[Any]

        def call_next(self, callback: Any, *args: Any, **kwargs: Any) -> None: ...
        def call_later(self, callback: Any, *args: Any, **kwargs: Any) -> bool: ...

    _key_gate: object | None = None
    _held_keys: deque[events.Event] | None = None
    _typed_ahead: list[events.Event] | None = None

    #: Keys arriving now may have been typed before the terminal left cooked mode (see
    #: :meth:`hold_keys_until_first_screen`): from the app's start until the keys held for its
    #: first screen are released (the terminal's bytes are read and parsed only once the app
    #: runs, so a key's time cannot tell).
    _cooked = False

    def hold_keys_until_first_screen(self) -> None:
        """Call in the app's ``__init__``: keys wait until :meth:`first_screen_pushed`. Typed
        (or pasted) as the app starts, before the first screen has mounted and focused its
        input, they would reach Textual's default screen and be lost: the first key of
        ``EHLO`` typed at once left ``HLO``.

        Keys typed before the app put the terminal in raw mode went through the terminal's
        cooked mode, which turns the Enter key's CR into LF (ICRNL): they arrive as Ctrl+J,
        and are taken as the Enter they were.
        """
        self._key_gate = _Held()
        self._cooked = True

    def first_screen_pushed(self) -> None:
        """The first screen is on its way: keys held so far go to it once it has set its
        focus."""
        release_keys(self)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.Paste) and not event.is_forwarded:
            held = self._held_keys
            if held is None:
                held = self._held_keys = deque()
            gate = self._key_gate
            if isinstance(gate, _Gated) and time.monotonic() - gate.since > STUCK_AFTER:
                self._key_gate = gate = None
                self._release_held_soon()
            if gate is not None or held:
                if self._cooked and isinstance(event, events.Key) and event.key == "ctrl+j":
                    event = _typed_enter(event)
                held.append(event)
                return
            await self._dispatch_key(event)
            return
        await super().on_event(event)  # type: ignore[misc]

    async def _dispatch_key(self, event: events.Event) -> None:
        if not self.screen_stack:
            return  # the app is ending (Ctrl+Q with keys after it): no screen to take them
        if isinstance(event, events.Key) and (keys := escape_then_key(event, self.screen)):
            event, typed = keys
            if self._held_keys is None:
                self._held_keys = deque()
            self._held_keys.appendleft(typed)  # goes on once the Escape is done
        if event.time < getattr(self.screen, "keys_from", -1.0):
            if self._typed_ahead is None:
                self._typed_ahead = []
            self._typed_ahead.append(event)
            return
        target = self.focused or self.screen
        gate = self._key_gate = _Gated(event, target, self.screen)
        await super().on_event(event)  # type: ignore[misc]
        if not event.is_forwarded:
            if self._key_gate is gate:
                # A priority binding took it: it never left the app, but what the binding
                # queued there (Escape's focus move, F1's help screen) must come first.
                gate.acted = gate.settling = True
                self._follow_from(gate, self)
        elif not isinstance(target, OrderedKeys):
            # Any other widget lets the key bubble: its bindings (Tab moving the focus off a
            # select, a switch or a button) run only once it has reached the app.
            self._follow_from(gate, target)

    def _follow(self, gate: _Gated, node: Any) -> None:
        """Follow a key up the DOM, one queue behind it, until it can have done its work.

        A widget hands a key it does not stop to its parent's queue while handling it, so a
        callback queued behind the key on each node in turn runs after the key has left that
        node; on the app, after its bindings. The key may stop anywhere on the way: the
        callback goes on regardless and releases the next key at the app.
        """
        if self._key_gate is not gate:
            return
        if node is self:
            self._key_done(gate.event)
        else:
            self._follow_from(gate, node.parent or self)

    def _follow_from(self, gate: _Gated, node: Any) -> None:
        if not node.call_later(self._follow, gate, node):
            self._key_done(gate.event)  # closing: the key goes no further

    def _hold_keys(self, seconds: float) -> _Held:
        hold = self._key_gate = _Held()

        def expire() -> None:
            if self._key_gate is hold:
                self._release_held_soon()

        self.set_timer(seconds, expire)  # type: ignore[attr-defined]
        return hold

    def _key_done(self, event: events.Event) -> None:
        gate = self._key_gate
        if not (isinstance(gate, _Gated) and gate.event is event):
            return
        if gate.acted and not gate.settling and not _inserts(event):
            # What the key posted on its way (Submitted, Pressed, Changed) travels up the same
            # nodes: follow it too, so its handlers run before the next key.
            gate.settling = True
            self._follow_from(gate, gate.target)
            return
        focused = self.focused
        if focused is not None and focused is not gate.target and not gate.refocused \
                and self.screen is gate.screen:
            # The key moved the focus (Tab, Escape to the transcript): the widget handles its
            # Focus, its ancestors their DescendantFocus, before the next key asks has_focus.
            gate.refocused = True
            self._follow_from(gate, focused)
            return
        self._key_gate = None
        if not self._after_screen_change(gate):
            self._release_held_soon()

    def _after_screen_change(self, gate: _Gated) -> bool:
        """The key opened or closed a screen: hold the keys after it until the screen on top
        has mounted and set its focus; True if it did (the keys are then released later)."""
        if self.screen is gate.screen:
            return False
        self._release_when_settled()
        return True

    def _release_when_settled(self) -> None:
        """Hold keys until the screen on top has mounted and set its focus, then release them."""
        screen = self.screen
        settling = self._hold_keys(STUCK_AFTER)

        def release() -> None:
            if self._key_gate is settling:
                self._release_held_soon()

        def refreshed() -> None:
            # ``Widget.focus`` queues the focus on the app: let it land before the keys go on.
            if self._key_gate is settling and not self.call_later(release):
                release()

        def mounted() -> None:
            # A focus set after the first refresh (``call_after_refresh``) comes before this.
            if self._key_gate is settling and not screen.call_after_refresh(refreshed):
                release()

        # A screen's own queue is read only once it has composed and mounted (its on_mount
        # included), and a resumed one's after its ScreenResume: this runs after both.
        if not screen.call_later(mounted):
            release()

    def _resume_typed_ahead(self) -> None:
        kept, self._typed_ahead = self._typed_ahead, None
        if not kept:
            return
        held = self._held_keys
        if held is None:
            held = self._held_keys = deque()
        held.extendleft(reversed(kept))
        if self._key_gate is None:
            self._release_held_soon()

    def _release_held_soon(self) -> None:
        # Still closed while the release waits its turn, so a key arriving meanwhile queues
        # behind the held ones instead of overtaking them.
        self._key_gate = _RELEASING
        self.call_next(self._release_held)

    async def _release_held(self) -> None:
        self._key_gate = None
        self._cooked = False  # the start-up hold is over
        held = self._held_keys
        while held and self._key_gate is None:
            await self._dispatch_key(held.popleft())
