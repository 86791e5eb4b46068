"""``--record FILE``, checked as the option is read: a file can be written there, and it is
not something other than a recording that the recording would replace."""

from __future__ import annotations

import argparse
import os


def record_file(text: str) -> str:
    """An argparse ``type`` for ``--record FILE``: refused when no file can be written there
    (a missing directory above all), since nothing is created but the file itself."""
    from smtpscope.paths import output_problem
    from smtpscope.sanitize import visible

    problem = output_problem(text) or _not_a_recording(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(visible(f"cannot record to {text}: {problem}"))
    return text


def _not_a_recording(path: str) -> str | None:
    """Why the file at ``path`` must not be replaced by a recording: it holds something else
    (an earlier recording may go: recording again over it is what the name asks)."""
    try:
        if os.path.getsize(path) == 0:
            return None
    except OSError:
        return None  # nothing there (or not a file: output_problem's to say)
    from smtpscope.record.store import RecordingError, read_header

    try:
        read_header(path)
    except RecordingError:
        return "the file exists and is not a smtpscope recording; it is left alone"
    return None
