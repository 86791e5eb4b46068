"""Big lists cut off the transcript are freed a slice at a time, after the key that cut them
has painted.

Freeing a million row strings takes tens of milliseconds, and all of it fell on the key that
cut them (replay's "start" after "show all"). A cut that keeps less than it removes now takes
the whole list out of use, copies the part kept (which costs what is kept) and leaves the list
here; the view frees it slice by slice from a timer, so that no slice holds a key up for long.
"""

from __future__ import annotations

from typing import Any, Final, TypeVar

T = TypeVar("T")

#: Items freed per slice: about a millisecond or two of work.
FREE_SLICE: Final = 50_000


class Leftovers:
    """Lists waiting to be freed."""

    __slots__ = ("_lists",)

    def __init__(self) -> None:
        self._lists: list[list[Any]] = []

    def __bool__(self) -> bool:
        return bool(self._lists)

    def keep(self, items: list[Any]) -> None:
        """Free ``items`` later (the caller no longer uses it)."""
        if len(items) > FREE_SLICE:
            self._lists.append(items)
        # A small list costs less to free now than to remember.

    def cut(self, items: list[T], start: int) -> list[T]:
        """``items`` without its entries from ``start`` on: cut in place when the part removed
        is the smaller one, else a new list of the part kept (``items`` is then kept here)."""
        if len(items) - start <= max(start, FREE_SLICE):
            del items[start:]
            return items
        kept = items[:start]
        self.keep(items)
        return kept

    def free_some(self) -> bool:
        """Free one slice; True while more is left."""
        lists = self._lists
        if not lists:
            return False
        last = lists[-1]
        del last[-FREE_SLICE:]
        if not last:
            lists.pop()
        return bool(lists)
