"""PKIX evaluation of a chain a server sent, after the handshake, with ``cryptography``.

The handshake itself never verifies (so a bad certificate can still be looked at); this module
then says whether the chain leads to a trusted CA and whether the certificate names the host:
``verified`` (chain and name), ``trusted`` (chain only) or ``untrusted`` with a typed reason.
"""

from __future__ import annotations

import ipaddress
import os
import threading
import warnings
from datetime import UTC, datetime
from functools import lru_cache
from typing import Literal

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from smtpscope.idn import to_ascii_or_same
from smtpscope.security.anchor_source import AnchorSource
from smtpscope.values import Frozen

Trust = Literal["verified", "trusted", "untrusted"]
# Why a chain is untrusted or only trusted; views and JSON carry these words.
REASONS = {
    "expired": "the server certificate has expired",
    "not-yet-valid": "the server certificate is not valid yet (check the clocks)",
    "self-signed": "the server uses a self-signed certificate that is not trusted here",
    "unknown-ca": "the certificate was issued by a CA that is not trusted here",
    "invalid-chain": "the chain does not verify",
    "name-mismatch": "the certificate does not name the host",
    "no-certificate": "the server sent no certificate",
    "unreadable": "the server certificate cannot be read",
    "no-trust-anchors": "no CA certificates are available to verify against",
}


class PkixResult(Frozen):
    """The outcome of a PKIX check; ``reason_code`` is a key of ``REASONS``."""

    __slots__ = ("anchor", "matched_name", "reason", "reason_code", "status")
    status: Trust
    reason_code: str | None
    reason: str | None
    matched_name: str | None
    anchor: str | None  # subject of the trust anchor the chain ended at

    def __init__(self, status: Trust, reason_code: str | None = None, reason: str | None = None,
                 matched_name: str | None = None, anchor: str | None = None) -> None:
        self._set(status=status, reason_code=reason_code, reason=reason,
                  matched_name=matched_name, anchor=anchor)


def _load_dir(path: str) -> list[x509.Certificate]:
    out: list[x509.Certificate] = []
    try:
        names = sorted(os.listdir(path))
    except OSError:
        return out
    for name in names:
        full = os.path.join(path, name)
        try:
            with open(full, "rb") as handle, warnings.catch_warnings():
                warnings.simplefilter("ignore")  # old roots cryptography frowns on, as above
                out.extend(x509.load_pem_x509_certificates(handle.read()))
        except (OSError, ValueError):
            continue  # not a certificate file (capath directories hold other things too)
    return out


_anchors_lock = threading.Lock()


def trust_anchors(
    cafile: str | None = None, capath: str | None = None
) -> tuple[x509.Certificate, ...]:
    """The CA certificates to trust: ``cafile``/``capath`` alone when given, else the system's.

    Read once per pair and kept. A second caller waits for a read in progress (the prefetch
    thread of ``smtpscope.security.prefetch``) rather than reading the store again beside it.
    """
    with _anchors_lock:
        known = _given.get((cafile, capath))
        return known if known is not None else _read_anchors(cafile, capath)


# Anchors read from an AnchorSource handed over by another process (see remember_anchors).
_given: dict[tuple[str | None, str | None], tuple[x509.Certificate, ...]] = {}


def remember_anchors(cafile: str | None, capath: str | None, source: AnchorSource) -> None:
    """Take the anchors of this pair from ``source`` (read by a process that has ``ssl``)."""
    certs = _anchors_from(source)
    with _anchors_lock:
        _given[(cafile, capath)] = certs


@lru_cache(maxsize=16)
def _read_anchors(cafile: str | None, capath: str | None) -> tuple[x509.Certificate, ...]:
    from smtpscope.security.anchor_source import anchor_source

    return _anchors_from(anchor_source(cafile, capath))


def _anchors_from(source: AnchorSource) -> tuple[x509.Certificate, ...]:
    if source.system:
        system = _system_bundle(source.bundle) if source.bundle else ()
        if system:
            return system
        from smtpscope.security.anchor_source import system_store

        source = system_store()  # no CA file, or an unusual one: read it as OpenSSL does
    with warnings.catch_warnings():  # system bundles hold old roots cryptography frowns on
        warnings.simplefilter("ignore")
        certs = [x509.load_der_x509_certificate(d) for d in source.ders]
    for directory in source.dirs:
        certs.extend(_load_dir(directory))
    return tuple(certs)


