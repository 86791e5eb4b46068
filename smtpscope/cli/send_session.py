"""Session control of ``smtpscope send``: optional AUTH, XCLIENT, PROXY, drops, local address."""

from __future__ import annotations

import argparse
import socket
from typing import TYPE_CHECKING, Any

from smtpscope.cli.suggest import suggest
from smtpscope.stop_points import DROP_POINTS, StopPoint, names, parser

if TYPE_CHECKING:
    from smtpscope.record import Entry
    from smtpscope.session import SessionOptions


def auth_words() -> tuple[str, ...]:
    """What --auth and --auth-optional(-strict) accept: a mechanism's name, or auto."""
    from smtpscope.auth import MECHANISMS

    return (*MECHANISMS, "auto")


class SessionUsage(ValueError):
    """A session option that cannot be used as given."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options that shape the connection and the session around the message."""
    g = p.add_argument_group("session control (swaks' meanings)")
    suggest(g.add_argument("--auth-optional", "-ao", nargs="?", const="auto", metavar="MECH",
                           help="authenticate if possible, else go on without (like --auth)"),
            auth_words)
    suggest(g.add_argument("--auth-optional-strict", "-aos", nargs="?", const="auto",
                           metavar="MECH", help="go on without AUTH when no usable mechanism "
                           "is offered, but fail when AUTH is tried and refused"), auth_words)
    stop = parser(DROP_POINTS)
    suggest(g.add_argument("--drop-after", "--drop", "-da", type=stop, metavar="STAGE",
                           help="close the connection without QUIT at STAGE: --quit-after's "
                           "stop points, and data (after the 354) and dot (after the reply to "
                           "the message)"), lambda: names(DROP_POINTS))
    suggest(g.add_argument("--drop-after-send", "-das", type=stop, metavar="STAGE",
                           help="close without QUIT right after sending STAGE (connect: after "
                           "the banner; with --pipeline, after the batch; helo without "
                           "STARTTLS: after the reply, as in swaks; a stage with nothing to "
                           "send, such as auth without --auth: there)"), lambda: names(DROP_POINTS))
    add_xclient_argument(g)
    add_connection_arguments(p)


def add_xclient_argument(g: argparse._ActionsContainer) -> None:
    """``--xclient`` (send and the TUI)."""
    g.add_argument("--xclient", action="append", default=[], metavar="'NAME=VALUE ...'",
                   help="send XCLIENT (Postfix) after EHLO (and STARTTLS), then EHLO again; "
                   "repeat for several XCLIENT commands")


def check_xclient(values: list[str]) -> None:
    """Refuse --xclient values that cannot make an XCLIENT line, before connecting."""
    if not values:
        return
    from smtpscope.conversation import xclient as xclient_step

    for value in values:
        try:
            xclient_step.command_for(value)
        except xclient_step.XclientUsage as exc:
            raise SessionUsage(f"--xclient: {exc}") from exc


def add_connection_arguments(p: argparse.ArgumentParser) -> None:
    """How to connect: local address, address family, PROXY header (send, probe, the TUI)."""
    g = p.add_argument_group("connection")
    g.add_argument("--local-interface", "-li", metavar="IP[:PORT]",
                   help="connect from this local address")
    g.add_argument("--local-port", "-lp", type=int, metavar="PORT",
                   help="connect from this local port")
    family = g.add_mutually_exclusive_group()
    family.add_argument("-4", dest="family", action="store_const", const=socket.AF_INET,
                        default=0, help="IPv4 only")
    family.add_argument("-6", dest="family", action="store_const", const=socket.AF_INET6,
                        help="IPv6 only")
    suggest(g.add_argument("--proxy", type=_proxy_version, metavar="v1|v2",
                           help="send a HAProxy PROXY protocol header before the banner"),
            lambda: ("v1", "v2"))
    g.add_argument("--proxy-source", metavar="IP[:PORT]", help="client address claimed")
    g.add_argument("--proxy-source-port", type=int, metavar="PORT")
    g.add_argument("--proxy-dest", metavar="IP[:PORT]",
                   help="server address claimed (default: the target's address and port)")
    g.add_argument("--proxy-dest-port", type=int, metavar="PORT")


def _proxy_version(text: str) -> int:
    value = text.strip().lower().removeprefix("v")
    if value not in ("1", "2"):
        raise argparse.ArgumentTypeError(f"invalid PROXY version {text!r} (v1 or v2)")
    return int(value)


def prepare(args: argparse.Namespace) -> None:
    """Fold the session options into the ones the transaction reads (before connecting)."""
    args.auth_option = "--auth"  # the option the mechanism came from, for every message
    for flag, mode in (("auth_optional", "optional"), ("auth_optional_strict", "strict")):
        value = getattr(args, flag, None)
        if value is not None:
            if args.auth:
                raise SessionUsage("give one of --auth, --auth-optional, --auth-optional-strict")
            args.auth, args.auth_mode = value, mode
            args.auth_option = "--" + flag.replace("_", "-")
    if not hasattr(args, "auth_mode"):
        args.auth_mode = "required"
    check_xclient(args.xclient)
    given = [p for p in (args.quit_after, args.drop_after, args.drop_after_send) if p]
    if len(given) > 1:
        raise SessionUsage("give one of --quit-after, --drop-after and --drop-after-send")
    if args.drop_after_send is StopPoint.CONNECT:  # nothing is sent there: after the banner
        args.drop_after, args.drop_after_send = args.drop_after_send, None
    args.stop_at = given[0] if given else None
    if args.stop_at is StopPoint.XCLIENT and not args.xclient:
        # swaks would go on and send the message: surely not what stopping there meant
        raise SessionUsage("the xclient stop point needs --xclient")


