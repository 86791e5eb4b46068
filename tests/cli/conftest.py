"""Loopback aiosmtpd servers (plain, STARTTLS, implicit TLS, AUTH) and scripted peers for the
headless commands."""

from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from smtpscope.cli import main

USER, PASSWORD = "alice", "alice-secret-pw"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Handler:
    """Accepts mail for any domain but reject.test; remembers what arrived."""

    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    mail_options: list[list[str]] = field(default_factory=list)
    rcpt_options: list[list[str]] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address.endswith("@reject.test"):
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        self.rcpt_options.append(list(rcpt_options))
        return "250 OK"

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                          mail_options: list[str]) -> str:
        if address.startswith("blocked@"):
            return "553 5.7.1 sender blocked"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        self.mail_options.append(list(mail_options))
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 2.0.0 queued as TEST"


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                   data: Any) -> AuthResult:
    ok = (data.login, data.password) == (USER.encode(), PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


@dataclass
class Server:
    host: str
    port: int
    handler: Handler
    cafile: str

    @property
    def target(self) -> str:
        return f"{self.host}:{self.port}"


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def cafile(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="session")
def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    cert = ca.issue_cert("localhost", "127.0.0.1", common_name="localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    return context


@pytest.fixture
def make_server(server_tls: ssl.SSLContext, cafile: str) -> Iterator[Callable[..., Server]]:
    """Start aiosmtpd: ``tls`` None, "starttls" or "implicit"; extra SMTP keyword arguments."""
    controllers: list[Controller] = []

    def start(tls: str | None = None, **kwargs: Any) -> Server:
        handler = Handler()
        port = free_port()
        options: dict[str, Any] = {"authenticator": _authenticator, **kwargs}
        if tls == "starttls":
            options["tls_context"] = server_tls
        if tls == "implicit":
            options["ssl_context"] = server_tls
            options["server_hostname"] = "localhost"
        controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
        controller.start()
        controllers.append(controller)
        return Server("127.0.0.1", port, handler, cafile)

    yield start
    for controller in controllers:
        controller.stop()


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run ``smtpscope ARGS`` in this process; returns exit code, stdout and stderr."""

    def invoke(*args: str) -> Result:
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


def assert_no_credential(result: Result, user: str, password: str) -> list[dict[str, Any]]:
    """Check that a ``send --json`` run printed no trace of a PLAIN or LOGIN credential: not the
    password, nor its base64, nor the base64 of any line that carried it (as ``raw_base64``
    would hold it); returns the transcript's redacted entries."""
    import base64
    import json

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode("ascii")

    plain, login = b64(f"\0{user}\0{password}".encode()), b64(password.encode())
    lines = [f"AUTH PLAIN {plain}\r\n", f"{plain}\r\n", f"{login}\r\n",
             f"AUTH LOGIN {login}\r\n"]
    for trace in (password, plain, login, *(b64(line.encode()) for line in lines)):
        assert trace not in result.out and trace not in result.err
    transcript = json.loads(result.out)["transcript"]
    for entry in transcript:
        sent = base64.b64decode(entry.get("raw_base64", ""), validate=True)
        assert password.encode() not in sent and plain.encode() not in sent \
            and login.encode() not in sent
    redacted = [entry for entry in transcript if entry.get("redacted")]
    assert all("raw_base64" not in entry for entry in redacted)
    # Not vacuous: the other lines on the wire do carry their bytes.
    assert all("raw_base64" in entry for entry in transcript
               if entry["dir"] != "local" and not entry.get("redacted"))
    return redacted


def write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


Script = Callable[[Any], None]  # gets a binary file over the accepted socket


@pytest.fixture
def silent_resolver() -> Iterator[str]:
    """A loopback UDP port that takes DNS queries and never answers (``--resolver`` value)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def scripted_peer() -> Iterator[Callable[[Script], int]]:
    """A loopback TCP listener that runs ``script`` on each connection in a thread; gives the
    port. For servers aiosmtpd will not imitate: silence, replies out of turn, early hangups."""
    listeners: list[socket.socket] = []
    clients: list[socket.socket] = []

    def start(script: Script) -> int:
        import threading

        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listeners.append(listener)

        def serve() -> None:
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return  # the listener was closed: the test is over
                clients.append(conn)
                with conn, conn.makefile("rwb", buffering=0) as stream, \
                        contextlib.suppress(OSError):
                    script(stream)

        threading.Thread(target=serve, daemon=True).start()
        return int(listener.getsockname()[1])

    yield start
    for sock in listeners + clients:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
