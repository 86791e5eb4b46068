"""The --size limit as RFC 1870 counts a message, and the one reply for a message over it.

aiosmtpd counts DATA as it arrives on the wire, stuffing dots included, and refuses an
oversized message without an enhanced status code. RFC 1870 3 counts "the number of octets,
including CR-LF pairs, but not the SMTP DATA command's terminating dot or doubled quoting
dots", so a message exactly at the limit with lines that start with "." must be taken.
:class:`MessageSize` counts that way; :class:`SizeLimitMixin` judges each message by it and
keeps aiosmtpd's own limit only as a bound on memory.

aiosmtpd also refuses a whole message ("500 Line too long") for one content line over 1000
octets, where RFC 5321 4.5.3.1.6 makes 1000 the least a server must take, not a most to refuse
at, and Postfix stores it. :class:`SizeLimitMixin` lets a DATA line run to 1 MiB (or --size);
command lines keep aiosmtpd's limit, and the live view still warns about such a line.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from aiosmtpd.smtp import syntax

if TYPE_CHECKING:
    from smtpscope.server.context import ServerContext

# RFC 1870 6 words, RFC 3463 X.3.4 "message too big for system" (Postfix: 552 5.3.4), for
# MAIL's SIZE= and for the message itself.
SIZE_EXCEEDED = "552 5.3.4 Message size exceeds fixed maximum message size"
# A content line is bounded, so one line without an end cannot take the server's memory
# (aiosmtpd holds a line whole, however large --size is): a thousand times RFC 5321's 1000
# octets, more than any real client writes. Past it aiosmtpd refuses the message, "500 Line
# too long".
LINE_BOUND = 2**20


def stuffed_bound(limit: int) -> int:
    """The most wire octets a message within ``limit`` can take in DATA.

    A stuffing dot adds one octet to a line of at least three (``.`` CR LF), so the wire
    holds at most a third more; past this bound the message is over the limit for sure.
    """
    return limit + limit // 3


def declared_size(options: list[str]) -> int | None:
    """The SIZE= value among MAIL's parameters, or None without one.

    Raises ValueError for a value that is not ASCII digits (RFC 1870 ``size-value``):
    aiosmtpd's check, ``str.isdigit``, lets other scripts' digits such as "²" through.
    """
    for option in options:
        keyword, _, value = option.partition("=")
        if keyword.upper() == "SIZE":
            if not (value.isascii() and value.isdigit()):
                raise ValueError(f"SIZE={value}")
            return int(value)
    return None


class MessageSize:
    """Counts one message's DATA as RFC 1870 3 does, from the pieces aiosmtpd reads.

    A piece is a line up to CRLF, or a fragment aiosmtpd drained from a line longer than its
    buffer; as for aiosmtpd, only a whole ``.`` CR LF line at the start of a line ends DATA.
    """

    def __init__(self) -> None:
        self.octets = 0
        self.over = False  # past --size: no longer stored, only counted
        self._line_start = True  # the next piece begins a line

    def feed(self, piece: bytes) -> bool:
        """Count one piece; True when it is the end-of-data line (which is not counted)."""
        if self._line_start and piece == b".\r\n":
            return True
        stuffing = self._line_start and piece.startswith(b".")
        self.octets += len(piece) - stuffing
        self._line_start = piece.endswith(b"\r\n")
        return False


class SizeLimitMixin:
    """--size for aiosmtpd's SMTP class: SIZE= on MAIL and the message, refused with 5.3.4.

    The reply for an oversized message is decided when its end-of-data line is read, held in
    :attr:`refusal`; the handler returns it instead of storing, and ``ScopeSMTP.push`` sends it
    in place of aiosmtpd's own reply when aiosmtpd refused the message itself.
    """

    ctx: ServerContext
    data_size_limit: int | None
    line_length_limit: int  # aiosmtpd's: its StreamReader's limit, and its DATA line check
    _reader: asyncio.StreamReader
    tap_note: Any  # ScopeSMTP's; a stub here would shadow it in the MRO
    tap: Any  # ScopeSMTP's SessionTap, or None
    _message: MessageSize | None = None  # the DATA being read
    refusal: str | None = None  # the reply that ends this DATA, decided while reading it

    @contextlib.contextmanager
    def _size_limit(self, limit: int | None) -> Iterator[None]:
        """aiosmtpd's ``data_size_limit`` for one command; EHLO still advertises --size."""
        saved, self.data_size_limit = self.data_size_limit, limit
        try:
            yield
        finally:
            self.data_size_limit = saved

    @contextlib.contextmanager
    def _line_limit(self, limit: int) -> Iterator[None]:
        """Content lines up to ``limit`` octets for one DATA; commands keep aiosmtpd's limit.

        aiosmtpd's line limit is its StreamReader's (``_limit``, read at each ``readuntil``)
        and the length it checks each DATA line against.
        """
        reader = self._reader
        saved = reader._limit  # type: ignore[attr-defined]
        reader._limit = self.line_length_limit = limit  # type: ignore[attr-defined]
        try:
            yield
        finally:
            reader._limit = saved  # type: ignore[attr-defined]
            del self.line_length_limit  # the class attribute again

    @syntax("MAIL FROM: <address>", extended=" [SP <mail-parameters>]")
    async def smtp_MAIL(self, arg: str) -> None:
        # aiosmtpd refuses SIZE= over the limit without an enhanced code; the handler does it.
        with self._size_limit(None):
            await super().smtp_MAIL(arg)  # type: ignore[misc]

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        # aiosmtpd's limit counts stuffing dots: here it only bounds the memory a message may
        # take, and the end of data is judged on the RFC 1870 count (count_data).
        # A line is bounded by LINE_BOUND, or by a smaller message bound: past that the message
        # is refused for its size (552 5.3.4) whatever its lines.
        limit = self.ctx.config.size
        bound = stuffed_bound(limit) if limit else None
        self._message = MessageSize()
        try:
            with self._size_limit(bound), self._line_limit(min(bound or LINE_BOUND, LINE_BOUND)):
                await super().smtp_DATA(arg)  # type: ignore[misc]
        finally:
            self._message, self.refusal = None, None

    @property
    def in_data(self) -> bool:
        """DATA was answered 354 (or is about to be) and its end has not been read."""
        return self._message is not None

    def count_data(self, piece: bytes) -> None:
        """Count a piece aiosmtpd read; at the end of data, refuse a message over --size.

        Once the count passes --size, nothing more of the message is kept: what aiosmtpd
        holds is dropped (see :meth:`_stop_storing`), and the rest is read and counted only.
        """
        if self._message is None:
            return
        limit = self.ctx.config.size
        if not self._message.feed(piece):
            if limit and self._message.octets > limit and not self._message.over:
                self._stop_storing(limit)
            return
        octets = self._message.octets
        self._message = None
        if limit and octets > limit:
            self.tap_note(f"message not stored: {octets} octets (RFC 1870 count, without "
                          f"stuffing dots) exceed the --size limit of {limit}")
            self.refusal = SIZE_EXCEEDED

    def _stop_storing(self, limit: int) -> None:
        """The message just passed --size: keep none of it, but read on to its end.

        aiosmtpd (1.4.6) checks each whole DATA line against ``line_length_limit`` while it
        still records; a line over it empties what was recorded and records nothing more
        until the end of data, where aiosmtpd refuses with "500 Line too long" (the handler
        is never called, so nothing is stored). A limit of 0 puts this very line over it; the
        reply gives way to :attr:`refusal`, set at the end of data. The live transcript keeps
        no more content either.
        """
        assert self._message is not None
        self._message.over = True
        self.line_length_limit = 0  # _line_limit restores aiosmtpd's after this DATA
        if self.tap is not None:
            self.tap.stop_keeping_content()
        self.tap_note(f"message over the --size limit of {limit} octets: no longer kept, "
                      "read to the end of data to be refused (552 5.3.4)")
