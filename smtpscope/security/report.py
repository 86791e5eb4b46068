"""Words for a judged TLS session: the headline, the certificates, DANE, and refusals."""

from __future__ import annotations

from typing import Any

from smtpscope.security.levels import TLSA_LOOKUP_FAILED
from smtpscope.transport.errors import TLSError
from smtpscope.transport.tls import TLSInfo
from smtpscope.transport.x509 import CertInfo

_HEADLINE = {
    "verified": "Verified TLS connection",
    "trusted": "Trusted TLS connection (chain only)",
    "untrusted": "Untrusted TLS connection",
    "dane": "DANE-verified TLS connection",
    "fingerprint": "Fingerprint-matched TLS connection",
}


def trust_line(info: TLSInfo) -> str:
    """What verification said, in one clause (posttls-finger's Verified/Trusted/Untrusted)."""
    if info.trust == "unchecked":
        if info.insecure:
            return "verification OFF (insecure)"
        if info.verified:
            return f"certificate verified for {info.server_hostname}"
        return f"certificate NOT verified: {info.verify_error}"
    head = _HEADLINE.get(info.trust, info.trust)
    if info.trust == "verified":
        text = f"{head}: certificate verified for {info.verified_name}"
    elif info.trust == "dane":
        text = f"{head}: {info.dane.summary if info.dane is not None else ''}"
    elif info.trust == "fingerprint":
        text = f"{head}: {info.fingerprint_match} pinned"
    else:
        text = f"{head}: certificate NOT verified: {info.verify_error}"
    if info.insecure:
        text += " · verification OFF (insecure): not enforced"
    elif info.trust not in ("verified", "dane", "fingerprint") and info.accepted:
        # The level's verdict, not the session's fate: the TUI asks next, and may disconnect.
        text += f" · level {info.level}: allowed, marked untrusted"
    return text


def client_cert_line(info: TLSInfo) -> str | None:
    """What became of a client certificate, as far as the handshake showed; None when there
    is nothing to say (none offered, none asked for)."""
    return client_cert_words(info.cert_requested, info.cert_sent, info.client_cert)


def client_cert_words(requested: bool | None, sent: bool | None,
                      subject: str | None) -> str | None:
    """:func:`client_cert_line` from the three values themselves (a JSON ``tls`` object holds
    them as ``cert_requested``, ``cert_sent`` and ``client_cert``)."""
    named = f" ({subject})" if subject else ""
    if subject is None:
        return "client certificate: none, but the server asked for one" if requested else None
    if sent:
        return f"client certificate: sent{named}"
    if requested is None:
        return f"client certificate: offered{named}; whether the server asked is not known"
    if requested:
        return f"client certificate: asked for, not sent{named}"
    return f"client certificate: not sent, the server asked for none{named}"


def refusal_error(info: TLSInfo, where: str) -> TLSError:
    """The error a session raises when its level does not accept the certificate."""
    return TLSError(
        f"TLS certificate not accepted from {where} at level {info.level}: {info.refusal}",
        kind="verify",
        reason=info.refusal or "not accepted",
        server_hostname=info.server_hostname,
        hint=_hint(info),
    )


def _hint(info: TLSInfo) -> str:
    # The remedy for the reason the level refused: under dane, dane-only and fingerprint the
    # certificate's PKIX reason (a name, a CA) is beside the point, and acting on it (another
    # --verify-name looks up other TLSA) would only hide the failure.
    if info.level in ("dane", "dane-only"):
        if info.dane is not None and info.dane.lookup in TLSA_LOOKUP_FAILED:
            return "the resolver gave no answer for the TLSA records: a SERVFAIL from a " \
                "validating resolver is often a broken DNSSEC signature; try the lookup with " \
                "another --resolver, or --tls-level may reports and continues"
        if info.dane is not None and info.dane.authenticated and not info.dane.applies:
            # The resolver validates and proved that no usable TLSA record exists here: asking
            # it again, or another one, cannot bring DANE to this server.
            return "the validating resolver proved this server has no usable TLSA records, " \
                "so DANE cannot apply to it; --tls-level dane goes on without them"
        if info.dane is None or not info.dane.applies:
            return "dane-only needs DNSSEC-validated TLSA records: ask a validating resolver " \
                "with --resolver, or --tls-level dane goes on without them"
        return "the certificate matches none of the validated TLSA records (see the DANE " \
            "checks); --tls-level may reports and continues"
    if info.level == "fingerprint":
        return "compare the certificate's fingerprints (probe shows them) with " \
            "--tls-fingerprint; --tls-level may reports and continues"
    code = info.trust_reason_code
    if code == "name-mismatch":
        return "the certificate names other hosts: --verify-name NAME checks another name"
    if code in ("unknown-ca", "self-signed"):
        return "trust its CA with --cafile FILE, pin it with --tls-fingerprint, or go on " \
            "anyway with --tls-level may (or --insecure)"
    return "--tls-level may reports and continues"


