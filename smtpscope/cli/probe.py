"""``smtpscope probe TARGET…``: banner, EHLO, STARTTLS, EHLO again, QUIT; a report per target."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING, Any

from smtpscope.cli import common, send_session, shard, tls_mode, tls_options
from smtpscope.protocol.errors import shown_text

DEFAULT_LEVEL = "may"  # report the certificate and go on, like posttls-finger

if TYPE_CHECKING:
    from smtpscope.conversation import Rejected, Stage
    from smtpscope.protocol import Reply
    from smtpscope.session import Session


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "probe",
        help="check servers: banner, capabilities, STARTTLS, TLS details, timings",
        description="Connect, read the banner, EHLO, STARTTLS when offered, EHLO again, QUIT. "
        "Many targets are probed concurrently. Exit code: 0 when every probe succeeded, else "
        "the swaks-style code of the first failure (2 connect, 21 banner, 22 EHLO, 29 TLS, "
        "32 EHLO after TLS).",
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
    p.add_argument("--resolver", metavar="IP[:PORT]", help="DNS server for MX routing")
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


def _reply_json(reply: Reply) -> dict[str, Any]:
    # Shown text, so the report shows an undecodable byte as \xNN; common.dumps writes it as
    # U+FFFD, which JSON can carry.
    return {
        "code": reply.code,
        "enhanced": None if reply.enhanced is None else str(reply.enhanced),
        "lines": list(reply.shown_lines),
        "raw": shown_text(reply.raw),
        "warnings": list(reply.warnings),
    }


def _ehlo_json(reply: Reply) -> dict[str, Any]:
    from smtpscope.protocol import Capabilities

    caps = Capabilities.parse(reply)
    out = _reply_json(reply)
    out["domain"] = caps.domain
    out["keywords"] = [
        {"keyword": c.keyword, "params": list(c.params), "meaning": c.meaning, "rfc": c.rfc}
        for c in caps.keywords
    ]
    return out


def _route_json(session: Session) -> dict[str, Any] | None:
    """Which MX candidate answered and why the ones before it failed (the session's attempts)."""
    candidates = list(session.options.route)
    if not candidates:
        return None
    attempts = [{"candidate": a.candidate.display, "via": a.candidate.via, "error": a.error}
                for a in session.attempts]
    used = next((a for a in attempts if a["error"] is None), None)
    return {"used": used, "failed": [a for a in attempts if a["error"] is not None],
            "candidates": [c.display for c in candidates]}


def _new_result(target: str) -> dict[str, Any]:
    return {
        "schema_version": common.SCHEMA_VERSION,
        "target": target, "status": None, "stage": None, "error": None, "hint": None,
        "server": None, "route": None, "banner": None,
        "ehlo": {"plain": None, "tls": None},
        "starttls": {"offered": False, "attempted": False, "reply": None},
        "tls": None, "mta_sts": None, "capability_changes": None, "timings": {},
    }


async def probe(target: str, args: argparse.Namespace) -> dict[str, Any]:
    """Probe one target; never raises (failures become a status word in the result)."""
    import asyncio

    from smtpscope.conversation import Conversation, Dialect, Rejected, Stage, TLSMode
    from smtpscope.protocol import Capabilities
    from smtpscope.session import DEFAULT_HELO, Session, tls_info_dict
    from smtpscope.session_types import TLSFailed

    result = _new_result(target)
    timings: dict[str, float | None] = result["timings"]
    pipe = getattr(args, "pipe", None)

    policy = args.tls_policy
    sts: list[Any] = []

    def resolve() -> tuple[Any, str]:
        options, mode = common.resolve_target(
            target, port=args.port, security=args.tls,
            helo=args.helo or DEFAULT_HELO, verify=not args.insecure, cafile=args.cafile,
            resolver=args.resolver, pipe=pipe)
        tls_options.attach(policy, options, target, args.resolver, dane="@" in target)
        if "@" in target:
            sts.append(tls_options.mta_sts_fetch(policy, target, args.resolver))
        return options, mode

    start = time.monotonic()
    try:
        # MX routing does blocking DNS: off the loop, so other probes go on meanwhile.
        options, mode = await asyncio.to_thread(resolve) if "@" in target or args.resolver \
            or policy.wants_tlsa else resolve()
    except common.TargetFailure as exc:
        result.update(status=exc.status if exc.status != "usage" else "bad-target",
                      stage="connect", error=str(exc))
        return result
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
    result["server"] = {"host": options.host, "port": options.port, "tls_mode": mode}
    session = Session(options)
    dialect = Dialect(args.protocol) if getattr(args, "protocol", None) else None
    conv = Conversation(session, dialect=dialect, tls=TLSMode.STARTTLS,
                        step_timeout=args.timeout, helo_fallback=False)
    if policy.level != "none" and args.tls != "none":
        from smtpscope.security.prefetch import prefetch

        prefetch(policy.cafile, policy.capath)  # runs while we wait on the server
    loop = asyncio.get_running_loop()
    mark = loop.time()

    def lap(name: str, at: float | None = None) -> None:
        nonlocal mark
        now = loop.time() if at is None else at
        timings[name] = common.ms(now - mark)
        mark = now

    try:
        try:
            greeting = await conv.open(check_banner=False)
        finally:
            if session.connected_at is not None:
                lap("connect", session.connected_at)
        lap("banner")
        result["server"]["peer"] = session.view.peer
        result["banner"] = _reply_json(greeting)
        if session.tls is not None:
            result["tls"] = tls_info_dict(session.tls)
        if greeting.code != 220:
            raise _Stop("rejected", f"banner is {greeting.code}, not 220: the server refuses "
                        "to talk to us")
        ehlo = await conv.greet()
        lap("ehlo")
        first = "tls" if session.tls is not None else "plain"
        result["ehlo"][first] = _ehlo_json(ehlo)
        before = Capabilities.parse(ehlo)
        result["starttls"]["offered"] = before.has("STARTTLS")
        if policy.tls_required and session.tls is None and not before.has("STARTTLS"):
            conv.stage = Stage.STARTTLS
            raise _Stop("tls-error", f"STARTTLS not offered, and --tls-level {policy.level} "
                        "requires TLS")
        if args.tls == "starttls" and not before.has("STARTTLS") and session.tls is None:
            conv.stage = Stage.STARTTLS
            raise _Stop("tls-error", "STARTTLS not offered (--tls starttls requires it)")
        if before.has("STARTTLS") and args.tls != "none" and session.tls is None:
            result["starttls"]["attempted"] = True
            secured = await conv.secure()
            lap("starttls", secured.tls_at)
            assert secured.starttls is not None and secured.greeting is not None
            result["starttls"]["reply"] = _reply_json(secured.starttls)
            result["tls"] = tls_info_dict(session.tls) if session.tls is not None else None
            lap("ehlo_tls")
            result["ehlo"]["tls"] = _ehlo_json(secured.greeting)
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
        async with asyncio.timeout(args.timeout):
            await session.quit()
        lap("quit")
        result["status"] = "success"
    except _Stop as stop:
        result.update(status=stop.status, stage=_stage_word(conv.stage), error=stop.message)
    except Rejected as exc:
        status = "tls-error" if exc.stage is Stage.TLS else "protocol-error"
        if exc.reply is not None:
            if exc.stage in (Stage.EHLO, Stage.EHLO_TLS):
                tls = exc.stage is Stage.EHLO_TLS or session.tls is not None
                result["ehlo"]["tls" if tls else "plain"] = _ehlo_json(exc.reply)
            elif exc.stage is Stage.TLS:
                result["starttls"]["reply"] = _reply_json(exc.reply)
        result.update(status=status, stage=_stage_word(exc.stage), error=_rejected_text(exc))
    except Exception as exc:  # every failure becomes a status word; nothing escapes a probe
        if isinstance(exc, TLSFailed) and exc.starttls is not None:
            result["starttls"]["reply"] = _reply_json(exc.starttls)  # and its warnings
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
        result["route"] = _route_json(session)
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
        return f"STARTTLS refused with {reply.code}"
    if exc.stage is Stage.EHLO_TLS:
        return f"EHLO after STARTTLS answered {reply.code}"
    return f"EHLO answered {reply.code}"


class _Stop(Exception):
    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


async def _polite_close(session: Session) -> None:
    import asyncio
    import contextlib

    with contextlib.suppress(Exception):
        async with asyncio.timeout(2):
            await session.quit()
    await session.close()


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


class TargetsFileError(ValueError):
    """--targets-file holds something that is not text (the message names the line)."""


def _targets(args: argparse.Namespace) -> list[str]:
    targets = list(args.targets)
    if args.targets_file:
        if args.targets_file == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(args.targets_file, "rb") as handle:
                data = handle.read()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line_no = data.count(b"\n", 0, exc.start) + 1
            raise TargetsFileError(
                f"line {line_no} is not UTF-8 text (byte 0x{data[exc.start]:02x}); a host name "
                "is ASCII or UTF-8 (IDN)") from None
        if "\0" in text:
            line_no = text.count("\n", 0, text.index("\0")) + 1
            raise TargetsFileError(f"line {line_no} holds a NUL byte: not a text file")
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                targets.append(line)
    return targets


def run(args: argparse.Namespace) -> int:
    """Run ``smtpscope probe``; returns the exit code."""
    try:
        targets = _targets(args)
    except OSError as exc:
        common.error_line("probe", f"cannot read --targets-file: {exc.strerror or exc}",
                          "check the path")
        return common.EXIT_USAGE
    except TargetsFileError as exc:
        common.error_line("probe", f"--targets-file {args.targets_file}: {exc}",
                          "one target per line, '#' starts a comment")
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
    import asyncio

    from smtpscope.security.policy import PolicyError

    try:
        args.tls_policy = tls_options.policy_from_args(args, default_level=DEFAULT_LEVEL)
    except PolicyError as exc:
        common.error_line("probe", str(exc))
        return common.EXIT_USAGE
    if args.tls_policy.level == "none":
        args.tls = "none"
    try:
        results = asyncio.run(_run_all(targets, args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    if not results:
        return common.EXIT_OK  # an empty shard of a short list: nothing to do
    codes = [exit_code(r) for r in results]
    return next((c for c in codes if c != 0), 0)


async def _run_all(targets: list[str], args: argparse.Namespace) -> list[dict[str, Any]]:
    import asyncio

    from smtpscope.cli import probe_report

    picked = shard.pick(targets, args.shard)
    sem = asyncio.Semaphore(args.concurrency)
    printer = probe_report.Printer(args.json, total=len(picked),
                                   progress=not args.no_progress and len(picked) > 1,
                                   ordered=not args.jsonl, show_certs=args.show_certs)

    async def one(slot: int, index: int, target: str) -> dict[str, Any]:
        async with sem:
            result = await probe(target, args)
        if args.jsonl or args.shard:
            result["index"] = index
        printer.done(slot, result)
        return result

    try:
        return list(await asyncio.gather(*(one(s, i, t) for s, (i, t) in enumerate(picked))))
    finally:
        printer.close()
