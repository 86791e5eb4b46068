"""Session against in-process servers: aiosmtpd with trustme certificates, and scripted peers."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import socket
import ssl
import struct
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller

from smtpscope.mx import Candidate
from smtpscope.protocol import INJECTION_WARNING, Data, MailFrom, MessageContent, Noop, RcptTo
from smtpscope.record import read_recording, to_text
from smtpscope.session import Session, SessionClosed, SessionError, SessionOptions, Stage

LOOPBACK = "127.0.0.1"
MESSAGE = b"Subject: local test\r\n\r\nhello over the loopback\r\n"
# What asyncio logs when a task or future dies with nobody looking at its exception.
ASYNCIO_LEAKS = ("never retrieved", "Future exception", "Task was destroyed", "Traceback")


# -- certificates ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_ctx(ca: trustme.CA) -> ssl.SSLContext:
    """A server context with a certificate for localhost and 127.0.0.1 from the trusted CA."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", LOOPBACK).configure_cert(ctx)
    return ctx


@pytest.fixture(scope="module")
def stranger_ctx() -> ssl.SSLContext:
    """A server context whose certificate comes from a CA the client was never given."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("localhost", LOOPBACK).configure_cert(ctx)
    return ctx


@pytest.fixture
def cafile(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


# -- aiosmtpd ---------------------------------------------------------------------------------


class Sink:
    """aiosmtpd handler that keeps every envelope it was given."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 2.0.0 Ok: kept"


def free_port() -> int:
    """A port nothing listens on right now (the kernel picked it, then we let it go)."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def aiosmtpd_server(handler: Sink, **kwargs: Any) -> Iterator[int]:
    """Run aiosmtpd in its own thread (Controller) on a fresh loopback port."""
    controller = Controller(handler, hostname=LOOPBACK, port=free_port(), **kwargs)
    controller.start()
    try:
        yield controller.port
    finally:
        # Controller.stop() stops its loop, then cancels the connection tasks and runs it for
        # about one more turn: a task needing more (or one a TLS handshake finishing in that
        # turn creates) stays pending in the closed loop, and is logged as destroyed when the
        # garbage collector reaches it, in whichever later test checks asyncio's log.
        asyncio.run_coroutine_threadsafe(_end_tasks(), controller.loop).result(timeout=30)
        controller.stop()


async def _end_tasks() -> None:
    """Cancel every other task of the running loop and wait until each has finished."""
    while tasks := asyncio.all_tasks() - {asyncio.current_task()}:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@pytest.fixture
def sink() -> Sink:
    return Sink()


@pytest.fixture
def plain_port(sink: Sink) -> Iterator[int]:
    with aiosmtpd_server(sink) as port:
        yield port


@pytest.fixture
def starttls_port(sink: Sink, server_ctx: ssl.SSLContext) -> Iterator[int]:
    with aiosmtpd_server(sink, tls_context=server_ctx, require_starttls=False) as port:
        yield port


@pytest.fixture
def implicit_port(sink: Sink, server_ctx: ssl.SSLContext) -> Iterator[int]:
    with aiosmtpd_server(sink, ssl_context=server_ctx) as port:
        yield port


@pytest.fixture
def stranger_starttls_port(sink: Sink, stranger_ctx: ssl.SSLContext) -> Iterator[int]:
    with aiosmtpd_server(sink, tls_context=stranger_ctx, require_starttls=False) as port:
        yield port


@pytest.fixture
def stranger_implicit_port(sink: Sink, stranger_ctx: ssl.SSLContext) -> Iterator[int]:
    with aiosmtpd_server(sink, ssl_context=stranger_ctx) as port:
        yield port


# -- scripted peers (raw asyncio servers) -----------------------------------------------------

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def scripted(script: Script) -> AsyncIterator[int]:
    """A one-off server in the test's own loop running ``script`` for each connection."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await script(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass  # the client went away first: not what these tests look at
        finally:
            writer.close()

    server = await asyncio.start_server(handle, LOOPBACK, 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()


async def greet_and_ehlo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                         ehlo: bytes = b"250-scripted.test\r\n250 PIPELINING\r\n") -> None:
    writer.write(b"220 scripted.test ESMTP\r\n")
    await writer.drain()
    line = await reader.readline()
    assert line.upper().startswith(b"EHLO")
    writer.write(ehlo)
    await writer.drain()


