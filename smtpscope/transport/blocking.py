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

    @property
    def peer_text(self) -> str:
        return format_address(*self.peer)

    def read(self, timeout: float | None) -> bytes:
        """Up to 64 KiB as soon as any arrive; b"" on EOF; ``ReadTimeout``, ``ConnectionLost``."""
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
        self._sock.settimeout(timeout)
        try:
            self._sock.sendall(data)
        except OSError as exc:
            raise connection_lost(self.peer_text, exc) from exc

    def start_tls(self, context: ssl.SSLContext, server_hostname: str | None = None, *,
                  timeout: float | None = None, implicit: bool = False) -> TLSInfo:
        """Upgrade to TLS in place (STARTTLS, or ``implicit`` TLS); plaintext already here goes
        to ``discarded_before_tls``.

        On failure the connection is closed and ``TLSError`` raised. Of a plaintext answer only
        what came before our hello is kept (``answer``): OpenSSL reads the rest itself.
        """
        if self.tls is not None:
            raise TransportError("the stream already uses TLS")
        hostname = normalize_server_hostname(server_hostname) or self.host
        self.discarded_before_tls, ended = self._unread()
        if ended:  # the server hung up before the handshake (after its 220, say)
            self.abort()
            raise closed_before_handshake(self.peer_text, server_hostname)
        where = handshake_place(hostname, self.peer, self.peer_text)
        self._sock.settimeout(timeout)
        try:
            wrapped = context.wrap_socket(self._sock, server_hostname=sni_argument(hostname),
                                          do_handshake_on_connect=False)
            self._sock = wrapped
            wrapped.do_handshake()
        except TimeoutError:
            self.abort()
            raise handshake_timeout(where, timeout, hostname) from None
        except (ssl.SSLError, OSError, EOFError) as exc:
            self.abort()
            raise handshake_error(exc, where, hostname, starttls=not implicit,
                                  received=self._before(implicit)) from exc
        self.tls_ready_at = time.monotonic()
        self.tls = tls_info_from(wrapped, hostname)
        return self.tls

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

    def _before(self, implicit: bool) -> bytes:
        # With implicit TLS, bytes before our hello are the server's answer too (a banner:
        # TLS servers never speak first); after STARTTLS they are an injection, shown apart.
        return self.discarded_before_tls if implicit else b""

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
