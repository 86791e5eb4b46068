"""The server's view of the wire: client lines and server replies as transcript entries.

:class:`SessionTap` is fed the exact bytes aiosmtpd reads (one command line, one DATA line, or
a drained over-long fragment) and the exact reply lines it writes, and turns them into
:class:`~smtpscope.record.Entry` objects in a per-session :class:`~smtpscope.record.Transcript`,
with warnings for line-ending trouble. It does no I/O, so it is tested with plain bytes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from smtpscope.protocol import RemoteProtocolError, line_ending_report, parse_reply
from smtpscope.protocol.data import MAX_TEXT_LINE
from smtpscope.record import Entry, Transcript
from smtpscope.record.transcript import reply_fields
from smtpscope.sanitize import visible

# RFC 5321 4.5.3.1: a command line is at most 512 octets, CRLF included (text lines:
# protocol.data.MAX_TEXT_LINE).
MAX_COMMAND_LINE = 512
# Message content kept in the transcript; beyond it bytes are counted, not kept, so a client
# flooding DATA cannot exhaust memory. A message over --size keeps no more once past it.
TRANSCRIPT_CONTENT_LIMIT = 2**25 + 2**16
# Of a line longer than aiosmtpd's buffer (which aiosmtpd drains and refuses), the transcript
# keeps this much to show; the rest is counted only.
OVERLONG_KEPT = 2**16
# What all connections of one server together may keep in transcripts (content and over-long
# lines); past it, bytes are counted and noted, not kept.
GLOBAL_KEPT_LIMIT = 2**27


class MemoryBudget:
    """Bytes that every connection's transcript together may hold; shared by one server."""

    def __init__(self, limit: int = GLOBAL_KEPT_LIMIT) -> None:
        self.limit = limit
        self.used = 0

    def take(self, wanted: int) -> int:
        """Reserve up to ``wanted`` bytes; returns how many were granted."""
        granted = max(0, min(wanted, self.limit - self.used))
        self.used += granted
        return granted

    def give(self, amount: int) -> None:
        """Return bytes reserved with :meth:`take`."""
        self.used = max(0, self.used - amount)

# A line holding a lone dot (or a dot with a NUL before or after it), ended by any line
# ending: the end-of-data look-alikes SMTP smuggling relies on (hannob/smtpsmug's variants,
# "nullbefore" and "nullafter" included: C-string parsers stop at the NUL). The real
# terminator <CRLF>.<CRLF> cannot occur inside content.
_DOT_LINE = re.compile(rb"(\r\n|\n|\r)(\x00\.|\.\x00|\.)(\r\n|\n|\r)")


def _show(data: bytes) -> str:
    return visible(data.decode("latin-1"))


def command_warnings(line: bytes, length: int | None = None) -> list[str]:
    """Problems with one client command line, as aiosmtpd received it.

    ``length`` is the line's true size when only part of it was kept (an over-long line).
    """
    problems: list[str] = []
    body = line
    if line.endswith(b"\r\n"):
        body = line[:-2]
    elif line.endswith(b"\n"):
        body = line[:-1]
        problems.append(
            "bare LF ends this command line (no CR): RFC 5321 requires CRLF; aiosmtpd "
            "accepted LF alone as the line end, stricter servers wait or reject it"
        )
    else:
        problems.append("command line without any line ending (the connection ended first)")
    bare_cr = body.count(b"\r")
    if bare_cr:
        problems.append(
            f"bare CR inside the command line ({bare_cr}x): aiosmtpd strips trailing "
            "CRs, other servers may see a different command"
        )
    if b"\x00" in body:
        problems.append("NUL byte in the command line")
    length = len(line) if length is None else length
    if length > MAX_COMMAND_LINE:
        problems.append(
            f"command line is {length} octets, over the RFC 5321 limit of "
            f"{MAX_COMMAND_LINE} (CRLF included)"
        )
    return problems


def content_warnings(content: bytes) -> list[str]:
    """Problems with message content (dot-stuffed, as sent, without the terminator)."""
    problems: list[str] = []
    counts = line_ending_report(content)
    bare_lf = counts["bare_lf"]
    if bare_lf:
        problems.append(
            f"bare LF in the message content ({bare_lf}x): RFC 5321 requires CRLF line "
            "endings; aiosmtpd keeps the LF as part of the message text"
        )
    bare_cr = counts["bare_cr"]
    if bare_cr:
        problems.append(
            f"bare CR in the message content ({bare_cr}x): aiosmtpd keeps it as message text"
        )
    nul = counts["nul"]
    if nul:
        problems.append(f"NUL bytes in the message content ({nul}x)")
    # Content starts right after the CRLF that ended the DATA command.
    looks = sorted({_show(m.group(0)) for m in _DOT_LINE.finditer(b"\r\n" + content)})
    if looks:
        problems.append(
            f"end-of-data look-alike in the content ({', '.join(looks)}): aiosmtpd ends DATA "
            r"only at \r\n.\r\n, so it kept this as message text; a server that accepts it "
            "as the end would read what follows as new commands (SMTP smuggling)"
        )
    longest = max((len(line) + 2 for line in content.split(b"\r\n")), default=0)
    if longest > MAX_TEXT_LINE:
        problems.append(
            f"a content line is {longest} octets, over the RFC 5321 limit of {MAX_TEXT_LINE}"
        )
    return problems


