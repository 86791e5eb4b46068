"""``smtpscope demo``: the embedded server on free loopback ports, and the TUI connected to it."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "demo",
        help="try smtpscope against its own local server (no network needed)",
        description="Start the embedded SMTP server on free loopback ports with a demo user and "
        "open the TUI connected to it.",
    )
    p.add_argument("--implicit-tls", action="store_true",
                   help="connect to the implicit-TLS port instead of the STARTTLS one")
    p.set_defaults(handler=run)


def demo_hint(host: str, port: int, user: str, password: str, *,
              tls: str = "starttls") -> str:
    """The first lines a newcomer reads in the transcript.

    ``tls`` is how this connection can have TLS: ``starttls`` (offered, F3), ``implicit``
    (already on from the first byte) or ``none`` (the demo runs without a certificate); only
    keys that work on this connection are offered.
    """
    keys = {
        "starttls": "  F2 EHLO · F3 STARTTLS then EHLO · F4 the auth helper\n",
        "implicit": "  TLS is on from the first byte (no STARTTLS)\n"
                    "  F2 EHLO · F4 the auth helper\n",
        "none": "  No TLS here: no certificate could be made\n"
                "  F2 EHLO · F4 the auth helper\n",
    }[tls]
    return (
        f"Demo server on {host}:{port}: it stores mail and relays nothing.\n"
        f"Log in as {user} / {password}. Things to try:\n"
        f"{keys}"
        "  Ctrl+N write and send a message · or type any command below\n"
        "  F1 help · Ctrl+P every command · Ctrl+Q quit"
    )


DEMO_HISTORY_KEY = "demo"
"""The demo's ports change each run; its composer history is kept under this one name."""


def build_demo_app(demo: Any, *, implicit_tls: bool = False) -> Any:
    """The TUI connected to a running demo server (``DemoServer``), with the first-run hint."""
    from smtpscope.session import SessionOptions
    from smtpscope.tui.app import create_app

    port = demo.tls_port if implicit_tls else demo.port
    options = SessionOptions(
        host=demo.host,
        port=port,
        security="implicit" if implicit_tls else "plain",
        cafile=str(demo.cafile) if demo.cafile else None,
    )
    tls = "implicit" if implicit_tls else "starttls" if demo.tls_port is not None else "none"
    return create_app(options=options, target_label=f"demo {demo.host}:{port}",
                      history_key=DEMO_HISTORY_KEY,
                      hint=demo_hint(demo.host, port, demo.user, demo.password, tls=tls))


def run(args: argparse.Namespace) -> int:
    from smtpscope.cli.tui import EXIT_NO_TERMINAL, no_terminal
    from smtpscope.sanitize import terminal_safe, visible
    from smtpscope.server.demo import start_demo_server
    from smtpscope.server.runner import NoCertificateError, ServerError

    if (problem := no_terminal()) is not None:
        # Before the server starts: no server, no maildir, nothing to point at afterwards.
        print(terminal_safe(f"smtpscope demo: {problem}"), file=sys.stderr)
        return EXIT_NO_TERMINAL
    try:
        demo = start_demo_server()
    except NoCertificateError as exc:
        # No way to make a certificate here: still show everything that needs no TLS.
        print(terminal_safe(f"smtpscope demo: running without TLS: {exc}"), file=sys.stderr)
        demo = start_demo_server(tls=False)
    except ServerError as exc:
        print(terminal_safe(f"smtpscope demo: cannot start the demo server: {exc}"),
              file=sys.stderr)
        return 2
    except OSError as exc:
        print(terminal_safe(f"smtpscope demo: cannot start the demo server: {exc}"),
                  file=sys.stderr)
        return 2
    try:
        if args.implicit_tls and demo.tls_port is None:
            print("smtpscope demo: implicit TLS is unavailable without a certificate",
                  file=sys.stderr)
            return 2
        from smtpscope.tui.app import run_app

        result = run_app(build_demo_app(demo, implicit_tls=args.implicit_tls))
    finally:
        demo.stop()
    print(f"Messages sent during the demo are in {visible(str(demo.maildir))}")
    return int(result or 0)
