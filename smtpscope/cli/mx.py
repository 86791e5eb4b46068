"""``smtpscope mx DOMAIN``: MX hosts, addresses, PTR/FCrDNS, SPF, DMARC, MTA-STS, TLS-RPT, TLSA."""

from __future__ import annotations

import argparse
import sys
from functools import partial
from typing import TYPE_CHECKING, Any

from smtpscope.cli.common import port_number, seconds_type

if TYPE_CHECKING:
    from rich.console import Console

    from smtpscope.mx import MailDNSReport

EXIT_OK = 0
EXIT_USAGE = 1
EXIT_LOOKUP = 2

EPILOG = """\
exit status:
  0  the report was produced (also for a Null MX or a domain without mail servers)
  1  usage error (bad domain, bad --resolver, bad --timeout)
  2  the MX lookup failed: the domain does not exist (NXDOMAIN), or the resolver
     failed (SERVFAIL/REFUSED) or did not answer in time

DNSSEC status is what the resolver reports (the AD bit); smtpscope validates nothing itself.
When _mta-sts has a record, the policy file is fetched over HTTPS from mta-sts.DOMAIN, resolved
through the same resolver and verified against --cafile or the system CAs; each MX is matched
against its mx: patterns; --check-tls also connects to each MX (its addresses in turn, until
one answers) and checks its certificate.
"""


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "mx",
        help="show where mail for a domain goes and its mail-DNS records",
        description=(
            "Look up a domain's MX records (with implicit MX and Null MX), the addresses of each "
            "MX with PTR and forward-confirmed reverse DNS, SPF, DMARC, MTA-STS, TLS-RPT and the "
            "TLSA records at _PORT._tcp.<mx> (PORT is --port, 25 unless given)."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("domain", metavar="DOMAIN", help="mail domain (user@domain also works)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--resolver",
        metavar="IP[:PORT]",
        help="ask this DNS resolver ([IPv6]:PORT for IPv6); default: the system's",
    )
    p.add_argument("--timeout", metavar="S", type=seconds_type(300), default=5.0,
                   help="seconds per lookup (5)")
    p.add_argument("--cafile", metavar="FILE",
                   help="CA file for the MTA-STS policy fetch and --check-tls "
                   "(default: the system CAs)")
    p.add_argument("--no-fetch", action="store_true",
                   help="do not fetch the MTA-STS policy file")
    p.add_argument("--check-tls", action="store_true",
                   help="STARTTLS to each MX: its certificate checked for its own name, TLSA "
                   "matched, and the MTA-STS verdict completed")
    p.add_argument("--port", type=port_number, default=25,
                   help="SMTP port for --check-tls and its TLSA name (default 25)")
    p.set_defaults(handler=run)


def _error(message: str) -> None:
    """Print ``message``, whose foreign text is escaped already (TargetError, or visible())."""
    from smtpscope.sanitize import terminal_safe

    print(f"smtpscope mx: {terminal_safe(message)}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from smtpscope.mx import ResolverAddressError, mail_dns_report, resolver_for
    from smtpscope.sanitize import visible
    from smtpscope.targets import TargetError, check_domain

    try:
        domain = check_domain(args.domain)
    except TargetError as exc:
        _error(str(exc))
        return EXIT_USAGE
    if args.cafile is not None:
        from smtpscope.paths import ca_file_problem

        problem = ca_file_problem(args.cafile)
        if problem is not None:
            _error(f"--cafile {visible(args.cafile)} {problem}")
            return EXIT_USAGE
    try:
        resolver = resolver_for(args.resolver, timeout=args.timeout)
    except ResolverAddressError as exc:
        _error(f"{exc}")
        return EXIT_USAGE
    except Exception as exc:  # dnspython: no /etc/resolv.conf, unreadable config, ...
        _error(f"cannot use the system resolver ({visible(str(exc))}); give one with "
               "--resolver IP[:PORT]")
        return EXIT_LOOKUP
    report = mail_dns_report(domain, resolver, tlsa_port=args.port)
    fetching = None
    if report.mta_sts is not None and report.mta_sts.status == "ok" and not args.no_fetch:
        from smtpscope.dns.parallel import Pending
        from smtpscope.security.mtasts import fetch_policy

        # Fetched while the MX hosts are checked: neither waits for the other.
        fetching = Pending(partial(fetch_policy, domain, resolver, cafile=args.cafile,
                                   timeout=args.timeout))
    checks, checked = _check_tls(report, args) if args.check_tls else ([], {})
    sts = None
    if fetching is not None:
        from smtpscope.security.mtasts import report_json

        sts = report_json(fetching.result(), [h.host for h in report.mx.hosts],
                          cafile=args.cafile, checked=checked)
    if args.json:
        from smtpscope.cli.common import SCHEMA_VERSION, dumps

        data = {"schema_version": SCHEMA_VERSION, **report.to_json(), "mta_sts_policy": sts}
        if args.check_tls:
            data["tls_check"] = checks
        # dumps: controls in DNS text escaped, a TXT byte that is not UTF-8 as U+FFFD.
        print(dumps(data, indent=2))
    else:
        from rich.text import Text

        from smtpscope.cli.output import console as output_console
        from smtpscope.sanitize import visible
        from smtpscope.security.mtasts import report_lines

        console = output_console(highlight=False)
        render(report, console)
        if args.check_tls:
            from smtpscope.security.mxcheck import check_lines

            console.print(Text(f"TLS check of each MX (port {int(args.port)})", style="bold"))
            for line in check_lines(checks) or ["    no MX host with an address to connect to"]:
                console.print(Text(visible(line)))
        for line in report_lines(sts) if sts else ():
            console.print(Text(visible(line)))
    if not report.ok:
        _error(visible(report.mx.explanation))
        return EXIT_LOOKUP
    return EXIT_OK


def _check_tls(report: MailDNSReport,
               args: argparse.Namespace) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """STARTTLS to each MX, at its addresses in turn; results and PKIX verdicts by host."""
    from smtpscope.dns.parallel import side_by_side
    from smtpscope.security.mxcheck import check_mx_host

    tlsa = {entry.host: entry for entry in report.tlsa}  # looked up at _<port>._tcp already
    hosts = [mx for mx in report.mx.hosts if mx.addresses]
    # Every MX host at once (each one's addresses still in turn): a host that does not answer
    # costs one --timeout for them all. Results in MX order all the same.
    found = side_by_side([
        partial(check_mx_host, mx.host, mx.addresses, args.port, tlsa=tlsa.get(mx.host),
                cafile=args.cafile, timeout=args.timeout)
        for mx in hosts])
    results, checked = [], {}
    for mx, (result, pkix) in zip(hosts, found, strict=True):
        results.append(result)
        if pkix is not None:
            checked[mx.host.rstrip(".").lower()] = pkix
    return results, checked


def render(report: MailDNSReport, console: Console) -> None:
    """Print the report as Rich tables; every DNS-derived string goes through ``visible``."""
    from rich.table import Table
    from rich.text import Text

    from smtpscope.sanitize import visible

    def t(value: str, style: str = "") -> Text:
        return Text(visible(value), style=style)

    status_style = {
        "pass": "green",
        "ok": "green",
        "fail": "red",
        "multiple": "red",
        "invalid": "red",
        "none": "yellow",
        "no-ptr": "yellow",
    }

    title = Text("Mail DNS for ", style="bold")
    title.append(visible(report.domain), style="bold cyan")
    from smtpscope.idn import to_ascii_or_same

    asked = to_ascii_or_same(report.domain)
    if asked != report.domain:  # an IDN: the name the DNS is asked for
        title.append(f" = {visible(asked)}", style="cyan")
    title.append(f"  (resolver: {visible(report.resolver)})", style="dim")
    console.print(title)
    mx = report.mx
    console.print(t(f"MX: {mx.explanation}", "red" if mx.lookup_failed else ""))
    for warning in mx.warnings:
        console.print(t(f"warning: {warning}", "yellow"))
    if mx.lookup_failed:
        return

    ptr = {r.address: r for r in report.reverse}
    if mx.hosts:
        table = Table(title="MX hosts", title_justify="left")
        for column in ("pref", "host", "address", "PTR", "FCrDNS"):
            table.add_column(column, overflow="fold")
        for host in mx.hosts:
            name = host.host + (" (implicit MX)" if host.implicit else "")
            rows = host.addresses or ("",)
            for i, address in enumerate(rows):
                rev = ptr.get(address)
                table.add_row(
                    Text(str(host.preference) if i == 0 else ""),
                    t(name if i == 0 else ""),
                    t(address or (host.address_error or "no address"), "" if address else "red"),
                    t(", ".join(rev.ptr) if rev else ""),
                    t(rev.status if rev else "", status_style.get(rev.status, "") if rev else ""),
                )
        console.print(table)
        for rev in report.reverse:
            if rev.status != "pass":
                console.print(t(f"{rev.address}: {rev.explanation}", "yellow"))

    policies = Table(title="Policies", title_justify="left", show_lines=True)
    for column in ("record", "status", "value and meaning"):
        policies.add_column(column, overflow="fold")
    for policy in report.policies():
        cell = Text()
        for record in policy.records:
            cell.append(visible(record) + "\n")
        for label, value in policy.details:
            cell.append(f"{label}: ", style="dim")
            cell.append(visible(value) + "\n")
        for warning in policy.warnings:
            cell.append(visible(warning) + "\n", style="yellow")
        if not policy.records:
            cell.append(visible(policy.explanation))
        cell.rstrip()
        kind = Text(policy.kind, style="bold")
        kind.append("\n" + visible(policy.name), style="dim")
        table_status = t(policy.status, status_style.get(policy.status, "red"))
        policies.add_row(kind, table_status, cell)
    console.print(policies)

    if report.tlsa:
        tlsa = Table(title="TLSA (DANE)", title_justify="left", show_lines=True)
        for column in ("name", "record", "meaning"):
            tlsa.add_column(column, overflow="fold")
        for entry in report.tlsa:
            if not entry.records:
                tlsa.add_row(t(entry.name), Text("-"), t(entry.explanation))
            for info in entry.records:
                meaning = t(info.meaning)
                if info.problem:
                    meaning.append("\n" + visible(info.problem), style="yellow")
                record = f"{info.usage} {info.selector} {info.mtype} {info.data}"
                tlsa.add_row(t(entry.name), t(record), meaning)
        console.print(tlsa)
        for entry in report.tlsa:
            if entry.records:
                console.print(t(f"{entry.host}: {entry.explanation}", "dim"))
    console.print(t(f"DNSSEC: {report.dnssec}"))
