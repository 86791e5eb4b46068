"""Transcript entries: the one stream of events that every view, file and export reads."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from dataclasses import FrozenInstanceError, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from smtpscope.protocol.errors import shown_text

if TYPE_CHECKING:
    from smtpscope.protocol import Reply

Direction = Literal["client", "server", "local"]

# What an entry is. "reply" and "command" are protocol lines; "content" is message data after
# 354 or a BDAT chunk; "raw" is an off-script send; "tls" marks a TLS boundary; "note",
# "warning" and "error" are smtpscope's own words, never the peer's.
KINDS = frozenset({"reply", "command", "content", "raw", "note", "warning", "error", "tls"})

# The fields an entry line of a recording has (see :meth:`Entry.to_json`). Any other field was
# written by a newer smtpscope (same schema version, a field added): it rides in ``extra``.
ENTRY_FIELDS = frozenset({"seq", "mono", "wall", "dir", "kind", "text", "raw", "reply", "tls",
                          "off_script", "notes", "latency", "redacted", "info"})


def reply_fields(reply: Reply) -> dict[str, Any]:
    """The ``reply`` mapping of an entry: what the engine parsed, the same on every side."""
    fields: dict[str, Any] = {
        "code": reply.code,
        "enhanced": str(reply.enhanced) if reply.enhanced is not None else None,
        "lines": list(reply.text_lines),
        "warnings": list(reply.warnings),
        "unsolicited": reply.unsolicited,
    }
    if reply.recipient is not None:  # LMTP after the data: whom this reply is for
        fields["recipient"] = reply.recipient
    if reply.ended_by is not None:  # the server ended an open message: after these bytes
        fields["ended_by"] = reply.ended_by.decode("latin-1")  # one character a byte, exact
    return fields


# Reply mappings seen lately, by content: equal replies ("250 2.1.5 Ok" a hundred thousand
# times) share one dict. Entries are immutable, and so is what they share: never modify
# ``entry.reply``. Bounded, so a stream of unique replies costs no more than before.
_SHARED_REPLIES: dict[tuple[Any, ...], dict[str, Any]] = {}
_SHARED_MAX = 4096
_MISSING = object()
_UTF8 = "utf-8"


def _shared_reply(reply: dict[str, Any]) -> dict[str, Any]:
    """An equal reply mapping already held by another entry, else ``reply`` itself."""
    try:
        key = tuple([(k, tuple(v) if type(v) is list else v) for k, v in reply.items()])
        known = _SHARED_REPLIES.get(key)
    except TypeError:  # an unhashable value (a nested mapping from a recording): keep as is
        return reply
    if known is not None:
        return known
    if len(_SHARED_REPLIES) >= _SHARED_MAX:
        _SHARED_REPLIES.clear()
    _SHARED_REPLIES[key] = reply
    return reply


class Entry:
    """One transcript entry, as shown on screen and written to a recording.

    Immutable and compact, since a long session holds a million of them: the bytes are
    stored once and ``text`` is decoded from them on use (only a text that says something
    else, such as a redaction label, is kept); the rarely set fields share one slot.
    """

    __slots__ = ("_more", "direction", "kind", "latency", "mono", "raw", "reply", "seq", "tls",
                 "wall")

    seq: int
    mono: float
    wall: float
    direction: Direction
    kind: str
    raw: bytes
    reply: dict[str, Any] | None
    tls: bool
    latency: float | None
    # (text if not the decoded raw, off_script, notes, redacted, info, extra), or None when all
    # unset.
    _more: tuple[str | None, bool, tuple[str, ...], bool, dict[str, Any] | None,
                 dict[str, Any] | None] | None

    def __init__(
        self,
        seq: int,
        mono: float,
        wall: float,
        direction: Direction,
        kind: str,
        raw: bytes,
        text: str | None = None,
        reply: dict[str, Any] | None = None,
        tls: bool = False,
        off_script: bool = False,
        notes: tuple[str, ...] = (),
        latency: float | None = None,
        redacted: bool = False,
        info: dict[str, Any] | None = None,  # structured extras, e.g. TLS details
        extra: dict[str, Any] | None = None,  # a recording's fields not in ENTRY_FIELDS
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown entry kind {kind!r}")
        if direction not in ("client", "server", "local"):
            raise ValueError(f"unknown direction {direction!r}")
        if text is not None and text == raw.decode(_UTF8, "replace"):
            text = None
        more = None
        if extra is not None and not extra:
            extra = None
        if (text is not None or off_script or notes or redacted or info is not None
                or extra is not None):
            more = (text, off_script, tuple(notes), redacted, info, extra)
        # Each slot set through its own descriptor: object.__setattr__ would look the name
        # up first, a third of the cost of making an entry (a million of them in replay).
        _SET_SEQ(self, seq)
        _SET_MONO(self, mono)
        _SET_WALL(self, wall)
        _SET_DIRECTION(self, direction)
        _SET_KIND(self, kind)
        _SET_RAW(self, raw)
        _SET_REPLY(self, None if reply is None else _shared_reply(reply))
        _SET_TLS(self, tls)
        _SET_LATENCY(self, latency)
        _SET_MORE(self, more)

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    @property
    def text(self) -> str:
        """The entry as text: the bytes decoded (UTF-8, replacement characters), or the label
        shown instead of them (a redacted secret). For JSON and parsing; views show
        :attr:`shown_text`."""
        more = self._more
        if more is not None and more[0] is not None:
            return more[0]
        return self.raw.decode(_UTF8, "replace")

    @property
    def shown_text(self) -> str:
        """:attr:`text` for a view: undecodable bytes kept for the sanitizer to show as
        ``\\xNN`` (:func:`~smtpscope.protocol.errors.shown_text`); pass it through ``visible``."""
        more = self._more
        if more is not None and more[0] is not None:
            return more[0]
        return shown_text(self.raw)

    @property
    def plain(self) -> bool:
        """Whether the entry is its bytes and nothing more: no other text shown for them, no
        notes, flags, info or extras (a view can lay it out without looking for them)."""
        return self._more is None

    @property
    def off_script(self) -> bool:
        return self._more is not None and self._more[1]

    @property
    def notes(self) -> tuple[str, ...]:
        return () if self._more is None else self._more[2]

    @property
    def redacted(self) -> bool:
        return self._more is not None and self._more[3]

    @property
    def info(self) -> dict[str, Any] | None:
        """Structured extras, e.g. TLS details on a "tls" entry."""
        return None if self._more is None else self._more[4]

    @property
    def extra(self) -> dict[str, Any] | None:
        """Fields of a recording line that this smtpscope does not know (written by a newer
        one), kept as read so that ``replay --format json`` passes them on. Never shown: their
        meaning is unknown here, so no view reads them."""
        return None if self._more is None else self._more[5]

    @property
    def code(self) -> int | None:
        """The reply code, for reply entries."""
        return None if self.reply is None else int(self.reply["code"])

    def fields(self) -> dict[str, Any]:
        """Every field by name, as the constructor takes them."""
        return {
            "seq": self.seq, "mono": self.mono, "wall": self.wall, "direction": self.direction,
            "kind": self.kind, "raw": self.raw, "text": self.text, "reply": self.reply,
            "tls": self.tls, "off_script": self.off_script, "notes": self.notes,
            "latency": self.latency, "redacted": self.redacted, "info": self.info,
            "extra": self.extra,
        }

    def replace(self, **changes: Any) -> Entry:
        """A copy with ``changes`` applied (like ``dataclasses.replace``)."""
        values = self.fields()
        if "raw" in changes and "text" not in changes and (self._more is None
                                                            or self._more[0] is None):
            values["text"] = None  # a text decoded from the bytes follows the new bytes
        values.update(changes)
        return Entry(**values)

    def _key(self) -> tuple[Any, ...]:
        return (self.seq, self.mono, self.wall, self.direction, self.kind, self.raw, self.reply,
                self.tls, self.latency, self._more)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not Entry:
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash((self.seq, self.mono, self.wall, self.direction, self.kind, self.raw))

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.fields().items())
        return f"Entry({inner})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.fields(),))

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
        for key, value in (self.extra or {}).items():
            if key not in ENTRY_FIELDS:  # a known field is this entry's own, never replaced
                out[key] = value
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
                extra={k: v for k, v in data.items() if k not in ENTRY_FIELDS} or None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a transcript entry: {exc}") from exc


_SET_SEQ, _SET_MONO, _SET_WALL, _SET_DIRECTION, _SET_KIND, _SET_RAW, _SET_REPLY, _SET_TLS, \
    _SET_LATENCY, _SET_MORE = (getattr(Entry, name).__set__ for name in (
        "seq", "mono", "wall", "direction", "kind", "raw", "reply", "tls", "latency", "_more"))


def _rebuild(fields: dict[str, Any]) -> Entry:
    return Entry(**fields)


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

        ``secret_mask`` (keyword) marks a line the caller knows to be secret, with its label;
        ``public`` (keyword) one the caller computed and knows to carry no secret.
        """
        secret_mask = extra.pop("secret_mask", None)
        public = extra.pop("public", False)
        entry = Entry(
            seq=len(self.entries),
            mono=self.clock(),
            wall=self.wall_clock(),
            direction=direction,
            kind=kind,
            raw=raw,
            text=text,
            tls=extra.pop("tls", self.tls_active),
            **extra,
        )
        if self.redactor is not None:
            entry = self.redactor.apply(entry, secret_mask, public=public)
        self.entries.append(entry)
        for listener in list(self.listeners):
            listener(entry)
        return entry

    def note(self, text: str, kind: str = "note", **extra: Any) -> Entry:
        """Add smtpscope's own words (a note, warning or error) to the transcript.

        Server text quoted in them may hold undecodable bytes (:attr:`Entry.shown_text`):
        they go back into the stored bytes as they came.
        """
        return self.add("local", kind, text.encode("utf-8", "surrogateescape"), **extra)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)


def renumber(entries: list[Entry]) -> list[Entry]:
    """Return entries with consecutive sequence numbers (after filtering, for exports)."""
    return [e.replace(seq=i) for i, e in enumerate(entries)]
