"""The TLS options every command shares (probe, send, the TUI), and the policy they make."""

from __future__ import annotations

import argparse
import os
from typing import Any

from smtpscope.paths import ca_file_problem, input_problem
from smtpscope.security.levels import LEVELS
from smtpscope.security.policy import VERSIONS, PolicyError, TLSPolicy, parse_fingerprint


def add_tls_options(parser: argparse.ArgumentParser, *, default_level: str,
                    show_certs: str = "print every certificate the server sent: its fields "
                    "and its PEM") -> None:
    """Add the shared TLS flags to ``parser`` (``--cafile``/``--insecure`` stay per command;
    ``show_certs`` is the help of ``--show-certs``, which each front end shows its own way)."""
    group = parser.add_argument_group("TLS")
    group.add_argument("--tls-level", choices=tuple(LEVELS), default=None, metavar="LEVEL",
                       help=f"{', '.join(LEVELS)} (posttls-finger's meanings; "
                       f"default: {default_level})")
    group.add_argument("--tls-fingerprint", action="append", default=[], metavar="SHA256:HEX",
                       help="pin the certificate or its public key (SHA256: or SHA512:; "
                       "repeatable); implies --tls-level fingerprint")
    group.add_argument("--tls-cert", metavar="FILE", help="client certificate (PEM)")
    group.add_argument("--tls-key", metavar="FILE",
                       help="client certificate's key (default: in --tls-cert)")
    group.add_argument("--tls-min", choices=tuple(VERSIONS), metavar="VERSION",
                       help="lowest TLS version: 1.0, 1.1, 1.2, 1.3")
    group.add_argument("--tls-max", choices=tuple(VERSIONS), metavar="VERSION",
                       help="highest TLS version: 1.0, 1.1, 1.2, 1.3")
    group.add_argument("--tls-ciphers", metavar="LIST",
                       help="OpenSSL cipher list for TLS 1.2 and below")
    group.add_argument("--sni", type=_server_name, metavar="NAME",
                       help="host name to send in SNI")
    group.add_argument("--verify-name", action="append", default=[], type=_reference_name,
                       metavar="NAME",
                       help="name the certificate must carry (connect by IP, verify as the MX "
                       "name; .DOMAIN for any name below DOMAIN; repeatable)")
    group.add_argument("--capath", metavar="DIR", help="directory of trusted CA certificates")
    group.add_argument("--show-certs", action="store_true", help=show_certs)
    group.add_argument("--dane", action="store_true",
                       help="look up TLSA (_PORT._tcp.HOST) and match it even for host targets")


def _reference_name(text: str) -> str:
    """An argparse ``type`` for ``--verify-name``: a host name, an address or ``.DOMAIN``."""
    from smtpscope.targets import TargetError, check_reference_name

    try:
        return check_reference_name(text)
    except TargetError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _server_name(text: str) -> str:
    """An argparse ``type`` for ``--sni``: a host name (RFC 6066 sends no address)."""
    from smtpscope.targets import TargetError, check_server_name

    try:
        return check_server_name(text)
    except TargetError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def policy_from_args(args: argparse.Namespace, *, default_level: str) -> TLSPolicy:
    """The TLS policy the flags describe; raises PolicyError with the flag's name."""
    level = args.tls_level or ("fingerprint" if args.tls_fingerprint else default_level)
    for label, path, check in (("--cafile", getattr(args, "cafile", None), ca_file_problem),
                               ("--tls-cert", args.tls_cert, input_problem),
                               ("--tls-key", args.tls_key, input_problem)):
        problem = check(path) if path else None
        if problem is not None:
            raise PolicyError(f"{label} {path} {problem}")
    if args.capath and not os.path.isdir(args.capath):
        raise PolicyError(f"--capath {args.capath}: not a directory")
    if args.tls_key and not args.tls_cert:
        raise PolicyError("--tls-key needs --tls-cert")
    if level == "fingerprint" and not args.tls_fingerprint:
        raise PolicyError("--tls-level fingerprint needs --tls-fingerprint")
    problem = _mode_problem(args, level)
    if problem is not None:
        raise PolicyError(problem)
    policy = TLSPolicy(
        level=level,
        cafile=getattr(args, "cafile", None),
        capath=args.capath,
        verify_names=tuple(args.verify_name),
        sni=args.sni,
        fingerprints=tuple(parse_fingerprint(f) for f in args.tls_fingerprint),
        client_cert=args.tls_cert,
        client_key=args.tls_key,
        min_version=args.tls_min,
        max_version=args.tls_max,
        ciphers=args.tls_ciphers,
        show_certs=args.show_certs,
        insecure=bool(getattr(args, "insecure", False)),
        dane_check=args.dane,
    )
    policy.context()  # fail now on a bad client certificate or cipher list
    return policy


