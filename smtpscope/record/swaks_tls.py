"""swaks' informational lines for a TLS handshake, from the typed TLS details of a recording.

swaks (``tls_post_start`` and ``print_cert_info``) says, in this order: the cipher; whether the
server asked for a client certificate and whether one was sent; the client certificate set
(or that none was); each peer certificate in two lines (subject, then commonName,
subjectAltName and notAfter); the verification. A line whose facts the recording does not
hold (a recording older than the field, a value not known at the handshake) is left out
rather than guessed.
"""

from __future__ import annotations

from typing import Any

from smtpscope.sanitize import visible

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
            out.append(_subject_line("client[0]", client))
        elif client is None and sent is not True:
            out.append("TLS no client certificate set")
    for index, cert in enumerate(_list(info.get("peer_chain"))):
        cert = cert if isinstance(cert, dict) else {}
        out.append(_subject_line(f"peer[{index}]", str(cert.get("subject", ""))))
        common = _common_name(cert)
        san = visible(", ".join(str(name) for name in _list(cert.get("san"))))
        out.append(f"{_INDENT}{'' if common is None else f'commonName=[{visible(common)}], '}"
                   f"subjectAltName=[{san}] "
                   f"notAfter=[{visible(str(cert.get('not_after', '')))}]")
    if info.get("insecure"):
        out.append("TLS peer certificate not verified (verification disabled)")
    elif info.get("verified"):
        out.append(f"TLS peer certificate passed CA verification, passed host verification "
                   f"(using host {visible(str(info.get('server_hostname')))} to verify)")
    else:
        out.append(f"TLS peer certificate failed verification "
                   f"({visible(str(info.get('verify_error')))})")
    return out


def _head(info: dict[str, Any]) -> str:
    fields = ":".join(str(info.get(key)) for key in ("version", "cipher", "bits"))
    return f"TLS started with cipher {visible(fields)}"


def _subject_line(label: str, subject: str) -> str:
    return f"TLS {label:<{_LABEL_WIDTH}} subject=[{visible(subject)}]"


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _common_name(cert: dict[str, Any]) -> str | None:
    """The subject's first commonName as swaks prints it ("" when the subject has none);
    None when not known: a certificate that did not parse, a subject that is not RFC 4514."""
    subject = cert.get("subject")
    if cert.get("parse_error") or not isinstance(subject, str) or not subject:
        return None
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        name = x509.Name.from_rfc4514_string(subject)
    except ValueError:
        return None
    # Name keeps the DER order (the reverse of RFC 4514's): swaks (OpenSSL) takes the first.
    found = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(found[0].value) if found else ""
