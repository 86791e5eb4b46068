"""What a session is configured with, how it fails, and how its events are described.

Pure values and functions beside :mod:`smtpscope.session` (which holds the I/O loop), so the
loop stays readable and views can import these without pulling in asyncio.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from smtpscope.protocol import Capabilities, Command, Reply, State
from smtpscope.protocol.checks import command_kind
from smtpscope.protocol.kinds import Kind
from smtpscope.transport.timeouts import RFC5321_TIMEOUTS
from smtpscope.transport.tls import TLSInfo
from smtpscope.values import Value

if TYPE_CHECKING:
    from smtpscope.session import Session
    from smtpscope.session_blocking import SocketSession

DEFAULT_HELO = "smtpscope.localhost"


class Stage(StrEnum):
    """Where a conversation is (or stopped); the values are the stage words of JSON reports."""

    CONNECT = "connect"
    BANNER = "banner"
    EHLO = "ehlo"
    STARTTLS = "starttls"
    TLS = "tls"
    EHLO_TLS = "ehlo_tls"
    AUTH = "auth"
    MAIL = "mail"
    RCPT = "rcpt"
    DATA = "data"
    DOT = "dot"
    QUIT = "quit"
    COMMAND = "command"
    CLOSED = "closed"


# The stage a reply to each engine kind belongs to (anything else: Stage.COMMAND).
_KIND_STAGE: dict[str, Stage] = {
    Kind.GREETING: Stage.BANNER, Kind.EHLO: Stage.EHLO, Kind.LHLO: Stage.EHLO,
    Kind.HELO: Stage.EHLO, Kind.STARTTLS: Stage.STARTTLS, Kind.AUTH: Stage.AUTH,
    Kind.AUTH_RESPONSE: Stage.AUTH, Kind.AUTH_CANCEL: Stage.AUTH, Kind.MAIL: Stage.MAIL,
    Kind.RCPT: Stage.RCPT, Kind.DATA: Stage.DATA, Kind.BDAT: Stage.DATA,
    Kind.BDAT_LAST: Stage.DOT, Kind.CONTENT: Stage.DOT, Kind.QUIT: Stage.QUIT,
}


def stage_for(command: Command | None) -> Stage:
    """The stage of the reply ``command`` waits for (None: the greeting)."""
    if command is None:
        return Stage.BANNER
    return _KIND_STAGE.get(command_kind(command), Stage.COMMAND)


class SessionError(Exception):
    """The session could not go on; ``stage`` says where it stopped.

    Subclasses say why, so a front end picks an exit code or a hint with ``isinstance`` and
    never by reading the message.
    """

    #: Replies the awaited command had earned when it ended: LMTP answers the end of the data
    #: once per recipient (RFC 2033 §4.2), and those that came before a hang-up still count.
    replies: tuple[Reply, ...] = ()

    def __init__(self, message: str, stage: Stage) -> None:
        super().__init__(message)
        self.stage = Stage(stage)


class SessionClosed(SessionError):
    """The server closed the connection (or it was reset) while a reply was awaited."""


class ReplyTimeout(SessionError):
    """No reply arrived within ``seconds``; the connection may still be open. ``partial`` is
    what came of a reply that began and did not end (a server trickling it, or stalled)."""

    def __init__(self, message: str, stage: Stage, seconds: float,
                 partial: bytes = b"") -> None:
        if partial:
            from smtpscope.protocol.errors import show_bytes

            message += f"; the reply began but did not end: {show_bytes(partial, 60)}"
        super().__init__(message, stage)
        self.seconds = seconds
        self.partial = partial


class ConnectFailed(SessionError):
    """No connection could be made; ``attempts`` holds every route candidate tried, in order.

    The transport's own error (``ConnectError`` or, for implicit TLS, ``TLSError``) is the
    ``__cause__``.
    """

    def __init__(self, message: str, stage: Stage, attempts: tuple[Any, ...] = ()) -> None:
        super().__init__(message, stage)
        self.attempts = attempts


class TLSFailed(SessionError):
    """The TLS handshake failed (implicit TLS or after STARTTLS); the ``TLSError`` is the cause.

    ``starttls`` is the server's 220 to STARTTLS when there was one: its warnings (bytes
    injected after it) matter all the more when the handshake then fails.
    """

    def __init__(self, message: str, stage: Stage, starttls: Reply | None = None) -> None:
        super().__init__(message, stage)
        self.starttls = starttls


class ProtocolFailure(SessionError):
    """The server sent something that is not SMTP (the engine's RemoteProtocolError)."""


class SessionOptions(Value):
    """How to connect: everything a view asks the user, with safe defaults."""

    __slots__ = ("cafile", "connect_timeout", "data_timeout", "family", "helo_name", "host",
                 "lmtp", "local_addr", "pipe_command", "port", "preamble", "reply_timeout", "route",
                 "security", "server_hostname", "tls", "unix_path", "verify", "xclient")
    host: str
    port: int
    security: str  # "plain" | "starttls" | "implicit"; "auto" = starttls if offered
    helo_name: str
    verify: bool
    cafile: str | None
    server_hostname: str | None
    tls: Any  # smtpscope.security.policy.TLSPolicy; None: built from verify/cafile
    connect_timeout: float  # each connection attempt, and each TLS handshake
    lmtp: bool
    route: tuple[Any, ...]  # MX candidates (smtpscope.mx.Candidate) tried in order
    reply_timeout: float | None  # None: RFC 5321 §4.5.3.2 values, per command
    unix_path: str | None  # a UNIX socket instead of TCP (host/port then unused)
    pipe_command: str | None  # a shell command whose stdin/stdout speak SMTP
    family: int  # socket.AF_INET / AF_INET6 to force one (-4 / -6), 0 for either
    local_addr: tuple[str, int] | None  # bind the client socket here first
    preamble: bytes  # sent right after connecting, before TLS and the banner (PROXY)
    xclient: tuple[str, ...]  # XCLIENT attribute sets a front end sends after EHLO
    #: The reply to the message (after <CRLF>.<CRLF> or BDAT LAST; LMTP: every one of them).
    #: None: RFC 5321's 10 minutes, or ``reply_timeout`` when that is longer (see reply_limit).
    data_timeout: float | None

    def __init__(self, host: str, port: int = 25, security: str = "starttls",
                 helo_name: str = DEFAULT_HELO, verify: bool = True, cafile: str | None = None,
                 server_hostname: str | None = None, tls: Any = None,
                 connect_timeout: float = 30.0, lmtp: bool = False, route: tuple[Any, ...] = (),
                 reply_timeout: float | None = None, unix_path: str | None = None,
                 pipe_command: str | None = None, family: int = 0,
                 local_addr: tuple[str, int] | None = None, preamble: bytes = b"",
                 xclient: tuple[str, ...] = (), data_timeout: float | None = None) -> None:
        self._set(host=host, port=port, security=security, helo_name=helo_name, verify=verify,
                  cafile=cafile, server_hostname=server_hostname, tls=tls,
                  connect_timeout=connect_timeout, lmtp=lmtp, route=route,
                  reply_timeout=reply_timeout, unix_path=unix_path, pipe_command=pipe_command,
                  family=family, local_addr=local_addr, preamble=preamble, xclient=xclient,
                  data_timeout=data_timeout)

    @property
    def tls_server_name(self) -> str:
        return self.server_hostname or self.host

    @property
    def endpoint(self) -> str:
        """Where this goes, for recordings and titles: ``host:port``, a socket path or a pipe."""
        if self.pipe_command is not None:
            return f"pipe:{self.pipe_command}"
        if self.unix_path is not None:
            return f"{'lmtp' if self.lmtp else 'unix'}:{self.unix_path}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


class SessionView:
    """A read-only view of a live session for front ends: what they may look at, nothing more."""

    __slots__ = ("_session",)

    def __init__(self, session: Session | SocketSession) -> None:
        self._session = session

    @property
    def state(self) -> State:
        return self._session.conn.state

    @property
    def capabilities(self) -> Capabilities | None:
        return self._session.conn.capabilities

    @property
    def tls(self) -> TLSInfo | None:
        return self._session.tls

    @property
    def peer(self) -> str | None:
        """``host:port`` of the peer, the socket path or the pipe's command; None before."""
        stream = self._session.stream
        return None if stream is None else stream.peer_text

    @property
    def authenticated(self) -> bool:
        return self._session.conn.authenticated

    @property
    def lmtp(self) -> bool:
        return self._session.conn.lmtp

    @property
    def auth_mechanism(self) -> str | None:
        """The mechanism of the AUTH exchange in progress (None outside one)."""
        return self._session.conn.auth_mechanism

    @property
    def is_open(self) -> bool:
        return self._session.is_open

    @property
    def ended(self) -> bool:
        """The connection failed or closed: nothing more goes out on it (not yet while
        connecting, which ``is_open`` cannot tell apart)."""
        return self._session.closed_reason is not None

    @property
    def endpoint(self) -> str:
        return self._session.options.endpoint


# Which RFC 5321 §4.5.3.2 timeout applies while waiting for the reply owed to a kind.
_TIMEOUT_KEY: dict[str, str] = {Kind.MAIL: "mail", Kind.RCPT: "rcpt", Kind.DATA: "data_init",
                Kind.BDAT: "data_term", Kind.BDAT_LAST: "data_term", Kind.CONTENT: "data_term"}
#: The kinds whose reply answers the whole message: it went out, and the server may take
#: minutes (content filters) before it says whether it took it.
MESSAGE_END = frozenset({Kind.CONTENT, Kind.BDAT_LAST})


def closed_by_reply(reply: Reply) -> str:
    """The session's ``closed_reason`` after a reply that closes it: the 221 to our QUIT is
    the end we asked for, a 421 the server's own."""
    if reply.code == 221:
        return "closed after QUIT (221)"
    return f"closed by server ({reply.code})"


def reply_limit(options: SessionOptions, kind: str | None) -> float:
    """Seconds to wait for the reply owed to a command of ``kind`` (the engine's, so content
    sent as raw bytes counts as content; None: the greeting).

    The reply to the message waits ``data_timeout``; unset, RFC 5321 §4.5.3.2.6's 10 minutes,
    or ``reply_timeout`` when that is longer: a client that gives up sooner sends again, and
    the message the server did take arrives twice. Any other reply waits ``reply_timeout``;
    unset, RFC 5321 §4.5.3.2's figure for what it answers (5 minutes otherwise).
    """
    rfc = float(RFC5321_TIMEOUTS[_TIMEOUT_KEY.get(kind or Kind.GREETING, "greeting")])
    if kind in MESSAGE_END:
        if options.data_timeout is not None:
            return options.data_timeout
        return max(rfc, options.reply_timeout or 0.0)
    return options.reply_timeout or rfc


def tls_info_dict(info: TLSInfo) -> dict[str, Any]:
    """A JSON-ready form of a TLSInfo for transcripts and reports: its tuples become lists,
    each certificate a dict, and the DANE result (when TLSA was looked up) a dict too."""
    data = info._asdict()
    data["peer_chain"] = [cert._asdict() for cert in info.peer_chain]
    if info.dane is not None:
        from dataclasses import asdict  # loaded with the DANE code already

        data["dane"] = asdict(info.dane)
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in data.items()}


