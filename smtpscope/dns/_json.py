"""Turn the DNS result values into JSON-ready values (bytes as hex, tuples as lists)."""

from __future__ import annotations

import dataclasses
from typing import Any

from smtpscope.values import Value


def jsonable(obj: Any) -> Any:
    """Recursively convert value classes (``smtpscope.values`` and dataclasses), tuples, sets
    and bytes into JSON-serialisable values."""
    if isinstance(obj, Value):
        return {name: jsonable(getattr(obj, name)) for name in obj._fields}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, bytes):
        return obj.hex()
    if isinstance(obj, (tuple, list)):
        return [jsonable(item) for item in obj]
    if isinstance(obj, (set, frozenset)):
        return sorted(jsonable(item) for item in obj)
    if isinstance(obj, dict):
        return {str(key): jsonable(value) for key, value in obj.items()}
    return obj
