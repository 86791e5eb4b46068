"""Mail-policy TXT records: SPF, DMARC, MTA-STS and TLS-RPT, parsed and explained."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from smtpscope.dns._json import jsonable
from smtpscope.dns.dmarc_check import check_dmarc, report_uris, version_not_first
from smtpscope.dns.mxlookup import failure_text
from smtpscope.dns.resolver import Resolver, lookup_failed
from smtpscope.dns.spf_check import check_spf, spf_terms
from smtpscope.protocol.errors import shown_text

PolicyStatus = Literal["ok", "none", "multiple", "invalid", "servfail", "refused", "timeout",
                       "error"]
Details = tuple[tuple[str, str], ...]


def join_txt(strings: tuple[bytes, ...]) -> str:
    """Join a TXT record's character-strings (each at most 255 bytes) into one value.

    RFC 7208 §3.3 (and DMARC/MTA-STS/TLS-RPT alike) join them with nothing in between. Invalid
    UTF-8 is kept, not dropped (this is a debugger), the way server replies keep it
    (:func:`~smtpscope.protocol.errors.shown_text`): the sanitizer shows each undecodable byte
    as ``\\xNN`` and a backslash the record holds as ``\\\\``, JSON output has U+FFFD.
    """
    return shown_text(b"".join(strings))


@dataclass(frozen=True)
class PolicyRecord:
    """One TXT-published policy: the matching records, their tags and what they mean."""

    kind: str
    name: str
    status: PolicyStatus
    records: tuple[str, ...]
    tags: tuple[tuple[str, str], ...]
    explanation: str
    details: Details = ()
    warnings: tuple[str, ...] = ()
    authenticated: bool = False

    def tag(self, key: str) -> str | None:
        for name, value in self.tags:
            if name == key:
                return value
        return None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = jsonable(self)
        data["tags"] = [list(tag) for tag in self.tags]  # SPF repeats names (ip4, include)
        data["details"] = dict(self.details)
        return data


def parse_tags(text: str) -> tuple[tuple[str, str], ...]:
    """Parse ``k=v; k=v`` tag lists (DMARC, MTA-STS, TLS-RPT, DKIM)."""
    tags = []
    for part in text.split(";"):
        key, sep, value = part.partition("=")
        if sep and key.strip():
            tags.append((key.strip().lower(), value.strip()))
    return tuple(tags)


def _sts_meaning(
    record: PolicyRecord, domain: str
) -> tuple[Details, tuple[str, ...], PolicyStatus]:
    policy_id = record.tag("id")
    url = f"https://mta-sts.{domain}/.well-known/mta-sts.txt"
    details = [
        ("policy URL", url),
        ("policy id", policy_id or "(missing)"),
    ]
    if policy_id is None or not re.fullmatch(r"[A-Za-z0-9]{1,32}", policy_id):
        warning = "id= must be 1-32 letters or digits (RFC 8461 §3.1); senders ignore the record"
        return tuple(details), (warning,), "invalid"
    return tuple(details), (), "ok"


def _tlsrpt_meaning(record: PolicyRecord) -> tuple[Details, tuple[str, ...], PolicyStatus]:
    rua = record.tag("rua")
    if not rua:
        return (), ("no rua= tag: nowhere to send reports (RFC 8460 §3)",), "invalid"
    uris = report_uris(rua)  # comma-separated, as DMARC's (RFC 8460 §3)
    bad = [u for u in uris if not u.lower().startswith(("mailto:", "https:"))]
    # Quoted, not repr(): the views escape the URI once (repr would escape it a second time).
    warnings = tuple(f"report URI '{u}' is neither mailto: nor https:" for u in bad)
    return (("reports to", ", ".join(uris)),), warnings, "invalid" if bad else "ok"


@dataclass(frozen=True)
class _Kind:
    kind: str
    prefix: re.Pattern[str]
    multiple: str  # what the RFC says about more than one record


_KINDS = {
    "SPF": _Kind(
        "SPF",
        # RFC 7208 §4.5: the version section ends at SP or the end of the record, and only
        # there; "v=spf1<TAB>..." is discarded by receivers (see _not_quite_spf).
        re.compile(r"v=spf1( |$)", re.I),
        "RFC 7208 §4.5: more than one SPF record is a permanent error (permerror)",
    ),
    "DMARC": _Kind(
        "DMARC",
        re.compile(r"v\s*=\s*DMARC1\s*(;|$)", re.I),
        "RFC 7489 §6.6.3: with more than one DMARC record no policy applies",
    ),
    "MTA-STS": _Kind(
        "MTA-STS",
        re.compile(r"v=STSv1\s*(;|$)"),
        "RFC 8461 §3.1: with more than one record senders assume no MTA-STS",
    ),
    "TLS-RPT": _Kind(
        "TLS-RPT",
        re.compile(r"v=TLSRPTv1\s*(;|$)"),
        "RFC 8460 §3: with more than one record senders assume no TLS-RPT",
    ),
}


def _split_badly(spec: _Kind, records: tuple[tuple[bytes, ...], ...]) -> tuple[str, ...]:
    """Records that would be of ``spec``'s kind had their strings been joined with a space:
    a publisher who split ``"v=spf1" "-all"`` meant one, but the RFCs join with nothing."""
    return tuple(
        f"a TXT record reads '{join_txt(strings)}', so it is not {spec.kind}: its strings "
        "are joined with nothing in between (RFC 7208 §3.3; DMARC, MTA-STS and TLS-RPT "
        "alike), so the space must be inside one of them"
        for strings in records
        if len(strings) > 1 and spec.prefix.match(shown_text(b" ".join(strings)))
        and not spec.prefix.match(join_txt(strings))
    )


# "v=spf1" and then white space other than SP: a record its publisher meant as SPF.
_SPF_ALMOST = re.compile(r"v=spf1\s", re.I)


def _not_quite_spf(records: tuple[tuple[bytes, ...], ...]) -> tuple[str, ...]:
    """Records that start ``v=spf1`` followed by a tab (or other white space than SP):
    receivers discard them as not SPF, so the domain has none (RFC 7208 §4.5)."""
    return tuple(
        f"a TXT record reads '{text}': 'v=spf1' followed by white space other than a space "
        "is not an SPF record, and receivers discard it (RFC 7208 §4.5)"
        for text in map(join_txt, records)
        if _SPF_ALMOST.match(text) and not _KINDS["SPF"].prefix.match(text)
    )


def _fetch_policy(kind: str, name: str, resolver: Resolver) -> PolicyRecord:
    spec = _KINDS[kind]
    answer = resolver.lookup(name, "TXT")
    ad = answer.authenticated
    if lookup_failed(answer.status):
        return PolicyRecord(
            kind, name, answer.status, (), (), failure_text(answer, f"TXT of {name}")
        )
    records = answer.records if answer.ok else ()
    matching = tuple(t for t in map(join_txt, records) if spec.prefix.match(t))
    if not matching:
        misplaced = (version_not_first(tuple(map(join_txt, records))) if kind == "DMARC"
                     else _not_quite_spf(records) if kind == "SPF" else ())
        return PolicyRecord(kind, name, "none", (), (), f"no {kind} record at {name}",
                            warnings=(*_split_badly(spec, records), *misplaced),
                            authenticated=ad)
    if len(matching) > 1:
        return PolicyRecord(
            kind,
            name,
            "multiple",
            matching,
            (),
            spec.multiple,
            warnings=(spec.multiple,),
            authenticated=ad,
        )
    tags = (tuple((t.key, t.value) for t in spf_terms(matching[0])) if kind == "SPF"
            else parse_tags(matching[0]))
    return PolicyRecord(
        kind, name, "ok", matching, tags, f"{kind} record at {name}", authenticated=ad
    )


def _with(
    record: PolicyRecord, details: Details, warnings: tuple[str, ...], status: PolicyStatus
) -> PolicyRecord:
    explanation = record.explanation if status == "ok" else f"invalid {record.kind} record"
    return PolicyRecord(
        record.kind,
        record.name,
        status,
        record.records,
        record.tags,
        explanation,
        details,
        warnings,
        record.authenticated,
    )


def lookup_spf(domain: str, resolver: Resolver) -> PolicyRecord:
    record = _fetch_policy("SPF", domain, resolver)
    if record.status != "ok":
        return record
    check = check_spf(record.records[0])
    return _with(record, check.details, (*check.errors, *check.warnings),
                 "invalid" if check.errors else "ok")


def lookup_dmarc(domain: str, resolver: Resolver) -> PolicyRecord:
    record = _fetch_policy("DMARC", f"_dmarc.{domain}", resolver)
    if record.status != "ok":
        return record
    check = check_dmarc(record.records[0], record.tags)
    return _with(record, check.details, check.warnings, "ok" if check.valid else "invalid")


def lookup_mta_sts(domain: str, resolver: Resolver) -> PolicyRecord:
    record = _fetch_policy("MTA-STS", f"_mta-sts.{domain}", resolver)
    return record if record.status != "ok" else _with(record, *_sts_meaning(record, domain))


def lookup_tls_rpt(domain: str, resolver: Resolver) -> PolicyRecord:
    record = _fetch_policy("TLS-RPT", f"_smtp._tls.{domain}", resolver)
    return record if record.status != "ok" else _with(record, *_tlsrpt_meaning(record))


POLICY_LOOKUPS: dict[str, Callable[[str, Resolver], PolicyRecord]] = {
    "spf": lookup_spf,
    "dmarc": lookup_dmarc,
    "mta_sts": lookup_mta_sts,
    "tls_rpt": lookup_tls_rpt,
}
