"""Where smtpscope keeps its files: recordings, history, certificates, keymaps."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """Return (and create) the user's smtpscope data directory.

    ``$SMTPSCOPE_HOME`` wins (tests and demos point it at a temporary folder), then
    ``$XDG_DATA_HOME/smtpscope``, then ``~/.local/share/smtpscope``.
    """
    explicit = os.environ.get("SMTPSCOPE_HOME")
    if explicit:
        path = Path(explicit)
    else:
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        path = Path(base) / "smtpscope"
    path.mkdir(parents=True, exist_ok=True)
    return path


def recordings_dir() -> Path:
    """Directory of automatically saved session recordings (0700: they hold mail content)."""
    from smtpscope.record.store import private_dir

    return private_dir(data_dir() / "recordings", ours=True)
