"""``smtpscope [TARGET]``: open the TUI, on the connect screen or connected at once."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from smtpscope.cli import tls_mode, tls_options
from smtpscope.cli.common import (
    EXIT_USAGE,
    MAX_WAIT,
    resolver_address,
    seconds_type,
)
from smtpscope.cli.record_option import record_file
from smtpscope.cli.tui_flags import DEFAULT_LEVEL, flags_from_args, session_options
from smtpscope.sanitize import visible
from smtpscope.session_types import DEFAULT_HELO
from smtpscope.target_options import TargetProblem

# Neither a usage error nor a network outcome: this environment cannot host a full-screen UI.
EXIT_NO_TERMINAL = 2


def build_parser() -> argparse.ArgumentParser:
    from smtpscope.cli import SUBCOMMANDS
    from smtpscope.cli.suggest import HintingParser

    parser = HintingParser(
        prog="smtpscope",
        commands=tuple(SUBCOMMANDS),
        help_words="smtpscope TARGET",
        description="Interactive SMTP client. Subcommands: probe, send, mx, replay, export, "
        "auth, serve, demo (see smtpscope COMMAND --help).",
    )
    parser.add_argument("target", nargs="?", default="",
                        help="host, host:port, [v6]:port, smtp://, smtps://, submission://, "
                        "lmtp://, unix:/path, lmtp:/path, user@domain or @domain (MX routing)")
    parser.add_argument("--port", type=int, help="override the port (MX-routed targets too)")
    tls_mode.add_arguments(parser)
    parser.add_argument("--helo", default=DEFAULT_HELO, help="name for EHLO/HELO")
    parser.add_argument("--cafile", help="verify server certificates against this CA file")
    parser.add_argument("--insecure", action="store_true",
                        help="do not verify TLS certificates (recorded and shown)")
    parser.add_argument("--resolver", type=resolver_address,
                        help="DNS resolver IP[:PORT] for MX routing")
    parser.add_argument("--timeout", type=seconds_type(MAX_WAIT), metavar="SECONDS",
                        help="wait this long for each reply (default: RFC 5321's per-command "
                        "limits, 2 to 10 minutes); the reply to a message waits 10 minutes, "
                        "or this when longer")
    parser.add_argument("--pipe", metavar="COMMAND",
                        help="speak SMTP with COMMAND's stdin/stdout (e.g. 'sendmail -bs')")
    parser.add_argument("--record", metavar="FILE", type=record_file,
                        help="also write the recording to FILE (its directory must exist; it "
                        "replaces an earlier recording, never another file)")
    parser.add_argument("--record-secrets", action="store_true",
                        help="record AUTH secrets in clear (the recording says so; dangerous)")
    parser.add_argument("--history", action="store_true", help="open the list of past sessions")
    tls_options.add_tls_options(
        parser, default_level=DEFAULT_LEVEL,
        show_certs="after each TLS handshake, note every certificate the server sent (its "
        "fields and PEM) in the transcript and the recording")
    from smtpscope.cli.send_session import add_connection_arguments, add_xclient_argument

    add_connection_arguments(parser)
    add_xclient_argument(parser)
    return parser


def _control(args: argparse.Namespace) -> Any:
    """The session-control fields, prefilled from --proxy* and --xclient (connect, F5)."""
    from smtpscope.tui.screens.session_control import SessionControl

    def endpoint(address: str | None, port: int | None) -> str:
        from smtpscope.transport import proxy as proxy_header

        if not address or not port:
            return address or ""
        try:
            host = proxy_header.split_endpoint(address, port)[0]
        except proxy_header.ProxyError:
            return address  # shown as typed; Connect explains what is wrong with it
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    return SessionControl(
        proxy=args.proxy or 0,
        proxy_source=endpoint(args.proxy_source, args.proxy_source_port),
        proxy_dest=endpoint(args.proxy_dest, args.proxy_dest_port),
        xclient=" ".join(value.strip() for value in args.xclient))


def _fields(args: argparse.Namespace) -> Any:
    """The connect screen's fields, prefilled from the command line."""
    from smtpscope.tui.screens.connect import ConnectFields

    return ConnectFields(
        target=args.target, port="" if args.port is None else str(args.port),
        timeout="" if args.timeout is None else f"{args.timeout:g}",
        security=tls_mode.session_security(args.tls) or "auto", helo=args.helo,
        verify=not args.insecure, cafile=args.cafile or "")


def run_target(argv: Sequence[str]) -> int:
    """Parse ``smtpscope [TARGET] [options]`` and run the TUI."""
    parser = build_parser()
    from smtpscope.cli import defaults

    defaults.add_profile_option(parser)
    try:
        defaults.apply(parser, "tui", list(argv))
    except defaults.ConfigError as exc:
        print(visible(f"smtpscope: {exc}", keep_backslashes=True), file=sys.stderr)
        return EXIT_USAGE
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as exc:
        return EXIT_USAGE if exc.code not in (0, None) else 0
    from smtpscope.tui.app import create_app, run_app

    if args.history:
        return run_app(create_app(history=True))
    if args.record_secrets:
        print("warning: --record-secrets writes AUTH credentials in clear to the recording",
              file=sys.stderr)
    from smtpscope.cli.send_session import SessionUsage
    from smtpscope.security.policy import PolicyError

    try:
        # Checked before any target, as they apply to whichever the user connects to.
        flags = flags_from_args(args)
    except (SessionUsage, PolicyError) as exc:
        print(f"smtpscope: {visible(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    control, fields = _control(args), _fields(args)
    if not args.target and args.pipe is None:
        return run_app(create_app(record_to=args.record, connect_control=control,
                                  connect_fields=fields, connect_flags=flags))
    try:
        options, label = session_options(
            flags, args.target, control, port=args.port,
            security=tls_mode.session_security(args.tls), helo=args.helo,
            verify=not args.insecure, cafile=args.cafile, timeout=args.timeout, pipe=args.pipe)
    except (TargetProblem, ValueError) as exc:  # or a PROXY header the target cannot have
        if args.pipe is not None:
            # The connect screen has no command to fix, and what is typed there goes over TCP.
            print(f"smtpscope: {visible(str(exc))}", file=sys.stderr)
            return EXIT_USAGE
        # Show the problem where the user can fix it: on the connect screen.
        app = create_app(connect_error=str(exc), record_to=args.record, connect_control=control,
                         connect_fields=fields, connect_flags=flags)
        return run_app(app)
    app = create_app(options=options, target_label=label, record_to=args.record,
                     connect_control=control, connect_flags=flags)
    return run_app(app)


def no_terminal() -> str | None:
    """Why the full-screen UI cannot run here (stdin or stdout is not a terminal), or None."""
    missing = [name for name, stream in (("stdin", sys.stdin), ("stdout", sys.stdout))
               if stream is None or not stream.isatty()]
    if not missing:
        return None
    return (f"the interactive TUI needs a terminal, but {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not one. For scripts and pipes use the "
            "headless commands: smtpscope probe TARGET, smtpscope send ..., smtpscope replay "
            "FILE (see smtpscope --help).")