def cert_lines(index: int, cert: CertInfo) -> list[str]:
    """A certificate as indented lines of text (before sanitizing)."""
    role = "server certificate" if index == 0 else f"chain certificate {index}"
    if cert.parse_error:
        return [f"[{index}] {role}: {cert.parse_error}",
                f"    SHA-256 fingerprint: {cert.fingerprint_sha256}"]
    lines = [
        f"[{index}] {role}",
        f"    subject:   {cert.subject}",
        f"    issuer:    {cert.issuer}",
        f"    SAN:       {', '.join(cert.san) or '(none)'}",
        f"    valid:     {cert.not_before} to {cert.not_after}"
        + (" (EXPIRED)" if cert.expired() else ""),
        f"    key:       {cert.public_key} · signature {cert.signature_algorithm}",
        f"    SHA-256:   {cert.fingerprint_sha256}",
        f"    SPKI SHA-256 (TLSA 3 1 1): {cert.spki_sha256}",
        f"    SPKI SHA-512 (TLSA 3 1 2): {cert.spki_sha512}",
    ]
    return lines


def dane_lines(dane: Any) -> list[str]:
    """The DANE result of a session as lines of text."""
    if dane is None:
        return []
    validated = "DNSSEC-validated" if dane.authenticated else "not DNSSEC-validated"
    lines = [f"DANE {dane.name} ({dane.lookup}, {validated}): {dane.summary}"]
    for check in dane.checks:
        mark = "MATCH" if check.matched else "no match"
        lines.append(f"    {check.record[:24]}{'...' if len(check.record) > 24 else ''}"
                     f"  {mark}: {check.why}")
    return lines


def tls_lines(info: TLSInfo, show_certs: bool = False) -> list[str]:
    """Everything about a TLS session as text: headline, the client certificate's fate,
    certificates, DANE, PEM on request."""
    lines = [f"TLS {info.version} {info.cipher} ({info.bits} bits); {trust_line(info)}"]
    client = client_cert_line(info)
    if client:
        lines.append(client)
    return lines + chain_lines(info, show_certs)


def chain_lines(info: TLSInfo, show_certs: bool = False) -> list[str]:
    """The certificates of a TLS session, DANE, PEM on request: :func:`tls_lines` without its
    headline and client certificate (which the TUI's TLS line already says)."""
    lines: list[str] = []
    if not info.chain_complete and info.peer_chain:
        lines.append("    (only the server certificate is available, not the chain it sent)")
    for index, cert in enumerate(info.peer_chain):
        lines += cert_lines(index, cert)
    lines += dane_lines(info.dane)
    if show_certs:
        for cert in info.peer_chain:
            lines += cert.pem.splitlines()
    return lines


def chain_lines_from_dict(tls: dict[str, Any], show_certs: bool = False) -> list[str]:
    """The chain, DANE and resumption of a JSON ``tls`` object as text (before sanitizing)."""
    lines = []
    again = tls.get("resumption")
    if again:
        state = "resumed" if again["resumed"] else "NOT resumed"
        lines.append(f"resumption (--reconnect): {state}"
                     + (f": {again['error']}" if again.get("error") else ""))
    if tls.get("peer_chain") and not tls.get("chain_complete"):
        lines.append("(only the server certificate is available, not the chain it sent)")
    for i, cert in enumerate(tls.get("peer_chain") or []):
        san = ", ".join(cert.get("san") or ()) or "-"
        lines.append(f"[{i}] subject {cert.get('subject', '')}")
        lines.append(f"    issuer {cert.get('issuer', '')}")
        lines.append(f"    valid {cert.get('not_before')} .. {cert.get('not_after')}; "
                     f"SAN {san}")
        if cert.get("public_key"):
            lines.append(f"    key {cert['public_key']}; signature "
                         f"{cert.get('signature_algorithm')}")
            lines.append(f"    SHA-256 {cert.get('fingerprint_sha256')}")
            lines.append(f"    SPKI SHA-256 {cert.get('spki_sha256')}")
            lines.append(f"    SPKI SHA-512 {cert.get('spki_sha512')}")
    dane = tls.get("dane")
    if dane:
        lines.append(f"DANE {dane['name']}: {dane['summary']}")
        for check in dane.get("checks") or ():
            mark = "MATCH" if check["matched"] else "no match"
            lines.append(f"    TLSA {check['usage']} {check['selector']} {check['mtype']} "
                         f"{check['record'].split()[-1][:16]}...: {mark}: {check['why']}")
    if show_certs:
        for cert in tls.get("peer_chain") or []:
            lines += (cert.get("pem") or "").rstrip("\n").splitlines()
    return lines