def _system_bundle(path: str) -> tuple[x509.Certificate, ...]:
    """The system CA file, parsed straight into certificates; () when there is none to read.

    The same certificates an SSL context's default paths load (``SSL_CERT_FILE`` honoured),
    several times faster than loading them into OpenSSL only to list them again (about 5 ms
    against 30 ms for the 140-odd roots of a Debian bundle). Anything unusual in the file
    gives () and the caller reads it the slow way.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read()
        with warnings.catch_warnings():  # system bundles hold old roots cryptography frowns on
            warnings.simplefilter("ignore")
            return tuple(dict.fromkeys(x509.load_pem_x509_certificates(data)))
    except (OSError, ValueError):
        return ()


def _ee_policy(*, need_san: bool) -> ExtensionPolicy:
    # The web-PKI rules for the leaf, with two relaxations mail servers need: a critical SAN is
    # accepted (some CAs mark it so) and EKU is not required to say clientAuth (the client
    # verifier's default); serverAuth is checked by hand in check_chain.
    base = ExtensionPolicy.webpki_defaults_ee().may_be_present(
        x509.ExtendedKeyUsage, Criticality.AGNOSTIC, None
    )
    if need_san:
        return base.require_present(x509.SubjectAlternativeName, Criticality.AGNOSTIC, None)
    return base.may_be_present(x509.SubjectAlternativeName, Criticality.AGNOSTIC, None)


def _server_auth_allowed(leaf: x509.Certificate) -> bool:
    try:
        usage = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return True
    return any(oid in usage for oid in (ExtendedKeyUsageOID.SERVER_AUTH,
                                        ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE))


def _subject(name: str) -> x509.DNSName | x509.IPAddress:
    try:
        return x509.IPAddress(ipaddress.ip_address(name.strip("[]")))
    except ValueError:
        return x509.DNSName(to_ascii_or_same(name.rstrip(".")).lower())


def _leaf_dns_names(leaf: x509.Certificate) -> list[str]:
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [n.lower().rstrip(".") for n in san.get_values_for_type(x509.DNSName)]


def _candidates(names: tuple[str, ...], leaf: x509.Certificate) -> list[str]:
    """Reference names to try; ".example.com" (Postfix's dot-nexthop) means any subdomain."""
    out: list[str] = []
    for name in names:
        if name.startswith("."):
            suffix = "." + to_ascii_or_same(name.strip(".")).lower()
            out += [n for n in _leaf_dns_names(leaf) if n.endswith(suffix) and "*" not in n]
        elif name:
            out.append(name)
    return out


def _why_untrusted(
    leaf: x509.Certificate, sent: list[x509.Certificate], anchors: tuple[x509.Certificate, ...]
) -> str:
    known = {a.subject for a in anchors} | {c.subject for c in sent[1:]}
    if leaf.issuer == leaf.subject and leaf not in anchors:
        return "self-signed"
    top = sent[-1]
    if top.issuer not in {a.subject for a in anchors} and top.issuer != top.subject:
        return "unknown-ca"
    if top.issuer == top.subject and top not in anchors:
        return "unknown-ca"
    return "invalid-chain" if leaf.issuer in known else "unknown-ca"


def check_chain(
    chain_der: list[bytes] | tuple[bytes, ...],
    names: tuple[str, ...],
    anchors: tuple[x509.Certificate, ...],
    now: datetime | None = None,
) -> PkixResult:
    """Verify ``chain_der`` (leaf first, as sent) against ``anchors`` and the reference names."""
    if not chain_der:
        return PkixResult("untrusted", "no-certificate", REASONS["no-certificate"])
    try:
        sent = [x509.load_der_x509_certificate(d) for d in chain_der]
    except ValueError as exc:
        return PkixResult("untrusted", "unreadable", f"{REASONS['unreadable']}: {exc}")
    if not anchors:
        return PkixResult("untrusted", "no-trust-anchors", REASONS["no-trust-anchors"])
    leaf, intermediates = sent[0], sent[1:]
    moment = now or datetime.now(UTC)
    if moment > leaf.not_valid_after_utc:
        return PkixResult("untrusted", "expired", f"{REASONS['expired']} "
                          f"(on {leaf.not_valid_after_utc:%Y-%m-%d %H:%M} UTC)")
    if moment < leaf.not_valid_before_utc:
        return PkixResult("untrusted", "not-yet-valid", REASONS["not-yet-valid"])
    store = Store(list(anchors))
    builder = PolicyBuilder().store(store).time(moment)
    ca_policy = ExtensionPolicy.webpki_defaults_ca()
    try:
        chain_only = builder.extension_policies(
            ca_policy=ca_policy, ee_policy=_ee_policy(need_san=False)
        ).build_client_verifier()
        verified = chain_only.verify(leaf, intermediates)
    except VerificationError as exc:
        code = _why_untrusted(leaf, sent, anchors)
        detail = f" ({exc})" if code == "invalid-chain" else ""
        return PkixResult("untrusted", code, REASONS[code] + detail)
    anchor = verified.chain[-1].subject.rfc4514_string()
    if not _server_auth_allowed(leaf):
        return PkixResult("untrusted", "invalid-chain",
                          "the certificate is not meant for servers (extendedKeyUsage)")
    named = builder.extension_policies(ca_policy=ca_policy, ee_policy=_ee_policy(need_san=True))
    for name in _candidates(names, leaf):
        try:
            named.build_server_verifier(_subject(name)).verify(leaf, intermediates)
        except (VerificationError, ValueError):
            continue
        return PkixResult("verified", matched_name=name, anchor=anchor)
    wanted = ", ".join(names) or "(no name given)"
    return PkixResult("trusted", "name-mismatch",
                      f"{REASONS['name-mismatch']} ({wanted})", anchor=anchor)
