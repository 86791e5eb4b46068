"""Mail DNS: MX routing (implicit MX, Null MX), the mail-DNS report and the resolver seam.

Importing this module does not import dnspython; it is loaded on the first real DNS lookup, so
targets given as IP literals cost nothing.
"""

from __future__ import annotations

from smtpscope.dns.mxlookup import MXHost, MXResult, lookup_mx, resolve_addresses
from smtpscope.dns.records import (
    PolicyRecord,
    join_txt,
    lookup_dmarc,
    lookup_mta_sts,
    lookup_spf,
    lookup_tls_rpt,
    parse_tags,
)
from smtpscope.dns.report import MailDNSReport, mail_dns_report
from smtpscope.dns.resolver import (
    CachingResolver,
    DNSAnswer,
    DnsPythonResolver,
    MXRecord,
    Resolver,
    ResolverAddressError,
    StaticResolver,
    TLSARecord,
    as_resolver,
    parse_resolver_address,
    resolver_for,
)
from smtpscope.dns.reverse import ReverseDNS, check_reverse
from smtpscope.dns.routing import (
    Candidate,
    RouteAttempt,
    RouteError,
    route,
    summarize_attempts,
)
from smtpscope.dns.tlsa import TLSAInfo, TLSAReport, explain_tlsa, lookup_tlsa

__all__ = [
    "CachingResolver",
    "Candidate",
    "DNSAnswer",
    "DnsPythonResolver",
    "MXHost",
    "MXRecord",
    "MXResult",
    "MailDNSReport",
    "PolicyRecord",
    "Resolver",
    "ResolverAddressError",
    "ReverseDNS",
    "RouteAttempt",
    "RouteError",
    "StaticResolver",
    "TLSAInfo",
    "TLSARecord",
    "TLSAReport",
    "as_resolver",
    "check_reverse",
    "explain_tlsa",
    "join_txt",
    "lookup_dmarc",
    "lookup_mta_sts",
    "lookup_mx",
    "lookup_spf",
    "lookup_tls_rpt",
    "lookup_tlsa",
    "mail_dns_report",
    "parse_resolver_address",
    "parse_tags",
    "resolve_addresses",
    "resolver_for",
    "route",
    "summarize_attempts",
]
