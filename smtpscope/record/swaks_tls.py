"""swaks' informational lines for a TLS handshake, from the typed TLS details of a recording.

swaks (20240103: ``start_tls_post_connect`` and ``print_cert_info``) says, in this order: the
cipher; whether the server asked for a client certificate and whether one was sent; the client
certificate set (or that none was); each peer certificate in two lines (subject, then
commonName, subjectAltName and notAfter, in OpenSSL's forms: see ``swaks_cert``); whether the
chain passed CA verification and the server certificate host verification. A line whose facts
the recording does not hold (a recording older than the field, a value not known at the
handshake) is left out rather than guessed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from smtpscope.record.swaks_cert import (
    alt_names,
    ca_failure,
    common_name,
    error_string,
    host_verified,
    iso_z,
    load,
    not_after,
    oneline,
)
from smtpscope.sanitize import visible, visible_bytes

if TYPE_CHECKING:
    from cryptography import x509

# swaks' "TLS %-9s subject=[...]" label width and its 14-space indent for the second line.
_LABEL_WIDTH = 9
_INDENT = " " * 14


def tls_lines(info: dict[str, Any]) -> list[str]:
    """swaks' TLS lines; every value is the peer's (or a recording's) text, so made visible."""
    out = [_head(info)]
    requested, sent = info.get("cert_requested"), info.get("cert_sent")
    if isinstance(requested, bool) and isinstance(sent, bool):
        out.append(f"TLS client certificate {'' if requested else 'not '}requested and "
                   f"{'' if sent else 'not '}sent")
    if "client_cert" in info:  # absent from recordings older than the field: not known
        client = info["client_cert"]
        pems = [load(pem) for pem in _list(info.get("client_chain"))]
        if pems and all(pems):
            for index, parsed in enumerate(pems):  # each certificate of --tls-cert, as swaks
                out += _cert_lines(f"client[{index}]", {}, parsed)
        elif isinstance(client, str) and client:
            # Only the subject is recorded (an older recording): swaks' second line
            # (commonName, subjectAltName, notAfter) would be guessed, so it is left out.
            out.append(_subject_line("client[0]", _subject(client)))
        elif client is None and sent is not True:
            out.append("TLS no client certificate set")
    chain = [cert if isinstance(cert, dict) else {} for cert in _list(info.get("peer_chain"))]
    loaded = [load(cert.get("pem")) for cert in chain]
    for index, (cert, parsed) in enumerate(zip(chain, loaded, strict=True)):
        out += _cert_lines(f"peer[{index}]", cert, parsed)
    verification = _verification(info, loaded)
    return out + ([verification] if verification else [])


def _head(info: dict[str, Any]) -> str:
    fields = ":".join(str(info.get(key)) for key in ("version", "cipher", "bits"))
    return f"TLS started with cipher {visible(fields)}"


def _subject_line(label: str, subject: str) -> str:
    return f"TLS {label:<{_LABEL_WIDTH}} subject=[{subject}]"


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _cert_lines(label: str, cert: dict[str, Any], parsed: x509.Certificate | None) -> list[str]:
    """swaks' two lines for one certificate: from its PEM, or else from the recorded fields
    (a recording without the PEM: the subject read back from its RFC 4514 text)."""
    if parsed is not None:
        name: x509.Name | None = parsed.subject
        san, after = alt_names(parsed), not_after(parsed)
    else:
        name = None if cert.get("parse_error") else _recorded_name(cert.get("subject"))
        san = visible(", ".join(str(entry) for entry in _list(cert.get("san"))))
        after = visible(_iso_z(cert.get("not_after")))
    subject = _shown(name) if name is not None else visible(str(cert.get("subject", "")))
    common = "" if name is None else f"commonName=[{visible_bytes(common_name(name))}], "
    return [_subject_line(label, subject),
            f"{_INDENT}{common}subjectAltName=[{san}] notAfter=[{after}]"]


class _Verdict(NamedTuple):
    """swaks' two checks of a server certificate: the CA's (``why`` in OpenSSL's words when it
    failed) and the host's (``host`` the name verified, None when there was none)."""

    ca_passed: bool
    why: str
    host_passed: bool
    host: str | None


def _verification(info: dict[str, Any], chain: list[x509.Certificate | None]) -> str | None:
    """swaks' verdict line: the CA check as the recording judged it, in OpenSSL's words where
    its typed reason tells them, and swaks' own host check of the server certificate."""
    verdict = _verdict(info, chain)
    if verdict is None:
        return None
    ca_passed, why, host_passed, host = verdict
    using = "no host string available to verify" if host is None else \
        f"using host {visible(host)} to verify"
    return (f"TLS peer certificate {'passed' if ca_passed else 'failed'} CA verification"
            f"{'' if ca_passed else f' ({visible(why)})'}, "
            f"{'passed' if host_passed else 'failed'} host verification ({using})")


def _verdict(info: dict[str, Any], chain: list[x509.Certificate | None],
             code: Any = None) -> _Verdict | None:
    """What swaks' checks say of a recorded handshake; None when the recording does not tell.
    ``code`` is a typed reason that overrides the TLS details' own."""
    if info.get("trust") not in (None, "unchecked"):
        code = code or info.get("trust_reason_code")
    elif not (info.get("verified") and not info.get("insecure")):
        return None  # nothing says how the chain fared
    # else: not judged after the handshake, which itself verified chain and name
    ca_passed = code in (None, "name-mismatch")
    certs = [cert for cert in chain if cert is not None]
    why = ca_failure(code, certs if len(certs) == len(chain) else [])
    why = why or str(info.get("verify_error"))
    names = [name for name in _list(info.get("names_checked")) if isinstance(name, str) and name]
    host = names[0] if names else info.get("server_hostname")
    if not isinstance(host, str) or not host:
        return _Verdict(ca_passed, why, False, None)
    if chain and chain[0] is not None:
        return _Verdict(ca_passed, why, host_verified(chain[0], host), host)
    if code in (None, "name-mismatch"):  # no certificate to check: the recorded verdict
        return _Verdict(ca_passed, why, code is None, host)
    return None


def failure_lines(failed: Any, tls: dict[str, Any], own: list[str]) -> list[str] | None:
    """swaks' error lines for a TLS failure whose typed facts (``tls_failed``, see
    ``session_types.tls_failure_info``) an error entry holds; ``tls`` is the handshake's TLS
    details when it completed, ``own`` smtpscope's lines for it. None without the facts (a
    recording older than them): the caller shows its own lines.

    swaks (``start_tls_post_connect``) says ``TLS startup failed (connect(): ...)`` with
    OpenSSL's error for a handshake that did not complete, or its failed checks joined with
    ", " for one whose certificate it refuses, then ``STARTTLS attempted but failed`` after
    STARTTLS. A failure swaks would not see (a pin, DANE; a handshake that broke off without
    an OpenSSL error) keeps smtpscope's own words in place of the first line.
    """
    if not isinstance(failed, dict):
        return None
    why = _verify_failure(failed, tls) if failed.get("stage") == "verification" else None
    openssl = failed.get("openssl")
    if failed.get("stage") == "handshake" and isinstance(openssl, list) and len(openssl) == 2:
        why = error_string(str(openssl[0]), str(openssl[1]))
    out = own if why is None else [f"TLS startup failed (connect(): {visible(why)})"]
    return out + (["STARTTLS attempted but failed"] if failed.get("starttls") else [])


def _verify_failure(failed: dict[str, Any], tls: dict[str, Any]) -> str | None:
    """swaks' ``verify_failure_message``: each check that failed, the CA's first; None when
    both pass as swaks checks them (the level refused for a reason of its own)."""
    chain = [load(cert.get("pem")) if isinstance(cert, dict) else None
             for cert in _list(tls.get("peer_chain"))]
    verdict = _verdict(tls, chain, failed.get("reason_code"))
    if verdict is None:
        return None
    parts = [] if verdict.ca_passed else [f"certificate verification failed ({verdict.why})"]
    if verdict.host is None:
        parts.append("no host available for host verification")
    elif not verdict.host_passed:
        parts.append(f"server certificate did not match target host {verdict.host}")
    return ", ".join(parts) or None


def _recorded_name(subject: Any) -> x509.Name | None:
    """A recorded RFC 4514 subject as a name; None when there is none or it does not parse."""
    if not isinstance(subject, str) or not subject:
        return None
    from cryptography import x509

    try:
        return x509.Name.from_rfc4514_string(subject)
    except ValueError:
        return None


def _subject(rfc4514: str) -> str:
    """A recorded RFC 4514 subject in swaks' form (string types as RFC 4514 implies them)."""
    name = _recorded_name(rfc4514)
    return visible(rfc4514) if name is None else _shown(name)


def _shown(name: x509.Name) -> str:
    # oneline() leaves only printable ASCII, its backslashes being its own escapes.
    return visible(oneline(name), keep_backslashes=True)


def _iso_z(value: Any) -> str:
    """A recorded ISO 8601 time in swaks' form (``Z`` for UTC); as recorded if not one."""
    from datetime import datetime

    try:
        return iso_z(datetime.fromisoformat(str(value)))
    except ValueError:
        return str(value or "")
