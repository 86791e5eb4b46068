"""Keep the cyclic collector's full passes short while panes hold huge transcripts.

A transcript's entries are never in a cycle, yet each is an object that the collector's full
pass walks. With a million transcript lines that pass takes about 0.4 s, and it comes again
each time the objects alive have grown by a quarter, landing on whatever key is pressed then.
Frozen objects (``gc.freeze``) are left out of every pass; they are still freed by reference
counting as usual, so an entry cut off is freed at once either way.

What is frozen cannot be collected as a cycle until it is let go of, so freezing is held: each
holder lets go when its pane goes, and the last one to let go unfreezes everything.
"""

from __future__ import annotations

import gc

#: Entries a pane takes between two freezes: the collector walks at most this many of them
#: (and what came with them) in a full pass.
FREEZE_EVERY = 20_000

_holders: set[int] = set()  # id() of each holder that froze and has not let go


def freeze(holder: object) -> None:
    """Freeze every object alive now, held by ``holder`` until :func:`release`.

    With the collector on, the young generations are collected first, so that cycles just
    made are not frozen with the rest. With it off, somebody is making many objects at once
    (replay's catch-up): collecting them would be the very pass this avoids.
    """
    if gc.isenabled():
        gc.collect(1)
    gc.freeze()
    _holders.add(id(holder))


def release(holder: object) -> None:
    """``holder`` lets go; when no holder is left, everything frozen goes back to the
    collector."""
    if id(holder) not in _holders:
        return
    _holders.discard(id(holder))
    if not _holders:
        gc.unfreeze()


class GrowthFreezer:
    """Freezes for one pane each time it has taken ``FREEZE_EVERY`` more entries."""

    __slots__ = ("_frozen_at",)

    def __init__(self) -> None:
        self._frozen_at = 0  # entries the pane held at the last freeze

    def count(self, entries: int) -> None:
        """The pane now holds ``entries`` entries (after adding or cutting some)."""
        if entries < self._frozen_at:
            self._frozen_at = entries  # cut: count the growth from here
        elif entries - self._frozen_at >= FREEZE_EVERY:
            freeze(self)
            self._frozen_at = entries

    def release(self) -> None:
        release(self)
