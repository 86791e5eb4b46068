"""Checks that pin what a value class does as a dataclass did: fields in order, equality,
hash, immutability, copies. Tests hand them an instance and the field names they expect."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any

import pytest


def _values(value: Any, names: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(getattr(value, name) for name in names)


def _common(value: Any, names: tuple[str, ...]) -> None:
    cls, values = type(value), _values(value, names)
    assert cls.__match_args__ == names
    assert cls(*values) == value  # the constructor takes the fields in this order...
    assert cls(**dict(zip(names, values, strict=True))) == value  # ...and by these names
    assert value.__eq__(values) is NotImplemented  # another class is never equal
    assert copy.copy(value) == value and copy.deepcopy(value) == value


def assert_frozen_value(value: Any, names: tuple[str, ...]) -> None:
    """``value`` behaves as a frozen dataclass with fields ``names``."""
    _common(value, names)
    assert hash(value) == hash(_values(value, names))
    assert pickle.loads(pickle.dumps(value)) == value
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(value, names[0], None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        delattr(value, names[-1])


def assert_mutable_value(value: Any, names: tuple[str, ...]) -> None:
    """``value`` behaves as a (mutable, so unhashable) dataclass with fields ``names``."""
    _common(value, names)
    with pytest.raises(TypeError):
        hash(value)
    twin = copy.copy(value)
    setattr(twin, names[-1], "changed")
    assert getattr(twin, names[-1]) == "changed" and twin != value
