"""A scripted loopback SMTP server that keeps every byte it receives, for exact wire assertions.

It answers line by line as a real server does, so pipelined commands get their replies in
order; PIPELINING, 8BITMIME, SMTPUTF8 and SIZE are advertised or not as a test asks. After a
354 it reads message content up to <CRLF>.<CRLF> and answers 250.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Self


class LoopbackServer:
    """Start and stop on a free loopback port; subclasses answer clients in ``_client``."""

    port: int
    _server: asyncio.base_events.Server | None

    async def start(self) -> Self:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError


@dataclass
class WireServer(LoopbackServer):
    pipelining: bool = True
    eightbitmime: bool = True
    smtputf8: bool = False
    size: int | None = 10_000_000
    #: Advertise CHUNKING and take BDAT chunks (RFC 3030).
    chunking: bool = False
    #: Replies to RCPT for addresses containing this text are 550 (a rejected recipient).
    reject: str = "nobody@"
    #: Reply to DATA (354 normally; 554 to refuse the transaction).
    data_reply: str = "354 go ahead"
    #: Seconds to wait before each reply (to see lines queue up behind a slow server).
    delay: float = 0.0
    #: While set and not released, every reply waits for it: lines typed meanwhile stay
    #: queued however long the machine takes to handle the keys (a delay may run out first).
    hold: asyncio.Event | None = None
    #: Also end the data at a line of "." with a bare LF (what a server open to SMTP smuggling
    #: does; every line is read up to its LF, so "\n.\r\n" always ends it here).
    lf_end: bool = False
    received: bytearray = field(default_factory=bytearray)
    messages: list[bytes] = field(default_factory=list)
    chunks: list[bytes] = field(default_factory=list)  # BDAT chunks of the message so far
    port: int = 0
    _server: asyncio.base_events.Server | None = None

    def lines(self) -> list[bytes]:
        """What the client sent, one CRLF-terminated line each (content lines included)."""
        return bytes(self.received).splitlines(keepends=True)

    def commands(self) -> list[str]:
        """The command lines (not message content) as text, without CRLF."""
        return [line.decode("utf-8", "replace").rstrip("\r\n") for line in self._commands]

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._commands: list[bytes] = []

        async def send(*lines: str) -> None:
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.hold is not None:
                await self.hold.wait()
            writer.write(b"".join(line.encode() + b"\r\n" for line in lines))
            await writer.drain()

        writer.write(b"220 wire.test ESMTP\r\n")
        try:
            while line := await reader.readline():
                self.received += line
                self._commands.append(line)
                verb = line.split(b" ", 1)[0].split(b":", 1)[0].strip().upper()
                if verb == b"EHLO":
                    caps = ["wire.test", *(["8BITMIME"] if self.eightbitmime else []),
                            *(["SMTPUTF8"] if self.smtputf8 else [])]
                    if self.pipelining:
                        caps.append("PIPELINING")
                    if self.size:
                        caps.append(f"SIZE {self.size}")
                    if self.chunking:
                        caps.append("CHUNKING")
                    await send(*[f"250-{c}" for c in caps[:-1]], f"250 {caps[-1]}")
                elif verb == b"RCPT" and self.reject.encode() in line:
                    await send("550 5.1.1 no such user")
                elif verb == b"DATA":
                    await send(self.data_reply)
                    if self.data_reply.startswith("354"):
                        content = bytearray()
                        while chunk := await reader.readline():
                            self.received += chunk
                            if chunk == b".\r\n" or (self.lf_end and chunk == b".\n"):
                                break
                            content += chunk
                        self.messages.append(bytes(content))
                        await send("250 2.0.0 queued")
                elif verb == b"BDAT" and self.chunking:
                    size, *last = line.split()[1:]
                    chunk = await reader.readexactly(int(size))
                    self.received += chunk
                    self.chunks.append(chunk)
                    if last:
                        self.messages.append(b"".join(self.chunks))
                        self.chunks.clear()
                    await send("250 2.0.0 chunk ok")
                elif verb == b"QUIT":
                    await send("221 2.0.0 bye")
                    break
                elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP", b"HELO"):
                    await send("250 2.0.0 ok")
                else:
                    await send("500 5.5.2 what?")
        finally:
            writer.close()
