"""The footer with the keys a user cannot do without first, so a narrow terminal keeps them."""

from __future__ import annotations

from typing import Any

from textual import events
from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

# Actions whose keys must stay visible at 80 columns, in this order: help, reconnect, QUIT,
# leave the program, and a replay's step keys. Everything else follows in its usual order.
ESSENTIAL = ("help", "reconnect", "quit_session", "quit", "step(1)", "step(-1)")
# Below this width the keys are shown compact (no padding between them).
COMPACT_BELOW = 140


class KeyFooter(Footer):
    """A Footer that puts the essential keys first and turns compact on narrow terminals.

    It rebuilds its keys only when what they show has changed. Textual's footer rebuilds them
    (a dozen widgets mounted and styled, 15-20 ms) on every ``refresh_bindings()``, and the
    session screen refreshes its bindings after every reply and every queued line: a pasted
    message of a few thousand lines queued that many rebuilds behind it.
    """

    # Compact keys get a right margin, and so did the palette key docked at the right edge:
    # the last column then showed a letter of the keys scrolled under it ('^p palettee').
    DEFAULT_CSS = """
    KeyFooter.-compact FooterKey.-command-palette { margin-right: 0; }
    """

    #: What the keys now shown were composed from (see ``_shown_keys``); None before that.
    _composed: Any = None

    def _shown_keys(self) -> Any:
        """Everything ``compose`` reads: the bindings shown, whether each is enabled, its
        tooltip and key display (a keymap can change that), and the palette key's."""
        if not self._bindings_ready:
            return None
        app = self.app
        palette = app.COMMAND_PALETTE_BINDING
        return (self.show_command_palette, app.ENABLE_COMMAND_PALETTE, tuple(
            (key, binding, enabled, tooltip, app.get_key_display(binding))
            for key, (_, binding, enabled, tooltip) in self.screen.active_bindings.items()
            if binding.show or key == palette))

    async def recompose(self) -> None:
        if self._composed is not None and self.is_attached \
                and self._shown_keys() == self._composed:
            return  # the same keys: nothing to rebuild
        await super().recompose()

    def compose(self) -> ComposeResult:
        self._composed = self._shown_keys()
        items = list(super().compose())
        keys = [item for item in items if isinstance(item, FooterKey)]
        if len(keys) != len(items):
            yield from items  # grouped keys: keep Textual's layout untouched
            return

        def rank(item: FooterKey) -> tuple[int, int]:
            if item.has_class("-command-palette"):
                return (2, 0)
            if item.action in ESSENTIAL:
                return (0, ESSENTIAL.index(item.action))
            return (1, 0)

        yield from sorted(keys, key=rank)  # stable: the rest keep their order

    def on_resize(self, event: events.Resize) -> None:
        self.compact = event.size.width < COMPACT_BELOW