def local_endpoint(args: argparse.Namespace) -> tuple[str, int] | None:
    """The address to connect from (--local-interface, --local-port), or None for any."""
    from smtpscope.transport import proxy as proxy_header

    if not (args.local_interface or args.local_port):
        return None
    host, port = "0.0.0.0" if args.family != socket.AF_INET6 else "::", 0
    if args.local_interface:
        try:
            host, port = proxy_header.split_endpoint(args.local_interface, 0)
        except proxy_header.ProxyError as exc:
            raise SessionUsage(f"--local-interface: {exc}") from exc
    return host, args.local_port or port


def apply(args: argparse.Namespace, options: SessionOptions) -> None:
    """Local address, address family and PROXY header into the session options."""
    from smtpscope.transport import proxy as proxy_header

    options.family = args.family or 0
    if (local := local_endpoint(args)) is not None:
        options.local_addr = local
    if args.proxy is None:
        if args.proxy_source or args.proxy_dest:
            raise SessionUsage("--proxy-source/--proxy-dest need --proxy v1|v2")
        return
    if not args.proxy_source:
        raise SessionUsage("--proxy needs --proxy-source IP[:PORT]")
    try:
        options.preamble = proxy_header.header_for(
            args.proxy, args.proxy_source, args.proxy_dest, (options.host, options.port),
            source_port=args.proxy_source_port, dest_port=args.proxy_dest_port)
    except proxy_header.ProxyError as exc:
        raise SessionUsage(f"--proxy: {exc}") from exc


class StageFailure(Exception):
    """A session-control step refused: ``stage`` names it for the exit code (XCLIENT 33/34)."""

    def __init__(self, stage: str, message: str) -> None:
        super().__init__(message)
        self.stage = stage


async def auth_wanted(conv: Any, args: argparse.Namespace) -> bool:
    """False when --auth-optional(-strict) finds no usable mechanism: go on without AUTH."""
    if args.auth_mode == "required":
        return True
    caps = conv.session.view.capabilities
    offered = caps.auth_mechanisms if caps is not None else ()
    if any(args.auth.upper() in ("AUTO", m) for m in offered):
        return True
    conv.session.transcript.note(f"AUTH {args.auth.upper()} not offered: going on without "
                                 f"authenticating ({args.auth_option})", kind="warning")
    return False


async def auth_outcome(conv: Any, args: argparse.Namespace, attempt: Any) -> None:
    """Await the AUTH exchange; under --auth-optional a refusal is a warning, not the end."""
    from smtpscope.conversation import Rejected
    from smtpscope.conversation.errors import CleartextRefused

    if args.auth_mode != "optional":
        await attempt
        return
    try:
        await attempt
    except (Rejected, CleartextRefused) as exc:
        conv.session.transcript.note(f"{exc}: going on without AUTH (--auth-optional)",
                                     kind="warning")


async def xclient(conv: Any, args: argparse.Namespace) -> bool:
    """Each --xclient, then EHLO again (the server forgets the first greeting); False to stop."""
    from smtpscope.conversation import xclient as xclient_step

    for attributes in args.xclient:
        args.in_xclient = True
        try:
            await xclient_step.claim(conv.session, attributes)  # the session times the reply
            if args.stop_at is StopPoint.XCLIENT:
                return False
        except xclient_step.XclientFailed as exc:
            raise StageFailure(exc.step, str(exc)) from exc
        finally:
            args.in_xclient = False
        try:
            await xclient_step.greet_again(conv)
        except xclient_step.XclientFailed as exc:
            raise StageFailure(exc.step, str(exc)) from exc
    return True


class Dropper:
    """--drop-after-send: closes the connection, without QUIT, right after the stage is sent."""

    def __init__(self, conv: Any, args: argparse.Namespace) -> None:
        self.conv = conv
        self.args = args
        self.stage = args.drop_after_send
        self.dropped = False
        self.rcpts = 0
        self.closing: Any = None  # the close task, once dropped
        from smtpscope.session_types import Stage

        # Which stop point a command sent during each stage of the conversation belongs to.
        self.points = {
            Stage.EHLO: StopPoint.FIRST_HELO, Stage.TLS: StopPoint.TLS,
            Stage.EHLO_TLS: StopPoint.HELO, Stage.AUTH: StopPoint.AUTH,
            Stage.MAIL: StopPoint.MAIL, Stage.RCPT: StopPoint.RCPT, Stage.DATA: StopPoint.DATA,
            Stage.DOT: StopPoint.DOT}

    def __call__(self, entry: Entry) -> None:
        if self.dropped or entry.direction != "client":
            return
        stage = StopPoint.XCLIENT if getattr(self.args, "in_xclient", False) else \
            self.points.get(self.conv.stage)
        if stage is StopPoint.RCPT:
            self.rcpts += 1
            if self.rcpts < len(self.args.to):
                return
        batch = stage is StopPoint.MAIL and self.args.pipeline and \
            self.stage in (StopPoint.RCPT, StopPoint.DATA)
        if stage is not self.stage and not batch:
            return
        self.dropped = True
        session = self.conv.session
        session.transcript.note(f"Dropping the connection after sending {self.stage} "
                                "(--drop-after-send), without QUIT")
        import asyncio

        self.closing = asyncio.ensure_future(session.close())  # runs once the write is out
