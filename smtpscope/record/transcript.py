"""Transcript entries: the one stream of events that every view, file and export reads."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Literal

Direction = Literal["client", "server", "local"]

# What an entry is. "reply" and "command" are protocol lines; "content" is message data after
# 354 or a BDAT chunk; "raw" is an off-script send; "tls" marks a TLS boundary; "note",
# "warning" and "error" are smtpscope's own words, never the peer's.
KINDS = frozenset({"reply", "command", "content", "raw", "note", "warning", "error", "tls"})


@dataclass(frozen=True, slots=True)
class Entry:
    """One transcript entry, as shown on screen and written to a recording."""

    seq: int
    mono: float
    wall: float
    direction: Direction
    kind: str
    raw: bytes
    text: str
    reply: dict[str, Any] | None = None
    tls: bool = False
    off_script: bool = False
    notes: tuple[str, ...] = ()
    latency: float | None = None
    redacted: bool = False
    info: dict[str, Any] | None = None  # structured extras, e.g. TLS details on a "tls" entry

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown entry kind {self.kind!r}")
        if self.direction not in ("client", "server", "local"):
            raise ValueError(f"unknown direction {self.direction!r}")

    @property
    def code(self) -> int | None:
        """The reply code, for reply entries."""
        return None if self.reply is None else int(self.reply["code"])

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict; raw bytes travel as base64 so nothing is lost."""
        out: dict[str, Any] = {
            "seq": self.seq,
            "mono": round(self.mono, 6),
            "wall": round(self.wall, 6),
            "dir": self.direction,
            "kind": self.kind,
            "text": self.text,
            "raw": base64.b64encode(self.raw).decode("ascii"),
        }
        if self.reply is not None:
            out["reply"] = self.reply
        if self.tls:
            out["tls"] = True
        if self.off_script:
            out["off_script"] = True
        if self.notes:
            out["notes"] = list(self.notes)
        if self.latency is not None:
            out["latency"] = round(self.latency, 6)
        if self.redacted:
            out["redacted"] = True
        if self.info is not None:
            out["info"] = self.info
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Entry:
        """Rebuild an entry from :meth:`to_json` output; raises ValueError on bad input."""
        try:
            return cls(
                seq=int(data["seq"]),
                mono=float(data["mono"]),
                wall=float(data["wall"]),
                direction=data["dir"],
                kind=str(data["kind"]),
                raw=base64.b64decode(data.get("raw", ""), validate=True),
                text=str(data.get("text", "")),
                reply=data.get("reply"),
                tls=bool(data.get("tls", False)),
                off_script=bool(data.get("off_script", False)),
                notes=tuple(str(n) for n in data.get("notes", ())),
                latency=None if data.get("latency") is None else float(data["latency"]),
                redacted=bool(data.get("redacted", False)),
                info=data.get("info"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a transcript entry: {exc}") from exc


Listener = Callable[[Entry], None]


@dataclass
class Transcript:
    """An append-only list of entries that numbers them, times them and tells listeners.

    Every entry passes through :attr:`redactor` before it is stored or shown, so that no
    listener (screen, file, export) ever receives a secret it would have to hide again.
    """

    redactor: Any = None  # smtpscope.record.redact.Redactor; Any to avoid an import cycle
    clock: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], float] = time.time
    entries: list[Entry] = field(default_factory=list)
    listeners: list[Listener] = field(default_factory=list)
    tls_active: bool = False

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener`` with every entry added from now on."""
        self.listeners.append(listener)

    def add(
        self,
        direction: Direction,
        kind: str,
        raw: bytes,
        text: str | None = None,
        **extra: Any,
    ) -> Entry:
        """Append an entry (redacted first) and tell every listener; returns the stored entry.

        ``secret_mask`` (keyword) marks a line the caller knows to be secret, with its label.
        """
        secret_mask = extra.pop("secret_mask", None)
        entry = Entry(
            seq=len(self.entries),
            mono=self.clock(),
            wall=self.wall_clock(),
            direction=direction,
            kind=kind,
            raw=raw,
            text=raw.decode("utf-8", errors="replace") if text is None else text,
            tls=extra.pop("tls", self.tls_active),
            **extra,
        )
        if self.redactor is not None:
            entry = self.redactor.apply(entry, secret_mask)
        self.entries.append(entry)
        for listener in list(self.listeners):
            listener(entry)
        return entry

    def note(self, text: str, kind: str = "note", **extra: Any) -> Entry:
        """Add smtpscope's own words (a note, warning or error) to the transcript."""
        return self.add("local", kind, text.encode("utf-8"), text, **extra)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)


def renumber(entries: list[Entry]) -> list[Entry]:
    """Return entries with consecutive sequence numbers (after filtering, for exports)."""
    return [replace(e, seq=i) for i, e in enumerate(entries)]
