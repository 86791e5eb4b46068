"""A TCP connection on a blocking socket: the ``Stream`` calls one short conversation needs.

``tcp.Stream`` runs on asyncio, whose import costs a one-server command more than the
conversation itself. This stream connects, reads with a timeout, writes and upgrades to TLS
the same way, naming failures with the same errors, kinds and messages (``addresses``,
``errors`` and ``tls`` build them for both).
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import time

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
    ANSWER_KEPT,
    ConnectError,
    TransportError,
    connect_failure,
    connection_lost,
    format_address,
    read_timed_out,
)
from .tls import (
    TLSInfo,
    closed_before_handshake,
    handshake_error,
    handshake_place,
    handshake_timeout,
    normalize_server_hostname,
    sni_argument,
    tls_info_from,
)


class BlockingStream:
    """One TCP connection, optionally upgraded to TLS once; every call blocks."""

    def __init__(self, sock: socket.socket, host: str, port: int) -> None:
        self._sock: socket.socket = sock
        self.host = host
        self.port = port
        peer = sock.getpeername()
        self.peer: tuple[str, int] = (str(peer[0]), int(peer[1]))
        self.tls: TLSInfo | None = None
        #: Monotonic time the handshake finished: what follows (reading the chain) is ours.
        self.tls_ready_at: float | None = None
        #: Plaintext that came after the STARTTLS reply, before the handshake took the line.
        self.discarded_before_tls = b""
        self._closing = False
        # Once TLS is up: OpenSSL works on these buffers, the socket carries its records.
        self._tls: ssl.SSLObject | None = None
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()

    @property
    def peer_text(self) -> str:
        return format_address(*self.peer)

    def read(self, timeout: float | None) -> bytes:
        """Up to 64 KiB as soon as any arrive; b"" on EOF; ``ReadTimeout``, ``ConnectionLost``."""
        if self._tls is None:
            return self._recv(timeout)
        while True:
            try:
                return self._tls.read(65536)
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLZeroReturnError:
                return b""  # the server's close_notify
            except ssl.SSLError as exc:
                raise connection_lost(self.peer_text, exc) from exc
            finally:
                self._flush(timeout)  # TLS 1.3 may answer what it read (a key update)
            data = self._recv(timeout)
            if not data:
                return b""  # a FIN without close_notify: the end all the same
            self._incoming.write(data)

    def _recv(self, timeout: float | None) -> bytes:
        """The socket's own bytes (TLS records once TLS is up), as ``read`` raises."""
        self._sock.settimeout(timeout)
        try:
            return self._sock.recv(65536)
        except TimeoutError:
            raise read_timed_out(self.peer_text, timeout) from None
        except OSError as exc:
            raise connection_lost(self.peer_text, exc) from exc

    def write(self, data: bytes, timeout: float | None = None) -> None:
        if self._closing:
            raise TransportError("cannot write: the stream was closed")
        if self._tls is not None:
            self._tls.write(data)
            self._flush(timeout)
            return
        self._send(data, timeout)

    def _send(self, data: bytes, timeout: float | None) -> None:
        self._sock.settimeout(timeout)
        try:
            self._sock.sendall(data)
        except OSError as exc:
            raise connection_lost(self.peer_text, exc) from exc

    def _flush(self, timeout: float | None) -> None:
        """Send what the TLS layer has written."""
        if self._outgoing.pending:
            self._send(self._outgoing.read(), timeout)

    def start_tls(self, context: ssl.SSLContext, server_hostname: str | None = None, *,
                  timeout: float | None = None, implicit: bool = False) -> TLSInfo:
        """Upgrade to TLS in place (STARTTLS, or ``implicit`` TLS); plaintext already here goes
        to ``discarded_before_tls``.

        On failure the connection is closed and ``TLSError`` raised; one the server answered
        with plaintext keeps its first bytes (``answer``).
        """
        if self.tls is not None:
            raise TransportError("the stream already uses TLS")
        hostname = normalize_server_hostname(server_hostname) or self.host
        self.discarded_before_tls, ended = self._unread()
        if ended:  # the server hung up before the handshake (after its 220, say)
            self.abort()
            raise closed_before_handshake(self.peer_text, server_hostname)
        where = handshake_place(hostname, self.peer, self.peer_text)
        tls = context.wrap_bio(self._incoming, self._outgoing,
                               server_hostname=sni_argument(hostname))
        received = bytearray()
        try:
            self._handshake(tls, timeout, received)
        except TimeoutError:
            self.abort()
            raise handshake_timeout(where, timeout, hostname) from None
        except (ssl.SSLError, OSError, EOFError) as exc:
            self.abort()
            raise handshake_error(exc, where, hostname, starttls=not implicit,
                                  received=bytes(received),
                                  before=self.discarded_before_tls) from exc
        self._tls = tls
        self.tls_ready_at = time.monotonic()
        self.tls = tls_info_from(tls, hostname)
        return self.tls

    def _handshake(self, tls: ssl.SSLObject, timeout: float | None, received: bytearray) -> None:
        """Drive the handshake over the socket within ``timeout``, copying the server's first
        bytes into ``received``: plaintext there (a ``454``, a banner) explains a failure,
        and OpenSSL, reading the socket itself, would leave nothing of it to show."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                pass
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise TimeoutError
            self._sock.settimeout(left)
            if self._outgoing.pending:  # failing, it raises OSError: the handshake's error
                self._sock.sendall(self._outgoing.read())
            data = self._sock.recv(65536)
            if not data:  # as asyncio says it: the server hung up mid-handshake
                raise ConnectionResetError("the server closed the connection in the handshake")
            received += data[:max(ANSWER_KEPT - len(received), 0)]
            self._incoming.write(data)
        if self._outgoing.pending:  # our Finished
            self._sock.settimeout(None if deadline is None else
                                  max(deadline - time.monotonic(), 0.001))
            self._sock.sendall(self._outgoing.read())

    def _unread(self) -> tuple[bytes, bool]:
        """What has arrived and not been read, without waiting; and whether EOF came too."""
        chunks = []
        ended = False
        self._sock.setblocking(False)
        try:
            while True:
                chunk = self._sock.recv(65536)
                if not chunk:
                    ended = True
                    break
                chunks.append(chunk)
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            pass  # the handshake meets the same trouble and reports it
        finally:
            self._sock.setblocking(True)
        return b"".join(chunks), ended

    def close(self) -> None:
        """Close without waiting; never raises."""
        self._closing = True
        with contextlib.suppress(OSError):
            self._sock.close()

    def abort(self) -> None:
        self.close()


def connect(host: str, port: int, *, timeout: float | None, family: int = 0,
            local_addr: tuple[str, int] | None = None) -> BlockingStream:
    """Connect to ``host`` (a name or an IP literal, brackets allowed) within ``timeout``.

    The timeout covers resolving and every address tried; raises ``ConnectError``.
    """
    name = bare_host(host)
    deadline = None if timeout is None else time.monotonic() + timeout
    found = literal(name, family)
    if found is None:
        try:
            found = unique_addresses(socket.getaddrinfo(resolver_name(name, port), port,
                                                        family=family, type=socket.SOCK_STREAM))
        except socket.gaierror as exc:
            raise resolve_failure(name, port, exc) from exc
        if not found:
            raise resolve_failure(name, port)
    failures: list[ConnectError] = []
    for fam, addr in found:
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise connect_timed_out(name, port, timeout)
        sock = socket.socket(fam, socket.SOCK_STREAM)
        try:
            sock.settimeout(left)
            if local_addr is not None:
                sock.bind(local_addr)
            sock.connect((addr, port))
        except TimeoutError:
            sock.close()
            raise connect_timed_out(name, port, timeout) from None
        except OSError as exc:
            sock.close()
            failures.append(connect_failure(exc, name, port, addr))
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return BlockingStream(sock, name, port)
    raise all_failed(name, port, failures)
