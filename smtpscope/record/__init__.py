"""Transcript entries, redaction, JSON Lines recordings and exports.

Names load from their module on first use, so a session that records nothing (a probe) does not
import the recording file code.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from smtpscope.record.export import to_text
    from smtpscope.record.redact import Redactor
    from smtpscope.record.store import (
        Recorder,
        Recording,
        RecordingError,
        make_header,
        read_recording,
    )
    from smtpscope.record.transcript import Direction, Entry, Transcript

_HOME = {
    "Direction": "transcript",
    "Entry": "transcript",
    "Recorder": "store",
    "Recording": "store",
    "RecordingError": "store",
    "Redactor": "redact",
    "Transcript": "transcript",
    "make_header": "store",
    "read_recording": "store",
    "to_text": "export",
}

__all__ = [
    "Direction",
    "Entry",
    "Recorder",
    "Recording",
    "RecordingError",
    "Redactor",
    "Transcript",
    "make_header",
    "read_recording",
    "to_text",
]


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME))