def parse_reply_group(lines: list[bytes]) -> dict[str, Any]:
    """The ``reply`` mapping of an entry, parsed by the engine as the client's are.

    A group the engine cannot read as one reply (a fault wrote garbage, or the connection
    ended inside a multi-line reply) keeps its lines and says why in its warnings.
    """
    raw = b"".join(line + b"\r\n" for line in lines)
    try:
        return reply_fields(parse_reply(raw))
    except RemoteProtocolError as exc:
        first = lines[0][:3] if lines else b""
        return {
            "code": int(first) if len(first) == 3 and first.isdigit() else 0,
            "enhanced": None,
            "lines": [line[4:].decode("utf-8", "replace") for line in lines],
            "warnings": [f"not one complete reply: {exc}"],
            "unsolicited": False,
        }


class SessionTap:
    """Builds one session's transcript from what aiosmtpd reads and writes."""

    def __init__(self, transcript: Transcript, clock: Callable[[], float] = time.monotonic,
                 budget: MemoryBudget | None = None):
        self.transcript = transcript
        self._clock = clock
        self._budget = budget if budget is not None else MemoryBudget()
        self._held = 0  # bytes of the budget this connection holds, given back at the close
        self.held_peak = 0  # the most it held: big sessions return heap pages when they end
        self._reply_lines: list[bytes] = []
        self._partial = bytearray()  # the kept start of an over-long line (OVERLONG_KEPT at most)
        self._partial_dropped = 0  # the octets of it that were counted, not kept
        self._content: list[bytes] = []
        self._content_size = 0
        self._content_dropped = 0
        self._content_kept_limit = TRANSCRIPT_CONTENT_LIMIT  # for the message being read
        self._last_client: float | None = None
        self.in_data = False

    # -- client side -------------------------------------------------------------------------

    def _reserve(self, wanted: int) -> int:
        granted = self._budget.take(wanted)
        self._held += granted
        self.held_peak = max(self.held_peak, self._held)
        return granted

    def release(self) -> None:
        """Give this connection's share of the budget back (the connection ended)."""
        self._budget.give(self._held)
        self._held = 0
        self._partial = bytearray()
        self._content = []

    def drained(self, data: bytes) -> None:
        """Bytes aiosmtpd drained after a line overran its buffer; they join the next line.

        Only the first :data:`OVERLONG_KEPT` octets are kept (and only while the server-wide
        budget lasts): a client streaming an endless line costs a counter, not memory.
        """
        room = max(0, OVERLONG_KEPT - len(self._partial))
        keep = self._reserve(min(room, len(data)))
        if keep:
            self._partial += data[:keep]
        self._partial_dropped += len(data) - keep

    @property
    def overlong_pending(self) -> int:
        """Octets of an over-long line seen so far (kept or not)."""
        return len(self._partial) + self._partial_dropped

    def _take_partial(self, line: bytes) -> tuple[bytes, bool, int]:
        """The line with any drained start before it: (kept bytes, overran, octets not kept).

        Past what was kept, only the line's ending joins the kept start, so the entry still
        shows how the line ended; the octets in between are counted.
        """
        if not self._partial and not self._partial_dropped:
            return line, False, 0
        dropped = self._partial_dropped
        if dropped:  # the kept start, then the line's end: the middle was never kept
            ending = line[len(line.rstrip(b"\r\n")):]
            whole = bytes(self._partial) + ending
            dropped += len(line) - len(ending)
        else:
            whole = bytes(self._partial) + line
        self._partial, self._partial_dropped = bytearray(), 0
        return whole, True, dropped

    def client_line(self, line: bytes) -> Entry:
        """A command line (or an AUTH response line) exactly as read."""
        self.flush_content("a command line arrived before the end of DATA")
        line, overran, dropped = self._take_partial(line)
        self._last_client = self._clock()
        notes: tuple[str, ...] = ("longer than aiosmtpd's line buffer",) if overran else ()
        if dropped:
            notes += (f"{dropped} further octets of this line were counted, not kept",)
        # AUTH answers are masked by the transcript's Redactor, which follows the exchange.
        entry = self.transcript.add("client", "command", line, notes=notes)
        for problem in command_warnings(line, len(line) + dropped):
            self.warning(problem)
        return entry

    def data_line(self, line: bytes) -> Entry | None:
        """One line of DATA content; the entry is added when the terminator arrives."""
        line, _overran, dropped = self._take_partial(line)
        self._content_dropped += dropped
        self.in_data = True
        if line == b".\r\n":
            return self._emit_content(line, None)
        self._content_size += len(line)
        granted = self._reserve(len(line)) if self._content_size <= self._content_kept_limit \
            else 0
        if granted == len(line):
            self._content.append(line)
        else:
            self._budget.give(granted)
            self._held -= granted
            self._content_dropped += len(line)
        return None

    def stop_keeping_content(self) -> None:
        """Keep no more of this message's content (it is over --size); its octets are still
        counted, and the limit is back for the next message."""
        self._content_kept_limit = self._content_size

    def _emit_content(self, terminator: bytes, problem: str | None) -> Entry:
        body = b"".join(self._content)
        self._content, self._content_size, self.in_data = [], 0, False
        self._content_kept_limit = TRANSCRIPT_CONTENT_LIMIT
        self._last_client = self._clock()
        notes = [f"{len(body)} octets of content as sent (dot-stuffed)"]
        if self._content_dropped:
            notes.append(f"{self._content_dropped} further octets not kept in the transcript")
            self._content_dropped = 0
        entry = self.transcript.add("client", "content", body + terminator, notes=tuple(notes))
        for warning in content_warnings(body):
            self.warning(warning)
        if problem:
            self.warning(problem)
        return entry

    def flush_content(self, reason: str) -> None:
        """Emit DATA content that never got its terminator (connection lost, for example)."""
        if self.in_data or self._content:
            self._emit_content(b"", f"message content without end of data: {reason}")

    # -- server side -------------------------------------------------------------------------

    def server_line(self, line: bytes) -> Entry | None:
        """One reply line as written (without CRLF); a multi-line reply becomes one entry."""
        self._reply_lines.append(line)
        if line[:3].isdigit() and line[3:4] == b"-":  # RFC 5321 §4.2.1: more lines follow
            return None
        return self.flush_reply()

    def flush_reply(self) -> Entry | None:
        """Emit the reply lines gathered so far (also used for an unfinished multi-line reply)."""
        if not self._reply_lines:
            return None
        lines, self._reply_lines = self._reply_lines, []
        raw = b"".join(line + b"\r\n" for line in lines)
        text = "\n".join(line.decode("utf-8", "replace") for line in lines)
        latency = None if self._last_client is None else self._clock() - self._last_client
        return self.transcript.add(
            "server", "reply", raw, text, reply=parse_reply_group(lines), latency=latency
        )

    # -- smtpscope's own words ---------------------------------------------------------------

    def note(self, text: str) -> Entry:
        return self.transcript.note(text)

    def warning(self, text: str) -> Entry:
        return self.transcript.note(text, kind="warning")

    def error(self, text: str) -> Entry:
        return self.transcript.note(text, kind="error")

    def tls(self, text: str) -> Entry:
        """Mark the TLS boundary; entries from here on carry ``tls=True``."""
        self.transcript.tls_active = True
        return self.transcript.note(text, kind="tls")

    def after_starttls(self, plaintext: bytes, *, handshake_done: bool) -> None:
        """Report plaintext the client sent after STARTTLS, before any handshake.

        It is the STARTTLS command-injection pattern (CVE-2011-0411 and its family): a server
        that kept those bytes would run them as if they had come over TLS. aiosmtpd throws
        them away, as RFC 3207 section 4.2 requires, with the connection if the handshake failed.
        """
        fate = ("discarded at the handshake" if handshake_done
                else "discarded with the connection (the handshake did not complete)")
        self.warning(
            f"{len(plaintext)} octets of plaintext were pipelined after STARTTLS (the STARTTLS "
            f"command-injection pattern, CVE-2011-0411): {fate}, never executed: "
            f"{_show(plaintext[:80])}"
        )

    def connection_closed(self, leftover: bytes) -> None:
        """Close the session: flush what is pending and report unread client bytes."""
        self.flush_reply()
        self.flush_content("the connection closed during DATA")
        pending = bytes(self._partial[:80]) + leftover[:80]
        total = self.overlong_pending + len(leftover)
        if total:
            why = ("the connection closed before the server read them" if b"\n" in leftover
                   else "no line ending before the connection closed")
            self.warning(f"{total} octets from the client were never read as a line "
                         f"({why}): {_show(pending[:80])}")
        self.release()
