"""MTA-STS (RFC 8461): fetch and parse the policy, match MX hosts, and judge each MX."""

from __future__ import annotations

import http.client
import os
import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Any

from smtpscope.dns.records import lookup_mta_sts, lookup_tls_rpt
from smtpscope.dns.resolver import Resolver
from smtpscope.idn import to_ascii
from smtpscope.transport.tls import sni_argument

WELL_KNOWN = "/.well-known/mta-sts.txt"
MAX_POLICY_BYTES = 64 * 1024  # RFC 8461 §3.3: senders may stop reading beyond 64 KiB
MAX_AGE_LIMIT = 31557600  # RFC 8461 §3.2: at most about a year
# How long the HTTPS fetch may take when nothing else says: RFC 8461 sets no limit, but a
# policy file is at most 64 KiB, and a policy host that is silent for this long has gone.
DEFAULT_FETCH_TIMEOUT = 10.0
# Tests serve the policy from a loopback HTTPS server on a high port; nothing else sets this.
TEST_PORT_ENV = "SMTPSCOPE_TEST_MTA_STS_PORT"


@dataclass(frozen=True)
class STSPolicy:
    """A parsed policy file; ``problems`` lists what makes it invalid or doubtful."""

    version: str | None
    mode: str | None  # enforce | testing | none
    mx: tuple[str, ...]
    max_age: int | None
    problems: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return self.version == "STSv1" and self.mode in ("enforce", "testing", "none") \
            and self.max_age is not None and (bool(self.mx) or self.mode == "none")


def parse_policy(text: str) -> STSPolicy:
    """Parse ``key: value`` lines (RFC 8461 §3.2); unknown keys are ignored, as senders do."""
    version = mode = None
    max_age: int | None = None
    mx: list[str] = []
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        key, sep, value = line.partition(":")
        if not sep:
            problems.append(f"line {number} is not 'key: value'")
            continue
        key, value = key.strip(), value.strip()
        if key == "version":
            version = value
        elif key == "mode":
            mode = value
        elif key == "mx":
            mx.append(value.lower().rstrip("."))
        elif key == "max_age":
            if value.isdigit() and len(value) <= 10:
                max_age = int(value)
                if max_age > MAX_AGE_LIMIT:
                    problems.append(f"max_age {max_age} is above {MAX_AGE_LIMIT} (RFC 8461 §3.2)")
            else:
                problems.append(f"max_age '{value}' is not a number of seconds")
    if version is None:
        problems.append("version is missing")
    elif version != "STSv1":
        problems.append(f"version is '{version}', not 'STSv1'")
    if mode is None:
        problems.append("mode is missing: enforce, testing or none")
    elif mode not in ("enforce", "testing", "none"):
        problems.append(f"mode is '{mode}': enforce, testing or none")
    if max_age is None:
        problems.append("max_age is missing")
    if not mx and mode != "none":
        problems.append("no mx: lines: no MX host can match")
    return STSPolicy(version, mode, tuple(mx), max_age, tuple(problems))


def mx_matches(host: str, patterns: tuple[str, ...]) -> str | None:
    """The pattern ``host`` matches (``*.example.com`` covers one leftmost label), or None."""
    name = host.lower().rstrip(".")
    for pattern in patterns:
        if pattern.startswith("*."):
            head, _, rest = name.partition(".")
            if head and rest == pattern[2:]:
                return pattern
        elif name == pattern:
            return pattern
    return None


@dataclass(frozen=True)
class STSFetch:
    """The TXT record, the fetch of the policy file and what it says."""

    domain: str
    txt_status: str  # ok | none | invalid | ... (the _mta-sts TXT lookup)
    policy_id: str | None
    url: str
    fetched: bool
    error: str | None
    http_status: int | None = None
    content_type: str | None = None
    address: str | None = None
    policy: STSPolicy | None = None
    tls_rpt: tuple[str, ...] = ()  # rua= of the _smtp._tls record
    warnings: tuple[str, ...] = field(default=())


def fetch_timeout(run_timeout: float | None) -> float:
    """How long the policy fetch of a run (probe @domain) may take (see ``capped``)."""
    from smtpscope.transport.timeouts import capped

    return capped(run_timeout, DEFAULT_FETCH_TIMEOUT)


