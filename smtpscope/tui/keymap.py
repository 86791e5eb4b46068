"""User keymaps: binding ids remapped from a file in the data directory."""

from __future__ import annotations

import json
from pathlib import Path

from smtpscope.config import data_dir

KEYMAP_FILE = "keymap.json"


def load_keymap(path: Path | None = None) -> tuple[dict[str, str], str | None]:
    """Read ``{"binding.id": "key[,key]"}``; returns the map and a problem message, if any.

    A broken keymap file must never stop the app: the defaults stay and the problem is shown.
    """
    file = path or (data_dir() / KEYMAP_FILE)
    if not file.exists():
        return {}, None
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return {}, f"keymap {file} ignored: {exc}"
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        return {}, f'keymap {file} ignored: expected {{"binding.id": "key"}} pairs'
    return dict(data), None
