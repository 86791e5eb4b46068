"""Run the debug server: on the current event loop (DebugServer) or in a thread (ServerThread).

Threading model: :class:`DebugServer` lives on the event loop that awaited :meth:`start`;
``on_entry(session_id, entry)`` and ``on_message(message)`` are called on that loop's thread,
in wire order. :class:`ServerThread` runs a DebugServer on its own loop in a daemon thread, so
its callbacks run in *that* thread: a GUI caller must hand them over itself (Textual:
``app.call_from_thread``; asyncio: ``loop.call_soon_threadsafe``).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import ssl
import threading
import warnings
from functools import partial
from pathlib import Path

from smtpscope.config import data_dir
from smtpscope.server.auth import authenticator
from smtpscope.server.certs import (
    CertificateError,
    CertPaths,
    ensure_certificate,
    server_context,
    user_certificate,
)
from smtpscope.server.config import ALL_MECHANISMS, ServerConfig, resolve_listen_host
from smtpscope.server.context import EntryCallback, MessageCallback, ServerContext
from smtpscope.server.handler import Handler
from smtpscope.server.smtp import ScopeSMTP

# aiosmtpd logs a deprecation warning on every successful AUTH (Session.login_data); with no
# logging configured Python would print it on stderr, in the middle of the live view.
logging.getLogger("mail.log").addHandler(logging.NullHandler())
# How long stopping waits for clients to be sent their 421 before their connections are cut
# (a client that reads nothing would otherwise hold the server, and its recording, open).
SHUTDOWN_GRACE = 2.0


class ServerError(Exception):
    """The server could not start; the message is one line for the user."""


class NoCertificateError(ServerError):
    """No TLS certificate could be loaded or made: the server can still run without TLS."""


class PortInUseError(ServerError):
    """The port is taken (typically another ``smtpscope serve``)."""

    def __init__(self, host: str, port: int, option: str) -> None:
        self.host, self.port, self.option = host, port, option
        super().__init__(f"port {port} on {host} is already in use; pick another with {option}")


def default_maildir() -> Path:
    return data_dir() / "maildir"


def default_record_dir() -> Path:
    from smtpscope.record.store import private_dir

    return private_dir(data_dir() / "server-recordings", ours=True)


def record_dir(config: ServerConfig) -> Path:
    """The folder for session recordings: --record-dir (made if missing: it names a folder for
    the server to fill) or the default one."""
    from smtpscope.record.store import private_dir

    if config.record_dir is None:
        return default_record_dir()
    with contextlib.suppress(OSError):  # then each session's recorder says why it cannot write
        private_dir(config.record_dir)
    return config.record_dir


class DebugServer:
    """The embedded SMTP debugging server; use ``async with`` or start()/stop()."""

    def __init__(
        self,
        config: ServerConfig,
        *,
        on_entry: EntryCallback | None = None,
        on_message: MessageCallback | None = None,
    ) -> None:
        config.validate()
        self.config = config
        self.host = resolve_listen_host(config.host)
        self.maildir = config.maildir or default_maildir()
        self.record_dir = record_dir(config) if config.record else None
        self.on_entry = on_entry
        self.on_message = on_message
        self.cert: CertPaths | None = None
        self.port: int | None = None  # bound plain (+STARTTLS) port
        self.tls_port: int | None = None  # bound implicit-TLS port
        self.ctx: ServerContext | None = None
        self._servers: list[asyncio.Server] = []

    @property
    def mechanisms(self) -> tuple[str, ...]:
        """AUTH mechanisms offered (none without users)."""
        return self.config.mechanisms if self.config.users else ()

    def _load_tls(self) -> ssl.SSLContext | None:
        if not self.config.needs_tls:
            return None
        try:
            if self.config.cert is not None and self.config.key is not None:
                self.cert = user_certificate(self.config.cert, self.config.key)
            else:
                self.cert = ensure_certificate()
            return server_context(self.cert)
        except CertificateError as exc:
            raise NoCertificateError(str(exc)) from exc

    def _factory(self, handler: Handler, tls: ssl.SSLContext | None, implicit: bool) -> ScopeSMTP:
        assert self.ctx is not None
        cfg = self.config
        excluded = [m for m in ALL_MECHANISMS if m not in self.mechanisms]
        with warnings.catch_warnings():
            # aiosmtpd warns when AUTH is required without TLS; that is the user's explicit
            # choice on a debugging server (--require-auth without --require-tls).
            warnings.simplefilter("ignore", UserWarning)
            return ScopeSMTP(
                handler,
                self.ctx,
                implicit_tls=implicit,
                hostname=cfg.hostname,
                # The implicit-TLS port must not offer STARTTLS, and aiosmtpd only knows TLS
                # it started itself, so that port gets no context and no TLS requirements.
                tls_context=None if implicit else tls,
                # --require-tls is enforced by ScopeSMTP, with an enhanced status code.
                require_starttls=False,
                auth_require_tls=cfg.require_tls and not implicit,
                auth_required=cfg.require_auth,
                auth_exclude_mechanism=excluded,
                authenticator=authenticator,
                data_size_limit=cfg.size or None,
                enable_SMTPUTF8=True,
                timeout=cfg.timeout,
                loop=asyncio.get_running_loop(),
            )

    async def _listen(
        self, factory: partial[ScopeSMTP], port: int, option: str, tls: ssl.SSLContext | None
    ) -> asyncio.Server:
        loop = asyncio.get_running_loop()
        try:
            # A TLS close waits for the client's close_notify (30 s by default); one that never
            # comes would keep a stopping server, and the session's recording, open as long.
            return await loop.create_server(factory, self.host, port, ssl=tls,
                                            ssl_shutdown_timeout=SHUTDOWN_GRACE if tls else None)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUseError(self.host, port, option) from exc
            if exc.errno in (errno.EACCES, errno.EPERM):
                raise ServerError(
                    f"not allowed to listen on port {port} on {self.host}; "
                    f"use a port above 1023 with {option}"
                ) from exc
            raise ServerError(f"cannot listen on {self.host} port {port}: {exc.strerror}") from exc

    async def start(self) -> None:
        """Bind the ports; raises PortInUseError or ServerError with a one-line message."""
        tls = self._load_tls()
        try:
            self.ctx = ServerContext(
                self.config,
                self.maildir,
                self.record_dir,
                on_entry=self.on_entry,
                on_message=self.on_message,
            )
        except OSError as exc:
            raise ServerError(f"cannot use Maildir {self.maildir}: {exc.strerror or exc}") from exc
        handler = Handler(self.ctx)
        try:
            if self.config.port is not None:
                plain = partial(
                    self._factory, handler, tls if self.config.starttls else None, False
                )
                server = await self._listen(plain, self.config.port, "--port", None)
                self._servers.append(server)
                self.port = server.sockets[0].getsockname()[1]
            if self.config.tls_port is not None:
                assert tls is not None
                implicit = partial(self._factory, handler, tls, True)
                server = await self._listen(implicit, self.config.tls_port, "--tls-port", tls)
                self._servers.append(server)
                self.tls_port = server.sockets[0].getsockname()[1]
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop listening; tell live sessions 421 and close them (recordings get a footer)."""
        for server in self._servers:
            server.close()
        if self.ctx is not None:
            for conn in list(self.ctx.connections):
                conn.shut_down()
            # connection_lost ends each session's transcript and recording.
            if not await self._sessions_ended(SHUTDOWN_GRACE):
                for conn in list(self.ctx.connections):
                    conn.cut()
                await self._sessions_ended(0.5)
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()

    async def _sessions_ended(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for every connection to be gone."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.ctx is not None and self.ctx.connections:
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    async def __aenter__(self) -> DebugServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


class ServerThread:
    """A DebugServer on its own event loop in a daemon thread (for synchronous callers)."""

    def __init__(
        self,
        config: ServerConfig,
        *,
        on_entry: EntryCallback | None = None,
        on_message: MessageCallback | None = None,
    ) -> None:
        self.server = DebugServer(config, on_entry=on_entry, on_message=on_message)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="smtpscope-server", daemon=True)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            await self.server.start()
        except BaseException as exc:  # handed to the starting thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        await self._stop.wait()
        await self.server.stop()

    def start(self, timeout: float = 30.0) -> DebugServer:
        """Start and wait until the ports are bound; re-raises the server's start error."""
        self._thread.start()
        if not self._ready.wait(timeout):
            raise ServerError("the server thread did not start in time")
        if self._error is not None:
            self._thread.join()
            raise self._error
        return self.server

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server and wait for its thread."""
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)

    def __enter__(self) -> DebugServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