async def wait_until(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def assert_no_asyncio_leaks(caplog: pytest.LogCaptureFixture) -> None:
    gc.collect()  # "exception was never retrieved" is logged when the future is collected
    # aiosmtpd's own server-side futures (a refused handshake in an earlier test's server) can
    # be collected during this test; they are the peer's, not the session's.
    logged = "\n".join(
        r.getMessage() for r in caplog.records
        if r.name == "asyncio" and "TLSSetupException" not in r.getMessage()
    )
    for marker in ASYNCIO_LEAKS:
        assert marker not in logged, logged


def tls_entry(session: Session) -> Any:
    [entry] = [e for e in session.transcript if e.info is not None and "cipher" in e.info]
    return entry


async def send_one(session: Session, sink: Sink) -> None:
    """One message through the session; the sink must have it afterwards, byte for byte."""
    assert (await session.command(MailFrom("alice@example.test"))).code == 250
    assert (await session.command(RcptTo("bob@example.test"))).code == 250
    assert (await session.command(Data())).code == 354
    reply = await session.send_content(MessageContent(MESSAGE))
    assert reply.code == 250 and reply.text == "2.0.0 Ok: kept"
    [envelope] = sink.envelopes
    assert envelope.mail_from == "alice@example.test"
    assert envelope.rcpt_tos == ["bob@example.test"]
    assert envelope.original_content == MESSAGE


# -- plain, STARTTLS, implicit TLS --------------------------------------------------------------


async def test_plain_session_delivers(plain_port: int, sink: Sink) -> None:
    session = Session(SessionOptions(LOOPBACK, plain_port, security="plain"))
    try:
        greeting = await session.connect()
        assert greeting.code == 220
        assert (await session.ehlo()).code == 250
        assert session.tls is None
        await send_one(session, sink)
        assert (await session.quit()) is not None
    finally:
        await session.close()
    assert not any(e.tls for e in session.transcript)
    assert session.closed_reason is not None


async def test_connection_events_are_typed_for_swaks(plain_port: int, sink: Sink) -> None:
    """swaks' connection lines come from typed events, and the close after QUIT is said once."""
    from smtpscope.record.swaks import to_swaks

    session = Session(SessionOptions(LOOPBACK, plain_port, security="plain"))
    try:
        await session.connect()
        await session.ehlo()
        await session.quit()
    finally:
        await session.close()
    events = [e.info for e in session.transcript if e.info and "connection" in e.info]
    assert events == [
        {"connection": "connecting", "transport": "tcp", "to": LOOPBACK, "port": plain_port},
        {"connection": "connected", "transport": "tcp", "to": LOOPBACK, "port": plain_port},
        {"connection": "closed"},
    ]
    lines = to_swaks(session.transcript).splitlines()
    assert lines[:2] == [f"=== Trying {LOOPBACK}:{plain_port}...", f"=== Connected to {LOOPBACK}."]
    assert lines[-3:] == [" -> QUIT", lines[-2], "=== Connection closed with remote host."]
    assert lines[-2].startswith("<-  221")


async def test_secure_can_stop_right_after_the_handshake(starttls_port: int,
                                                         cafile: str) -> None:
    # swaks' TLS stop point: STARTTLS and the handshake, and no EHLO inside TLS yet.
    from smtpscope.conversation import Conversation, TLSMode

    session = Session(SessionOptions(LOOPBACK, starttls_port, security="starttls",
                                     cafile=cafile, server_hostname="localhost"))
    conv = Conversation(session, tls=TLSMode.STARTTLS)
    try:
        await conv.open()
        await conv.greet()
        secured = await conv.secure(greet_again=False)
        assert secured.started and secured.greeting is None and secured.starttls is not None
        assert session.tls is not None and session.tls.verified
        assert session.capabilities is None  # forgotten, and not asked again yet
        sent = [e.text.split()[0] for e in session.transcript if e.direction == "client"]
        assert sent == ["EHLO", "STARTTLS"]
        assert session.transcript.entries[-1].kind == "tls"  # the handshake is in the record
        again = await conv.greet_in_tls()
        assert conv.stage is Stage.EHLO_TLS and conv.greeting is again
        assert conv.secured is not None and conv.secured.greeting is again
        assert not session.capabilities.has("STARTTLS")
    finally:
        await session.close()


async def test_starttls_verified_against_test_ca(starttls_port: int, sink: Sink,
                                                 cafile: str) -> None:
    opts = SessionOptions(LOOPBACK, starttls_port, security="starttls", cafile=cafile,
                          server_hostname="localhost")
    session = Session(opts)
    try:
        await session.connect()
        await session.ehlo()
        assert session.capabilities.has("STARTTLS")
        reply = await session.starttls()
        assert reply.code == 220
        assert session.capabilities is None  # forgotten across the TLS boundary (RFC 3207)
        info = session.tls
        assert info is not None
        assert info.verified and not info.insecure and info.verify_error is None
        assert info.server_hostname == "localhost" and info.sni == "localhost"
        assert info.version.startswith("TLSv1.")
        assert "DNS:localhost" in info.peer_chain[0].san
        after = await session.ehlo()
        assert after.code == 250 and not session.capabilities.has("STARTTLS")
        await send_one(session, sink)
        await session.quit()
    finally:
        await session.close()
    entry = tls_entry(session)
    assert entry.kind == "tls" and entry.info["verified"] is True
    assert "certificate verified for localhost" in entry.text
    later = session.transcript.entries[entry.seq + 1:]
    assert later and all(e.tls for e in later)


async def test_implicit_tls_verified_by_ip_address(implicit_port: int, sink: Sink,
                                                   cafile: str) -> None:
    session = Session(SessionOptions(LOOPBACK, implicit_port, security="implicit",
                                     cafile=cafile))
    try:
        greeting = await session.connect()
        assert greeting.code == 220
        info = session.tls
        assert info is not None and info.verified and not info.insecure
        assert info.sni is None  # an IP literal is never sent as SNI (RFC 6066)
        assert "IP Address:127.0.0.1" in info.peer_chain[0].san
        await session.ehlo()
        await send_one(session, sink)
        await session.quit()
    finally:
        await session.close()
    # The TLS boundary comes before the greeting, and the greeting is marked as inside TLS.
    entry = tls_entry(session)
    [greeting_entry] = [e for e in session.transcript if e.code == 220]
    assert entry.seq < greeting_entry.seq and greeting_entry.tls


# -- TLS failures -----------------------------------------------------------------------------


async def test_starttls_unknown_ca_fails_with_reason(stranger_starttls_port: int,
                                                     cafile: str) -> None:
    session = Session(SessionOptions(LOOPBACK, stranger_starttls_port, cafile=cafile,
                                     server_hostname="localhost"))
    try:
        await session.connect()
        await session.ehlo()
        with pytest.raises(SessionError) as info:
            await session.starttls()
        assert info.value.stage == "tls"
        message = str(info.value)
        assert "not accepted" in message and "level verify" in message
        assert "CA that is not trusted" in message
        assert not session.is_open
    finally:
        await session.close()
    errors = [e for e in session.transcript if e.kind == "error"]
    assert any("CA that is not trusted" in e.text for e in errors)
    # The handshake finished, so the certificate is known even though it was refused.
    assert session.tls is not None and session.tls.trust == "untrusted"
    assert session.tls.trust_reason_code == "unknown-ca" and not session.tls.accepted
    assert session.tls.peer_chain[0].spki_sha256
    assert session.closed_reason is not None and "TLS refused" in session.closed_reason


async def test_command_after_failed_starttls_raises_session_closed(
        stranger_starttls_port: int, cafile: str) -> None:
    session = Session(SessionOptions(LOOPBACK, stranger_starttls_port, cafile=cafile,
                                     server_hostname="localhost"))
    try:
        await session.connect()
        await session.ehlo()
        with pytest.raises(SessionError):
            await session.starttls()
        with pytest.raises(SessionClosed):
            await session.command(Noop())
    finally:
        await session.close()


async def test_implicit_tls_unknown_ca_fails_at_connect(stranger_implicit_port: int,
                                                        cafile: str) -> None:
    session = Session(SessionOptions(LOOPBACK, stranger_implicit_port, security="implicit",
                                     cafile=cafile, server_hostname="localhost"))
    with pytest.raises(SessionError) as info:
        await session.connect()
    await session.close()
    assert info.value.stage == "tls"
    assert "issued by a CA that is not trusted here" in str(info.value)
    assert "issued by a CA that is not trusted here" in to_text(session.transcript)
    assert session.tls is not None and session.tls.trust_reason_code == "unknown-ca"


async def test_starttls_hostname_mismatch(starttls_port: int, cafile: str) -> None:
    session = Session(SessionOptions(LOOPBACK, starttls_port, cafile=cafile,
                                     server_hostname="mail.example.net"))
    try:
        await session.connect()
        await session.ehlo()
        with pytest.raises(SessionError) as info:
            await session.starttls()
    finally:
        await session.close()
    assert info.value.stage == "tls"
    message = str(info.value)
    assert "does not name the host" in message and "mail.example.net" in message
    assert session.tls is not None and session.tls.trust == "trusted"
    assert session.tls.trust_reason_code == "name-mismatch"
    assert "mail.example.net" in to_text(session.transcript)


async def test_insecure_mode_accepts_unknown_ca(stranger_starttls_port: int, sink: Sink) -> None:
    session = Session(SessionOptions(LOOPBACK, stranger_starttls_port, verify=False,
                                     server_hostname="localhost"))
    try:
        await session.connect()
        await session.ehlo()
        assert (await session.starttls()).code == 220
        info = session.tls
        assert info is not None and info.insecure and not info.verified
        await session.ehlo()
        await send_one(session, sink)
        await session.quit()
    finally:
        await session.close()
    entry = tls_entry(session)
    assert entry.info["insecure"] is True and entry.info["verified"] is False
    assert "verification OFF" in entry.text
    assert "TLS verification is off" in entry.notes
    assert entry.kind == "tls" and entry.direction == "local"


# -- servers that misbehave -------------------------------------------------------------------


class SlowToLeave(Sink):
    """Takes a few loop turns to wind down once cancelled, as a TLS connection's task does."""

    def __init__(self) -> None:
        super().__init__()
        self.serving = threading.Event()

    async def handle_NOOP(self, server: Any, session: Any, envelope: Any, arg: str) -> str:
        self.serving.set()
        try:
            await asyncio.Event().wait()
        finally:
            for _ in range(3):
                await asyncio.sleep(0)
        return "250 OK"


def test_a_stopped_aiosmtpd_peer_leaves_no_pending_task(caplog: pytest.LogCaptureFixture) -> None:
    # The leak checks below collect garbage; an earlier test's peer must not show up there.
    caplog.set_level(logging.DEBUG, logger="asyncio")
    handler = SlowToLeave()
    # The server stops first, while it still serves the client.
    with socket.socket() as client, aiosmtpd_server(handler) as port:
        client.connect((LOOPBACK, port))
        client.sendall(b"NOOP\r\n")
        assert handler.serving.wait(30)
    assert_no_asyncio_leaks(caplog)


async def test_server_closes_while_reply_awaited(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="asyncio")

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await greet_and_ehlo(reader, writer)
        await reader.readline()  # MAIL FROM: hang up instead of answering
        writer.close()  # an orderly FIN, not whatever garbage collection would do
        await writer.wait_closed()

    async with scripted(script) as port:
        session = Session(SessionOptions(LOOPBACK, port, security="plain"))
        await session.connect()
        await session.ehlo()
        with pytest.raises(SessionClosed) as info:
            await session.command(MailFrom("alice@example.test"))
        assert info.value.stage is Stage.MAIL
        assert not session.is_open
        assert await session.quit() is None  # nothing to say QUIT to; no exception either
        await session.close()
    assert session.closed_reason == "closed by server"
    assert "-- The server closed the connection" in to_text(session.transcript)
    assert_no_asyncio_leaks(caplog)


async def test_server_resets_while_idle(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="asyncio")
    closed: list[str] = []

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await greet_and_ehlo(reader, writer)
        await asyncio.sleep(0.05)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()  # linger 0: an RST, not a FIN

    async with scripted(script) as port:
        session = Session(SessionOptions(LOOPBACK, port, security="plain"),
                          on_close=closed.append)
        await session.connect()
        await session.ehlo()
        await wait_until(lambda: session.closed_reason is not None)
        with pytest.raises(SessionClosed):
            await session.command(Noop())
        await session.close()
    assert closed and closed[0] == session.closed_reason
    last = [e for e in session.transcript if e.direction == "local"][-1]
    assert last.kind in ("note", "error")
    assert "closed" in last.text.lower() or "lost" in last.text.lower()
    assert_no_asyncio_leaks(caplog)


async def test_unsolicited_421_while_idle(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="asyncio")

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await greet_and_ehlo(reader, writer)
        await asyncio.sleep(0.1)
        writer.write(b"421 4.4.2 scripted.test idle too long, closing\r\n")
        await writer.drain()

    async with scripted(script) as port:
        session = Session(SessionOptions(LOOPBACK, port, security="plain"))
        await session.connect()
        await session.ehlo()
        await wait_until(lambda: session.closed_reason is not None)
        await session.quit()
    [entry] = [e for e in session.transcript if e.code == 421]
    assert entry.direction == "server" and entry.reply["unsolicited"] is True
    assert any("unsolicited" in note for note in entry.notes)
    assert not session.is_open
    assert "S! 421 4.4.2 scripted.test idle too long, closing" in to_text(session.transcript)
    assert_no_asyncio_leaks(caplog)


async def test_unsolicited_421_without_hangup_ends_the_session() -> None:
    """RFC 5321 §3.8: after 421 the client closes, even if the server keeps the line open."""

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await greet_and_ehlo(reader, writer)
        await asyncio.sleep(0.1)
        writer.write(b"421 4.3.2 going down\r\n")
        await writer.drain()
        await reader.read()  # and stay connected until the client leaves

    async with scripted(script) as port:
        session = Session(SessionOptions(LOOPBACK, port, security="plain"))
        await session.connect()
        await session.ehlo()
        try:
            await wait_until(lambda: any(e.code == 421 for e in session.transcript))
            await wait_until(lambda: session.closed_reason is not None)
            assert not session.is_open
            with pytest.raises(SessionClosed):
                await session.command(Noop())
        finally:
            await session.close()


def last_line(path: Path) -> dict[str, Any]:
    return json.loads(path.read_bytes().splitlines()[-1])


@pytest.mark.parametrize(("ending", "outcome"), [
    (b"421 4.3.0 going away\r\n", "closed by server (421)"),
    (b"250-partial reply\r\n250-more", "closed by server"),  # cut mid-reply, then FIN
])
async def test_recording_ends_when_the_server_ends_the_connection(
        tmp_path: Path, ending: bytes, outcome: str) -> None:
    # The footer is written as the connection ends, not at a close() the front end may never
    # make: a terminal closed after a 421 must not leave an "unfinished" recording.
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await greet_and_ehlo(reader, writer)
        await reader.readline()  # MAIL FROM
        writer.write(ending)
        await writer.drain()
        writer.close()

    path = tmp_path / "rec.jsonl"
    async with scripted(script) as port:
        session = Session(SessionOptions(LOOPBACK, port, security="plain"),
                          record_to=str(path))
        await session.connect()
        await session.ehlo()
        with contextlib.suppress(SessionClosed):
            await session.command(MailFrom("alice@example.test"))
        await wait_until(lambda: last_line(path).get("footer") is True, timeout=5)
        footer = last_line(path)
        await session.close()  # later: changes nothing
    assert footer["outcome"] == outcome == session.closed_reason
    assert last_line(path) == footer
    assert read_recording(path).entries[-1].direction == "local"


async def test_starttls_injection_is_flagged_and_discarded(server_ctx: ssl.SSLContext,
                                                          cafile: str) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await greet_and_ehlo(reader, writer, b"250-inject.test\r\n250 STARTTLS\r\n")
        assert (await reader.readline()).upper().startswith(b"STARTTLS")
        writer.write(b"220 go\r\n250 injected\r\n")  # one write: the classic injection
        await writer.drain()
        await writer.start_tls(server_ctx)
        while line := await reader.readline():
            verb = line[:4].upper()
            if verb == b"EHLO":
                writer.write(b"250-inject.test after TLS\r\n250 SIZE 1000\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
            else:
                writer.write(b"502 no\r\n")
            await writer.drain()

    async with scripted(script) as port:
        session = Session(SessionOptions(LOOPBACK, port, cafile=cafile,
                                         server_hostname="localhost"))
        try:
            await session.connect()
            await session.ehlo()
            starttls = await session.starttls()
            assert starttls.code == 220 and INJECTION_WARNING in starttls.warnings
            after = await session.ehlo()
            # The reply to EHLO inside TLS is the real one, not the injected "250 injected".
            assert after.code == 250 and after.text_lines[0] == "inject.test after TLS"
            assert session.capabilities.size == 1000
            await session.quit()
        finally:
            await session.close()
    injected = [e for e in session.transcript if b"250 injected" in e.raw]
    assert len(injected) == 1
    [entry] = injected
    assert entry.direction == "server" and entry.kind == "raw" and not entry.tls
    # Warned once, on the 220 that the bytes followed; the bytes themselves are just shown.
    warned = [e for e in session.transcript if any("injection" in n for n in e.notes)]
    assert [(e.kind, e.notes.count(INJECTION_WARNING)) for e in warned] == [("reply", 1)]
    assert not any(e.kind == "reply" and "injected" in e.text for e in session.transcript)


@pytest.mark.parametrize("handshake", [True, False], ids=["tls", "no-tls"])
@pytest.mark.parametrize(("first", "later"), [
    (b"220 go ahead\r\n", b"250 injected\r\n"),  # the 220 alone, then the injection
    (b"220 go ahead\r\n250 inj", b"ected\r\n"),  # the injection split across writes
], ids=["after", "split"])
async def test_injection_in_two_writes_is_warned_about_once_and_shown_whole(
    server_ctx: ssl.SSLContext, cafile: str, first: bytes, later: bytes, handshake: bool,
) -> None:
    second_sent = asyncio.Event()

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await greet_and_ehlo(reader, writer, b"250-inject.test\r\n250 STARTTLS\r\n")
        assert (await reader.readline()).upper().startswith(b"STARTTLS")
        writer.write(first)
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(later)
        await writer.drain()
        second_sent.set()
        if handshake:
            await writer.start_tls(server_ctx)
            await reader.read()
        else:
            await asyncio.sleep(1)  # no TLS here: the handshake fails when we close

    async with scripted(script) as port:
        session = Session(SessionOptions(LOOPBACK, port, cafile=cafile,
                                         server_hostname="localhost"))
        try:
            await session.connect()
            await session.ehlo()
            assert session.stream is not None
            start_tls = session.stream.start_tls

            async def busy_client(*args: Any, **kwargs: Any) -> Any:
                # A client slower than the server's second write: it waits in the socket.
                await second_sent.wait()
                await asyncio.sleep(0.1)
                return await start_tls(*args, **kwargs)

            session.stream.start_tls = busy_client  # type: ignore[method-assign]
            if handshake:
                assert (await session.starttls()).code == 220
            else:
                with pytest.raises(SessionError):
                    await session.starttls()
        finally:
            await session.close()
    injected = first.removeprefix(b"220 go ahead\r\n") + later
    assert session.conn.trailing_data == injected
    shown = [e for e in session.transcript if e.direction == "server" and e.kind == "raw"]
    assert b"".join(e.raw for e in shown) == injected
    # As the views show them: an entry's notes and its reply's warnings, once each.
    warnings = [n for e in session.transcript
                for n in dict.fromkeys((*e.notes, *(e.reply or {}).get("warnings", ())))]
    assert warnings.count(INJECTION_WARNING) == 1
    assert not any("injection" in w and w != INJECTION_WARNING for w in warnings)
    if len(shown) == 2:  # bytes came with the 220 too: the rest is counted, not warned again
        assert f"{len(later)} more octets of that injection came before the handshake " \
            f"({len(injected)} in all, discarded)" in [e.text for e in session.transcript]


async def test_connect_refused() -> None:
    port = free_port()
    session = Session(SessionOptions(LOOPBACK, port, security="plain", connect_timeout=5))
    with pytest.raises(SessionError) as info:
        await session.connect()
    await session.close()
    assert info.value.stage == "connect"
    assert str(info.value) == f"connection refused by {LOOPBACK}:{port} " \
        "(nothing listening on that port?)"
    [error] = [e for e in session.transcript if e.kind == "error"]
    assert "connection refused" in error.text
    assert not session.is_open


async def test_mx_route_falls_through_to_second_candidate(plain_port: int, sink: Sink) -> None:
    dead = free_port()
    route = (
        Candidate("mx1.example.test", LOOPBACK, dead, 10,
                  "MX 10 mx1.example.test for example.test"),
        Candidate("mx2.example.test", LOOPBACK, plain_port, 20,
                  "MX 20 mx2.example.test for example.test"),
    )
    session = Session(SessionOptions("example.test", 25, security="plain", route=route))
    try:
        greeting = await session.connect()
        assert greeting.code == 220
        assert session.stream is not None and session.stream.peer[1] == plain_port
        await session.ehlo()
        await send_one(session, sink)
        await session.quit()
    finally:
        await session.close()
    text = to_text(session.transcript)
    [warning] = [e for e in session.transcript if e.kind == "warning"]
    assert f"connection refused by {LOOPBACK}:{dead}" in warning.text
    assert "trying the next MX" in warning.text
    assert "mx1.example.test" in text and "mx2.example.test" in text
    assert f"-- Connected to {LOOPBACK} port {plain_port}" in text
    assert text.index("connection refused") < text.index(f"Connected to {LOOPBACK}")


async def test_reply_timeout_option_overrides_rfc_limits() -> None:
    import asyncio as _asyncio

    from smtpscope.session import Session, SessionError, SessionOptions

    async def silent(reader: _asyncio.StreamReader, writer: _asyncio.StreamWriter) -> None:
        await reader.read(1)  # accept, never greet (scripted closes the accepted socket)

    async with scripted(silent) as port:
        session = Session(SessionOptions("127.0.0.1", port, security="plain",
                                         reply_timeout=0.2))
        with pytest.raises(SessionError, match=r"no reply within 0.2 s") as caught:
            await session.connect()
        assert caught.value.stage == "banner"
        await session.close()


async def test_unreadable_auth_challenge_is_cancelled() -> None:
    from smtpscope.auth import MECHANISMS
    from smtpscope.conversation import authenticate

    seen: list[bytes] = []

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await greet_and_ehlo(reader, writer, b"250-scripted.test\r\n250 AUTH CRAM-MD5\r\n")
        seen.append(await reader.readline())  # AUTH CRAM-MD5
        writer.write(b"334 <not base64!>\r\n")
        await writer.drain()
        seen.append(await reader.readline())  # must be the cancel
        writer.write(b"501 5.7.0 cancelled\r\n")
        await writer.drain()
        await reader.readline()

    async with scripted(script) as port:
        session = Session(SessionOptions(LOOPBACK, port, security="plain"))
        await session.connect()
        await session.ehlo()
        mech = MECHANISMS["CRAM-MD5"](username="tim", password="tanstaaftanstaaf")
        reply = await authenticate(session, mech)
        assert reply.code == 501
        assert seen == [b"AUTH CRAM-MD5\r\n", b"*\r\n"]
        assert "AUTH challenge is not base64" in to_text(session.transcript)
        await session.close()


async def test_forced_command_shows_the_engines_reason_and_the_view_follows() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await greet_and_ehlo(reader, writer)
        await reader.readline()  # RCPT before MAIL, forced
        writer.write(b"503 5.5.1 need MAIL first\r\n")
        await writer.drain()
        await reader.readline()

    async with scripted(script) as port:
        session = Session(SessionOptions(LOOPBACK, port, security="plain"))
        assert session.view.peer is None and session.view.state.name == "GREETING"
        await session.connect()
        await session.ehlo()
        view = session.view
        assert view.state.name == "IDENT" and view.capabilities is not None
        assert view.capabilities.has("PIPELINING") and not view.authenticated
        assert view.peer == f"{LOOPBACK}:{port}" and view.tls is None and not view.lmtp
        reply = await session.command(RcptTo("bob@example.test"), force=True)
        assert reply.code == 503
        sent = session.last_client_entry
        assert sent is not None and sent.off_script
        # The engine's own words for why this was off-script, not a generic note.
        assert sent.notes and sent.notes[0].startswith("off-script: ")
        assert "MAIL" in sent.notes[0]
        await session.close()
