"""``smtpscope send TARGET --from A --to B``: one transaction, its transcript, swaks' exit codes."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from smtpscope.cli import common, tls_options

DEFAULT_LEVEL = "verify"  # send refuses what it cannot verify and exits 29, as swaks does

if TYPE_CHECKING:
    from smtpscope.protocol import Capabilities, Reply
    from smtpscope.session import Session, SessionOptions

QUIT_AFTER = ("connect", "banner", "ehlo", "starttls", "auth", "mail", "rcpt")


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "send",
        help="send one message and print the transcript (swaks-style exit codes)",
        description="Run one SMTP transaction and print its transcript live. Exit codes follow "
        "swaks: 0 ok, 1 usage, 2 connect, 6 connection closed, 21 banner, 22 EHLO/HELO, "
        "23 MAIL, 24 no RCPT accepted, 25 DATA, 26 after the final dot, 28 AUTH, 29 TLS, "
        "32 EHLO after TLS.",
    )
    p.add_argument("target", help="host[:port], smtp://, smtps://, submission://, user@domain "
                   "or @domain (MX routing)")
    p.add_argument("--from", dest="from_addr", required=True, metavar="ADDRESS",
                   help="envelope sender (MAIL FROM); '' for the null sender")
    p.add_argument("--to", action="append", required=True, metavar="ADDRESS",
                   help="recipient (RCPT TO); repeat for more")
    p.add_argument("--port", type=int, help="port, MX-routed targets included")
    p.add_argument("--tls", choices=("starttls", "implicit", "none", "auto"), default=None,
                   help="auto (default): STARTTLS when offered; starttls: required; "
                   "implicit: TLS from the first byte; none: never")
    p.add_argument("--cafile", help="verify certificates against this CA file")
    p.add_argument("--insecure", action="store_true", help="do not verify certificates")
    p.add_argument("--resolver", metavar="IP[:PORT]", help="DNS server for MX routing")
    p.add_argument("--helo", default=None, metavar="NAME", help="name for EHLO/HELO")
    auth = p.add_argument_group("authentication")
    auth.add_argument("--auth", metavar="MECH",
                      help="SASL mechanism: PLAIN, LOGIN, CRAM-MD5, DIGEST-MD5, SCRAM-SHA-1, "
                      "SCRAM-SHA-256, XOAUTH2, OAUTHBEARER, or auto (best offered)")
    auth.add_argument("--user", help="user name for --auth")
    auth.add_argument("--password-env", metavar="VAR",
                      help="take the password (or token) from $VAR; else ~/.netrc "
                      "(--netrc), else a no-echo prompt when stdin is a terminal")
    auth.add_argument("--netrc", action="store_true", help="take the password from ~/.netrc")
    auth.add_argument("--netrc-file", metavar="FILE", help="netrc file instead of ~/.netrc")
    msg = p.add_argument_group("message")
    msg.add_argument("--header", action="append", default=[], metavar="'Name: value'",
                     help="add a header; repeat for more")
    msg.add_argument("--subject", default="smtpscope test", help="Subject header")
    msg.add_argument("--body", default=None, help="body text (\\n for new lines)")
    msg.add_argument("--data", metavar="@FILE|-",
                     help="the whole message from FILE or stdin ('-') instead of building one")
    msg.add_argument("--attach", action="append", default=[], metavar="FILE",
                     help="attach FILE; repeat for more")
    msg.add_argument("--smtputf8", action="store_true", help="MAIL FROM ... SMTPUTF8")
    ext = p.add_argument_group("extensions")
    ext.add_argument("--pipeline", action="store_true", help="send MAIL, RCPT, DATA in one batch")
    ext.add_argument("--bdat", action="store_true", help="send the message with BDAT (CHUNKING)")
    ext.add_argument("--dsn-notify", metavar="NEVER|SUCCESS,FAILURE,DELAY",
                     help="RCPT NOTIFY= (RFC 3461)")
    ext.add_argument("--dsn-ret", choices=("FULL", "HDRS"), type=str.upper, help="MAIL RET=")
    ext.add_argument("--envid", help="MAIL ENVID= (xtext)")
    p.add_argument("--quit-after", choices=QUIT_AFTER, type=str.lower, metavar="STAGE",
                   help="stop after STAGE: " + ", ".join(QUIT_AFTER))
    p.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                   help="limit for connecting and for each reply (default 60)")
    p.add_argument("--record", metavar="FILE", help="write the session to a recording")
    tls_options.add_tls_options(p, default_level=DEFAULT_LEVEL)
    p.add_argument("--json", action="store_true",
                   help="print one JSON object (result and transcript) instead of the transcript")
    p.set_defaults(handler=run)


class Usage(Exception):
    """A problem with the command line, found before connecting."""


class Unexpected(Exception):
    """The server answered a stage with the wrong code: stop there."""

    def __init__(self, stage: str, message: str, status: str = "rejected") -> None:
        super().__init__(message)
        self.stage = stage
        self.status = status


# -- preparing (before any connection) -----------------------------------------------------------


def _unescape(text: str) -> str:
    return text.replace("\\n", "\n").replace("\\t", "\t")


def _message(args: argparse.Namespace) -> bytes:
    from smtpscope.message import build_message

    headers: list[tuple[str, str]] = []
    for item in args.header:
        name, sep, value = item.partition(":")
        if not sep or not name.strip() or " " in name.strip():
            raise Usage(f"--header {item!r} is not 'Name: value'")
        headers.append((name.strip(), value.strip()))
    if args.data is not None:
        if args.data == "-":
            data = sys.stdin.buffer.read()
        elif args.data.startswith("@"):
            try:
                with open(args.data[1:], "rb") as handle:
                    data = handle.read()
            except OSError as exc:
                raise Usage(f"cannot read --data file {args.data[1:]!r}: {exc.strerror}") from exc
        else:
            data = _unescape(args.data).encode("utf-8")
        head = "".join(f"{n}: {v}\r\n" for n, v in headers).encode("utf-8")
        return head + data
    body = _unescape(args.body) if args.body is not None else \
        "This is a test message sent by smtpscope.\n"
    try:
        return build_message(from_addr=args.from_addr, to_addrs=args.to, subject=args.subject,
                             body=body, extra_headers=headers, smtputf8=args.smtputf8,
                             attachments=args.attach)
    except (OSError, ValueError) as exc:
        raise Usage(f"cannot build the message: {exc}") from exc


def _secret(args: argparse.Namespace, host: str) -> str:
    from smtpscope.credentials import CredentialError, get_secret

    oauth = args.auth.upper() in ("XOAUTH2", "OAUTHBEARER")
    what = "token" if oauth else "password"
    try:
        return get_secret(
            env=args.password_env, netrc_host=host if (args.netrc or args.netrc_file) else None,
            user=args.user, prompt=f"{what.capitalize()} for {args.user} at {host}: ",
            allow_prompt=True, netrc_path=args.netrc_file, what=what,
            hint="--password-env VAR or --netrc",
        )
    except CredentialError as exc:
        raise Usage(str(exc)) from exc


def _prepare(args: argparse.Namespace) -> tuple[SessionOptions, str, bytes, str | None]:
    from smtpscope.session import DEFAULT_HELO

    if args.bdat and args.pipeline:
        raise Usage("--bdat and --pipeline cannot be combined here")
    if args.auth and not args.user:
        raise Usage("--auth needs --user")
    if args.auth and args.auth.upper() != "AUTO":
        from smtpscope.auth import MECHANISMS

        if args.auth.upper() not in MECHANISMS:
            raise Usage(f"unknown --auth {args.auth!r}; known: {', '.join(MECHANISMS)}, auto")
    from smtpscope.security.policy import PolicyError

    try:
        policy = tls_options.policy_from_args(args, default_level=DEFAULT_LEVEL)
    except PolicyError as exc:
        raise Usage(str(exc)) from exc
    security = {"none": "plain"}.get(args.tls or "", args.tls)
    if args.tls_level or args.tls_fingerprint:  # the default verifies TLS, never forces it
        security = tls_options.security_for(policy, security)
    options, mode = common.resolve_target(
        args.target, port=args.port, security=security, helo=args.helo or DEFAULT_HELO,
        verify=not args.insecure, cafile=args.cafile, resolver=args.resolver)
    tls_options.attach(policy, options, args.target, args.resolver)
    options.connect_timeout = args.timeout
    content = _message(args)
    secret = _secret(args, options.host) if args.auth else None
    return options, mode, content, secret


# -- the transaction ----------------------------------------------------------------------------


def _expect(reply: Reply, codes: tuple[int, ...], stage: str, what: str) -> Reply:
    if reply.code not in codes:
        from smtpscope.sanitize import visible

        raise Unexpected(stage, f"{what}: {reply.code} {visible(' '.join(reply.text_lines))}")
    return reply


def _pick_mechanism(name: str, caps: Capabilities | None) -> str:
    offered = caps.auth_mechanisms if caps is not None else ()
    if not offered:
        raise Unexpected("auth", "the server does not offer AUTH here (after STARTTLS it may)")
    if name.upper() == "AUTO":
        for choice in ("SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "PLAIN", "LOGIN"):
            if choice in offered:
                return choice
        raise Unexpected("auth", f"no supported mechanism offered ({', '.join(offered)})")
    if name.upper() not in offered:
        raise Unexpected("auth", f"the server does not offer AUTH {name.upper()} "
                         f"(offers {', '.join(offered)})")
    return name.upper()


class Transaction:
    """Runs the stages in order, keeping the current stage for exit codes."""

    def __init__(self, session: Session, args: argparse.Namespace, mode: str, content: bytes,
                 secret: str | None) -> None:
        self.session = session
        self.args = args
        self.mode = mode
        self.content = content
        self.secret = secret
        self.stage = "connect"
        self.accepted: list[str] = []
        self.rejected: list[str] = []

    def _done(self, stage: str) -> bool:
        return self.args.quit_after == stage

    async def _step(self, coro: Any) -> Any:
        import asyncio

        async with asyncio.timeout(self.args.timeout):
            return await coro

    async def run(self) -> None:
        import asyncio

        session, args = self.session, self.args

        def on_entry(entry: Any) -> None:
            if entry.kind == "note" and entry.text.startswith("Connected to"):
                self.stage = "banner"

        session.transcript.subscribe(on_entry)
        async with asyncio.timeout(args.timeout * 2):
            greeting = await session.connect()
        self.stage = "banner"
        if self._done("connect"):
            return
        _expect(greeting, (220,), "banner", "the banner is not 220")
        if self._done("banner"):
            return
        await self._ehlo("ehlo")
        if self._done("ehlo"):
            return
        await self._starttls()
        if self._done("starttls"):
            return
        if args.auth:
            await self._auth()
        if self._done("auth"):
            return
        if args.pipeline and session.capabilities is not None \
                and session.capabilities.has("PIPELINING"):
            await self._pipelined()
        else:
            if args.pipeline:
                session.transcript.note("the server does not advertise PIPELINING: sending "
                                        "one command at a time", kind="warning")
            await self._envelope()
        if self.args.quit_after in ("mail", "rcpt"):
            return
        await self._content()

    async def _ehlo(self, stage: str) -> None:
        from smtpscope.protocol import Helo

        self.stage = stage
        reply = await self._step(self.session.ehlo())
        if reply.code in (500, 502) and stage == "ehlo" and self.mode in ("auto", "plain") \
                and not (self.args.auth or self.args.pipeline or self.args.bdat):
            # An old server without ESMTP: HELO still lets a plain transaction through.
            reply = await self._step(self.session.command(Helo(self.session.options.helo_name)))
        _expect(reply, (250,), stage, "EHLO/HELO rejected")

    async def _starttls(self) -> None:
        session = self.session
        if self.mode in ("plain", "none", "implicit"):
            return
        self.stage = "tls"
        caps = session.capabilities
        if caps is None or not caps.has("STARTTLS"):
            if self.mode == "starttls":
                raise Unexpected("tls", "the server does not advertise STARTTLS "
                                 "(--tls starttls requires it)")
            session.transcript.note("STARTTLS not offered: going on without TLS", kind="warning")
            return
        reply = await self._step(session.starttls())
        if reply.code != 220:
            if self.mode == "starttls":
                _expect(reply, (220,), "tls", "STARTTLS refused")
            session.transcript.note("STARTTLS refused: going on without TLS", kind="warning")
            return
        await self._ehlo("ehlo_tls")

    async def _auth(self) -> None:
        from smtpscope.auth import MECHANISMS

        self.stage = "auth"
        session, args = self.session, self.args
        name = _pick_mechanism(args.auth, session.capabilities)
        oauth = name in ("XOAUTH2", "OAUTHBEARER")
        mech = MECHANISMS[name](
            username=args.user, password="" if oauth else (self.secret or ""),
            token=self.secret if oauth else None, host=session.options.tls_server_name,
            port=session.options.port,
        )
        reply = await self._step(session.authenticate(mech))
        _expect(reply, (235,), "auth", f"AUTH {name} failed")

    def _mail(self) -> Any:
        from smtpscope.protocol import MailFrom

        params: list[tuple[str, str | None]] = []
        caps = self.session.capabilities
        if self.args.smtputf8:
            params.append(("SMTPUTF8", None))
        if any(b > 0x7F for b in self.content) and caps is not None and caps.has("8BITMIME"):
            params.append(("BODY", "8BITMIME"))
        if self.args.dsn_ret:
            params.append(("RET", self.args.dsn_ret))
        if self.args.envid:
            params.append(("ENVID", self.args.envid))
        return MailFrom(self.args.from_addr, tuple(params))

    def _rcpts(self) -> list[Any]:
        from smtpscope.protocol import RcptTo

        params: tuple[tuple[str, str | None], ...] = ()
        if self.args.dsn_notify:
            params = (("NOTIFY", self.args.dsn_notify.upper()),)
        return [RcptTo(address, params) for address in self.args.to]

    def _tally(self, replies: list[Reply]) -> None:
        for address, reply in zip(self.args.to, replies, strict=True):
            (self.accepted if reply.is_success else self.rejected).append(address)
        if not self.accepted:
            last = replies[-1]
            from smtpscope.sanitize import visible

            raise Unexpected("rcpt", f"no recipient accepted (last: {last.code} "
                             f"{visible(' '.join(last.text_lines))})")

    async def _envelope(self) -> None:
        session = self.session
        self.stage = "mail"
        _expect(await self._step(session.command(self._mail())), (250,), "mail",
                "MAIL FROM rejected")
        if self._done("mail"):
            return
        self.stage = "rcpt"
        replies = [await self._step(session.command(cmd)) for cmd in self._rcpts()]
        self._tally(replies)

    async def _pipelined(self) -> None:
        from smtpscope.protocol import Data

        self.stage = "mail"
        commands = [self._mail(), *self._rcpts()]
        with_data = not self.args.bdat and self.args.quit_after not in ("mail", "rcpt")
        if with_data:
            commands.append(Data())
        replies = await self._step(self.session.pipeline(commands))
        _expect(replies[0], (250,), "mail", "MAIL FROM rejected")
        self.stage = "rcpt"
        self._tally(replies[1:1 + len(self.args.to)])
        self.pipelined_data = replies[-1] if with_data else None

    async def _content(self) -> None:
        from smtpscope.protocol import Bdat, Data, MessageContent, normalize_line_endings

        session = self.session
        if self.args.bdat:
            self.stage = "data"
            caps = session.capabilities
            if caps is None or not caps.has("CHUNKING"):
                raise Unexpected("data", "the server does not advertise CHUNKING (BDAT)")
            chunk = normalize_line_endings(self.content)
            self.stage = "dot"
            reply = await self._step(session.command(Bdat(chunk, last=True)))
            _expect(reply, (250,), "dot", "message refused")
            return
        self.stage = "data"
        reply = getattr(self, "pipelined_data", None)
        if reply is None:
            reply = await self._step(session.command(Data()))
        _expect(reply, (354,), "data", "DATA refused")
        self.stage = "dot"
        reply = await self._step(session.send_content(MessageContent(self.content)))
        _expect(reply, (250,), "dot", "message refused after the final dot")


# -- running ---------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    """Run ``smtpscope send``; returns the exit code."""
    try:
        options, mode, content, secret = _prepare(args)
    except Usage as exc:
        common.error_line("send", str(exc))
        return common.EXIT_USAGE
    except common.TargetFailure as exc:
        common.error_line("send", str(exc), "smtpscope mx DOMAIN shows the MX records"
                          if exc.status == "no-route" else "")
        return exc.exit_code
    import asyncio

    return asyncio.run(_send(args, options, mode, content, secret))


async def _send(args: argparse.Namespace, options: SessionOptions, mode: str, content: bytes,
                secret: str | None) -> int:
    import contextlib

    from smtpscope.session import Session

    try:
        session = Session(options, record_to=args.record)
    except OSError as exc:
        common.error_line("send", f"cannot write the recording {args.record!r}: {exc.strerror}")
        return common.EXIT_USAGE
    if not args.json:
        session.transcript.subscribe(common.LivePrinter())
    tx = Transaction(session, args, mode, content, secret)
    failure: common.Failure | None = None
    try:
        await tx.run()
    except Unexpected as exc:
        failure = common.Failure(exc.status, exc.stage, str(exc), "")
    except Exception as exc:  # every failure becomes one line and a stage exit code
        failure = common.classify(exc, tx.stage)
    if args.quit_after == "connect" and failure is None:
        await session.close()
    else:
        import asyncio

        with contextlib.suppress(Exception):
            async with asyncio.timeout(min(args.timeout, 10.0)):
                await session.quit()
        await session.close()
    code = common.EXIT_OK if failure is None else failure.exit_code
    tls = session.tls
    if tls is not None and not args.json and (args.show_certs or not tls.accepted):
        from smtpscope.sanitize import visible
        from smtpscope.security.report import tls_lines

        for line in tls_lines(tls, args.show_certs):
            print(visible(line), file=sys.stderr)
    if failure is not None:
        common.error_line("send", f"{_STAGE_NAMES.get(failure.stage, failure.stage)} failed: "
                          f"{failure.message}", failure.hint)
    if args.json:
        print(common.dumps(_json(session, tx, failure, code)))
    return code


_STAGE_NAMES = {"connect": "connecting", "banner": "banner", "ehlo": "EHLO", "tls": "TLS",
                "ehlo_tls": "EHLO after TLS", "auth": "AUTH", "mail": "MAIL FROM",
                "rcpt": "RCPT TO", "data": "DATA", "dot": "message", "closed": "connection"}


def _json(session: Session, tx: Transaction, failure: common.Failure | None,
          code: int) -> dict[str, Any]:
    from smtpscope.session import tls_info_dict

    peer = session.stream.peer if session.stream is not None else None
    return {
        "target": tx.args.target,
        "status": "success" if failure is None else failure.status,
        "exit_code": code,
        "stage": None if failure is None else failure.stage,
        "error": None if failure is None else failure.message,
        "hint": None if failure is None else (failure.hint or None),
        "server": {"host": session.options.host, "port": session.options.port,
                   "peer": None if peer is None else f"{peer[0]}:{peer[1]}",
                   "tls_mode": tx.mode},
        "tls": None if session.tls is None else tls_info_dict(session.tls),
        "recipients": {"accepted": tx.accepted, "rejected": tx.rejected},
        "transcript": [common.entry_brief(e) for e in session.transcript],
    }
