"""``smtpscope probe TARGET…``: banner, EHLO, STARTTLS, EHLO again, QUIT; a report per target."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING, Any, cast

from smtpscope.cli import (
    common,
    probe_result,
    send_session,
    shard,
    targets_file,
    tls_mode,
    tls_options,
)

DEFAULT_LEVEL = "may"  # report the certificate and go on, like posttls-finger

if TYPE_CHECKING:
    from smtpscope.cli import probe_report
    from smtpscope.conversation import Rejected, Stage
    from smtpscope.session import Session
    from smtpscope.session_types import SessionOptions


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "probe",
        help="check servers: banner, capabilities, STARTTLS, TLS details, timings",
        description="Connect, read the banner, EHLO, STARTTLS when offered, EHLO again, QUIT. "
        "Many targets are probed concurrently. Exit code: 0 when every probe succeeded, else "
        "the swaks-style code of the first failure ("
        + common.exit_codes(common.EXIT_USAGE, common.EXIT_CONNECT, common.EXIT_CLOSED,
                            common.EXIT_BANNER, common.EXIT_EHLO, common.EXIT_TLS,
                            common.EXIT_EHLO_TLS) + ").",
    )
    p.add_argument("targets", nargs="*", metavar="TARGET",
                   help="host, host:port, [v6]:port, smtp://, smtps://, submission://, "
                   "lmtp://, unix:/path, lmtp:/path, user@domain or @domain (MX routing)")
    p.add_argument("--targets-file", metavar="FILE",
                   help="read more targets from FILE, one a line ('-' = stdin; # comments)")
    p.add_argument("--port", type=int, help="port for every target, MX-routed ones included")
    tls_mode.add_arguments(p)
    p.add_argument("--pipe", metavar="COMMAND",
                   help="probe the SMTP server on COMMAND's stdin/stdout (e.g. 'sendmail -bs')")
    p.add_argument("--protocol", choices=("esmtp", "smtp", "lmtp"), type=str.lower,
                   help="esmtp (default): EHLO; smtp: HELO only; lmtp: LHLO (implied by "
                   "lmtp:// and lmtp:/path)")
    p.add_argument("--helo", default=None, help="name to send with EHLO")
    p.add_argument("--cafile", help="verify certificates against this CA file")
    p.add_argument("--insecure", action="store_true",
                   help="do not verify certificates (the report says so)")
    p.add_argument("--resolver", type=common.resolver_address, metavar="IP[:PORT]",
                   help="DNS server for MX routing")
    p.add_argument("--timeout", type=common.seconds_type(common.MAX_WAIT),
                   default=30.0, metavar="SECONDS",
                   help="limit for connecting and for each reply (default 30)")
    p.add_argument("--concurrency", type=int, default=10, metavar="N",
                   help="probe at most N targets at once (default 10)")
    p.add_argument("--json", action="store_true",
                   help="one JSON object per target, a line each, in the order given")
    p.add_argument("--jsonl", action="store_true",
                   help="like --json, but each line as soon as its target is done, with its "
                   "\"index\" in the list: outputs of shards concatenate")
    p.add_argument("--shard", type=shard.parse_shard, metavar="I/N",
                   help="probe only targets I, I+N, I+2N ... of the list (1 <= I <= N), so N "
                   "machines split one --targets-file")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    send_session.add_connection_arguments(p)
    tls_options.add_tls_options(p, default_level=DEFAULT_LEVEL)
    p.add_argument("--reconnect", action="store_true",
                   help="connect again offering the TLS session and report whether it resumed")
    p.set_defaults(handler=run)


# -- probing ------------------------------------------------------------------------------------


async def probe(target: str, args: argparse.Namespace, *, blocking: bool = False
                ) -> dict[str, Any]:
    """Probe one target; never raises (failures become a status word in the result).

    ``blocking`` runs it over a ``SocketSession`` (see ``run``): the coroutine then never
    suspends, and a target only ``Session`` can reach raises ``UnsupportedTarget`` before
    anything goes out.
    """
    from smtpscope.conversation import Conversation, Dialect, Rejected, Stage, TLSMode
    from smtpscope.conversation.errors import refusal_hint
    from smtpscope.protocol import Capabilities
    from smtpscope.session_types import DEFAULT_HELO, TLSFailed, tls_info_dict

    result = probe_result.new_result(target)
    timings: dict[str, float | None] = result["timings"]
    pipe = getattr(args, "pipe", None)

    policy = args.tls_policy
    sts: list[Any] = []

    def resolve() -> tuple[Any, str]:
        fetch = None
        if "@" in target:  # MTA-STS needs the domain only: fetched while the route is found
            from smtpscope.dns.parallel import Pending

            fetch = Pending(lambda: tls_options.mta_sts_fetch(policy, target, args.resolver,
                                                              args.timeout))
        options, mode = common.resolve_target(
            target, port=args.port, security=args.tls,
            helo=args.helo or DEFAULT_HELO, verify=not args.insecure, cafile=args.cafile,
            resolver=args.resolver, pipe=pipe, timeout=args.timeout)
        tls_options.attach(policy, options, target, args.resolver, dane="@" in target,
                           timeout=args.timeout)
        if fetch is not None:
            sts.append(fetch.result())
        return options, mode

    start = time.monotonic()
    try:
        if blocking or not ("@" in target or args.resolver or policy.wants_tlsa):
            options, mode = resolve()
        else:  # MX routing does blocking DNS: off the loop, so other probes go on meanwhile
            from smtpscope.dns.parallel import off_thread

            options, mode = await off_thread(resolve)
        if not target:  # --pipe alone: the command is the server, and names it
            result["target"] = options.endpoint
    except common.TargetFailure as exc:
        result.update(status=exc.status if exc.status != "usage" else "bad-target",
                      stage="connect", error=str(exc))
        return result
    if "@" in target or getattr(options.tls, "tlsa", None):
        # MX routing, TLSA and MTA-STS happen before connecting: a resolver that does not
        # answer shows here, not as a total no step accounts for.
        timings["lookups"] = common.ms(time.monotonic() - start)
    try:
        send_session.apply(args, options)
    except send_session.SessionUsage as exc:
        result.update(status="bad-target", stage="connect", error=str(exc))
        return result
    options.connect_timeout = args.timeout
    # Each reply, the banner included, gets --timeout from the moment it is awaited: a silent
    # implicit-TLS port then fails after --timeout, not after connect plus banner limits.
    options.reply_timeout = args.timeout
    if getattr(args, "protocol", None) == "lmtp":
        options.lmtp = True
    session = _session_for(options, blocking)
    result["server"] = {"host": options.host, "port": options.port, "tls_mode": mode,
                        "peer": None}
    dialect = Dialect(args.protocol) if getattr(args, "protocol", None) else None
    conv = Conversation(session, dialect=dialect, tls=TLSMode.STARTTLS,
                        step_timeout=args.timeout, helo_fallback=False)
    if policy.level != "none" and args.tls != "none":
        from smtpscope.security.prefetch import prefetch

        prefetch(policy.cafile, policy.capath)  # runs while we wait on the server
    mark = time.monotonic()  # the clock of asyncio's loop.time(), which the sessions time by

    def lap(name: str, at: float | None = None, resume: float | None = None) -> None:
        # The next step is timed from ``resume`` when given: what lies between is our own work.
        nonlocal mark
        now = time.monotonic() if at is None else at
        timings[name] = common.ms(now - mark)
        mark = now if resume is None else resume

    def lap_tls(name: str, at: float | None, *, server_waits: bool) -> None:
        # A step that ends with a handshake ends there: reading and judging the chain
        # (cryptography, the trust store) is our time, timed apart as cert_check. After
        # STARTTLS the server waits for our EHLO meanwhile, so the next step starts after the
        # check. With implicit TLS the server may be readying its banner during the check, so
        # the banner is timed from the handshake: never less than the server took.
        if not session.tls_checks or at is None:
            lap(name, at)
            return
        start, end = session.tls_checks[-1]
        lap(name, min(start, at), resume=max(end, at) if server_waits else None)

    try:
        try:
            greeting = await conv.open(check_banner=False)
        finally:
            if session.connected_at is not None:
                lap_tls("connect", session.connected_at, server_waits=False)
            # Whom we reached, also when the banner never came (a TLS-first or tarpit port).
            result["server"]["peer"] = session.view.peer
        lap("banner")
        result["banner"] = probe_result.reply_json(greeting)
        if session.tls is not None:
            result["tls"] = tls_info_dict(session.tls)
        if greeting.code != 220:
            raise _Stop("rejected", f"banner is {greeting.code}, not 220: the server refuses "
                        "to talk to us", refusal_hint(greeting))
        ehlo = await conv.greet()
        lap("ehlo")
        first = "tls" if session.tls is not None else "plain"
        result["ehlo"][first] = probe_result.ehlo_json(ehlo)
        before = Capabilities.parse(ehlo)
        result["starttls"]["offered"] = before.has("STARTTLS")
        required = tls_options.tls_required_by(args, target)
        if required is not None and session.tls is None and not before.has("STARTTLS"):
            conv.stage = Stage.STARTTLS
            raise _Stop("tls-error", f"STARTTLS not offered, and {required[0]} requires TLS")
        if before.has("STARTTLS") and args.tls != "none" and session.tls is None:
            result["starttls"]["attempted"] = True
            secured = await conv.secure()
            lap_tls("starttls", secured.tls_at, server_waits=True)
            assert secured.starttls is not None and secured.greeting is not None
            result["starttls"]["reply"] = probe_result.reply_json(secured.starttls)
            result["tls"] = tls_info_dict(session.tls) if session.tls is not None else None
            lap("ehlo_tls")
            result["ehlo"]["tls"] = probe_result.ehlo_json(secured.greeting)
            diff = before.diff(Capabilities.parse(secured.greeting))
            result["capability_changes"] = {
                "added": [c.raw for c in diff.added],
                "removed": [c.raw for c in diff.removed],
                "changed": [[a.raw, b.raw] for a, b in diff.changed],
            }
        if args.reconnect and session.tls is not None and result["tls"] is not None:
            result["tls"]["resumption"] = await tls_options.resumption(session, mode,
                                                                       args.timeout)
        conv.stage = Stage.QUIT
        await session.quit(args.timeout)
        lap("quit")
        result["status"] = "success"
    except _Stop as stop:
        result.update(status=stop.status, stage=_stage_word(conv.stage), error=stop.message,
                      hint=stop.hint or None)
    except Rejected as exc:
        # A 4xx/5xx to EHLO is a refusal (Gmail's 421 rate limit); anything else is no SMTP.
        refused = exc.reply is not None and (exc.reply.is_transient or exc.reply.is_permanent)
        status = "tls-error" if exc.stage is Stage.TLS else \
            "rejected" if refused else "protocol-error"
        if exc.reply is not None:
            if exc.stage in (Stage.EHLO, Stage.EHLO_TLS):
                tls = exc.stage is Stage.EHLO_TLS or session.tls is not None
                result["ehlo"]["tls" if tls else "plain"] = probe_result.ehlo_json(exc.reply)
            elif exc.stage is Stage.TLS:
                result["starttls"]["reply"] = probe_result.reply_json(exc.reply)
        result.update(status=status, stage=_stage_word(exc.stage), error=_rejected_text(exc),
                      hint=exc.hint or None)
    except Exception as exc:  # every failure becomes a status word; nothing escapes a probe
        if isinstance(exc, TLSFailed) and exc.starttls is not None:
            result["starttls"]["reply"] = probe_result.reply_json(exc.starttls)  # and its warnings
        failure = common.classify(exc, _stage_word(conv.stage))
        hint = common.silent_port_hint(failure, options, mode)
        result.update(status=failure.status, stage=failure.stage, error=failure.message,
                      hint=hint or None)
    finally:
        if session.tls is not None and result["tls"] is None:
            result["tls"] = tls_info_dict(session.tls)  # shown even when it was refused
        if sts:
            result["mta_sts"] = tls_options.mta_sts_json(policy, sts[0], session)
        if result["status"] != "success":
            await _polite_close(session)
            said = session.stream.diagnostics() if pipe and session.stream is not None else []
            if said:  # why the command ended: its error output and exit status
                result["error"] = f"{result['error']}; {'; '.join(said)}"
        result["route"] = probe_result.route_json(session)
        if session.tls_checks:  # our own time, refused certificates included
            timings["cert_check"] = common.ms(sum(e - s for s, e in session.tls_checks))
        timings["total"] = common.ms(time.monotonic() - start)
    return result


def _stage_word(stage: Stage) -> str:
    """probe's JSON names the STARTTLS step "starttls" (send says "tls")."""
    from smtpscope.conversation import Stage

    return "starttls" if stage is Stage.TLS else str(stage)


