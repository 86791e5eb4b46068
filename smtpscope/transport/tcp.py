"""TCP connections (IPv4/IPv6) with timeouts, implicit TLS and the STARTTLS upgrade."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl

from .addresses import (
    all_failed,
    bare_host,
    connect_timed_out,
    literal,
    resolve_failure,
    resolver_name,
    unique_addresses,
)
from .errors import (
    ConnectError,
    ConnectionLost,
    TransportError,
    WriteTimeout,
    connect_failure,
    connection_lost,
    format_address,
    read_timed_out,
)
from .handshake_tap import HandshakeTap
from .streamproto import StreamProtocol
from .timeouts import DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT, DEFAULT_TLS_TIMEOUT
from .tls import (
    TLSInfo,
    closed_before_handshake,
    handshake_error,
    handshake_place,
    handshake_timeout,
    make_tls_context,
    normalize_server_hostname,
    sni_argument,
    tls_info_from,
)

_CLOSE_GRACE = 2.0  # seconds close() waits for the peer before aborting


def _seconds(value: float) -> str:
    return f"{value:g} s"


class Stream:
    """One connection: bytes in, bytes out, optionally upgraded to TLS once."""

    def __init__(
        self, protocol: StreamProtocol, transport: asyncio.Transport, host: str, port: int
    ) -> None:
        self._protocol = protocol
        self._transport = transport
        self.host = host  # as the caller named it (brackets stripped)
        self.port = port
        peer = transport.get_extra_info("peername") or (host, port)
        local = transport.get_extra_info("sockname") or ("", 0)
        # A UNIX socket names its ends with a path (a str), not an (address, port) pair.
        self.peer: tuple[str, int] = (peer or host, 0) if isinstance(peer, str) else (
            str(peer[0]), int(peer[1]))
        self.local: tuple[str, int] = (local, 0) if isinstance(local, str) else (
            str(local[0]), int(local[1]))
        #: Set for streams that are not TCP: how ``peer_text`` names the other end.
        self.label: str | None = None
        self.tls: TLSInfo | None = None
        #: Monotonic time the handshake finished: what follows (reading the chain) is ours.
        self.tls_ready_at: float | None = None
        #: Plaintext that arrived before a STARTTLS upgrade but was never read; dropped so it
        #: cannot pass as data from inside TLS (the STARTTLS command-injection attack).
        self.discarded_before_tls = b""
        self.bytes_received = 0
        self.bytes_sent = 0
        self._closing = False

    def __repr__(self) -> str:
        tls = f" {self.tls.version}" if self.tls else ""
        return f"<Stream {format_address(*self.peer)}{tls}{' closed' if self.closed else ''}>"

    @property
    def peer_text(self) -> str:
        """The peer as "host:port" ("[v6]:port" for IPv6), or a UNIX socket or pipe label."""
        return self.label if self.label is not None else format_address(*self.peer)

    @property
    def closed(self) -> bool:
        """True once we closed the stream or the connection was lost."""
        return self._closing or self._protocol.lost

    @property
    def at_eof(self) -> bool:
        """True when the peer has finished sending and everything it sent has been read."""
        return self._protocol.eof and not self._protocol.buffer

    async def read(
        self, max_bytes: int = 65536, timeout: float | None = DEFAULT_READ_TIMEOUT
    ) -> bytes:
        """Return up to ``max_bytes`` as soon as any arrive; b"" on EOF.

        Raises ``ReadTimeout`` (a ``TimeoutError``) when nothing arrives within ``timeout``
        seconds (``None``: wait forever); nothing is lost, a later read still gets the data.
        Raises ``ConnectionLost`` when the connection was reset rather than closed.
        """
        proto = self._protocol
        if not proto.buffer and not proto.eof:
            try:
                async with asyncio.timeout(timeout):
                    await proto.wait_for_data()
            except TimeoutError:
                raise read_timed_out(self.peer_text, timeout) from None
        if proto.buffer:
            data = proto.take(max_bytes)
            self.bytes_received += len(data)
            return data
        if proto.exc is not None and not self._closing:
            raise self._lost(proto.exc)
        return b""

    async def write(self, data: bytes, timeout: float | None = None) -> None:
        """Send ``data`` and wait until the transport has taken it (flow control).

        Raises ``ConnectionLost`` when the connection is gone and ``WriteTimeout`` when the peer
        stops accepting data for ``timeout`` seconds.
        """
        if self._closing:
            raise TransportError("cannot write: the stream was closed")
        if self._protocol.lost or self._transport.is_closing():
            raise self._lost(self._protocol.exc)
        self._transport.write(data)
        if self._transport.is_closing():
            # The send failed inside write(): asyncio dropped the data and tells the protocol
            # on the next turn of the loop. Take that turn, so the loss is reported, not hidden.
            await asyncio.sleep(0)
            raise self._lost(self._protocol.exc)
        self.bytes_sent += len(data)
        try:
            async with asyncio.timeout(timeout):
                await self._protocol.drain()
        except TimeoutError:
            raise WriteTimeout(
                f"{self.peer_text} did not accept our data within {_seconds(timeout or 0)}",
                timeout=timeout or 0,
            ) from None
        except (ConnectionError, OSError) as exc:
            raise self._lost(exc) from exc

    def _lost(self, exc: BaseException | None) -> ConnectionLost:
        return connection_lost(self.peer_text, exc)

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
        *,
        timeout: float | None = DEFAULT_TLS_TIMEOUT,
        implicit: bool = False,
    ) -> TLSInfo:
        """Upgrade to TLS in place (STARTTLS, or ``implicit`` TLS right after connecting).

        ``server_hostname`` defaults to the host given to ``open_connection``; it is sent as SNI
        unless it is an IP literal, and checked against the certificate. Unread plaintext is
        moved to ``discarded_before_tls``. On failure the stream is closed and ``TLSError``
        raised; one the server answered with plaintext keeps its first bytes (``answer``).
        """
        if self.tls is not None:
            raise TransportError("the stream already uses TLS")
        if self.closed or self._protocol.eof:
            # The server hung up before the handshake (after its 220, say). Once it has sent
            # its FIN it can send no ServerHello, and asyncio's start_tls would return None.
            self._dead()
            raise closed_before_handshake(self.peer_text, server_hostname)
        context = ssl_context or make_tls_context()
        hostname = normalize_server_hostname(server_hostname) or self.host
        self.discarded_before_tls = self._protocol.take(len(self._protocol.buffer))
        loop = asyncio.get_running_loop()
        where = handshake_place(hostname, self.peer, self.peer_text)
        tap = HandshakeTap(self._transport)
        try:
            async with asyncio.timeout(timeout):
                new_transport = await loop.start_tls(
                    tap,  # type: ignore[arg-type]  # it passes every call to the transport
                    self._protocol,
                    context,
                    # bytes pass through asyncio to ssl's wrap_bio, which takes them as is
                    server_hostname=sni_argument(hostname),  # type: ignore[arg-type]
                    # our own timeout governs; keep asyncio's from firing first
                    ssl_handshake_timeout=(timeout + 5) if timeout else None,
                )
        except TimeoutError:
            self._dead()
            raise handshake_timeout(where, timeout, hostname) from None
        except (ssl.SSLError, OSError, EOFError) as exc:
            self._dead()
            raise handshake_error(exc, where, hostname, starttls=not implicit,
                                  received=tap.received,
                                  before=self.discarded_before_tls) from exc
        except BaseException:  # cancelled: the half-done handshake leaves nothing usable
            self._dead()
            raise
        if new_transport is None:  # the connection was lost cleanly, with no error to raise
            self._dead()
            raise closed_before_handshake(self.peer_text, hostname)
        self._transport = new_transport
        self._protocol.transport = new_transport
        self.tls_ready_at = loop.time()
        self.tls = tls_info_from(new_transport.get_extra_info("ssl_object"), hostname)
        return self.tls

    @property
    def ssl_session(self) -> ssl.SSLSession | None:
        """The TLS session to offer on a later connection (resumption), once TLS is up."""
        ssl_object = self._transport.get_extra_info("ssl_object")
        return getattr(ssl_object, "session", None) if ssl_object is not None else None

    async def close(self) -> None:
        """Close politely (TLS close_notify, FIN), abort after a short grace; never raises."""
        if self._closing:
            return
        self._closing = True
        try:
            if not self._transport.is_closing():
                self._transport.close()
            await asyncio.wait_for(asyncio.shield(self._protocol.closed), _CLOSE_GRACE)
        except BaseException:  # close() must not raise, even when cancelled
            with contextlib.suppress(Exception):
                self._transport.abort()

    def _dead(self) -> None:
        # A failed handshake closes the socket, but asyncio's TLS layer does not tell our
        # protocol (it never "made" the connection for it), so record the loss ourselves.
        self._closing = True
        with contextlib.suppress(Exception):
            self._transport.abort()
        if not self._protocol.lost:
            self._protocol.connection_lost(None)

    def diagnostics(self) -> list[str]:
        """What the transport itself has to say once it ended (a piped command's stderr)."""
        return []

    def abort(self) -> None:
        """Drop the connection at once, without close_notify or waiting."""
        self._closing = True
        self._transport.abort()


async def _resolve(host: str, port: int, family: int) -> list[tuple[int, str]]:
    found = literal(host, family)
    if found is not None:
        return found
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(resolver_name(host, port), port, family=family,
                                       type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise resolve_failure(host, port, exc) from exc
    seen = unique_addresses(infos)
    if not seen:
        raise resolve_failure(host, port)
    return seen


async def _connect_any(
    host: str, port: int, family: int, local_addr: tuple[str, int] | None
) -> tuple[StreamProtocol, asyncio.Transport]:
    """Try each resolved address in turn; one clear error when all fail."""
    loop = asyncio.get_running_loop()
    failures: list[ConnectError] = []
    for fam, addr in await _resolve(host, port, family):
        protocol = StreamProtocol()
        try:
            transport, _ = await loop.create_connection(
                lambda p=protocol: p,
                addr,
                port,
                family=fam,
                local_addr=local_addr,
            )
        except OSError as exc:
            failures.append(connect_failure(exc, host, port, addr))
            continue
        return protocol, transport
    raise all_failed(host, port, failures)


async def open_connection(
    host: str,
    port: int,
    *,
    implicit_tls: bool = False,
    tls_context: ssl.SSLContext | None = None,
    server_hostname: str | None = None,
    connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT,
    tls_timeout: float | None = DEFAULT_TLS_TIMEOUT,
    family: int = 0,
    local_addr: tuple[str, int] | None = None,
    preamble: bytes = b"",
) -> Stream:
    """Connect to ``host`` (a name, an IPv4 literal, or an IPv6 literal with or without brackets).

    ``connect_timeout`` covers resolution and every address tried. With ``implicit_tls`` the
    TLS handshake follows (own ``tls_timeout``), using ``tls_context`` or a verifying default.
    ``family`` is ``socket.AF_INET``/``AF_INET6`` to force one, 0 for either. ``preamble``
    (a PROXY protocol header) is written right after connecting, before any TLS.
    Raises ``ConnectError`` or ``TLSError``.
    """
    name = bare_host(host)
    try:
        async with asyncio.timeout(connect_timeout):
            protocol, transport = await _connect_any(name, port, family, local_addr)
    except TimeoutError:
        raise connect_timed_out(name, port, connect_timeout) from None
    stream = Stream(protocol, transport, name, port)
    if preamble:
        await stream.write(preamble, timeout=connect_timeout)
    if implicit_tls:
        await stream.start_tls(tls_context, server_hostname, timeout=tls_timeout, implicit=True)
    return stream
