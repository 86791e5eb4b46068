"""The value-class bases: what a dataclass gave, without building anything at import."""

from __future__ import annotations

import copy
import dataclasses
import pickle
import subprocess
import sys
from typing import ClassVar

import pytest

from smtpscope.values import Frozen, Value


class Point(Frozen):
    kind: ClassVar[str] = "point"  # not a field

    __slots__ = ("x", "y")
    x: int
    y: int

    def __init__(self, x: int, y: int = 0) -> None:
        if x < 0:
            raise ValueError("x must not be negative")
        self._set(x=x, y=y)


class Labelled(Point):
    __slots__ = ("_cache", "label")
    label: str
    _cache: str | None

    def __init__(self, x: int, y: int = 0, label: str = "") -> None:
        super().__init__(x, y)
        self._set(label=label, _cache=None)


class Options(Value):
    __slots__ = ("host", "port")
    host: str
    port: int

    def __init__(self, host: str, port: int = 25) -> None:
        self._set(host=host, port=port)


def test_fields_follow_the_bases_and_skip_private_slots() -> None:
    assert Point._fields == ("x", "y")
    assert Labelled._fields == ("x", "y", "label")
    assert Labelled.__match_args__ == ("x", "y", "label")


def test_equality_needs_the_same_class_and_the_same_values() -> None:
    assert Point(1, 2) == Point(1, 2)
    assert Point(1, 2) != Point(1, 3)
    assert Point(1, 0) != Labelled(1, 0)  # as a dataclass: another class is never equal
    assert Point(1, 2) != (1, 2)


def test_frozen_values_hash_and_refuse_changes() -> None:
    point = Point(1, 2)
    assert hash(point) == hash(Point(1, 2))
    assert {point, Point(1, 2)} == {point}
    with pytest.raises(dataclasses.FrozenInstanceError):
        point.x = 3
    with pytest.raises(AttributeError):
        del point.y
    assert point.x == 1


def test_mutable_values_change_and_are_not_hashable() -> None:
    options = Options("mx.example")
    options.port = 587
    assert options == Options("mx.example", 587)
    with pytest.raises(TypeError):
        hash(options)


def test_repr_replace_asdict_and_match() -> None:
    assert repr(Labelled(1, label="a")) == "Labelled(x=1, y=0, label='a')"
    assert Point(1, 2)._asdict() == {"x": 1, "y": 2}
    assert Point(1, 2)._replace(y=5) == Point(1, 5)
    with pytest.raises(ValueError):  # through __init__: its checks run again
        Point(1, 2)._replace(x=-1)
    match Point(4, 5):
        case Point(x, y):
            assert (x, y) == (4, 5)


def test_copy_and_pickle_keep_every_slot() -> None:
    value = Labelled(1, 2, "a")
    object.__setattr__(value, "_cache", "kept")
    for clone in (copy.copy(value), copy.deepcopy(value), pickle.loads(pickle.dumps(value))):
        assert clone == value
        assert clone._cache == "kept"


def test_importing_the_bases_loads_no_dataclasses() -> None:
    code = "import sys, smtpscope.values; print('dataclasses' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"
