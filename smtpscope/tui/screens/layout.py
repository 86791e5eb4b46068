"""Layout shared by the session and replay screens: the side panel folds away when narrow."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType

# Below this many columns the capability panel is hidden until asked for: at 80x24 the
# transcript needs the width more than a list of keywords does.
NARROW_BELOW = 100


class SidePanelLayout:
    """Mixin for a Screen with a ``#side`` panel: collapsed when narrow, a key toggles it."""

    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [
        (0, "-narrow"),
        (NARROW_BELOW, "-wide"),
    ]

    SIDE_BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+t", "toggle_side", "Panel", id="screen.toggle_panel"),
    ]

    def action_toggle_side(self) -> None:
        """Show the side panel when it is folded away, hide it when it is shown."""
        self.toggle_class("-side-toggled")  # type: ignore[attr-defined]

    @property
    def side_shown(self) -> bool:
        """Whether the capability panel is on screen now."""
        narrow = self.has_class("-narrow")  # type: ignore[attr-defined]
        return bool(narrow == self.has_class("-side-toggled"))  # type: ignore[attr-defined]