def _left(deadline: float) -> float:
    """Seconds until ``deadline``; the fetch gives up (TimeoutError, an OSError) once none are."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("timed out")
    return left


def _get(address: str, host: str, port: int, context: ssl.SSLContext,
         deadline: float) -> tuple[int, str | None, bytes]:
    # Every step waits only for what is left until ``deadline``: a host that accepts and then
    # says nothing cannot stretch the fetch step by step.
    raw = socket.create_connection((address, port), timeout=_left(deadline))
    try:
        raw.settimeout(_left(deadline))
        tls = context.wrap_socket(raw, server_hostname=sni_argument(host))
    except BaseException:
        raw.close()
        raise
    conn = http.client.HTTPSConnection(host, port, timeout=_left(deadline), context=context)
    conn.sock = tls  # connected to the address our resolver gave, verified for ``host``
    try:
        tls.settimeout(_left(deadline))
        conn.request("GET", WELL_KNOWN, headers={"Host": to_ascii(host), "User-Agent": "smtpscope"})
        response = conn.getresponse()
        tls.settimeout(_left(deadline))
        body = response.read(MAX_POLICY_BYTES + 1)
        return response.status, response.getheader("Content-Type"), body
    finally:
        conn.close()


def fetch_policy(domain: str, resolver: Resolver, *, cafile: str | None = None,
                 capath: str | None = None,
                 timeout: float = DEFAULT_FETCH_TIMEOUT) -> STSFetch:
    """Look up ``_mta-sts.<domain>`` and, when present, fetch and parse the policy file.

    The HTTPS fetch, over every address of the policy host, takes ``timeout`` seconds at most
    (the DNS lookups are the resolver's to limit).

    ``mta-sts.<domain>`` is resolved through ``resolver`` (the same one as the MX lookup) and
    its certificate verified (RFC 8461 §3.3) against ``cafile``/``capath`` or the system CAs.
    """
    from smtpscope.dns.mxlookup import resolve_addresses

    domain = domain.rstrip(".").lower()
    host = f"mta-sts.{domain}"
    url = f"https://{host}{WELL_KNOWN}"
    txt = lookup_mta_sts(domain, resolver)
    rpt = lookup_tls_rpt(domain, resolver)
    rua = tuple(u.strip() for u in (rpt.tag("rua") or "").split(",") if u.strip())
    base: dict[str, Any] = dict(domain=domain, txt_status=txt.status, policy_id=txt.tag("id"),
                                url=url, tls_rpt=rua)
    if txt.status != "ok":
        return STSFetch(**base, fetched=False, error=f"no usable _mta-sts TXT record "
                        f"({txt.status}): MTA-STS does not apply")
    addresses, why, _failed = resolve_addresses(host, resolver)
    if not addresses:
        return STSFetch(**base, fetched=False, error=why or f"{host} has no address")
    port = int(os.environ.get(TEST_PORT_ENV) or 443)
    context = ssl.create_default_context(cafile=cafile, capath=capath)
    errors = []
    deadline = time.monotonic() + timeout
    for address in addresses:
        try:
            status, ctype, body = _get(address, host, port, context, deadline)
        except (OSError, ssl.SSLError, http.client.HTTPException, UnicodeError) as exc:
            errors.append(f"{address}: {exc}")
            continue
        warnings: list[str] = []
        if status != 200:
            # RFC 8461 §3.3: redirects must not be followed; anything but 200 is a failure.
            return STSFetch(**base, fetched=False, http_status=status, address=address,
                            content_type=ctype,
                            error=f"HTTP {status} (only 200 counts; redirects are not followed)")
        if not (ctype or "").lower().startswith("text/plain"):
            shown = f"'{ctype}'" if ctype else "missing"
            warnings.append(f"Content-Type is {shown}, not text/plain (RFC 8461 §3.3)")
        if len(body) > MAX_POLICY_BYTES:
            warnings.append("the policy is larger than 64 KiB")
        policy = parse_policy(body[:MAX_POLICY_BYTES].decode("utf-8", "replace"))
        return STSFetch(**base, fetched=True, error=None, http_status=status,
                        content_type=ctype, address=address, policy=policy,
                        warnings=tuple(warnings))
    return STSFetch(**base, fetched=False, error="cannot fetch the policy: " + "; ".join(errors))


@dataclass(frozen=True)
class MXVerdict:
    """Would a sender that applies this policy deliver to ``host``?"""

    host: str
    pattern: str | None  # the mx: pattern that matched
    certificate: str  # "valid for <host>" | the PKIX problem | "not checked"
    enforce_delivers: bool | None  # None: certificate not checked, so unknown
    verdict: str


def judge_mx(fetch: STSFetch, host: str, pkix: Any = None) -> MXVerdict:
    """Judge one MX: its name against the patterns, and (given) its PKIX result for that name."""
    policy = fetch.policy
    if policy is None:
        return MXVerdict(host, None, "not checked", None, "no policy fetched: cannot judge")
    pattern = mx_matches(host, policy.mx)
    if pkix is None:
        cert = "not checked (connect to it: smtpscope probe @domain)"
        cert_ok: bool | None = None
    elif pkix.status == "verified":
        cert, cert_ok = f"valid for {host}", True
    else:
        cert, cert_ok = pkix.reason or pkix.status, False
    if pattern is None:
        enforce: bool | None = False
        why = f"{host} matches no mx: pattern ({', '.join(policy.mx) or 'none'})"
    elif cert_ok is None:
        enforce, why = None, f"{host} matches {pattern}; certificate not checked"
    elif cert_ok:
        enforce, why = True, f"{host} matches {pattern} and its certificate is valid for it"
    else:
        enforce, why = False, f"{host} matches {pattern} but {cert}"
    if policy.mode == "enforce":
        verdict = ("an enforce sender delivers here" if enforce else
                   "an enforce sender does NOT deliver here" if enforce is False else
                   "an enforce sender delivers here only if the certificate is valid")
    elif policy.mode == "testing":
        verdict = "mode testing: senders deliver anyway and report failures via TLS-RPT; " + (
            "enforce would deliver" if enforce else "enforce would NOT deliver"
            if enforce is False else "enforce would depend on the certificate")
    else:
        verdict = "mode none: the policy is switched off"
    return MXVerdict(host, pattern, cert, enforce, f"{verdict} ({why})")


def report_json(fetch: STSFetch, hosts: list[str], tls: Any = None,
                cafile: str | None = None, capath: str | None = None,
                checked: dict[str, Any] | None = None) -> dict[str, Any]:
    """The policy and a verdict per MX; the MX a session reached (``tls``) gets its certificate
    checked against PKIX for its own name, whatever --verify-name said. ``checked`` holds the
    PKIX results of MX hosts already checked elsewhere (``mx --check-tls``), by host name."""
    import ssl as _ssl

    from smtpscope.dns._json import jsonable
    from smtpscope.security.pkix import check_chain, trust_anchors

    verdicts = []
    reached = (tls.peer_host or "").rstrip(".").lower() if tls is not None else ""
    for host in dict.fromkeys(h.rstrip(".").lower() for h in hosts):
        pkix = (checked or {}).get(host)
        if tls is not None and host == reached:
            chain = [_ssl.PEM_cert_to_DER_cert(c.pem) for c in tls.peer_chain if c.pem]
            pkix = check_chain(chain, (host,), trust_anchors(cafile, capath))
        verdicts.append(jsonable(judge_mx(fetch, host, pkix)))
    data: dict[str, Any] = jsonable(fetch)
    data["mx_verdicts"] = verdicts
    return data


def report_lines(data: dict[str, Any]) -> list[str]:
    """``report_json`` as text lines (before sanitizing)."""
    head = f"MTA-STS {data['domain']}: TXT {data['txt_status']}"
    # No usable record has no id: "id None" would read as a value.
    lines = [head + (f", id {data['policy_id']}" if data.get("policy_id") else "")]
    if data.get("error"):
        lines.append(f"    {data['error']}")
    policy = data.get("policy")
    if policy:
        lines.append(f"    policy {data['url']}: version {policy['version']}, mode "
                     f"{policy['mode']}, max_age {policy['max_age']}, mx "
                     f"{', '.join(policy['mx']) or '(none)'}")
        lines += [f"    problem: {p}" for p in policy["problems"]]
    lines += [f"    warning: {w}" for w in data.get("warnings") or ()]
    for verdict in data.get("mx_verdicts") or ():
        lines.append(f"    {verdict['host']}: {verdict['verdict']}")
    if data.get("tls_rpt"):
        lines.append(f"    TLS-RPT reports go to {', '.join(data['tls_rpt'])}")
    return lines