def tls_failure_info(starttls: bool, *, error: Exception | None = None,
                     refused: TLSInfo | None = None) -> dict[str, Any]:
    """Typed facts of a TLS failure, for ``info`` of its error entry: exports (swaks' "TLS
    startup failed") word it from these, never from the message.

    ``stage`` is ``handshake`` (it did not complete: ``kind`` as ``TLSError.kind``, and
    ``openssl`` the (library, reason) OpenSSL gave) or ``verification`` (it completed and the
    level refused the certificate: ``reason_code`` as ``TLSInfo.trust_reason_code``).
    """
    from smtpscope.transport.errors import TLSError

    facts: dict[str, Any] = {"starttls": starttls}
    if refused is not None:
        facts.update(stage="verification", reason_code=refused.trust_reason_code)
    else:
        tls_error = error if isinstance(error, TLSError) else None
        facts.update(stage="handshake", kind=tls_error and tls_error.kind,
                     openssl=list(tls_error.openssl) if tls_error and tls_error.openssl else None)
    return {"tls_failed": facts}


def describe_tls(info: TLSInfo) -> str:
    """One line for the TLS boundary: version, cipher and what verification said."""
    from smtpscope.security.report import client_cert_line, trust_line

    check = trust_line(info)
    client = client_cert_line(info)
    return (f"TLS started: {info.version} {info.cipher} ({info.bits} bits) · {check}"
            + (f" · {client}" if client else ""))
