"""Message content in a session, after the 354: the whole message, or a line typed at a time.

The engine says whether what was sent ends the message (only <CRLF>.<CRLF> does, RFC 5321
§4.1.1.4) and so whether a reply is owed: verbatim content may leave the message open.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from smtpscope.protocol import Connection, MessageContent, Reply, Sent
from smtpscope.protocol.connection import MESSAGE_OPEN
from smtpscope.session_types import Stage

if TYPE_CHECKING:
    from smtpscope.record import Entry, Transcript


class ContentSteps:
    """Mixed into Session: sending message content."""

    conn: Connection
    transcript: Transcript
    last_client_entry: Entry | None

    if TYPE_CHECKING:  # provided by Session
        def _check_open(self) -> None: ...
        async def _owed(self, sent: Sent, stage: Stage,
                        data: bytes | None = None) -> tuple[Reply, ...]: ...

    async def deliver(self, content: MessageContent) -> tuple[Reply, ...]:
        """Send the message after ``354`` and await every reply: one, or one per LMTP recipient.

        ``()`` when the content left the message open (verbatim, or an end-of-data variant,
        without <CRLF>.<CRLF>): no reply is owed until the message ends (``conn.message_open``).
        """
        self._check_open()
        self.conn.send_content(content)
        sent = self.conn.last_sent
        assert sent is not None
        notes = ("sent verbatim: line endings and terminator exactly as written",) \
            if content.verbatim else ()
        self.last_client_entry = self.transcript.add(
            "client", "content", sent.data, off_script=content.verbatim,
            notes=(*notes, *self._open_note(sent)))
        return await self._owed(sent, Stage.DOT)

    async def send_content(self, content: MessageContent) -> Reply | None:
        """Send the message after ``354``: dot-stuffed with the terminator (or verbatim). None
        when it left the message open (see ``deliver``)."""
        replies = await self.deliver(content)
        return replies[-1] if replies else None

    async def send_data_line(self, line: bytes, *,
                             notes: tuple[str, ...] = ()) -> Reply | None:
        """One line of message content typed after a 354, sent exactly as given (the typist
        does any dot-stuffing); its reply is awaited when the engine says it ends the message
        (a ``.`` line after a complete one), else None comes back at once. ``notes`` are
        warnings about the line, recorded with it."""
        return (await self.send_data_lines(((line, notes),)))[1]

    async def send_data_lines(self, lines: Sequence[tuple[bytes, tuple[str, ...]]]
                              ) -> tuple[int, Reply | None]:
        """Lines of message content typed or pasted after a 354, each with its notes, as
        ``send_data_line`` sends one, but in one write: a pasted message of thousands of
        lines goes as fast as the connection takes it.

        They go up to and including the first that the engine says ends the message; that
        one's reply is awaited. Returns how many went, and that reply (None when none ended
        the message)."""
        self._check_open()
        chunks: list[bytes] = []
        sent: Sent | None = None
        for line, notes in lines:
            self.conn.send_raw(line, expect_reply=False)
            sent = self.conn.last_sent
            assert sent is not None
            self.transcript.add("client", "content", sent.data, notes=notes)
            chunks.append(sent.data)
            if sent.owes_reply:
                break
        if sent is None:
            return 0, None
        replies = await self._owed(sent, Stage.DOT, b"".join(chunks))
        return len(chunks), replies[-1] if replies else None

    def _open_note(self, sent: Sent) -> tuple[str, ...]:
        """The note for content that left the message open (none for anything else)."""
        return (MESSAGE_OPEN,) if not sent.owes_reply and self.conn.message_open else ()
