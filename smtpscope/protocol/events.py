"""Events the engine hands out: Reply, Closed, EnhancedCode and the NEED_DATA sentinel."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:
    from .commands import Command

__all__ = ["NEED_DATA", "Closed", "EnhancedCode", "Event", "NeedData", "Reply", "make_reply"]


class _Sentinel(enum.Enum):
    NEED_DATA = "NEED_DATA"

    def __repr__(self) -> str:
        return self.value

    __str__ = __repr__


#: Returned by ``Connection.next_event()`` when more bytes must be received first.
NEED_DATA: Final = _Sentinel.NEED_DATA
NeedData = Literal[_Sentinel.NEED_DATA]


@dataclass(frozen=True, slots=True)
class EnhancedCode:
    """An RFC 3463 status code ``class.subject.detail`` such as 5.7.8."""

    klass: int
    subject: int
    detail: int

    def __str__(self) -> str:
        return f"{self.klass}.{self.subject}.{self.detail}"


@dataclass(frozen=True)
class Reply:
    """One complete (possibly multi-line) server reply."""

    code: int
    lines: tuple[bytes, ...]
    raw: bytes
    enhanced: EnhancedCode | None = None
    warnings: tuple[str, ...] = ()
    unsolicited: bool = False
    command: Command | None = None
    #: True when the code is one the answered command hopes for (success or an intermediate
    #: 334/354), False when it is not, None when there was nothing to compare with (greeting
    #: to an early talker, unsolicited reply, raw bytes the engine could not read).
    expected: bool | None = None

    @property
    def text_lines(self) -> tuple[str, ...]:
        """Each line's text, UTF-8 decoded with replacement characters; never raises."""
        return tuple(line.decode("utf-8", "replace") for line in self.lines)

    @property
    def text(self) -> str:
        """All text lines joined with newlines."""
        return "\n".join(self.text_lines)

    @property
    def reply_class(self) -> int:
        """First digit of the code: 2 success, 3 intermediate, 4 transient, 5 permanent."""
        return self.code // 100

    @property
    def is_success(self) -> bool:
        return 200 <= self.code < 300

    @property
    def is_intermediate(self) -> bool:
        return 300 <= self.code < 400

    @property
    def is_transient(self) -> bool:
        return 400 <= self.code < 500

    @property
    def is_permanent(self) -> bool:
        return 500 <= self.code < 600


_new = object.__new__


def make_reply(
    code: int,
    lines: tuple[bytes, ...],
    raw: bytes,
    enhanced: EnhancedCode | None,
    warnings: tuple[str, ...],
    unsolicited: bool,
    command: Command | None,
    expected: bool | None,
) -> Reply:
    """Build a Reply without the frozen-dataclass ``__init__`` (one call per field through
    ``object.__setattr__``), which costs about a microsecond: this is the engine's hot path.
    The object is an ordinary frozen Reply afterwards."""
    reply = _new(Reply)
    d = reply.__dict__
    d["code"] = code
    d["lines"] = lines
    d["raw"] = raw
    d["enhanced"] = enhanced
    d["warnings"] = warnings
    d["unsolicited"] = unsolicited
    d["command"] = command
    d["expected"] = expected
    return reply


@dataclass(frozen=True, slots=True)
class Closed:
    """The server closed the connection; ``partial`` holds bytes of an unfinished reply."""

    partial: bytes = b""


Event = Reply | Closed
