"""Reply framing: turn the server's byte stream into complete SMTP replies."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from itertools import islice
from typing import Final

from .errors import RemoteProtocolError, line_too_long, not_a_reply, show_bytes, too_many_lines
from .events import Reply
from .reply_memory import (
    DOT,
    FINALS,
    GROUPS,
    HEAD,
    HEADS,
    MEMO_GROUP,
    MEMO_LINE,
    Frame,
    learn_head,
    parse_enhanced,
)

__all__ = [
    "MAX_LINE_LENGTH",
    "MAX_REPLY_LINES",
    "Frame",
    "ReplyReader",
    "parse_enhanced",
    "parse_reply",
]

#: Longest reply line we accept, counting its line ending. RFC 5321 §4.5.3.1.5 limits a reply
#: line to 512 octets including CRLF, but real servers exceed it (long 250 lines from Exchange,
#: SIZE/XCLIENT lists, base64 334 challenges for GSSAPI can be several KiB). Like h11's
#: DEFAULT_MAX_INCOMPLETE_EVENT_SIZE (16 KiB, after Apache/nginx header limits) we pick a
#: generous but bounded value so a hostile peer cannot make us buffer without end.
MAX_LINE_LENGTH: Final = 64 * 1024

#: Most lines one multi-line reply may have. An EHLO reply has a few dozen; HELP text a few
#: hundred at most. Bounds memory when a server streams "250-" forever.
MAX_REPLY_LINES: Final = 10_000

_LF: Final = b"\n"
_CR: Final = b"\r"
_DASH: Final = b"-"
_SPACE: Final = b" "
_CRLF: Final = b"\r\n"

def _build(lines: list[bytes]) -> Frame:
    """Assemble the lines of one reply (without their LF) into a Frame."""
    first = lines[0]
    codeb = first[:3]
    if len(codeb) != 3 or not codeb.isdigit():
        raise not_a_reply(first)
    warnings: list[str] | None = None
    texts: list[bytes] = []
    bare_lf = False
    for ln in lines:
        if ln[-1:] == _CR:
            ln = ln[:-1]
        else:
            bare_lf = True
        if ln[:3] != codeb:
            other = ln[:3]
            if len(other) != 3 or not other.isdigit():
                raise not_a_reply(ln)
            if warnings is None:
                warnings = []
            warnings.append(
                f"inconsistent codes in one reply: {codeb.decode()} then {other.decode()}"
            )
        sep = ln[3:4]
        if sep in (_SPACE, _DASH):
            texts.append(ln[4:])
        elif not sep:
            texts.append(b"")
        elif sep.isdigit():
            raise not_a_reply(ln)
        else:
            if warnings is None:
                warnings = []
            warnings.append(f"no space after reply code: {show_bytes(ln[:8])}")
            texts.append(ln[3:])
    code = int(codeb)
    raw = b"\n".join(lines) + _LF
    enhanced = parse_enhanced(texts[0]) if texts[0][1:2] == b"." else None
    if bare_lf or enhanced is not None or not 200 <= code < 600:
        if warnings is None:
            warnings = []
        if bare_lf:
            warnings.append("bare LF line ending (RFC 5321 requires CRLF)")
        if not 200 <= code < 600:
            warnings.append(f"reply code {code} is outside the 2xx-5xx range of RFC 5321")
        if enhanced is not None and enhanced.klass != code // 100:
            warnings.append(
                f"enhanced code {enhanced} does not match the class of reply code {code}"
            )
    return (code, tuple(texts), raw, enhanced, tuple(warnings) if warnings else ())


def _one_code(group: list[bytes], start: int) -> bool:
    """The lines of one multi-line reply from ``start`` on all carry its first line's code,
    and there are not too many of them (else the careful path must look)."""
    codeb = group[0][:3]
    return len(group) <= MAX_REPLY_LINES and all(
        ln[:3] == codeb for ln in islice(group, start, None))


class ReplyReader:
    """Incremental reply framer: feed bytes, pull Frames.

    Complete lines are split off once, when their bytes arrive (one ``bytes.split`` per
    chunk); only the unterminated tail stays in a buffer, so no byte is scanned twice and
    byte-at-a-time feeding stays linear. Framing is pure (it knows nothing of the session), so
    all complete lines are framed in one tight loop and queued; an error found on the way is
    raised only after the replies before it have been handed out.

    Speed: a chunk is split on CRLF; when that found every LF (a C-level count tells) the
    lines need no per-line line-ending check, else the chunk takes the careful path. Line
    lengths are looked at only when a chunk was long enough to hold an overlong line.
    """

    __slots__ = (
        "_buf", "_carry", "_clean", "_cur", "_eof", "_error", "_frames", "_lines", "_long",
    )

    def __init__(self) -> None:
        self._buf = bytearray()
        # Complete lines not yet framed. When _clean they were split on CRLF (no CR left);
        # otherwise on LF, each keeping its CR if it had one.
        self._lines: list[bytes] = []
        self._clean = True
        # Some of _lines may be over MAX_LINE_LENGTH: they came in a piece of data that long
        # (a line is never longer than the bytes it came in, so short pieces need no look).
        self._long = False
        self._frames: deque[Frame] = deque()
        self._cur: list[bytes] = []
        # Lines of an unfinished multi-line reply from a clean batch (CR already removed).
        self._carry: list[bytes] = []
        self._eof = False
        self._error: RemoteProtocolError | None = None

    @property
    def eof(self) -> bool:
        return self._eof

    @property
    def frames(self) -> deque[Frame]:
        """Framed replies not yet taken; the connection pops from it directly (hot path)."""
        return self._frames

    def receive_data(self, data: bytes) -> None:
        """Queue bytes from the server; ``b""`` records end of file."""
        if not data:
            self._eof = True
            return
        if _LF not in data:
            self._buf += data
            return
        if self._buf:
            self._buf += data
            data = bytes(self._buf)
            self._buf.clear()
        if len(data) > MAX_LINE_LENGTH - 2:
            self._long = True
        # Split on CRLF; the chunk is clean (no bare LF) when that found every LF. (Cheaper
        # than counting CRLFs: a two-byte count costs more than the split.)
        parts = data.split(_CRLF)
        clean = len(parts) - 1 == data.count(_LF)
        if not clean:
            parts = data.split(_LF)
        tail = parts.pop()
        if tail:
            self._buf += tail
        lines = self._lines
        if not lines:
            self._lines = parts
            self._clean = clean
        elif clean == self._clean:
            lines.extend(parts)
        elif self._clean:
            # Mixed batches are rare: fall back to the LF-split form for all of them.
            self._lines = [ln + _CR for ln in lines]
            self._lines.extend(parts)
            self._clean = False
        else:
            lines.extend([p + _CR for p in parts])

    def next_frame(self) -> Frame | None:
        """Return the next complete reply, or None when more bytes are needed."""
        frames = self._frames
        if frames:
            return frames.popleft()
        if self._lines and self._error is None:
            if self._clean:
                self._frame_clean()
            else:
                if self._carry:
                    self._cur.extend(ln + _CR for ln in self._carry)
                    self._carry = []
                self._frame_lines(self._lines)
            if frames:
                return frames.popleft()
        if self._error is not None:
            # A framing error leaves the stream position unknown: stay broken.
            raise self._error
        if len(self._buf) >= MAX_LINE_LENGTH:
            self._error = line_too_long(len(self._buf), MAX_LINE_LENGTH, ended=False)
            raise self._error
        return None

    def _frame_clean(self) -> None:
        """Frame CRLF-split lines; anything unusual goes through the careful path.

        Lines of a multi-line reply still arriving wait in ``_carry`` and are not scanned again
        when more lines come (a server trickling a long reply line by line stays linear).
        """
        lines = self._lines
        long, self._long = self._long, False
        if self._cur or (long and max(map(len, lines)) > MAX_LINE_LENGTH - 2):
            self._careful(lines)
            return
        self._lines = []
        it = iter(lines)
        append = self._frames.append
        if self._carry:
            frame = self._finish_group(it)
            if frame is None:
                return
            append(frame)
        known = FINALS.get
        for line in it:
            # Fast path: a final line seen before is the same reply again (a frame is
            # immutable, so the very same tuple can be handed out twice).
            frame = known(line)
            if frame is None:
                frame = self._frame_line(line, it)
                if frame is None:
                    return
            append(frame)

    def _frame_line(self, line: bytes, it: Iterator[bytes]) -> Frame | None:
        """Frame the reply that starts with CRLF-split ``line`` and is not in ``FINALS``,
        taking a multi-line reply's further lines from ``it``.

        None when it cannot be framed here: the reply is unfinished (its lines are carried
        until more bytes come) or unusual, and then the careful path frames ``line`` and all
        of ``it`` into ``frames`` (an error it meets is raised by ``next_frame``, after them).
        """
        head = HEADS.get(line[:HEAD] if line[5:6] == DOT else line[:4])
        if head is None:
            if line[3:4] == _DASH:
                if not line[:3].isdigit():
                    self._careful([line, *it])  # the careful path reports it
                    return None
                self._carry = [line]
                return self._finish_group(it)
            head = learn_head(line[:HEAD] if line[5:6] == DOT else line[:4])
            if head is None:
                # Something unusual (no text, odd code, class mismatch): careful path.
                self._careful([line, *it])
                return None
        frame = (head[0], (line[4:],), line + _CRLF, head[1], ())
        if len(line) <= MEMO_LINE:
            FINALS.remember(line, frame)
        return frame

    def _finish_group(self, it: Iterator[bytes]) -> Frame | None:
        """Go on with the multi-line reply in ``_carry``: its frame once the final line comes,
        else None (unfinished: carried on; or unusual: handed to the careful path)."""
        group = self._carry
        self._carry = []
        checked = len(group)  # carried lines were checked when carried
        append = group.append
        for line in it:
            if line[3:4] == _DASH:
                # Each line's code is compared once the reply is whole, and only when it is
                # not one remembered (those were compared when first framed).
                append(line)
                continue
            head = HEADS.get(line[:HEAD] if line[5:6] == DOT else line[:4])
            if head is None:
                head = learn_head(line[:HEAD] if line[5:6] == DOT else line[:4])
                if head is None:
                    self._careful([*group, line, *it])
                    return None
            append(line)
            raw = _CRLF.join(group) + _CRLF
            frame = GROUPS.get(raw)
            if frame is None:
                if not _one_code(group, 0):
                    self._careful([*group, *it])  # the careful path reports it
                    return None
                texts = tuple([ln[4:] for ln in group])
                # Per RFC 2034 every line repeats the enhanced code; the first line's counts.
                enhanced = parse_enhanced(texts[0]) if texts[0][1:2] == b"." else None
                if enhanced is not None and enhanced.klass != head[0] // 100:
                    self._careful([*group, *it])
                    return None
                frame = (head[0], texts, raw, enhanced, ())
                if len(raw) <= MEMO_GROUP:
                    GROUPS.remember(raw, frame)
            return frame
        # An unfinished multi-line reply keeps its lines for when the rest arrives, once they
        # are checked (a bad line is reported now, not when the reply ends).
        if not _one_code(group, checked):
            self._careful(group)
            return None
        self._carry = group
        return None

    def _careful(self, lines: list[bytes]) -> None:
        """Hand CRLF-split ``lines`` (after any carried ones) to the careful path."""
        if self._carry:
            self._cur.extend(ln + _CR for ln in self._carry)
            self._carry = []
        self._frame_lines([ln + _CR for ln in lines])

    def _frame_lines(self, lines: list[bytes]) -> None:
        """The careful path: LF-split lines (CR kept), every check and warning."""
        self._lines = []
        self._clean = True
        append = self._frames.append
        cur = self._cur
        for line in lines:
            try:
                if len(line) >= MAX_LINE_LENGTH:
                    raise line_too_long(len(line) + 1, MAX_LINE_LENGTH, ended=True)
                cur.append(line)
                if line[3:4] != _DASH:
                    append(_build(cur))
                    cur = self._cur = []
                else:
                    if not line[:3].isdigit():
                        raise not_a_reply(line)
                    if len(cur) > MAX_REPLY_LINES:
                        raise too_many_lines(MAX_REPLY_LINES)
            except RemoteProtocolError as exc:
                self._error = exc
                return

    def unparsed(self) -> bytes:
        """Every byte not yet returned as a reply, left in place (a reply still arriving)."""
        out = b"".join(f[2] for f in self._frames)
        out += b"".join(p + _LF for p in self._cur)
        out += b"".join(p + _CRLF for p in self._carry)
        end = _CRLF if self._clean else _LF
        return out + b"".join(p + end for p in self._lines) + bytes(self._buf)

    def take_unparsed(self) -> bytes:
        """Remove and return every byte not yet returned as a reply (for STARTTLS)."""
        out = self.unparsed()
        self._frames.clear()
        self._cur = []
        self._carry = []
        self._lines = []
        self._clean = True
        self._long = False
        self._buf.clear()
        return out

    def has_unparsed(self) -> bool:
        return bool(self._frames or self._cur or self._carry or self._lines or self._buf)


def parse_reply(data: bytes) -> Reply:
    """Parse exactly one complete reply (e.g. from a recording); RemoteProtocolError if not."""
    reader = ReplyReader()
    reader.receive_data(data)
    frame = reader.next_frame()
    if frame is None:
        raise RemoteProtocolError(f"incomplete reply: {show_bytes(data)}")
    if reader.has_unparsed():
        raise RemoteProtocolError(f"more than one reply in: {show_bytes(data)}")
    code, lines, raw, enhanced, warnings = frame
    return Reply(code, lines, raw, enhanced, warnings)
