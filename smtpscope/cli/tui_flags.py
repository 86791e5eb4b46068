"""The TUI's command-line flags as one checked value, and the one builder that turns a target and
the connect screen's fields into session options with them: a target on the command line, one
typed on the connect screen and F5's reconnection all connect under the same flags."""

from __future__ import annotations

import argparse
import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from smtpscope.security.policy import TLSPolicy
from smtpscope.session_types import SessionOptions

if TYPE_CHECKING:
    from smtpscope.tui.screens.session_control import SessionControl

DEFAULT_LEVEL = "may"  # report, ask about an untrusted certificate, and go on if told to


@dataclass(frozen=True)
class ConnectFlags:
    """What the command line asks of every connection, beyond the connect screen's fields.

    The fields show --port, --timeout, --tls, --helo, --cafile, --insecure, --proxy* and
    --xclient, and what is typed there wins; everything here applies as given.
    """

    policy: TLSPolicy = field(default_factory=TLSPolicy)
    """--tls-level, pins, client certificate, versions, ciphers, --sni, --verify-name,
    --capath, --dane (its CA file and verification come from the fields)."""
    resolver: str | None = None
    """--resolver, for MX routing and TLSA."""
    family: int = 0
    """-4 / -6: ``socket.AF_INET`` or ``AF_INET6``, 0 for either."""
    local_addr: tuple[str, int] | None = None
    """--local-interface / --local-port."""
    xclient: tuple[str, ...] = ()
    """--xclient as given: several are several commands while the field shows them unchanged."""
    record_secrets: bool = False

    def summary(self) -> list[str]:
        """The flags that differ from the defaults, one short phrase each (foreign text as
        given: show it through ``visible``)."""
        policy = self.policy
        said = [f"TLS level {policy.level}"] if policy.level != DEFAULT_LEVEL else []
        if policy.fingerprints:
            said.append(f"{len(policy.fingerprints)} pinned "
                        f"fingerprint{'s' if len(policy.fingerprints) > 1 else ''}")
        if policy.client_cert:
            said.append(f"client certificate {policy.client_cert}")
        if policy.min_version or policy.max_version:
            said.append(f"TLS {policy.min_version or '1.0'} to {policy.max_version or '1.3'}")
        said += [f"{label} {value}" for label, value in (
            ("ciphers", policy.ciphers), ("SNI", policy.sni), ("CA directory", policy.capath),
            ("resolver", self.resolver)) if value]
        if policy.verify_names:
            said.append(f"verify as {', '.join(policy.verify_names)}")
        if policy.dane_check:
            said.append("DANE lookup")
        if policy.show_certs:
            said.append("certificates noted in full")
        if self.family:
            said.append("IPv6 only" if self.family == socket.AF_INET6 else "IPv4 only")
        if self.local_addr is not None:
            host, port = self.local_addr
            said.append(f"from {host}" + (f" port {port}" if port else ""))
        if self.record_secrets:
            said.append("AUTH secrets recorded in clear")
        return said


def flags_from_args(args: argparse.Namespace) -> ConnectFlags:
    """The flags checked once, before any target; raises PolicyError or SessionUsage."""
    from smtpscope.cli import send_session, tls_options

    send_session.check_xclient(args.xclient)
    # The CA file and verification are fields of their own (checked there, and they win):
    # the policy is made without them.
    tls_args = argparse.Namespace(**{**vars(args), "cafile": None, "insecure": False})
    return ConnectFlags(
        policy=tls_options.policy_from_args(tls_args, default_level=DEFAULT_LEVEL),
        resolver=args.resolver, family=args.family or 0,
        local_addr=send_session.local_endpoint(args), xclient=tuple(args.xclient),
        record_secrets=args.record_secrets)


def session_options(flags: ConnectFlags, target: str, control: SessionControl, *,
                    port: int | None = None, security: str | None = None, helo: str,
                    verify: bool = True, cafile: str | None = None,
                    timeout: float | None = None,
                    pipe: str | None = None) -> tuple[SessionOptions, str]:
    """Options and a label for ``target`` with the fields' values and ``flags``.

    Raises TargetProblem, or a ValueError for the session-control fields. Blocking (MX
    routing, TLSA lookups): call off the event loop.
    """
    from smtpscope.cli import tls_options
    from smtpscope.target_options import options_for
    from smtpscope.tui.screens import session_control

    options, label = options_for(target, port=port, security=security, helo=helo,
                                 verify=verify, cafile=cafile, resolver=flags.resolver,
                                 pipe=pipe, timeout=timeout)
    options.family, options.local_addr = flags.family, flags.local_addr
    session_control.apply(control, options)
    if flags.xclient and control.xclient == " ".join(flags.xclient):
        options.xclient = flags.xclient
    policy = flags.policy._replace(cafile=cafile, insecure=not verify)
    # The level's rule, as in probe and send, from the mode the target implies: a bare host
    # (plain here, F3 upgrades it) is "auto" to it, and implicit TLS stays implicit.
    implied = "auto" if options.security == "plain" and security in (None, "auto") \
        else options.security
    mode = tls_options.security_for(policy, implied)
    options.security = "plain" if mode in (None, "auto") else mode
    tls_options.attach(policy, options, target, flags.resolver, dane="@" in target,
                       timeout=timeout)
    return options, label


def tlsa_for_new_port(options: SessionOptions, resolver: str | None) -> None:
    """After F5 changed the port: the TLSA records of where the session now goes, when the
    policy looks them up (TLSA is per port; without them a ``dane`` level would go on as if
    there were none). Blocking: call off the event loop."""
    from smtpscope.cli import tls_options

    policy = options.tls
    if isinstance(policy, TLSPolicy) and (policy.wants_tlsa or policy.tlsa):
        tls_options.attach(policy, options, "", resolver, dane=True,
                           timeout=options.reply_timeout)
