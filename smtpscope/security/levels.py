"""TLS security levels with Postfix/posttls-finger names and meanings, and what each demands."""

from __future__ import annotations

from smtpscope.values import Frozen


class Level(Frozen):
    """One level: its name, whether it demands TLS, and what it means in a sentence."""

    __slots__ = ("meaning", "name", "tls_required")
    name: str
    tls_required: bool
    meaning: str

    def __init__(self, name: str, tls_required: bool, meaning: str) -> None:
        self._set(name=name, tls_required=tls_required, meaning=meaning)


LEVELS: dict[str, Level] = {lv.name: lv for lv in (
    Level("none", False, "no TLS: never send STARTTLS"),
    Level("may", False, "opportunistic: STARTTLS when offered; the certificate is checked and "
          "reported, never enforced"),
    Level("encrypt", True, "TLS required; the certificate is reported, not enforced"),
    Level("dane", False, "opportunistic DANE: with DNSSEC-validated usable TLSA records TLS is "
          "required and a record must match; otherwise as 'may'"),
    Level("dane-only", True, "DNSSEC-validated TLSA records are required and one must match"),
    Level("fingerprint", True, "TLS required; the certificate or its public key must match a "
          "--tls-fingerprint"),
    Level("verify", True, "TLS required; the chain must lead to a trusted CA and the "
          "certificate must name the host (or --verify-name)"),
    Level("secure", True, "as 'verify', but the name must be the next-hop domain or a "
          "subdomain of it (for @domain targets), so a forged MX record cannot redirect"),
)}


#: What a TLSA lookup that got no answer is (``TLSAReport.status``): neither records nor a denial.
#: The same set as ``smtpscope.dns.resolver.LOOKUP_FAILED`` (a test holds them equal), spelt out
#: so that a probe without DANE does not load the DNS code.
TLSA_LOOKUP_FAILED = frozenset({"servfail", "refused", "timeout", "error"})


def decide(level: str, *, trust: str, dane_applies: bool, dane_matched: bool,
           fingerprint_matched: bool, pkix_verified: bool,
           pkix_reason: str | None = None, dane_lookup: str | None = None) -> str | None:
    """None when ``level`` lets the session go on, else why it must stop.

    ``dane_lookup`` is the TLSA lookup's status (None when none was made).
    """
    if level in ("none", "may", "encrypt"):
        return None
    if level in ("dane", "dane-only") and dane_lookup in TLSA_LOOKUP_FAILED:
        # RFC 7672 §2.2: a TLSA lookup that fails (a validating resolver answers SERVFAIL for a
        # bogus signature, as for an attacker's forged or dropped answer; or a resolver that
        # REFUSES) is not "no TLSA": the server may not be used until it answers, or DANE is
        # downgraded to nothing.
        return f"DANE: the TLSA lookup failed ({dane_lookup}), so the server cannot be " \
            "used (RFC 7672 §2.2)"
    if level == "dane":
        if dane_applies and not dane_matched:
            return "DANE: validated TLSA records exist and none matches the server's chain"
        return None
    if level == "dane-only":
        if not dane_applies:
            return "dane-only: no DNSSEC-validated, usable TLSA records for this server"
        return None if dane_matched else "DANE: no TLSA record matches the server's chain"
    if level == "fingerprint":
        return None if fingerprint_matched else "no --tls-fingerprint matches the certificate"
    if level in ("verify", "secure"):
        return None if pkix_verified else f"certificate not verified: {pkix_reason or trust}"
    raise ValueError(f"unknown TLS level {level!r}")
