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

from typing import TYPE_CHECKING, Any

from smtpscope.record.swaks_cert import (
    alt_names,
    ca_failure,
    common_name,
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
        if isinstance(client, str) and client:
            # Only the subject is recorded: swaks' second line (commonName, subjectAltName,
            # notAfter) would be guessed, so it is left out.
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


def _verification(info: dict[str, Any], chain: list[x509.Certificate | None]) -> str | None:
    """swaks' verdict line: the CA check as the recording judged it, in OpenSSL's words where
    its typed reason tells them, and swaks' own host check of the server certificate."""
    if info.get("trust") not in (None, "unchecked"):
        code = info.get("trust_reason_code")
    elif info.get("verified") and not info.get("insecure"):
        code = None  # not judged after the handshake, which itself verified chain and name
    else:
        return None  # nothing says how the chain fared
    ca_passed = code in (None, "name-mismatch")
    certs = [cert for cert in chain if cert is not None]
    why = ca_failure(code, certs if len(certs) == len(chain) else [])
    why = why or str(info.get("verify_error"))
    names = [name for name in _list(info.get("names_checked")) if isinstance(name, str) and name]
    host = names[0] if names else info.get("server_hostname")
    if not isinstance(host, str) or not host:
        host_passed, using = False, "no host string available to verify"
    elif chain and chain[0] is not None:
        host_passed, using = host_verified(chain[0], host), f"using host {visible(host)} to verify"
    elif code in (None, "name-mismatch"):  # no certificate to check: the recorded verdict
        host_passed, using = code is None, f"using host {visible(host)} to verify"
    else:
        return None
    return (f"TLS peer certificate {'passed' if ca_passed else 'failed'} CA verification"
            f"{'' if ca_passed else f' ({visible(why)})'}, "
            f"{'passed' if host_passed else 'failed'} host verification ({using})")


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
