"""Transcript entries, redaction, JSON Lines recordings and exports."""

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
