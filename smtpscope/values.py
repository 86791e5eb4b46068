"""Value classes without ``dataclasses``: fields in ``__slots__``, methods shared, nothing built.

A ``@dataclass`` writes and ``exec``s its methods when its module is imported (about 0.3 ms a
class here), and the ``dataclasses`` module itself loads ``inspect``. A command-line run that
imports fifty of them pays for it before its first byte. These bases give the same equality,
hash, repr and (for ``Frozen``) immutability from the field names alone, built once per class:

    class Point(Frozen):
        __slots__ = ("x", "y")
        x: int
        y: int

        def __init__(self, x: int, y: int = 0) -> None:
            self._set(x=x, y=y)

The fields are the annotated public names (``ClassVar`` aside) along the class's bases, base
first, in the order a dataclass gives its fields; ``__slots__`` holds them too. The helpers
are named as ``namedtuple``'s (``_fields``, ``_asdict``, ``_replace``) so that no field name
clashes with them. Equality needs the same class, as a dataclass's does.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any, ClassVar, Self


def _field_names(cls: type) -> tuple[str, ...]:
    names: list[str] = []
    for klass in reversed(cls.__mro__):
        # The class's own annotations, unevaluated (inspect.get_annotations would load
        # inspect, the very import this module avoids).
        own = klass.__dict__.get("__annotations__", {})  # noqa: RUF063
        for name, kind in own.items():
            if name.startswith("_") or "ClassVar" in str(kind) or name in names:
                continue
            names.append(name)
    return tuple(names)


class Value:
    """A mutable value: ``==`` compares the fields of two objects of the same class.

    Mutable, so not hashable (defining ``__eq__`` sets ``__hash__`` to None, as a dataclass
    with ``eq`` and without ``frozen`` does).
    """

    __slots__ = ()
    #: The field names, in constructor order (computed for each subclass).
    _fields: ClassVar[tuple[str, ...]] = ()
    _get_values: ClassVar[Callable[[Any], tuple[Any, ...]]] = staticmethod(lambda _: ())
    __match_args__: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._fields = _field_names(cls)
        # One C-level getter per class: equality and hashing read every field at once.
        if len(cls._fields) > 1:
            cls._get_values = staticmethod(attrgetter(*cls._fields))
        elif cls._fields:
            one = attrgetter(cls._fields[0])
            cls._get_values = staticmethod(lambda obj: (one(obj),))
        cls.__match_args__ = cls._fields  # type: ignore[misc]  # set once, per class

    def _set(self, **values: Any) -> None:
        """Set fields in ``__init__`` (also on a ``Frozen``, which refuses later changes)."""
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def _values(self) -> tuple[Any, ...]:
        """The field values, in ``_fields`` order."""
        return type(self)._get_values(self)

    def _asdict(self) -> dict[str, Any]:
        """The fields by name (one level: values are not converted)."""
        return {name: getattr(self, name) for name in self._fields}

    def _replace(self, **changes: Any) -> Self:
        """A copy with ``changes``, through ``__init__`` (so its checks run again)."""
        return type(self)(**(self._asdict() | changes))

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __setstate__(self, state: Any) -> None:
        # copy and pickle restore every slot (private ones too) past a Frozen's refusal.
        slots = state[1] if isinstance(state, tuple) else state
        for name, value in (slots or {}).items():
            object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__qualname__}({inner})"


class Frozen(Value):
    """An immutable value: hashable, and assigning or deleting a field raises
    ``dataclasses.FrozenInstanceError`` (an ``AttributeError``), as a frozen dataclass does."""

    __slots__ = ()

    def __hash__(self) -> int:
        return hash(self._values())

    def __setattr__(self, name: str, value: Any) -> None:
        raise _frozen(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise _frozen(f"cannot delete field {name!r}")


def _frozen(message: str) -> AttributeError:
    from dataclasses import FrozenInstanceError  # only on misuse: not loaded at start-up

    return FrozenInstanceError(message)
