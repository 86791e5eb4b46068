"""``smtpscope serve``: a local SMTP debugging server that shows every session live."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from smtpscope.cli.common import port_number
from smtpscope.cli.suggest import refuse_passwords, suggest

if TYPE_CHECKING:
    from rich.console import Console

    from smtpscope.record import Entry
    from smtpscope.server import DebugServer, ServerConfig

EXIT_OK = 0
EXIT_USAGE = 1
EXIT_START = 2
CONTENT_PREVIEW_LINES = 20
# A log line longer than this is cut, with a count of the rest: an over-long command keeps
# 64 KB in the transcript, which is no line to print on a terminal.
MAX_LINE_CHARS = 1000


def _cut(line: str) -> str:
    extra = len(line) - MAX_LINE_CHARS
    return line if extra <= 0 else f"{line[:MAX_LINE_CHARS]} … ({extra:,} more chars)"


def _fault_arg(spec: str) -> Any:
    from smtpscope.server.faults import FaultSpecError, parse_fault

    try:
        return parse_fault(spec)
    except FaultSpecError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


DEPRECATED_USER_FORM = (
    "warning: --user NAME:PASSWORD puts the password in the process list and shell history; "
    "it still works but will go: use --user NAME with --password-env VAR, the prompt, or "
    "--users-file FILE"
)


def _warn_if_readable(path: Path) -> None:
    """Passwords in a file others can read are not secret: say so (the file is still used)."""
    import stat

    from smtpscope.sanitize import visible

    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        print(f"smtpscope serve: warning: {visible(str(path))} holds passwords and other users "
              f"can read it (mode {stat.S_IMODE(mode):04o}); chmod 600 it", file=sys.stderr)


def _users_from_args(args: argparse.Namespace) -> dict[str, str]:
    """``--user`` values with their passwords: the environment, a prompt, or (deprecated)
    ``NAME:PASSWORD``; raises ConfigError. No message repeats what was typed."""
    import getpass
    import os

    from smtpscope.server.config import ConfigError, check_user_name, parse_user

    users: dict[str, str] = {}
    for spec in args.users:
        if ":" in spec:
            print(DEPRECATED_USER_FORM, file=sys.stderr)
            name, password = parse_user(spec)
        else:
            name = check_user_name(spec)
            if args.password_env:
                password = os.environ.get(args.password_env, "")
                if not password:
                    raise ConfigError(f"--password-env {args.password_env}: the variable is "
                                      "unset or empty")
            elif sys.stdin.isatty():
                password = getpass.getpass(f"password for {name}: ")
                if not password:
                    raise ConfigError("an empty password was given at the prompt")
            else:
                raise ConfigError("--user NAME needs a password: --password-env VAR, a terminal "
                                  "to prompt on, or --users-file FILE of NAME:PASSWORD lines")
        users[name] = password
    return users


def _size_arg(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--size {text!r} is not a number of bytes") from None
    if value < 0:
        raise argparse.ArgumentTypeError("--size must be 0 (no limit) or a positive number")
    return value


def _port_arg(text: str) -> int:
    """A port to listen on: 0 asks the system for any free one, else what --port takes."""
    if text.strip() == "0":
        return 0
    try:
        return port_number(text)
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError(f"{exc}; 0 takes any free port") from None


def _server_mechanisms() -> tuple[str, ...]:
    from smtpscope.server.config import ALL_MECHANISMS

    return ALL_MECHANISMS


def add_parser(subparsers: Any) -> None:
    """Register ``serve`` and its options."""
    p = subparsers.add_parser(
        "serve",
        help="run a local SMTP debugging server (stores mail, never relays)",
        description=(
            "Run a local SMTP server for testing mail clients. Every accepted message is stored "
            "in a Maildir and never relayed; every session is shown live and recorded as JSON "
            "Lines. Ctrl+C stops it."
        ),
        epilog="exit status: 0 stopped (Ctrl+C); 1 an option is wrong (nothing was started); "
        "2 it could not start (a port in use, a certificate or key that does not load, a "
        "Maildir it cannot write)",
    )
    net = p.add_argument_group("listening")
    net.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    net.add_argument(
        "--listen-any",
        action="store_true",
        help="allow a non-loopback --host (anyone who can reach it can send mail)",
    )
    net.add_argument(
        "--port",
        type=_port_arg,
        default=2525,
        help="plain SMTP port with STARTTLS (default 2525; 0 = any free port)",
    )
    net.add_argument(
        "--tls-port",
        type=_port_arg,
        default=None,
        help="also listen with implicit TLS on this port (0 = any free port)",
    )
    net.add_argument(
        "--hostname",
        default="localhost",
        help="the server's domain name, in its greeting and Received lines (default localhost)",
    )
    tls = p.add_argument_group("TLS")
    tls.add_argument(
        "--cert", type=Path, help="certificate chain (PEM) to use instead of the generated one"
    )
    tls.add_argument("--key", type=Path, help="private key (PEM) for --cert")
    tls.add_argument("--no-starttls", action="store_true", help="do not offer STARTTLS")
    tls.add_argument(
        "--require-tls", action="store_true", help="answer 530 to mail commands until STARTTLS"
    )
    auth = p.add_argument_group("authentication")
    auth.add_argument(
        "--user",
        dest="users",
        action="append",
        default=[],
        metavar="NAME",
        help="accept this login (repeatable); the password comes from --password-env or a "
        "prompt (NAME:PASSWORD still works but is deprecated: it shows in the process list)",
    )
    auth.add_argument(
        "--password-env", metavar="VAR", help="take the --user password from $VAR"
    )
    refuse_passwords(auth, "--password-env VAR, --users-file FILE, or the prompt")
    auth.add_argument(
        "--users-file", "--users", dest="users_file", type=Path, metavar="FILE",
        help="file of NAME:PASSWORD lines (keep it 0600)",
    )
    suggest(auth.add_argument(
        "--auth-mechanisms",
        metavar="LIST",
        help="comma-separated mechanisms to offer (default PLAIN,LOGIN,CRAM-MD5,SCRAM-SHA-256)",
    ), _server_mechanisms)
    auth.add_argument(
        "--require-auth",
        action="store_true",
        help="answer 530 to MAIL/RCPT/DATA until the client authenticates",
    )
    mail = p.add_argument_group("messages")
    mail.add_argument(
        "--size",
        type=_size_arg,
        default=None,
        help="maximum message size, advertised and enforced (default 33554432; 0 = no limit)",
    )
    mail.add_argument(
        "--maildir", type=Path, help="where to store messages (default <data dir>/maildir)"
    )
    mail.add_argument(
        "--no-trace", action="store_true",
        help="store each message exactly as received, without the Return-Path, Envelope-to "
        "and Received headers put above it",
    )
    mail.add_argument(
        "--fail",
        dest="faults",
        action="append",
        type=_fault_arg,
        default=[],
        metavar="STAGE:CODE[:PROB]",
        help="inject a failure, e.g. RCPT:451:0.3, AUTH:535, DATA:552 "
        "(stages: CONNECT HELO EHLO STARTTLS AUTH MAIL RCPT DATA RSET NOOP "
        "VRFY; repeatable)",
    )
    mail.add_argument(
        "--fail-seed", type=int, help="seed for --fail probabilities (repeatable runs)"
    )
    out = p.add_argument_group("output")
    out.add_argument(
        "--record-dir",
        type=Path,
        help="where session recordings go (default <data dir>/server-recordings)",
    )
    out.add_argument("--no-record", action="store_true", help="do not record sessions")
    out.add_argument(
        "--full",
        action="store_true",
        help=f"show whole messages (default: first {CONTENT_PREVIEW_LINES} lines)",
    )
    p.set_defaults(handler=run)


def build_config(args: argparse.Namespace) -> ServerConfig:
    """Turn parsed options into a ServerConfig; raises ConfigError."""
    from smtpscope.server.config import (
        ALL_MECHANISMS,
        DEFAULT_SIZE,
        ConfigError,
        ServerConfig,
        load_users,
    )

    users: dict[str, str] = {}
    if args.users_file is not None:
        users.update(load_users(args.users_file))
        _warn_if_readable(args.users_file)
    users.update(_users_from_args(args))
    mechanisms = ALL_MECHANISMS
    if args.auth_mechanisms:
        mechanisms = tuple(m.strip().upper() for m in args.auth_mechanisms.split(",") if m.strip())
        if not mechanisms:
            raise ConfigError("--auth-mechanisms needs at least one mechanism")
    config = ServerConfig(
        host=args.host,
        port=args.port,
        tls_port=args.tls_port,
        listen_any=args.listen_any,
        hostname=args.hostname,
        starttls=not args.no_starttls,
        cert=args.cert,
        key=args.key,
        users=users,
        mechanisms=mechanisms,
        require_tls=args.require_tls,
        require_auth=args.require_auth,
        size=DEFAULT_SIZE if args.size is None else (args.size or None),
        maildir=args.maildir,
        trace=not args.no_trace,
        record=not args.no_record,
        record_dir=args.record_dir,
        faults=tuple(args.faults),
        fault_seed=args.fail_seed,
    )
    config.validate()
    return config


class LivePrinter:
    """Print entries as they happen: time, session id, direction, text (escaped, no markup)."""

    STYLES: ClassVar[dict[str, str]] = {
        "client": "cyan", "local": "dim", "warning": "bold yellow", "error": "bold red",
        "tls": "magenta",
    }  # fmt: skip
    PREFIX: ClassVar[dict[str, str]] = {"client": "C:", "server": "S:", "local": "--"}

    def __init__(self, console: Console, full: bool = False) -> None:
        self.console = console
        self.full = full

    def _style(self, entry: Entry) -> str:
        if entry.kind in ("warning", "error", "tls"):
            return self.STYLES[entry.kind]
        if entry.direction == "server":
            code = entry.code or 0
            return "red" if code >= 500 else "yellow" if code >= 400 else "green"
        return self.STYLES.get(entry.direction, "")

    def _lines(self, entry: Entry) -> list[str]:
        from smtpscope.sanitize import visible

        text = entry.shown_text
        if entry.direction == "local":
            # smtpscope's words, foreign bytes in them escaped where they were made.
            return [_cut(visible(line, keep_backslashes=True)) for line in text.split("\n")]
        if entry.direction == "server":
            lines = [_cut(visible(line)) for line in text.split("\n")]
        else:
            # CRLF ends a line silently; any other ending stays on the line as its escape
            # (\x0a, \x0d), so a bare-LF "." never looks like the real end of data.
            *ended, last = text.split("\n")
            parts = [part + "\n" for part in ended] + ([last] if last or not ended else [])
            lines = [_cut(visible(part.removesuffix("\r\n"))) for part in parts]
        if entry.kind == "content" and not self.full and len(lines) > CONTENT_PREVIEW_LINES:
            hidden = len(lines) - CONTENT_PREVIEW_LINES
            lines = [
                *lines[:CONTENT_PREVIEW_LINES],
                f"… {hidden} more lines ({len(entry.raw)} octets; --full shows all)",
            ]
        return lines

    def __call__(self, session_id: int, entry: Entry) -> None:
        from rich.text import Text

        from smtpscope.sanitize import visible

        stamp = time.strftime("%H:%M:%S", time.localtime(entry.wall))
        mark = "!!" if entry.kind in ("warning", "error") else self.PREFIX[entry.direction]
        look = self._style(entry)
        rows = [(mark, look, text) for text in self._lines(entry)]
        # An entry's notes (what was cut or counted) are smtpscope's words as well.
        rows += [("--", "dim", visible(note, keep_backslashes=True)) for note in entry.notes]
        for prefix, style, line in rows:
            self.console.print(
                Text.assemble(
                    (f"{stamp} ", "dim"),
                    (f"#{session_id:<3} ", "bold"),
                    (f"{prefix} ", style),
                    (line, style),
                ),
                soft_wrap=True,
            )


def _describe(console: Console, server: DebugServer) -> None:
    from rich.text import Text

    from smtpscope.sanitize import visible

    cfg = server.config
    lines: list[str] = []
    if server.port is not None:
        extra = "STARTTLS offered" if cfg.starttls else "no STARTTLS"
        lines.append(f"listening on {server.host}:{server.port} (SMTP, {extra})")
    if server.tls_port is not None:
        lines.append(f"listening on {server.host}:{server.tls_port} (SMTP over implicit TLS)")
    if server.cert is not None:
        made = " (generated)" if server.cert.generated else ""
        lines.append(
            f"certificate: {server.cert.cert}{made}; clients verify with {server.cert.cafile}"
        )
    if cfg.users:
        lines.append(f"users: {', '.join(sorted(cfg.users))} (AUTH {' '.join(server.mechanisms)})")
    else:
        lines.append("users: none, AUTH is not offered (add --user NAME --password-env VAR)")
    rules = [name for name, on in (("TLS", cfg.require_tls), ("AUTH", cfg.require_auth)) if on]
    if rules:
        lines.append(f"requires: {' and '.join(rules)}")
    lines.append(f"size limit: {cfg.size} octets" if cfg.size else "size limit: none")
    trace = "below trace headers" if cfg.trace else "exactly as received (--no-trace)"
    lines.append(f"maildir: {server.maildir} (mail is stored {trace}, never relayed)")
    lines.append(f"recordings: {server.record_dir}" if server.record_dir else "recordings: off")
    if cfg.faults:
        lines.append(f"injected failures: {' '.join(f.spec for f in cfg.faults)}")
    lines.append("Ctrl+C stops the server.")
    for line in lines:
        console.print(Text(visible(line)), soft_wrap=True)  # paths and user names are foreign


async def _serve(config: ServerConfig, console: Console, full: bool) -> int:
    from smtpscope.sanitize import terminal_safe
    from smtpscope.server import DebugServer, ServerError

    server = DebugServer(config, on_entry=LivePrinter(console, full))
    try:
        await server.start()
    except ServerError as exc:
        print(terminal_safe(f"smtpscope serve: {exc}"), file=sys.stderr)
        return EXIT_START
    _describe(console, server)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Windows has no add_signal_handler: Ctrl+C then arrives as KeyboardInterrupt.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    """Run the server until Ctrl+C; returns the exit code."""
    from smtpscope.cli.output import console as output_console
    from smtpscope.sanitize import terminal_safe
    from smtpscope.server.config import ConfigError

    try:
        config = build_config(args)
    except ConfigError as exc:
        print(terminal_safe(f"smtpscope serve: {exc}"), file=sys.stderr)
        return EXIT_USAGE
    console = output_console(highlight=False, emoji=False, markup=False, soft_wrap=True)
    try:
        code = asyncio.run(_serve(config, console, args.full))
    except KeyboardInterrupt:
        code = EXIT_OK
    if code == EXIT_OK:
        console.print("stopped")
    return code
