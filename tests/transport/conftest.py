"""Loopback servers and certificates for the transport tests."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import trustme

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
Serve = Callable[..., Awaitable[int]]


def _ipv6_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.fixture(scope="session")
def ipv6() -> None:
    """Skip the test when this machine has no IPv6 loopback."""
    if not _ipv6_available():
        pytest.skip("no IPv6 loopback (::1) on this machine")


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start an asyncio server running ``handler`` per client; returns its port."""
    servers: list[asyncio.Server] = []
    tasks: set[asyncio.Task[None]] = set()

    async def start(
        handler: Handler, host: str = "127.0.0.1", ssl_context: ssl.SSLContext | None = None
    ) -> int:
        async def wrapped(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            tasks.add(task)  # type: ignore[arg-type]
            try:
                await handler(reader, writer)
            except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
                pass  # the client side of the test provoked it
            except asyncio.CancelledError:
                pass  # teardown; swallowed so asyncio does not log the cancelled handler
            finally:
                writer.close()

        server = await asyncio.start_server(wrapped, host, 0, ssl=ssl_context)
        servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    yield start
    for server in servers:
        server.close()
    for task in list(tasks):
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def server_cert(ca: trustme.CA) -> trustme.LeafCert:
    return ca.issue_cert("localhost", "127.0.0.1", "::1", common_name="localhost")


def server_context(cert: trustme.LeafCert) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    return context


@pytest.fixture
def server_ctx(server_cert: trustme.LeafCert) -> ssl.SSLContext:
    return server_context(server_cert)


@pytest.fixture
def make_server_ctx() -> Callable[[trustme.LeafCert], ssl.SSLContext]:
    """Server contexts for other certificates (expired, intermediate-issued...)."""
    return server_context


@pytest.fixture
def client_ctx(ca: trustme.CA) -> ssl.SSLContext:
    """A verifying client context that trusts only the test CA."""
    from smtpscope.transport import make_tls_context

    context = make_tls_context()
    ca.configure_trust(context)
    return context
