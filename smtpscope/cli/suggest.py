"""The values shell completion offers for an option, where argparse's ``choices`` cannot say.

A type that normalises (``--tls``'s aliases, any case of a mechanism) or a list made on demand
is declared here as a function, called only when a completion script is made: the commands
that declare one import nothing more at start-up.
"""

from __future__ import annotations

import argparse
import weakref
from collections.abc import Callable, Iterable

_SUGGESTED: weakref.WeakKeyDictionary[argparse.Action, Callable[[], Iterable[str]]] = (
    weakref.WeakKeyDictionary())


def suggest(action: argparse.Action, values: Callable[[], Iterable[str]]) -> None:
    """Declare the values completion offers for ``action``."""
    _SUGGESTED[action] = values


def suggested(action: argparse.Action) -> tuple[str, ...]:
    """The values declared for ``action``, else its ``choices`` (``()`` for neither)."""
    if (values := _SUGGESTED.get(action)) is not None:
        return tuple(values())
    return tuple(str(c) for c in action.choices or ())
