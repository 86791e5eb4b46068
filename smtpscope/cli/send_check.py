"""The commands ``smtpscope send`` builds from its options, judged before connecting.

The engine's own commands refuse what RFC 5321 syntax forbids (white space in an address, a
NOTIFY word RFC 3461 does not have), so a typo is a usage error before any byte goes out
rather than a transaction left half done. What is valid but odd (an address a server may
refuse, a line over 512 octets) is not judged here: it goes on the wire, for the server to
answer.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from smtpscope.cli.common import Failure
    from smtpscope.conversation import Envelope
    from smtpscope.conversation.errors import ParamNotOffered
    from smtpscope.protocol import Capabilities, Command
    from smtpscope.session import SessionOptions

# The option that put each MAIL/RCPT parameter there; SIZE and BODY come from the server's
# advertisement and the message, never from a typed value.
_PARAM_OPTIONS = {"SMTPUTF8": "--smtputf8", "RET": "--dsn-ret", "ENVID": "--envid",
                  "NOTIFY": "--dsn-notify"}


# Where a parameter the server did not advertise can still be sent: the TUI sends what is
# typed, marked off-script.
_ANYWAY = "drop the option; to send it anyway, type the command in the TUI: smtpscope TARGET"


class CommandUsage(ValueError):
    """An option whose value no command of the run may carry."""


def envelope(args: argparse.Namespace, content: bytes, caps: Capabilities | None) -> Envelope:
    """MAIL FROM and RCPT TO with their parameters: from the options, the message and the
    server's advertisement (``caps`` None: the options' parameters only)."""
    from smtpscope.cli import send_message
    from smtpscope.conversation import Envelope

    mail: list[tuple[str, str | None]] = []
    if args.smtputf8:
        mail.append(("SMTPUTF8", None))
    if not content.isascii() and caps is not None and caps.has("8BITMIME"):
        mail.append(("BODY", "8BITMIME"))
    mail.extend(send_message.size_param(content, caps))
    if args.dsn_ret:
        mail.append(("RET", args.dsn_ret))
    if args.envid:
        mail.append(("ENVID", args.envid))
    rcpt: tuple[tuple[str, str | None], ...] = ()
    if args.dsn_notify:
        rcpt = (("NOTIFY", args.dsn_notify.upper()),)
    return Envelope(args.from_addr, tuple(args.to), tuple(mail), rcpt)


def check(args: argparse.Namespace, options: SessionOptions) -> None:
    """Build every command the run will send from a typed value, up to its stop point, and
    raise :class:`CommandUsage` naming the option the engine refuses first."""
    from smtpscope.protocol.commands import Ehlo, Helo, Lhlo, MailFrom, RcptTo
    from smtpscope.stop_points import StopPoint, reaches

    stop = args.stop_at
    if reaches(stop, StopPoint.FIRST_HELO):
        lmtp = options.lmtp or args.protocol == "lmtp"
        greeting = Lhlo if lmtp else Helo if args.protocol == "smtp" else Ehlo
        _judge(args, "--helo", greeting, options.helo_name)
    if not reaches(stop, StopPoint.MAIL):
        return
    env = envelope(args, b"", None)
    # Each part on its own, with a null sender or the first recipient (both valid) beside a
    # parameter: the error then names the option to fix.
    _judge(args, "--from", MailFrom, env.sender)
    for param in env.mail_params:
        _judge(args, _PARAM_OPTIONS[param[0]], MailFrom, "", (param,))
    if not reaches(stop, StopPoint.RCPT):
        return
    for address in env.recipients:
        _judge(args, _recipient_option(args, address), RcptTo, address)
    for param in env.rcpt_params:
        _judge(args, _PARAM_OPTIONS[param[0]], RcptTo, env.recipients[0], (param,))


def _judge(args: argparse.Namespace, option: str, build: Callable[..., Command],
           *fields: Any) -> None:
    from smtpscope.protocol import CommandSyntaxError

    try:
        build(*fields)
    except CommandSyntaxError as exc:
        hint = _notify_hint(args.dsn_notify) if option == "--dsn-notify" else ""
        raise CommandUsage(f"{option}: {exc.message}{hint}") from exc


def _notify_hint(value: str) -> str:
    """A "did you mean" for the first word of --dsn-notify that RFC 3461 does not have."""
    from smtpscope.protocol.params import NOTIFY_WORDS
    from smtpscope.typos import did_you_mean

    unknown = [word for word in value.split(",") if word.upper() not in NOTIFY_WORDS]
    return did_you_mean(unknown[0], NOTIFY_WORDS) if unknown else ""


def _recipient_option(args: argparse.Namespace, address: str) -> str:
    """The option an envelope recipient came from: by now ``args.to`` holds every one."""
    from smtpscope.cli.send_message import split_addresses

    for option in ("--cc", "--bcc"):
        if address in split_addresses(getattr(args, option[2:])):
            return option
    return "--to"


def unadvertised(exc: ParamNotOffered) -> Failure:
    """The failure for a parameter refused before MAIL FROM, naming the option it came from;
    its exit code is that of the command that would have carried it (23 MAIL, 24 RCPT)."""
    from smtpscope.cli.common import Failure

    option = _PARAM_OPTIONS.get(exc.param, exc.param)
    return Failure("not-offered", exc.stage, f"{option} ({exc.param}=) "
                   f"{exc.needs(exc.keyword, exc.helo)} "
                   "(RFC 5321 §4.1.1.11): no MAIL FROM was sent", _ANYWAY)
