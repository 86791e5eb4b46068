"""Composer history kept per target in the data directory, with secrets never written."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from pathlib import Path

from smtpscope.config import data_dir

HISTORY_LIMIT = 500
"""Lines kept per target: enough for weeks of poking at one server, small enough to load fast."""

_AUTH_LINE = re.compile(r"^\s*(AUTH)(\s+\S+)?(\s+.*)?$", re.IGNORECASE | re.DOTALL)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def history_dir() -> Path:
    """Directory of the per-target history files."""
    path = data_dir() / "history"
    path.mkdir(parents=True, exist_ok=True)
    return path


def safe_name(target_key: str) -> str:
    """File name for a target: readable slug plus a hash, so distinct targets never collide."""
    slug = _UNSAFE.sub("_", target_key).strip("._")[:60] or "target"
    digest = hashlib.sha256(target_key.encode("utf-8")).hexdigest()[:10]
    return f"{slug}-{digest}.json"


def storable(line: str) -> str | None:
    """The form of ``line`` that may be written to disk, or None for nothing.

    An AUTH command keeps its verb and mechanism but never its initial response (the redactor
    would hide it in the transcript, so the history must not keep it either).
    """
    if not line.strip():
        return None
    match = _AUTH_LINE.match(line)
    if match is not None:
        return f"{match.group(1)}{match.group(2) or ''}"
    return line


class HistoryStore:
    """Lines typed for one target, oldest first; saved after each addition.

    An empty ``target_key`` keeps history in memory only (nothing to name a file after).
    A missing or damaged file starts an empty history: losing history beats refusing to start.
    """

    def __init__(
        self, target_key: str, *, directory: Path | None = None, limit: int = HISTORY_LIMIT
    ) -> None:
        self.target_key = target_key
        self.limit = limit
        self._directory = directory
        self.entries: list[str] = self._load()

    @property
    def path(self) -> Path | None:
        """The JSON file backing this history, or None when kept in memory."""
        if not self.target_key:
            return None
        directory = self._directory or history_dir()
        return directory / safe_name(self.target_key)

    def _load(self) -> list[str]:
        path = self.path
        if path is None or not path.exists():
            return []
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return []
        lines = data.get("lines") if isinstance(data, dict) else None
        if not isinstance(lines, list):
            return []
        return [line for line in lines if isinstance(line, str)][-self.limit :]

    def add(self, line: str) -> bool:
        """Remember ``line`` (in its storable form); returns whether anything was added."""
        safe = storable(line)
        if safe is None:
            return False
        # Repeating the same command (NOOP, NOOP...) should not push real history out.
        if self.entries and self.entries[-1] == safe:
            return False
        self.entries.append(safe)
        del self.entries[: -self.limit]
        self.save()
        return True

    def save(self) -> None:
        """Write the file atomically; a read-only data directory only loses persistence."""
        path = self.path
        if path is None:
            return
        payload = json.dumps(
            {"target": self.target_key, "lines": self.entries}, ensure_ascii=False, indent=0
        )
        tmp: str | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".history-", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(payload)
            os.replace(tmp, path)
        except OSError:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
