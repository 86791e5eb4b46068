"""``smtpscope send TARGET --from A --to B``: one transaction, its transcript, swaks' exit codes."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from smtpscope.cli import (
    common,
    record_option,
    send_check,
    send_message,
    send_output,
    send_session,
    tls_mode,
    tls_options,
)
from smtpscope.cli.suggest import refuse_passwords, suggest
from smtpscope.stop_points import QUIT_POINTS, StopPoint, described, names, parser
from smtpscope.typos import did_you_mean

DEFAULT_LEVEL = "verify"  # send refuses what it cannot verify and exits 29, as swaks does

if TYPE_CHECKING:
    from smtpscope.conversation import Conversation
    from smtpscope.session import Session, SessionOptions


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "send",
        help="send one message and print the transcript (swaks-style exit codes)",
        description="Run one SMTP transaction and print its transcript live. Exit codes follow "
        f"swaks: {common.exit_codes()}. {common.PARTIAL_EXIT}",
    )
    p.add_argument("target", nargs="?", default="",
                   help="host[:port], smtp://, smtps://, submission://, lmtp://, unix:/path, "
                   "lmtp:/path, user@domain or @domain (MX routing)")
    p.add_argument("--pipe", metavar="COMMAND",
                   help="speak SMTP with COMMAND's stdin/stdout (e.g. 'sendmail -bs')")
    p.add_argument("--protocol", choices=("esmtp", "smtp", "lmtp"), type=str.lower,
                   help="esmtp (default): EHLO, HELO if refused; smtp: HELO only; "
                   "lmtp: LHLO (implied by lmtp:// and lmtp:/path)")
    p.add_argument("--port", type=int, help="port, MX-routed targets included")
    tls_mode.add_arguments(p)
    p.add_argument("--cafile", help="verify certificates against this CA file")
    p.add_argument("--insecure", action="store_true", help="do not verify certificates")
    p.add_argument("--resolver", type=common.resolver_address, metavar="IP[:PORT]",
                   help="DNS server for MX routing")
    p.add_argument("--helo", default=None, metavar="NAME", help="name for EHLO/HELO")
    auth = p.add_argument_group("authentication")
    suggest(auth.add_argument("--auth", metavar="MECH",
                              help="SASL mechanism: PLAIN, LOGIN, CRAM-MD5, DIGEST-MD5, "
                              "SCRAM-SHA-1, SCRAM-SHA-256, XOAUTH2, OAUTHBEARER, or auto "
                              "(best offered). PLAIN, LOGIN and the OAuth ones are never sent "
                              "without TLS unless --tls none says so"), send_session.auth_words)
    auth.add_argument("--user", "--auth-user", "-au", dest="user",
                      help="user name for --auth (alone, it means --auth auto, as in swaks)")
    auth.add_argument("--password-env", metavar="VAR",
                      help="take the password (or token) from $VAR; else ~/.netrc "
                      "(--netrc), else a no-echo prompt when stdin is a terminal")
    auth.add_argument("--netrc", action="store_true", help="take the password from ~/.netrc")
    auth.add_argument("--netrc-file", metavar="FILE", help="netrc file instead of ~/.netrc")
    refuse_passwords(auth, "--password-env VAR, --netrc, or the prompt")
    send_message.add_arguments(p)
    ext = p.add_argument_group("extensions")
    ext.add_argument("--pipeline", action="store_true",
                     help="send MAIL, RCPT, DATA in one batch (with --bdat: MAIL and RCPT, then "
                     "BDAT once their replies are in)")
    ext.add_argument("--bdat", action="store_true", help="send the message with BDAT (CHUNKING)")
    ext.add_argument("--dsn-notify", metavar="NEVER|SUCCESS,FAILURE,DELAY",
                     help="RCPT NOTIFY= (RFC 3461); these three and --smtputf8 stop the run "
                     "before MAIL when the server does not advertise their extension")
    ext.add_argument("--dsn-ret", choices=("FULL", "HDRS"), type=str.upper, help="MAIL RET=")
    ext.add_argument("--envid", help="MAIL ENVID= (xtext)")
    send_session.add_arguments(p)
    suggest(p.add_argument("--quit-after", "--quit", "-q", type=parser(QUIT_POINTS),
                           metavar="STAGE", help="stop at STAGE and QUIT; swaks' stop points, "
                           "in any case: " + described(QUIT_POINTS)), lambda: names(QUIT_POINTS))
    p.add_argument("--timeout", type=common.seconds_type(common.MAX_WAIT),
                   default=60.0, metavar="SECONDS",
                   help="limit for connecting and for each reply but the one to the message "
                   "(default 60)")
    p.add_argument("--data-timeout", type=common.seconds_type(common.MAX_WAIT),
                   metavar="SECONDS",
                   help="limit for the reply to the message, after the final dot or BDAT LAST "
                   "(LMTP: for each recipient's); servers filter the content first, and "
                   "giving up too soon may mean sending it twice (default: RFC 5321's 600 s, "
                   "or --timeout when larger)")
    p.add_argument("--record", metavar="FILE", type=record_option.record_file,
                   help="write the session to a recording (its directory must exist; it replaces "
                   "an earlier recording, never another file)")
    send_output.add_arguments(p)
    tls_options.add_tls_options(p, default_level=DEFAULT_LEVEL)
    p.add_argument("--json", action="store_true",
                   help="print one JSON object (result and transcript) instead of the transcript")
    p.set_defaults(handler=run)


class Usage(Exception):
    """A problem with the command line, found before connecting."""


# -- preparing (before any connection) -----------------------------------------------------------


def _message(args: argparse.Namespace) -> send_message.MessageSpec:
    try:
        spec = send_message.build_spec(args)
    except send_message.MessageUsage as exc:
        raise Usage(str(exc)) from exc
    args.to = send_message.recipients(args)  # the envelope: To, Cc and Bcc
    return spec


def _secret(args: argparse.Namespace, host: str) -> str:
    from smtpscope.auth import TOKEN_MECHANISMS
    from smtpscope.credentials import CredentialError, get_secret

    what = "token" if args.auth.upper() in TOKEN_MECHANISMS else "password"
    try:
        return get_secret(
            env=args.password_env, netrc_host=host if (args.netrc or args.netrc_file) else None,
            user=args.user, prompt=f"{what.capitalize()} for {args.user} at {host}: ",
            allow_prompt=True, netrc_path=args.netrc_file, what=what,
            hint="--password-env VAR or --netrc",
        )
    except CredentialError as exc:
        raise Usage(str(exc)) from exc


def _prepare(args: argparse.Namespace) -> tuple[SessionOptions, str, Any, str | None]:
    from smtpscope.sanitize import quoted
    from smtpscope.session import DEFAULT_HELO

    try:
        send_session.prepare(args)
    except send_session.SessionUsage as exc:
        raise Usage(str(exc)) from exc
    if args.user and not args.auth:
        # As swaks has it: a user name asks for AUTH, with any mechanism the server offers.
        args.auth = "auto"
    words = send_session.auth_words() if args.auth else ()  # the auth package, when asked
    if args.auth and args.auth.upper() not in {word.upper() for word in words}:
        # The name first: a mistyped mechanism is the problem to fix, not the missing --user.
        raise Usage(f"unknown {args.auth_option} {quoted(args.auth)}; known: {', '.join(words)}"
                    f"{did_you_mean(args.auth, words)}")
    if args.auth and not args.user:
        raise Usage(f"{args.auth_option} needs --user")
    if args.auth:
        from smtpscope.credentials import CredentialError, utf8_text

        try:
            utf8_text(args.user, "--user")
        except CredentialError as exc:
            raise Usage(str(exc)) from exc
    if not args.target and args.pipe is None:
        raise Usage("give a TARGET or --pipe COMMAND")
    from smtpscope.security.policy import PolicyError

    try:
        policy = tls_options.policy_from_args(args, default_level=DEFAULT_LEVEL)
    except PolicyError as exc:
        raise Usage(str(exc)) from exc
    security = {"none": "plain"}.get(args.tls or "", args.tls)
    options, mode = common.resolve_target(
        args.target, port=args.port, security=security, helo=args.helo or DEFAULT_HELO,
        verify=not args.insecure, cafile=args.cafile, resolver=args.resolver, pipe=args.pipe,
        timeout=args.timeout)
    if args.tls_level or args.tls_fingerprint:  # the default verifies TLS, never forces it
        # From the mode the target implies too: smtps:// stays implicit TLS.
        mode = tls_options.security_for(policy, mode) or mode
        options = options._replace(security=mode)
    if args.protocol == "lmtp":
        options.lmtp = True
    tls_options.attach(policy, options, args.target or "", args.resolver, timeout=args.timeout)
    # --timeout is "for connecting and for each reply": each connection attempt, handshake
    # and reply gets it from the moment it is awaited (as in probe and the TUI); the reply
    # to the message gets --data-timeout, unset: the session's rule (reply_limit).
    options.connect_timeout = options.reply_timeout = args.timeout
    options.data_timeout = args.data_timeout
    try:
        send_session.apply(args, options)
    except send_session.SessionUsage as exc:
        raise Usage(str(exc)) from exc
    content = _message(args)
    try:  # before the password prompt too: a typo costs nothing
        send_check.check(args, options)
    except send_check.CommandUsage as exc:
        raise Usage(str(exc)) from exc
    secret = _secret(args, options.host) if args.auth else None
    return options, mode, content, secret


# -- the transaction ----------------------------------------------------------------------------


async def _transaction(conv: Conversation, args: argparse.Namespace,
                       spec: send_message.MessageSpec, secret: str | None) -> None:
    """The stages in order, each one step of the conversation layer; ends at the stop point
    of --quit-after, --drop-after or --drop-after-send (swaks' places)."""
    from smtpscope.conversation import Stage

    session = conv.session
    stop = args.stop_at
    await conv.open()
    # With TLS from the first byte, swaks' TLS point is before the banner: after it here.
    if stop is StopPoint.CONNECT or (stop is StopPoint.TLS and session.view.tls is not None):
        return
    await conv.greet()
    if stop is StopPoint.FIRST_HELO:
        return
    secured = await conv.secure(greet_again=False)
    if stop is StopPoint.TLS:
        return
    if secured.started:
        await conv.greet_in_tls()
    if stop is StopPoint.HELO:
        return
    if args.xclient and not await send_session.xclient(conv, args):
        return
    if args.auth and await send_session.auth_wanted(conv, args):
        conv.stage = Stage.AUTH
        from smtpscope.conversation import make_mechanism, pick_mechanism  # AUTH asked for

        async def attempt() -> None:
            name = pick_mechanism(args.auth, session.view.capabilities,
                                  exposed=conv.credentials_exposed())
            await conv.authenticate(
                make_mechanism(name, session, user=args.user, secret=secret or ""))

        await send_session.auth_outcome(conv, args, attempt())
    if stop is StopPoint.AUTH:
        return
    stop_after = {StopPoint.MAIL: Stage.MAIL, StopPoint.RCPT: Stage.RCPT,
                  StopPoint.DATA: Stage.DATA}.get(stop)
    caps = session.view.capabilities
    content = send_message.render_for(spec, caps)
    for warning in send_message.content_warnings(spec, content, caps):
        session.transcript.note(warning, kind="warning")
    envelope = send_check.envelope(args, content, caps)
    try:
        await conv.send(envelope, content, pipeline=args.pipeline, bdat=args.bdat,
                        stop_after=stop_after)
    finally:  # LMTP: each recipient's own answer, refused by all of them included
        delivery = conv.delivery
        if delivery is not None and delivery.lmtp and (delivery.final or delivery.unknown):
            delivery.note_recipients(session.transcript)
        elif (delivery is not None and delivery.not_tried and conv.stage is Stage.RCPT
              and not (args.drop_after or args.drop_after_send)):
            # The recipient stage ended early (a 421, a hang-up; not a drop asked for): who
            # was refused, and who was never asked.
            delivery.note_recipients(session.transcript)
    # SMTP: the message went, but not to everyone (a 452 "too many recipients", a greylisted
    # or unknown address): exit 0 as swaks does, yet say who will not get it.
    if delivery is not None and not delivery.lmtp and delivery.partial and delivery.final:
        delivery.note_recipients(session.transcript)


# -- running ---------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    """Run ``smtpscope send``; returns the exit code."""
    if args.dump_mail:
        return send_message.dump_mail(args)
    try:
        options, mode, content, secret = _prepare(args)
    except Usage as exc:
        common.error_line("send", str(exc))
        return common.EXIT_USAGE
    except common.TargetFailure as exc:
        return _target_failed(args, exc)
    import asyncio

    return asyncio.run(_send(args, options, mode, content, secret))


def _target_failed(args: argparse.Namespace, exc: common.TargetFailure) -> int:
    """No connection was made (a bad target, no MX route): say why, and with --json say it
    in the result object too, so a script reading stdout is never left with nothing."""
    hint = "smtpscope mx DOMAIN shows the MX records" if exc.status == "no-route" else ""
    try:
        out = send_output.open_output(args)
    except OSError as err:
        common.error_line("send", f"cannot write {args.output_file!r}: {err.strerror}")
        return common.EXIT_USAGE
    out.error("send", str(exc), hint)
    if args.json:
        out.print(common.dumps({
            "schema_version": common.SCHEMA_VERSION, "target": args.target,
            "status": exc.status, "exit_code": exc.exit_code,
            "stage": "connect" if exc.status == "no-route" else "usage",
            "error": str(exc), "hint": hint or None, "server": None, "tls": None,
            "recipients": {"accepted": [], "rejected": [], "unknown": [], "not_tried": []},
            "transcript": [],
        }))
    out.close()
    return exc.exit_code


def _tls_required_by(args: argparse.Namespace, exc: Exception) -> str:
    """For STARTTLS not offered where TLS is required: which option required it."""
    from smtpscope.conversation.errors import NotOffered
    from smtpscope.session_types import Stage

    if not isinstance(exc, NotOffered) or exc.stage is not Stage.TLS:
        return ""
    required = tls_options.tls_required_by(args, args.target or "")
    if required is None:
        return ""
    said, instead = required
    return f"{said} requires TLS" + (f"; {instead} goes on without it" if instead else "")


async def _send(args: argparse.Namespace, options: SessionOptions, mode: str,
                content: send_message.MessageSpec, secret: str | None) -> int:
    import asyncio
    import contextlib

    from smtpscope.conversation import Conversation, Dialect, TLSMode
    from smtpscope.conversation.errors import ParamNotOffered
    from smtpscope.session import Session

    try:
        out = send_output.open_output(args)
    except OSError as exc:
        common.error_line("send", f"cannot write {args.output_file!r}: {exc.strerror}")
        return common.EXIT_USAGE
    try:
        session = Session(options, record_to=args.record)
    except OSError as exc:
        out.error("send", f"cannot write the recording {args.record!r}: {exc.strerror}")
        out.close()
        return common.EXIT_USAGE
    if not args.json:
        session.transcript.subscribe(out)
    # An old server without ESMTP: HELO still lets a plain transaction through.
    fallback = mode in ("auto", "plain") and not (args.auth or args.pipeline or args.bdat)
    conv = Conversation(session, dialect=Dialect(args.protocol) if args.protocol else None,
                        tls=TLSMode.parse(mode), step_timeout=args.timeout,
                        helo_fallback=fallback)
    dropper = send_session.Dropper(conv, args)
    if args.drop_after_send:
        session.transcript.subscribe(dropper)
    failure: common.Failure | None = None
    try:
        await _transaction(conv, args, content, secret)
    except send_session.StageFailure as exc:
        failure = common.Failure("rejected", exc.stage, str(exc), "")
    except ParamNotOffered as exc:
        failure = send_check.unadvertised(exc)
    except send_message.MessageUsage as exc:
        failure = common.Failure("usage", "usage", str(exc), "")
    except Exception as exc:  # every failure becomes one line and a stage exit code
        failure = common.classify(exc, conv.stage)
        failure.hint = common.silent_port_hint(failure, options, mode) or \
            _tls_required_by(args, exc)
    if dropper.dropped and failure is not None and failure.status == "closed":
        failure = None  # the connection ended because we asked for it
    if (args.drop_after or args.drop_after_send) and failure is None:
        if not dropper.dropped:  # --drop-after, or nothing was sent at the stage (see --help)
            flag = "--drop-after" if args.drop_after else "--drop-after-send"
            session.transcript.note(f"Dropping the connection after {args.stop_at} ({flag}), "
                                    "without QUIT")
        await session.close()
    elif failure is not None and failure.status == "timeout":
        # A reply still owed would be taken for the answer to QUIT: just hang up.
        session.transcript.note("Closing the connection without QUIT: the server did not "
                                "answer in time", kind="warning")
        await session.close(f"timed out at {failure.stage}")
    else:
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
            print(visible(line), file=out.errors, flush=True)
    if failure is not None:
        what = "not sent" if failure.status == "not-offered" else "failed"
        out.error("send", f"{_STAGE_NAMES.get(failure.stage, failure.stage)} {what}: "
                  f"{failure.message}", failure.hint)
    if args.json:
        out.print(common.dumps(_json(session, conv, args, mode, failure, code)))
    out.close()
    return code


_STAGE_NAMES = {"connect": "connecting", "banner": "banner", "ehlo": "EHLO", "tls": "TLS",
                "xclient": "XCLIENT", "ehlo_xclient": "EHLO after XCLIENT", "usage": "message",
                "ehlo_tls": "EHLO after TLS", "auth": "AUTH", "mail": "MAIL FROM",
                "rcpt": "RCPT TO", "data": "DATA", "dot": "message", "closed": "connection"}


def _json(session: Session, conv: Conversation, args: argparse.Namespace, mode: str,
          failure: common.Failure | None, code: int) -> dict[str, Any]:
    from smtpscope.session import tls_info_dict

    delivery = conv.delivery
    out: dict[str, Any] = {
        "schema_version": common.SCHEMA_VERSION,
        "target": args.target or session.options.endpoint,
        "status": "success" if failure is None else failure.status,
        "exit_code": code,
        "stage": None if failure is None else failure.stage,
        "error": None if failure is None else failure.message,
        "hint": None if failure is None else (failure.hint or None),
        "server": {"host": session.options.host, "port": session.options.port,
                   "peer": session.view.peer, "tls_mode": mode},
        "tls": None if session.tls is None else tls_info_dict(session.tls),
        "recipients": {"accepted": [] if delivery is None else delivery.accepted,
                       "rejected": [] if delivery is None else delivery.refused,
                       "unknown": [] if delivery is None else delivery.unknown,
                       "not_tried": [] if delivery is None else delivery.not_tried},
        "transcript": [common.entry_brief(e) for e in session.transcript],
    }
    if delivery is not None:
        out["recipients"]["replies"] = [
            {"address": r.address,
             "rcpt": None if r.rcpt is None else r.rcpt.code,
             "delivery": None if r.delivery is None else r.delivery.code,
             "accepted": None if r.unknown else r.accepted,
             "not_tried": None if r.not_tried is None else r.not_tried.value}
            for r in delivery.recipients]
    return out
