"""The in-process demo server behind ``smtpscope demo``: free loopback ports and a demo user.

Two ways to run it:

- :func:`start_demo_server` (synchronous) starts it in a background thread with its own event
  loop, so it can be started before ``App.run()`` or from any thread. Callbacks then run in the
  server thread: a Textual app must wrap them with ``app.call_from_thread``.
- :func:`open_demo_server` (``await``-ed) runs it on the caller's running loop, e.g. Textual's,
  so callbacks arrive on that loop; stop it with ``await demo.aclose()``.

The password is fixed and documented on purpose: the server only listens on 127.0.0.1 and only
stores mail in the user's data directory, so there is nothing to protect.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from smtpscope.config import data_dir
from smtpscope.server.config import ServerConfig
from smtpscope.server.context import EntryCallback, MessageCallback
from smtpscope.server.faults import Fault
from smtpscope.server.runner import DebugServer, ServerThread

DEMO_USER = "demo"
DEMO_PASSWORD = "demo-password"
DEMO_HOST = "127.0.0.1"


@dataclass
class DemoServer:
    """Where the demo server listens and how to log in and verify it."""

    host: str
    port: int  # plain SMTP, STARTTLS offered
    tls_port: int | None  # implicit TLS (TLS on connect); None when TLS is unavailable
    user: str
    password: str
    maildir: Path
    record_dir: Path | None
    cafile: Path | None  # give this to the client as its CA file to verify the certificate
    cert: Path | None
    server: DebugServer
    thread: ServerThread | None = None

    def stop(self) -> None:
        """Stop a demo started with :func:`start_demo_server` (threaded)."""
        if self.thread is None:
            raise RuntimeError("this demo runs on an event loop: use 'await demo.aclose()'")
        self.thread.stop()

    async def aclose(self) -> None:
        """Stop the demo, whichever way it was started."""
        if self.thread is not None:
            import asyncio

            await asyncio.to_thread(self.thread.stop)
        else:
            await self.server.stop()


def demo_config(faults: tuple[Fault, ...] = (), tls: bool = True) -> ServerConfig:
    """The demo's settings: loopback, free ports, one user, files under ``<data dir>/demo``.

    ``tls=False`` is the fallback for a machine that can make no certificate (no ``openssl``):
    no STARTTLS and no implicit-TLS port, so the demo still runs.
    """
    base = data_dir() / "demo"
    return ServerConfig(
        host=DEMO_HOST,
        port=0,
        tls_port=0 if tls else None,
        starttls=tls,
        users={DEMO_USER: DEMO_PASSWORD},
        maildir=base / "maildir",
        record_dir=base / "server-recordings",
        faults=faults,
    )


def _describe(server: DebugServer, thread: ServerThread | None) -> DemoServer:
    assert server.port is not None
    return DemoServer(
        host=DEMO_HOST,
        port=server.port,
        tls_port=server.tls_port,
        user=DEMO_USER,
        password=DEMO_PASSWORD,
        maildir=server.maildir,
        record_dir=server.record_dir,
        cafile=server.cert.cafile if server.cert else None,
        cert=server.cert.cert if server.cert else None,
        server=server,
        thread=thread,
    )


def start_demo_server(
    *,
    on_entry: EntryCallback | None = None,
    on_message: MessageCallback | None = None,
    faults: tuple[Fault, ...] = (),
    tls: bool = True,
) -> DemoServer:
    """Start the demo in a background thread; returns once both ports are bound."""
    thread = ServerThread(demo_config(faults, tls), on_entry=on_entry, on_message=on_message)
    server = thread.start()
    return _describe(server, thread)


async def open_demo_server(
    *,
    on_entry: EntryCallback | None = None,
    on_message: MessageCallback | None = None,
    faults: tuple[Fault, ...] = (),
) -> DemoServer:
    """Start the demo on the running event loop (callbacks arrive on this loop)."""
    server = DebugServer(demo_config(faults), on_entry=on_entry, on_message=on_message)
    await server.start()
    return _describe(server, None)
