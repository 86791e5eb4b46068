"""From what the user typed (a target, or ``--pipe COMMAND``) to session options; MX included.

Shared by the TUI's connect screen and every headless command, so it lives outside both.
"""

from __future__ import annotations

from smtpscope.paths import ca_file_problem
from smtpscope.sanitize import quoted, visible
from smtpscope.session_types import DEFAULT_HELO, SessionOptions

TLS_MODES = ("auto", "plain", "starttls", "implicit")


class TargetProblem(Exception):
    """A target that cannot be used, with a message for the user; the foreign text it quotes
    is escaped once already (show it with ``terminal_safe``)."""


#: What an empty or blank ``--pipe`` is told (a usage error on every command line).
EMPTY_PIPE = "--pipe needs a command, for example 'sendmail -bs'."


def options_for(
    target_text: str,
    *,
    port: int | None = None,
    security: str | None = None,
    helo: str = DEFAULT_HELO,
    verify: bool = True,
    cafile: str | None = None,
    resolver: str | None = None,
    pipe: str | None = None,
    lmtp: bool = False,
    timeout: float | None = None,
) -> tuple[SessionOptions, str]:
    """Turn what the user typed into session options and a label; raises TargetProblem.

    ``timeout`` is the run's ``--timeout``: each reply waits that long (None: RFC 5321's
    per-command limits), each connection attempt at most that, and no DNS lookup of the MX
    routing longer.
    With ``pipe`` the conversation runs over that command's stdin/stdout and ``target_text``
    (optional then) only names the server for TLS.
    """
    from smtpscope.targets import TargetError, parse_target

    if cafile is not None and (problem := ca_file_problem(cafile)) is not None:
        raise TargetProblem(f"CA file {quoted(cafile)} {problem}.")
    if pipe is not None:
        if not pipe.strip():
            raise TargetProblem(EMPTY_PIPE)
        options = SessionOptions(host=target_text or "localhost", port=port or 25,
                                 security=security or "plain", helo_name=helo, verify=verify,
                                 cafile=cafile, lmtp=lmtp, pipe_command=pipe)
        return _waiting(options, timeout), f"pipe:{pipe}"
    if not target_text:
        raise TargetProblem("Type a target first, for example 127.0.0.1:2525.")
    try:
        target = parse_target(target_text, port_override=port)
    except TargetError as exc:
        raise TargetProblem(str(exc)) from exc
    mode = security or target.security
    if mode == "auto":
        mode = "plain" if target.security == "auto" else target.security
    route: tuple[object, ...] = ()
    host = target.host or "localhost"
    if target.routes_by_mx:
        from smtpscope.dns.resolver import lookup_timeout
        from smtpscope.mx import RouteError, resolver_for
        from smtpscope.mx import route as mx_route

        try:
            candidates = mx_route(target, resolver_for(resolver, lookup_timeout(timeout)))
        except RouteError as exc:  # DNS text, unescaped: escaped here, as TargetError's is
            raise TargetProblem(visible(str(exc))) from exc
        except ValueError as exc:
            raise TargetProblem(f"bad --resolver: {exc}") from exc
        route = tuple(candidates)
        host = candidates[0].host
    options = SessionOptions(
        host=host,
        port=target.port,
        security=mode,
        helo_name=helo,
        verify=verify,
        cafile=cafile,
        lmtp=target.lmtp or lmtp,
        route=route,
        unix_path=target.unix_path,
    )
    return _waiting(options, timeout), target.display


def _waiting(options: SessionOptions, timeout: float | None) -> SessionOptions:
    if timeout is not None:
        options.reply_timeout = timeout
        options.connect_timeout = min(options.connect_timeout, timeout)
    return options
