"""Events the engine hands out: Reply, Closed, EnhancedCode and the NEED_DATA sentinel."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any, Final, Literal, NamedTuple

from ..values import Frozen
from .errors import shown_text

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


# Sets a field in __init__, past Frozen's refusal (an EnhancedCode is built as replies are read:
# a call a field is faster than Frozen._set's keyword loop).
_setattr = object.__setattr__


class EnhancedCode(Frozen):
    """An RFC 3463 status code ``class.subject.detail`` such as 5.7.8."""

    __slots__ = ("detail", "klass", "subject")
    klass: int
    subject: int
    detail: int

    def __init__(self, klass: int, subject: int, detail: int) -> None:
        _setattr(self, "klass", klass)
        _setattr(self, "subject", subject)
        _setattr(self, "detail", detail)

    def __str__(self) -> str:
        return f"{self.klass}.{self.subject}.{self.detail}"


class Reply(NamedTuple):
    """One complete (possibly multi-line) server reply.

    Immutable. A named tuple because the engine builds one per reply and that is its hot path:
    building one costs about half what a frozen dataclass does, and reading a field is a C-level
    index. It compares and hashes field by field; ``reply._replace(code=...)`` makes a changed
    copy. Being a tuple, it also unpacks and indexes; use the field names.
    """

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
    #: True when the command answered still owes further replies after this one: LMTP's
    #: per-recipient replies to the message (all but the last), or a raw send read as several
    #: commands (all but the last line's). False once the connection closed.
    more: bool = False
    #: True when this reply closed the conversation: any 421, or a 221 to QUIT. The engine is
    #: CLOSED from this reply on; later replies are unsolicited.
    closes: bool = False
    #: The kind of command the engine matched this reply to (``Kind``): a raw send's is the one
    #: read from its bytes, so a raw XCLIENT answers as XCLIENT. None when unsolicited.
    kind: str | None = None
    #: LMTP, after the data: the address of the accepted RCPT this reply answers for (RFC 2033
    #: §4.2: one reply per accepted recipient, in RCPT order). None otherwise, or when that
    #: RCPT went as raw bytes.
    recipient: str | None = None
    #: A reply that came while the message was still open (verbatim content or an end-of-data
    #: variant without <CRLF>.<CRLF>): the server took another sequence as the end of the data
    #: (SMTP smuggling). The last bytes sent before it (``data.MAX_END_OF_DATA`` at most:
    #: enough for any END_OF_DATA_VARIANTS entry, which ``data.end_variant`` names), which is
    #: all the client knows of where the server cut. None for every other reply.
    ended_by: bytes | None = None

    @property
    def text_lines(self) -> tuple[str, ...]:
        """Each line's text, UTF-8 decoded with replacement characters; never raises. For
        parsing and JSON; a view shows :attr:`shown_lines`."""
        return tuple(line.decode("utf-8", "replace") for line in self.lines)

    @property
    def shown_lines(self) -> tuple[str, ...]:
        """Each line's text for a view: undecodable bytes kept for the sanitizer to show as
        ``\\xNN`` (:func:`~smtpscope.protocol.errors.shown_text`); pass it through ``visible``."""
        return tuple(shown_text(line) for line in self.lines)

    @property
    def shown_summary(self) -> str:
        """Code and text on one line, for a message that quotes the reply (pass it through
        ``visible``): lines joined by a space, each after the first without the enhanced code
        it repeats (RFC 2034 §4), so ``535-5.7.8 Bad`` / ``535 5.7.8 credentials`` reads
        ``535 5.7.8 Bad credentials``."""
        lines = self.shown_lines
        if self.enhanced is not None and len(lines) > 1:
            code = f"{self.enhanced} "
            lines = (lines[0], *(ln[len(code):].lstrip(" ") if ln.startswith(code) else ln
                                 for ln in lines[1:]))
        return f"{self.code} {' '.join(lines)}".rstrip()

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


#: ``tuple.__new__`` bound for Reply: builds one from a ready tuple of all its fields without
#: the generated ``__new__`` (keyword handling, defaults). For the engine's hot path only.
_tuple_new: Any = tuple.__new__


def make_reply(
    code: int,
    lines: tuple[bytes, ...],
    raw: bytes,
    enhanced: EnhancedCode | None,
    warnings: tuple[str, ...],
    unsolicited: bool,
    command: Command | None,
    expected: bool | None,
    more: bool = False,
    closes: bool = False,
    kind: str | None = None,
    recipient: str | None = None,
    ended_by: bytes | None = None,
) -> Reply:
    """Build a Reply from every field, positionally and without defaults: the engine's one
    constructor helper (the generated ``Reply(...)`` is for everybody else)."""
    reply: Reply = _tuple_new(Reply, (code, lines, raw, enhanced, warnings, unsolicited, command,
                                      expected, more, closes, kind, recipient, ended_by))
    return reply


class Closed(Frozen):
    """The server closed the connection; ``partial`` holds bytes of an unfinished reply."""

    __slots__ = ("partial",)
    partial: bytes

    def __init__(self, partial: bytes = b"") -> None:
        self._set(partial=partial)


Event = Reply | Closed
