"""Shared pieces of the headless commands: exit codes, error lines, live transcript, JSON output."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from smtpscope.values import Value

if TYPE_CHECKING:
    from smtpscope.record import Entry
    from smtpscope.session import SessionOptions

# Exit codes by the stage that failed, with swaks' numbers so that scripts port unchanged
# (swaks doc/base.pod, EXIT CODES).
EXIT_OK = 0
EXIT_USAGE = 1
EXIT_CONNECT = 2
EXIT_CLOSED = 6
EXIT_BANNER = 21
EXIT_EHLO = 22
EXIT_MAIL = 23
EXIT_RCPT = 24
EXIT_DATA = 25
EXIT_DOT = 26
EXIT_AUTH = 28
EXIT_TLS = 29
EXIT_EHLO_TLS = 32
EXIT_XCLIENT = 33
EXIT_EHLO_XCLIENT = 34

# What each code means, as --help, the man page and the README say it (one list, no drift).
EXIT_MEANINGS: dict[int, str] = {
    EXIT_OK: "ok", EXIT_USAGE: "usage", EXIT_CONNECT: "connect",
    EXIT_CLOSED: "connection closed", EXIT_BANNER: "banner", EXIT_EHLO: "EHLO/HELO",
    EXIT_MAIL: "MAIL", EXIT_RCPT: "no RCPT accepted", EXIT_DATA: "DATA",
    EXIT_DOT: "after the final dot", EXIT_AUTH: "AUTH", EXIT_TLS: "TLS",
    EXIT_EHLO_TLS: "EHLO after TLS", EXIT_XCLIENT: "XCLIENT",
    EXIT_EHLO_XCLIENT: "EHLO after XCLIENT",
}


#: What the exit status says of a message some recipients did not get.
PARTIAL_EXIT = ("A message accepted for some recipients only (a RCPT refused, or an LMTP "
                "recipient's reply after the data) exits 0, as swaks does; the transcript and "
                "--json name those who did not get it.")


def exit_codes(*codes: int) -> str:
    """``0 ok, 1 usage, ...`` for ``codes``, or for every code when none is named."""
    return ", ".join(f"{code} {EXIT_MEANINGS[code]}" for code in codes or EXIT_MEANINGS)

STAGE_EXIT: dict[str, int] = {
    "usage": EXIT_USAGE,
    "connect": EXIT_CONNECT,
    "closed": EXIT_CLOSED,
    "banner": EXIT_BANNER,
    "ehlo": EXIT_EHLO,
    "mail": EXIT_MAIL,
    "rcpt": EXIT_RCPT,
    "data": EXIT_DATA,
    "dot": EXIT_DOT,
    "auth": EXIT_AUTH,
    "tls": EXIT_TLS,
    "starttls": EXIT_TLS,
    "ehlo_tls": EXIT_EHLO_TLS,
    "xclient": EXIT_XCLIENT,
    "ehlo_xclient": EXIT_EHLO_XCLIENT,
}

# Hints by failure status: what to try next, in one clause.
_HINTS: dict[str, str] = {
    "connection-refused": "check the port (--port 25, 587 or 465 are the usual ones) and that "
    "the server runs",
    "unknown-host": "check the spelling; a mail domain is written user@domain or @domain",
    "unreachable": "check the address and your network route",
    # --pipe: the "server" is a command that ended; what it printed says why.
    "pipe-closed": "the command ended: its error output and exit status say why",
    # A UNIX socket: no host name to spell, no port to pick.
    "socket": "check the socket's path, that the server listens there, and that you may "
    "open it",
    "timeout": "a firewall may drop the traffic (outbound port 25 is often blocked); "
    "try another --port or a longer --timeout",
    # A timeout once connected: something listens, so no firewall is to blame.
    "no-reply": "the server accepted the connection but did not reply in time: it may be "
    "slow or tarpitting; try a longer --timeout",
    # Part of the reply came: the server is there and speaks SMTP, only too slowly.
    "slow-reply": "the server began its reply but did not finish it in time: it may be slow "
    "or tarpitting; try a longer --timeout",
    "tls-error": "--cafile FILE to trust its CA, --insecure to look anyway, or --tls none",
    # By TLSError.kind, when the TLS layer gave no hint of its own: a CA file cannot help a
    # server that hung up, spoke something else, or never finished the handshake.
    "tls-closed": "the server may not speak TLS here: --tls none looks without it",
    "tls-protocol": "the server may not speak TLS here: --tls none looks without it",
    "tls-timeout": "a longer --timeout, or --tls none to look without TLS",
    "closed": "the server hung up; its logs say why (rate limits and blocklists are common)",
    # The whole message went out and its reply never came: it may have been delivered, and
    # sending it again may deliver it twice (RFC 1047; RFC 5321 §4.1.1.4).
    "unanswered": "the message was sent but not answered: the server may have delivered it; "
    "check its logs before sending it again, or it may arrive twice",
    "late": "the message was sent but not answered in time: the server may have delivered it; "
    "check its logs before sending it again, or it may arrive twice (--data-timeout waits longer)",
    "no-route": "check the domain's MX records with: smtpscope mx DOMAIN",
    "protocol-error": "compare with the transcript (smtpscope send ... prints it)",
}


class Failure(Value):
    """Why a run stopped: a status word, the stage, one line of text and what to try;
    ``partial``, the bytes of a reply that began and did not end (a timeout)."""

    __slots__ = ("hint", "message", "partial", "stage", "status")
    status: str
    stage: str
    message: str
    hint: str
    partial: bytes

    def __init__(self, status: str, stage: str, message: str, hint: str = "",
                 partial: bytes = b"") -> None:
        self._set(status=status, stage=stage, message=message, hint=hint, partial=partial)

    @property
    def exit_code(self) -> int:
        if self.status == "closed" and self.stage not in ("banner", "tls", "starttls"):
            return EXIT_CLOSED
        if self.status == "tls-error":
            return EXIT_TLS
        return STAGE_EXIT.get(self.stage, EXIT_CONNECT)


def classify(exc: BaseException, stage: str) -> Failure:
    """Turn what a session raised into a Failure (status word, stage, message, hint).

    Decided by the error's type only: a typed session error carries its stage and its cause
    (the transport's ConnectError or TLSError); a conversation ``Rejected`` its reply.
    """
    from smtpscope.conversation.errors import CleartextRefused, NotOffered, Rejected
    from smtpscope.protocol import LocalProtocolError
    from smtpscope.session_types import (
        ConnectFailed,
        ProtocolFailure,
        ReplyTimeout,
        SessionClosed,
        SessionError,
        Stage,
        TLSFailed,
    )
    from smtpscope.transport import ConnectError, TLSError

    if isinstance(exc, Rejected | NotOffered):
        return Failure("rejected", exc.stage, str(exc),
                       exc.hint if isinstance(exc, Rejected) else "")
    if isinstance(exc, CleartextRefused):
        return Failure("not-secure", exc.stage, str(exc), exc.hint)
    cause = exc.__cause__ if isinstance(exc, SessionError) else exc
    if isinstance(exc, TLSFailed) or (isinstance(exc, ConnectFailed) and exc.stage is Stage.TLS):
        stage = "tls"
    if isinstance(cause, ConnectError):
        status = {"refused": "connection-refused", "resolve": "unknown-host",
                  "unreachable": "unreachable", "timeout": "timeout"}.get(cause.kind, "error")
        hint = _HINTS["socket"] if cause.socket and status != "timeout" else \
            _HINTS.get(status, "")
        return Failure(status, "connect", str(cause), hint)
    if isinstance(cause, TLSError):
        # A hint from the TLS layer is complete (the level's refusal names its own flags; a
        # name mismatch is not cured by --cafile): only a missing one gets the generic advice.
        hint = cause.hint or _HINTS.get(f"tls-{cause.kind}") or _HINTS["tls-error"]
        return Failure("tls-error", "tls" if stage == "connect" else stage, str(cause), hint)
    # Waiting for the reply to the message (after the dot or BDAT LAST): it was all sent.
    unanswered = isinstance(exc, SessionError) and exc.stage is Stage.DOT
    if isinstance(exc, SessionClosed):
        return Failure("closed", stage, str(exc), _HINTS["unanswered" if unanswered
                                                         else "closed"])
    if isinstance(exc, TimeoutError | ReplyTimeout):
        text = str(exc) or "no answer in time"
        partial = exc.partial if isinstance(exc, ReplyTimeout) else b""
        hint = _HINTS["timeout" if stage == Stage.CONNECT else "late" if unanswered
                      else "slow-reply" if partial else "no-reply"]
        return Failure("timeout", stage, f"timed out: {text}", hint, partial)
    if isinstance(exc, ProtocolFailure):
        return Failure("protocol-error", stage, str(exc), _HINTS["protocol-error"])
    if isinstance(exc, SessionError):
        return Failure("error", stage, str(exc), "")
    if isinstance(exc, LocalProtocolError):
        # The engine's own refusal to send a command the session does not allow: its reason
        # is the message; the class name said nothing to a user.
        return Failure("error", stage, f"not sent: {exc}", "")
    return Failure("error", stage, f"{type(exc).__name__}: {exc}", "")


def silent_port_hint(failure: Failure, options: SessionOptions, mode: str) -> str:
    """``failure``'s hint, or smtps:// when a plain TCP connection got no banner: a port
    that expects TLS from the first byte (465) says nothing to a client speaking plain text."""
    from smtpscope.session_types import Stage

    if options.pipe_command and failure.status == "closed":
        return _HINTS["pipe-closed"]
    direct = not (options.route or options.unix_path or options.pipe_command)
    if failure.stage != Stage.BANNER or failure.status not in ("timeout", "closed") \
            or failure.partial or mode == "implicit" or not direct:
        return failure.hint
    host = f"[{options.host}]" if ":" in options.host else options.host
    return (f"the server accepted the connection but sent no greeting; if the port expects "
            f"TLS first, try smtps://{host}:{options.port}, else it is slow or tarpitting")


def error_line(command: str, message: str, hint: str = "", stream: TextIO | None = None) -> None:
    """Print the one line a failure gets on stderr: what failed, then what to try."""
    from smtpscope.sanitize import terminal_safe

    text = f"smtpscope {command}: {message}"
    if hint:
        text += f" ({hint})"
    out = stream if stream is not None else sys.stderr
    try:
        # Messages quote replies and file names: the last guard before the terminal.
        print(terminal_safe(text), file=out, flush=True)
    except BrokenPipeError:
        from smtpscope.cli.output import closed_outputs

        if not closed_outputs((out, sys.stdout, sys.stderr)):
            raise


class TargetFailure(Exception):
    """A target that cannot be used before any connection: bad syntax (usage) or no route."""

    def __init__(self, message: str, status: str) -> None:
        super().__init__(message)
        self.status = status

    @property
    def exit_code(self) -> int:
        return EXIT_USAGE if self.status == "usage" else EXIT_CONNECT


def resolve_target(
    text: str,
    *,
    port: int | None,
    security: str | None,
    helo: str,
    verify: bool,
    cafile: str | None,
    resolver: str | None,
    pipe: str | None = None,
    timeout: float | None = None,
) -> tuple[SessionOptions, str]:
    """Session options for ``text`` (MX routing included, its lookups within ``timeout``)
    and the effective TLS mode.

    The TLS mode is ``security`` when given, else what the target implies: ``smtps://`` and port
    465 mean implicit TLS, ``submission://`` STARTTLS, anything else ``auto`` (STARTTLS when the
    server offers it).
    """
    from smtpscope.target_options import TargetProblem, options_for

    try:
        options, _label = options_for(
            text, port=port, security=None, helo=helo, verify=verify, cafile=cafile,
            resolver=resolver, pipe=pipe, timeout=timeout,
        )
    except TargetProblem as exc:
        from smtpscope.dns.routing import RouteError  # MX routing only: not loaded otherwise

        routed = isinstance(exc.__cause__, RouteError)
        raise TargetFailure(str(exc), "no-route" if routed else "usage") from exc
    implied = "auto" if options.security == "plain" else options.security
    mode = security or implied
    return options._replace(security=mode), mode


# -- output ----------------------------------------------------------------------------------

# Every JSON object smtpscope prints starts with this key; the JSON Schema of each output is
# in smtpscope/schemas/ (README: "JSON output"). Bumped only when a field changes meaning or
# goes away; new fields may appear without a bump.
SCHEMA_VERSION = 1

# json.dumps escapes C0 controls; C1 controls, DEL and bidi overrides pass through with
# ensure_ascii=False, and a terminal acts on some of them. Inside JSON they can only occur in
# strings, where a \u escape means the same thing. (Patterns, compiled by ``re`` on first use:
# a run that prints no JSON never builds them.)
_JSON_UNSAFE = "[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]"


# An undecodable server byte kept for display (protocol.errors.shown_text) is a lone
# surrogate, which UTF-8 JSON cannot carry: there it is U+FFFD, as in every other text field
# of ours (the exact bytes travel base64-encoded, in recordings and ``replay --format json``).
_UNDECODABLE = "[\udc80-\udcff]"


def dumps(obj: Any, *, indent: int | None = None) -> str:
    """JSON text that is safe to print on a terminal (every control character escaped)."""
    import json  # only a run that prints JSON needs it

    text = json.dumps(obj, ensure_ascii=False, indent=indent)
    if text.isascii() and "\x7f" not in text:
        return text  # the usual case: neither pattern can match (nor needs compiling)
    text = re.sub(_UNDECODABLE, "\ufffd", text)
    return re.sub(_JSON_UNSAFE, lambda m: f"\\u{ord(m.group()):04x}", text)


def raw_base64(raw: bytes) -> str:
    """``raw_base64`` of the JSON outputs: the exact octets, base64 (standard alphabet, padded)
    as a recording's ``raw`` holds them; its own name since probe's ``raw`` was already text."""
    import base64

    return base64.b64encode(raw).decode("ascii")


def entry_brief(entry: Entry) -> dict[str, Any]:
    """A transcript entry for ``--json`` output: what people read and, for a line that crossed
    the wire, its exact bytes (``raw_base64``)."""
    out: dict[str, Any] = {"seq": entry.seq, "dir": entry.direction, "kind": entry.kind,
                           "text": entry.text.rstrip("\r\n")}
    # A redacted line's bytes are the mask, not what was sent: it gets none rather than a lie
    # (and never the secret). Local entries are smtpscope's words, not octets on the wire.
    if entry.direction != "local" and not entry.redacted:
        out["raw_base64"] = raw_base64(entry.raw)
    if entry.reply is not None:
        out["reply"] = entry.reply
    for name in ("tls", "off_script", "redacted"):
        if getattr(entry, name):
            out[name] = True
    if entry.notes:
        out["notes"] = list(entry.notes)
    if entry.latency is not None:
        out["latency"] = round(entry.latency, 6)
    if entry.info is not None:
        out["info"] = entry.info
    return out


# Transcript prefixes of ``smtpscope send`` (documented in the README).
PREFIX_SERVER = "S: "
PREFIX_CLIENT = "C: "
PREFIX_OFF_SCRIPT = "C! "
PREFIX_SERVER_RAW = "S! "
PREFIX_NOTE = "-- "
PREFIX_WARNING = "!! "


def prefix_for(entry: Entry) -> str:
    """The line prefix of an entry in the live transcript."""
    if entry.direction == "server":
        return PREFIX_SERVER if entry.kind == "reply" else PREFIX_SERVER_RAW
    if entry.direction == "client":
        return PREFIX_OFF_SCRIPT if entry.off_script else PREFIX_CLIENT
    return PREFIX_WARNING if entry.kind in ("warning", "error") else PREFIX_NOTE


def format_entry(entry: Entry) -> str:
    """The lines of one entry with prefixes, LF-joined (no LF after the last); server text
    escaped, secrets already masked. Joined in one step: a message has many lines."""
    from smtpscope.record.export import entry_lines

    prefix = prefix_for(entry)
    text = prefix + ("\n" + prefix).join(entry_lines(entry))
    if not entry.notes:
        return text
    from smtpscope.sanitize import visible

    # Notes are smtpscope's words, server text in them escaped where they were made; the
    # engine's warnings are among them (an unsolicited reply's included): said once.
    return text + "".join("\n" + PREFIX_WARNING + visible(note, keep_backslashes=True)
                          for note in entry.notes)


#: The longest --timeout a conversation takes: RFC 5321 §4.5.3.2 asks for up to 10 minutes.
MAX_WAIT = 3600.0


def seconds_from(text: str, limit: float) -> float:
    """A time limit typed as text (``--timeout``, a form's field): a finite number of seconds
    above 0, at most ``limit``; nan, inf, 0 and negative values raise a ``ValueError`` that
    says so."""
    from smtpscope.sanitize import quoted

    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{quoted(text)} is not a number of seconds") from None
    if not 0 < value <= limit:  # also false for nan
        raise ValueError(f"{quoted(text)}: give a number of seconds above 0 and at most "
                         f"{limit:g}")
    return value


def seconds_type(limit: float) -> Callable[[str], float]:
    """An argparse ``type`` for :func:`seconds_from` (refused with a message, not run)."""

    def seconds(text: str) -> float:
        import argparse

        try:
            return seconds_from(text, limit)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return seconds


def resolver_address(text: str) -> str:
    """An argparse ``type`` for ``--resolver``: ``IP[:PORT]`` or ``[IPv6]:PORT``, refused with
    a message when it is not (a name, a bad port), before anything is looked up."""
    import argparse

    from smtpscope.dns.resolver import ResolverAddressError, parse_resolver_address

    try:
        parse_resolver_address(text)
    except ResolverAddressError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def port_from(text: str) -> int:
    """A TCP port to connect to, typed as text (``--port``, a form's field): 1 to 65535, as
    targets check it; a ``ValueError`` says what is wrong."""
    from smtpscope.sanitize import quoted
    from smtpscope.targets import TargetError, check_port

    try:
        number = int(text)
    except ValueError:
        raise ValueError(f"port {quoted(text)} is not a number") from None
    try:
        return check_port(number)
    except TargetError as exc:
        raise ValueError(str(exc)) from None


def port_number(text: str) -> int:
    """An argparse ``type`` for :func:`port_from`."""
    import argparse

    try:
        return port_from(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def ms(seconds: float | None) -> float | None:
    """Seconds as milliseconds rounded for reports."""
    return None if seconds is None else round(seconds * 1000.0, 1)