def _mode_problem(args: argparse.Namespace, level: str) -> str | None:
    """Why the TLS mode asked for (``--tls`` and its other spellings) and the level cannot
    both hold: the session would go without TLS that one of them requires."""
    from smtpscope.cli import tls_mode

    problem = tls_mode.conflict(args)
    mode = getattr(args, "tls", None)
    if problem is not None or mode is None or not (args.tls_level or args.tls_fingerprint):
        return problem  # a default level verifies TLS when there is TLS, never forces it
    given: list[tuple[str, str]] = getattr(args, tls_mode.GIVEN, None) or [("--tls", mode)]
    said = tls_mode.spelled(given[-1][0], mode)
    if level == "none" and mode in ("starttls", "implicit"):
        return f"--tls-level none sends without TLS, and {said} requires TLS: give one"
    if mode == "none" and LEVELS[level].tls_required:
        asked = f"--tls-level {level}" if args.tls_level else "--tls-fingerprint"
        return f"{asked} requires TLS, and {said} sends without it: give one"
    return None


def tls_required_by(args: argparse.Namespace, target: str = "") -> tuple[str, str | None] | None:
    """What makes TLS required, in the user's words, and the option that would go on without
    it (None: there is none to offer); None when nothing requires TLS."""
    from smtpscope.cli import tls_mode

    if args.tls == "starttls":
        given = getattr(args, tls_mode.GIVEN, None) or [("--tls", "starttls")]
        return tls_mode.spelled(given[-1][0], "starttls"), "--tls auto"
    if args.tls_level and LEVELS[args.tls_level].tls_required:
        return f"--tls-level {args.tls_level}", "--tls-level may"
    if args.tls_fingerprint:
        return "--tls-fingerprint", None
    if target.startswith("submission://"):
        return "the target (submission://)", "--tls auto"
    return None


def security_for(policy: TLSPolicy, security: str | None) -> str | None:
    """The connection mode a level implies for ``security`` (asked for, or implied by the
    target): ``none`` means plaintext, mandatory levels STARTTLS unless TLS is asked for."""
    if policy.level == "none":
        return "plain"
    if policy.tls_required and security in (None, "auto"):
        return "starttls"
    return security


def attach(policy: TLSPolicy, options: Any, target: str, resolver: str | None,
           *, dane: bool = False, timeout: float | None = None) -> TLSPolicy:
    """A copy of ``policy`` for one target, set on ``options.tls``.

    ``@domain`` targets get their next-hop domain (for ``secure``); TLSA is looked up (blocking
    DNS: call off the event loop) for every host the session may reach when the level needs it,
    ``--dane`` asks, or ``dane`` is set (probe does so for MX targets); all hosts at once,
    within the run's ``timeout`` each.
    """
    nexthop = target.rpartition("@")[2].rstrip(".").lower() if "@" in target else None
    mine = policy._replace(nexthop=nexthop or policy.nexthop, tlsa={})
    if mine.wants_tlsa or dane:
        from functools import partial

        from smtpscope.dns.parallel import side_by_side
        from smtpscope.dns.resolver import lookup_timeout
        from smtpscope.dns.tlsa import lookup_tlsa
        from smtpscope.mx import resolver_for

        res = resolver_for(resolver, lookup_timeout(timeout))
        name = options.tls_server_name
        if _is_ip(name) and mine.verify_names:
            name = mine.verify_names[0]  # connected by address: TLSA of the name verified
        hosts = [(c.host, c.port) for c in options.route] or [(name, options.port)]
        wanted: dict[tuple[str, int], str] = {}  # each host once, in the route's order
        for host, port in hosts:
            if not _is_ip(host):
                wanted.setdefault((host.rstrip(".").lower(), port), host.rstrip("."))
        found = side_by_side([partial(lookup_tlsa, host, res, port=port)
                              for (_key, port), host in wanted.items()])
        for key, report in zip(wanted, found, strict=True):
            mine.tlsa[key] = report
    options.tls = mine
    return mine


def _is_ip(host: str) -> bool:
    from smtpscope.transport.tls import is_ip_literal

    return is_ip_literal(host)


def mta_sts_fetch(policy: TLSPolicy, target: str, resolver: str | None,
                  timeout: float | None = None) -> Any:
    """MTA-STS of an ``@domain`` target (blocking: call off the event loop)."""
    from smtpscope.dns.resolver import lookup_timeout
    from smtpscope.mx import resolver_for
    from smtpscope.security.mtasts import fetch_policy, fetch_timeout

    domain = target.rpartition("@")[2]
    res = resolver_for(resolver, lookup_timeout(timeout))
    return fetch_policy(domain, res, cafile=policy.cafile, capath=policy.capath,
                        timeout=fetch_timeout(timeout))


def mta_sts_json(policy: TLSPolicy, fetch: Any, session: Any) -> dict[str, Any]:
    """The MTA-STS verdicts for every MX of the route, the reached one with its certificate."""
    from smtpscope.security.mtasts import report_json

    hosts = [c.host for c in session.options.route]
    return report_json(fetch, hosts, session.tls, policy.cafile, policy.capath)


async def resumption(session: Any, mode: str,
                     timeout: float) -> dict[str, Any]:
    """``--reconnect``: a second connection to the same address offering the saved session."""
    import asyncio

    from smtpscope.security.resumption import check_resumption

    stream = session.stream
    return await asyncio.to_thread(
        check_resumption, stream.peer[0], stream.peer[1], implicit=mode == "implicit",
        context=session.options.tls.context(), sni=session.tls.sni, session=stream.ssl_session,
        helo=session.options.helo_name, timeout=timeout)