def _rejected_text(exc: Rejected) -> str:
    from smtpscope.conversation import Stage

    reply = exc.reply
    if reply is None:
        return str(exc)
    if exc.stage is Stage.TLS:
        return str(exc) if reply.is_success else f"STARTTLS refused with {reply.code}"
    if exc.stage is Stage.EHLO_TLS:
        return f"EHLO after STARTTLS answered {reply.code}"
    return f"EHLO answered {reply.code}"


class _Stop(Exception):
    def __init__(self, status: str, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.hint = hint


async def _polite_close(session: Session) -> None:
    import contextlib

    with contextlib.suppress(Exception):
        await session.quit(2)
    await session.close()


def _session_for(options: SessionOptions, blocking: bool) -> Session:
    """A ``Session``, or for a blocking run a ``SocketSession``: what the conversation's
    connect, greet and STARTTLS steps and this module use, it has too (the probe tests run
    every path of this module both ways)."""
    if not blocking:
        from smtpscope.session import Session

        return Session(options)
    from smtpscope.session_blocking import SocketSession

    return cast("Session", SocketSession(options))


def exit_code(result: dict[str, Any]) -> int:
    """The swaks-style exit code of one probe result."""
    status = result["status"]
    if status == "success":
        return common.EXIT_OK
    if status == "bad-target":
        return common.EXIT_USAGE
    stage = result["stage"] or "connect"
    if status in ("tls-error",) or stage == "starttls":
        return common.EXIT_TLS
    return common.Failure(status, stage, "").exit_code


# -- running many -------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    """Run ``smtpscope probe``; returns the exit code."""
    try:
        targets = targets_file.targets(args.targets, args.targets_file)
    except OSError as exc:
        common.error_line("probe", f"cannot read --targets-file: {exc.strerror or exc}",
                          "check the path")
        return common.EXIT_USAGE
    except targets_file.TargetsFileError as exc:
        common.error_line("probe", f"--targets-file {args.targets_file}: {exc}",
                          "one target per line, '#' starts a comment")
        return common.EXIT_USAGE
    if args.pipe is not None and not args.pipe.strip():
        from smtpscope.target_options import EMPTY_PIPE

        common.error_line("probe", EMPTY_PIPE)
        return common.EXIT_USAGE
    if not targets and args.pipe is not None:
        targets = [""]  # the piped command is the one server
    if not targets:
        common.error_line("probe", "no target given", "e.g. smtpscope probe 127.0.0.1:2525")
        return common.EXIT_USAGE
    if args.jsonl:
        args.json = True
    if args.proxy is not None and not args.proxy_source:
        common.error_line("probe", "--proxy needs --proxy-source IP[:PORT]")
        return common.EXIT_USAGE
    if args.concurrency < 1 or args.timeout <= 0:
        common.error_line("probe", "--concurrency and --timeout must be positive")
        return common.EXIT_USAGE
    from smtpscope.security.policy import PolicyError

    try:
        args.tls_policy = tls_options.policy_from_args(args, default_level=DEFAULT_LEVEL)
    except PolicyError as exc:
        common.error_line("probe", str(exc))
        return common.EXIT_USAGE
    if args.tls_policy.level == "none":
        args.tls = "none"
    try:
        results = _run_one(targets, args)
        if results is None:
            import asyncio

            results = asyncio.run(_run_all(targets, args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    if not results:
        return common.EXIT_OK  # an empty shard of a short list: nothing to do
    codes = [exit_code(r) for r in results]
    return next((c for c in codes if c != 0), 0)


def _printer(args: argparse.Namespace, total: int) -> probe_report.Printer:
    from smtpscope.cli import probe_report

    return probe_report.Printer(args.json, total=total,
                                progress=not args.no_progress and total > 1,
                                ordered=not args.jsonl, show_certs=args.show_certs)


def _finish(result: dict[str, Any], args: argparse.Namespace, index: int) -> dict[str, Any]:
    if args.jsonl or args.shard:
        result["index"] = index
    return result


def _run_one(targets: list[str], args: argparse.Namespace) -> list[dict[str, Any]] | None:
    """Probe a lone TCP target on a blocking socket, without asyncio (whose import costs more
    than the conversation); None when the run needs ``_run_all`` (several targets, MX or DANE
    look-ups, a UNIX socket or pipe, --reconnect)."""
    from smtpscope.session_blocking import UnsupportedTarget, run_blocking

    picked = shard.pick(targets, args.shard)
    if len(picked) != 1 or args.pipe is not None or args.reconnect or args.resolver \
            or args.tls_policy.wants_tlsa:
        return None
    index, target = picked[0]
    if "@" in target:
        return None
    from smtpscope.security import checker

    checker.one_judgment()  # one connection, one handshake at most
    try:
        result = run_blocking(probe(target, args, blocking=True))
    except UnsupportedTarget:
        return None
    printer = _printer(args, 1)
    try:
        printer.done(0, _finish(result, args, index))
    finally:
        printer.close()
    return [result]


async def _run_all(targets: list[str], args: argparse.Namespace) -> list[dict[str, Any]]:
    import asyncio

    picked = shard.pick(targets, args.shard)
    sem = asyncio.Semaphore(args.concurrency)
    printer = _printer(args, len(picked))

    async def one(slot: int, index: int, target: str) -> dict[str, Any]:
        async with sem:
            result = await probe(target, args)
        printer.done(slot, _finish(result, args, index))
        return result

    try:
        return list(await asyncio.gather(*(one(s, i, t) for s, (i, t) in enumerate(picked))))
    finally:
        printer.close()
