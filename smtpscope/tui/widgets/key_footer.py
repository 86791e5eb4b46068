"""The footer with the keys a user cannot do without first, so a narrow terminal keeps them."""

from __future__ import annotations

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
    """A Footer that puts the essential keys first and turns compact on narrow terminals."""

    # Compact keys get a right margin, and so did the palette key docked at the right edge:
    # the last column then showed a letter of the keys scrolled under it ('^p palettee').
    DEFAULT_CSS = """
    KeyFooter.-compact FooterKey.-command-palette { margin-right: 0; }
    """

    def compose(self) -> ComposeResult:
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
