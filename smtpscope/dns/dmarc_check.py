"""DMARC records checked to RFC 7489 §6.3/§6.4: each tag's value, and what a receiver makes of it.

Only three faults change what a receiver does with the whole record: a version other than
exactly ``DMARC1`` (the record is ignored), an invalid ``p=`` or ``sp=`` (§6.6.3: treated as
``p=none`` if ``rua=`` holds a valid URI, else ignored) and a repeated tag (the DKIM tag-list
rule DMARC records follow). Any other bad value is discarded for the tag's default (§6.3), and
an unknown tag is ignored: warnings, since the policy still applies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from smtpscope.typos import did_you_mean

POLICIES = {
    "none": "none: monitor only, deliver as usual",
    "quarantine": "quarantine: treat failing mail as suspicious (spam folder)",
    "reject": "reject: refuse mail that fails DMARC",
}
# RFC 7489 §6.3, and np (RFC 9091 §4.1: the policy for subdomains that do not exist).
TAGS = ("v", "p", "sp", "np", "rua", "ruf", "adkim", "aspf", "pct", "fo", "rf", "ri")
_CHOICES = {
    "adkim": (("r", "s"), "r"),
    "aspf": (("r", "s"), "r"),
    "fo": (("0", "1", "d", "s"), "0"),
    "rf": (("afrf",), "afrf"),  # §6.3: the only registered format
}
_RI_MAX = 2**32 - 1  # §6.3: a 32-bit unsigned integer
# §6.4: dmarc-uri = URI [ "!" 1*DIGIT [ "k" / "m" / "g" / "t" ] ]; the URI has a scheme and no
# space or control (RFC 3986; a comma or "!" inside it is percent-encoded, §6.2).
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]+")
_SIZE = re.compile(r"[0-9]+[kmgt]?", re.I)
_VERSION_TAG = re.compile(r"(?:^|;)\s*v\s*=\s*DMARC1\s*(?:;|$)", re.I)

Tags = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class DmarcCheck:
    """What RFC 7489 makes of one record: ``valid`` is False when its policy does not apply
    as written (see the module's docstring)."""

    valid: bool
    details: tuple[tuple[str, str], ...]
    warnings: tuple[str, ...]


def _uri_problem(uri: str, key: str) -> str | None:
    address, bang, size = uri.partition("!")
    if not _URI.fullmatch(address):
        bare = "@" in address and ":" not in address
        hint = f" (did you mean 'mailto:{address}'?)" if bare else ""
        return f"'{uri}' in {key}= is no URI{hint}: receivers skip it (RFC 7489 §6.2)"
    if bang and not _SIZE.fullmatch(size):
        return (f"'{uri}' in {key}= has the size limit '!{size}', not digits with k, m, g "
                "or t: receivers skip it (RFC 7489 §6.4)")
    scheme, _, rest = address.partition(":")
    if scheme.lower() != "mailto":
        return (f"'{uri}' in {key}= is no mailto: URI; receivers need support only mailto: "
                "(RFC 7489 §6.2) and may skip it")
    if "@" not in rest:
        return f"'{uri}' in {key}= names no mail address"
    return None


def report_uris(value: str) -> tuple[str, ...]:
    """The URIs of a comma-separated report list (DMARC's rua/ruf, TLS-RPT's rua)."""
    return tuple(u.strip() for u in value.split(","))


def _value_warning(key: str, value: str) -> str | None:
    """Why a receiver discards this tag's value for its default (§6.3), or None."""
    if key in _CHOICES:
        allowed, default = _CHOICES[key]
        listed = key in ("fo", "rf")
        words = [w.strip().lower() for w in value.split(":")] if listed else [value.lower()]
        if all(w in allowed for w in words):
            return None
        either = " or ".join((", ".join(allowed[:-1]), allowed[-1]) if allowed[1:] else allowed)
        return (f"{key}={value} {'holds a value other than' if listed else 'is not'} {either}: "
                f"receivers use the default {key}={default} (RFC 7489 §6.3)")
    if key == "pct" and not (re.fullmatch(r"[0-9]{1,3}", value) and int(value) <= 100):
        return f"pct={value} is no integer 0-100: receivers use pct=100 (RFC 7489 §6.3)"
    if key == "ri" and not (re.fullmatch(r"[0-9]+", value) and int(value) <= _RI_MAX):
        return (f"ri={value} is no 32-bit unsigned number of seconds: receivers use ri=86400 "
                "(RFC 7489 §6.3)")
    if key == "np" and value.lower() not in POLICIES:
        return f"np={value} is not none, quarantine or reject: receivers ignore it (RFC 9091 §4.1)"
    return None


def _policy_warning(key: str, value: str | None, rua_ok: bool) -> str:
    shown = f"no {key}= tag" if value is None else (
        f"{key}={value} is not none, quarantine or reject{did_you_mean(value, POLICIES)}")
    then = ("with a valid rua= receivers act as if p=none" if rua_ok
            else "with no valid rua= receivers apply no DMARC")
    return f"{shown}: {then} (RFC 7489 §6.6.3)"


def check_dmarc(record: str, tags: Tags) -> DmarcCheck:
    """Check one DMARC record (``tags`` as parsed from it, ``v`` first) to RFC 7489."""
    values = dict(reversed(tags))  # the first of a repeated tag
    warnings: list[str] = []
    valid = True
    if values.get("v") != "DMARC1":
        valid = False
        warnings.append(f"v={values.get('v')}: the version must be exactly 'DMARC1': "
                        "receivers ignore the record (RFC 7489 §6.3)")
    for part in record.split(";"):
        if part.strip() and "=" not in part:
            warnings.append(f"'{part.strip()}' is no tag=value: receivers skip it "
                            "(RFC 7489 §6.3)")
    names = [key for key, _ in tags]
    for key in dict.fromkeys(k for k in names if names.count(k) > 1):
        valid = False
        warnings.append(f"tag {key}= appears {names.count(key)} times: the record is invalid "
                        "(RFC 7489 §6.3 follows the DKIM tag-list, RFC 6376 §3.2)")
    uris: dict[str, tuple[str, ...]] = {
        key: report_uris(values[key]) for key in ("rua", "ruf") if key in values}
    problems = {key: [_uri_problem(u, key) for u in found] for key, found in uris.items()}
    rua_ok = None in problems.get("rua", [])
    bad = [key for key in ("p", "sp") if (key == "p" or key in values)
           and values.get(key, "").lower() not in POLICIES]
    warnings.extend(_policy_warning(key, values.get(key), rua_ok) for key in bad)
    valid = valid and not bad
    if values.get("v") != "DMARC1":
        policy = "no DMARC applies: receivers ignore the record"
    elif not bad:
        policy = POLICIES[values["p"].lower()]
    elif rua_ok:
        policy = f"{POLICIES['none']} (RFC 7489 §6.6.3: no valid {bad[0]}= but a valid rua=)"
    else:
        policy = "no DMARC applies (RFC 7489 §6.6.3: invalid p= or sp= and no valid rua=)"
    details = [("policy", policy)]
    if names[1:2] not in (["p"], []) and "p" in names:
        warnings.append("p= should directly follow v=DMARC1 (RFC 7489 §6.4); most receivers "
                        "take it anywhere")
    sp = values.get("sp", "").lower()
    details.append(("subdomain policy", POLICIES.get(sp, sp) if sp else "same as p="))
    for key, value in tags:
        if key not in TAGS:
            warnings.append(f"tag '{key}' is no DMARC tag{did_you_mean(key, TAGS)}: receivers "
                            "ignore it (RFC 7489 §6.3)")
        elif (problem := _value_warning(key, value)) is not None:
            warnings.append(problem)
    warnings.extend(p for found in problems.values() for p in found if p)
    if "fo" in values and "ruf" not in values:
        warnings.append("fo= has no effect without ruf= (RFC 7489 §6.3)")
    details.extend(_labelled(values, uris))
    return DmarcCheck(valid, tuple(details), tuple(warnings))


_LABELS = {
    "rua": "aggregate reports to",
    "ruf": "failure reports to",
    "pct": "applies to %",
    "adkim": "DKIM alignment",
    "aspf": "SPF alignment",
    "np": "non-existent subdomain policy",
}


def _labelled(values: dict[str, str], uris: dict[str, tuple[str, ...]]) -> Tags:
    shown = []
    for key, label in _LABELS.items():
        value = values.get(key)
        if value is None:
            continue
        if key in uris:
            value = ", ".join(uris[key])
        elif key in ("adkim", "aspf"):
            value = {"s": "strict", "r": "relaxed"}.get(value.lower(), value)
        elif key == "np":
            value = POLICIES.get(value.lower(), value)
        shown.append((label, value))
    return tuple(shown)


def version_not_first(records: tuple[str, ...]) -> tuple[str, ...]:
    """Warnings for TXT records that are no DMARC record only because ``v=DMARC1`` is not their
    first tag: receivers discard them (§6.6.3) as they would any other text."""
    return tuple(f"a TXT record reads '{text}': v=DMARC1 must be its first tag, so receivers "
                 "ignore it (RFC 7489 §6.3)" for text in records if _VERSION_TAG.search(text))
