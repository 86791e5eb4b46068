"""TLS policy and reporting: contexts, session descriptions, handshake failures explained."""

from __future__ import annotations

import ipaddress
import ssl
import weakref
from typing import Any

from .errors import ANSWER_KEPT, TLSError
from .tls_info import TLSInfo as TLSInfo  # (where it lives; every caller imports it from here)
from .x509 import cert_info_from_der

INSECURE_REASON = "verification disabled (insecure)"

# The DER format constant of the private Certificate.public_bytes (CPython 3.10+).
_ENCODING_DER: int = getattr(getattr(ssl, "_ssl", None), "ENCODING_DER", 2)

# OpenSSL X509_V_ERR_* codes that deserve a hint of their own.
_VERIFY_HINTS = {
    2: "the issuer certificate is missing; the server may not send its intermediate certificates",
    10: "the server certificate has expired",
    9: "the server certificate is not valid yet (check the clocks)",
    18: "the server uses a self-signed certificate; trust that certificate explicitly (cafile)",
    19: "the chain ends in a CA you do not trust; trust that CA explicitly (cafile)",
    20: "the certificate was issued by a CA you do not trust; trust that CA explicitly (cafile), "
    "or check that the server sends its intermediate certificates",
    21: "the server sent a single certificate whose issuer is unknown; "
    "trust its CA explicitly (cafile)",
    62: "the certificate does not name the host you connected to; check the host name "
    "(or the name to verify) and the certificate's subjectAltName",
    64: "the certificate does not list the IP address you connected to",
}

# OpenSSL reason codes seen on handshake failures, turned into plain words (WRONG_VERSION_NUMBER,
# a server that does not speak TLS, gets its words from not_tls_reason).
_PROTOCOL_REASONS = {
    "UNSUPPORTED_PROTOCOL": "no TLS version in common with the server",
    "TLSV1_ALERT_PROTOCOL_VERSION": "the server rejected our TLS version",
    "NO_PROTOCOLS_AVAILABLE": "no TLS version is enabled on our side",
    "SSLV3_ALERT_HANDSHAKE_FAILURE": "the server aborted the handshake (no common cipher, "
    "or it wants a client certificate)",
    "NO_SHARED_CIPHER": "no cipher in common with the server",
    "TLSV1_ALERT_INTERNAL_ERROR": "the server reported an internal TLS error",
    "TLSV13_ALERT_CERTIFICATE_REQUIRED": "the server requires a client certificate",
    "TLSV1_ALERT_UNKNOWN_CA": "the server did not accept our client certificate's CA",
    "DH_KEY_TOO_SMALL": "the server's Diffie-Hellman key is too small for our security level",
    "UNSAFE_LEGACY_RENEGOTIATION_DISABLED": "the server does not support secure renegotiation",
}


def make_tls_context(
    verify: bool = True,
    cafile: str | None = None,
    *,
    capath: str | None = None,
    cadata: str | bytes | None = None,
    certfile: str | None = None,
    keyfile: str | None = None,
    minimum_version: ssl.TLSVersion | None = None,
    maximum_version: ssl.TLSVersion | None = None,
) -> ssl.SSLContext:
    """Return a client context: system CAs and host name checking unless told otherwise.

    ``cafile``/``capath``/``cadata`` replace the system CAs (``ssl.create_default_context``
    semantics), so a test CA is trusted alone. ``verify=False`` accepts any certificate; the
    resulting ``TLSInfo`` is then marked ``insecure``. ``certfile``/``keyfile`` present a client
    certificate. A ``minimum_version`` below TLS 1.2 also lowers OpenSSL's security level, since
    the old versions are refused at the default level anyway.
    """
    context = ssl.create_default_context(
        ssl.Purpose.SERVER_AUTH, cafile=cafile, capath=capath, cadata=cadata
    )
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if certfile:
        context.load_cert_chain(certfile, keyfile)
    if minimum_version is not None:
        context.minimum_version = minimum_version
        if minimum_version < ssl.TLSVersion.TLSv1_2:
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
    if maximum_version is not None:
        context.maximum_version = maximum_version
    return context


# ssl tells nothing of a client certificate after the handshake. OpenSSL's message callback
# (CPython's debugging hook ssl.SSLContext._msg_callback) sees the server's CertificateRequest
# and our CertificateVerify, which goes only with a certificate we sent. Where this Python has
# no hook, neither is known (None), and nothing is claimed.
_MESSAGES = getattr(ssl, "_TLSMessageType", None)
_HANDSHAKE = getattr(getattr(ssl, "_TLSContentType", None), "HANDSHAKE", None)
_seen: weakref.WeakKeyDictionary[Any, set[tuple[str, int]]] = weakref.WeakKeyDictionary()


def _note_message(conn: Any, direction: str, _version: Any, content_type: Any, msg_type: Any,
                  _data: bytes) -> None:
    if content_type == _HANDSHAKE:
        _seen.setdefault(conn, set()).add((direction, int(msg_type)))


def watch_client_certificate(context: ssl.SSLContext) -> None:
    """Let handshakes on ``context`` tell whether the server asked for a client certificate
    and whether one was sent (see :func:`tls_info_from`)."""
    if _MESSAGES is not None and _HANDSHAKE is not None and hasattr(context, "_msg_callback"):
        context._msg_callback = _note_message


def _client_certificate(ssl_object: Any) -> tuple[bool | None, bool | None]:
    """(the server asked for a client certificate, we sent one); None each when not known."""
    if _MESSAGES is None or getattr(ssl_object.context, "_msg_callback", None) is not _note_message:
        return None, None
    seen = _seen.pop(ssl_object, set())
    return (("read", int(_MESSAGES.CERTIFICATE_REQUEST)) in seen,
            ("write", int(_MESSAGES.CERTIFICATE_VERIFY)) in seen)


def is_ip_literal(host: str) -> bool:
    """True for IPv4/IPv6 literals (brackets and a zone id allowed)."""
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True


def normalize_server_hostname(host: str | None) -> str | None:
    """Strip IPv6 brackets and a trailing root dot, which SNI and name checks must not see."""
    if not host:
        return None
    host = host.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host.rstrip(".") or None


def sni_argument(host: str | None) -> str | bytes | None:
    """``host`` as ``server_hostname`` for ``ssl``: bytes, its labels as A-labels.

    ``ssl`` turns a str name into bytes through Python's IDNA 2003 codec, which spells
    ``straße.de`` as ``strasse.de`` (another domain) and whose first use imports ``stringprep``
    (about 1 ms a run). smtpscope's one rule (IDNA 2008, :mod:`smtpscope.idn`) gives the bytes
    instead. A name that has no A-label, or labels out of 1-63 characters, goes to ``ssl`` as
    it is, which refuses it with its own error.
    """
    if host is None:
        return None
    from smtpscope.idn import to_ascii

    try:
        name = to_ascii(host)
    except UnicodeError:
        return host
    if not all(0 < len(label) <= 63 for label in name.split(".")):
        return host
    return name.encode("ascii")


def peer_chain_der(ssl_object: Any) -> tuple[list[bytes], bool]:
    """DER certificates the peer sent, leaf first, and whether that is its whole chain."""
    # Public from Python 3.13 (DER bytes); CPython 3.10-3.12 have it on the private _sslobj.
    for owner in (ssl_object, getattr(ssl_object, "_sslobj", None)):
        getter = getattr(owner, "get_unverified_chain", None)
        if getter is None:
            continue
        try:
            chain = getter() or []
            ders = [c if isinstance(c, bytes) else c.public_bytes(_ENCODING_DER) for c in chain]
        except Exception:  # a private API: any surprise means "use the fallback"
            continue
        if ders:
            return ders, True
    leaf = ssl_object.getpeercert(binary_form=True)
    return ([leaf] if leaf else []), False


# False while another process reads certificates for this one (smtpscope.security.checker).
_describe_here = True


def describe_chains_here(on: bool) -> None:
    """Whether handshakes read the peer's chain at once (the default), or keep its DER for
    ``TLSInfo.described`` to read where the caller chooses."""
    global _describe_here
    _describe_here = on


def tls_info_from(ssl_object: Any, server_hostname: str | None) -> TLSInfo:
    """Describe the session of an ``ssl.SSLObject`` (or ``SSLSocket``) after its handshake."""
    context: ssl.SSLContext = ssl_object.context
    insecure = context.verify_mode == ssl.CERT_NONE
    name, _proto, bits = ssl_object.cipher() or ("", "", 0)
    ders, complete = peer_chain_der(ssl_object)
    hostname_checked = bool(context.check_hostname and server_hostname)
    verify_error = INSECURE_REASON if insecure else None
    if not insecure and not hostname_checked:
        verify_error = "chain verified; host name not checked"
    cert_requested, cert_sent = _client_certificate(ssl_object)
    return TLSInfo(
        version=ssl_object.version() or "",
        cipher=name,
        bits=int(bits or 0),
        peer_chain=tuple(cert_info_from_der(d) for d in ders) if _describe_here else (),
        peer_der=tuple(ders),
        verified=not insecure,
        verify_error=verify_error,
        insecure=insecure,
        server_hostname=server_hostname,
        sni=None if server_hostname is None or is_ip_literal(server_hostname) else server_hostname,
        alpn=ssl_object.selected_alpn_protocol(),
        hostname_checked=hostname_checked and not insecure,
        chain_complete=complete,
        session_reused=bool(getattr(ssl_object, "session_reused", False)),
        cert_requested=cert_requested,
        cert_sent=cert_sent,
    )


def handshake_place(hostname: str, peer: tuple[str, int], peer_text: str) -> str:
    """How handshake errors name the other end: the address, and the name when it differs."""
    return peer_text if hostname in peer else f"{hostname} ({peer_text})"


def closed_before_handshake(peer_text: str, server_hostname: str | None) -> TLSError:
    """The server hung up before the handshake could start (after its 220, say)."""
    return TLSError(f"cannot start TLS with {peer_text}: the connection is closed",
                    kind="closed", reason="connection closed before the handshake",
                    server_hostname=server_hostname)


def handshake_timeout(where: str, seconds: float | None, hostname: str) -> TLSError:
    return TLSError(f"TLS handshake with {where} did not finish within {seconds or 0:g} s",
                    kind="timeout", reason="handshake timeout", server_hostname=hostname)


# The first bytes of a TLS record: content type (handshake 0x16 or alert 0x15), major version 3.
_TLS_RECORD_STARTS = (b"\x16\x03", b"\x15\x03")


def plaintext_answer(received: bytes) -> bytes:
    """What the server sent in the handshake, cut at ``ANSWER_KEPT``, when it is not TLS;
    b"" when it is (or may be: a lone first byte) or when nothing came."""
    if not received or any(start.startswith(received[:2]) for start in _TLS_RECORD_STARTS):
        return b""
    return received[:ANSWER_KEPT]


def not_tls_reason(*, starttls: bool) -> tuple[str, str]:
    """(reason, hint) for a server that answered our ClientHello with plaintext.

    After STARTTLS the port is right and the server said 220: its TLS is broken, or something
    on the path (a proxy, a middlebox stripping STARTTLS) answered for it. With implicit TLS the
    port itself most likely speaks plain SMTP.
    """
    if starttls:
        return ("the server accepted STARTTLS, then answered the TLS handshake with plaintext",
                "the server cannot do TLS after all (its logs say why), or something on the "
                "path answers for it: --tls none looks without it")
    return ("the server did not answer with TLS (is this a STARTTLS port, not an implicit-TLS "
            "port?)", "the port speaks plain SMTP: connect without implicit TLS, with STARTTLS "
            "if it offers it")


def show_answer(answer: bytes) -> str:
    """The plaintext answer's first line, quoted and escaped for a message (``show_bytes``)."""
    from smtpscope.protocol.errors import show_bytes

    line = answer.split(b"\n", 1)[0].rstrip(b"\r")
    more = len(answer.rstrip(b"\r\n")) > len(line)
    return show_bytes(line, ANSWER_KEPT) + ("…" if more else "")


def handshake_error(exc: BaseException, where: str, server_hostname: str | None, *,
                    starttls: bool = False, received: bytes = b"",
                    before: bytes = b"") -> TLSError:
    """Translate what a failed handshake raised into a ``TLSError`` with a readable message.

    ``received`` is what the server sent during the handshake: plaintext there (checked by its
    first bytes) explains the failure better than OpenSSL's reason, and is shown and kept.
    ``before`` is plaintext that came before our hello: with implicit TLS it is the server's
    answer too (a banner: TLS servers never speak first); after STARTTLS it is an injection,
    shown apart, never part of the answer.
    """
    answer = plaintext_answer(received if starttls else before + received)
    if answer and not isinstance(exc, ssl.SSLCertVerificationError):
        reason, hint = not_tls_reason(starttls=starttls)
        return TLSError(
            f"TLS handshake with {where} failed: {reason}: {show_answer(answer)}",
            kind="protocol" if isinstance(exc, ssl.SSLError) else "closed",
            reason=str(getattr(exc, "reason", None) or exc) or type(exc).__name__,
            server_hostname=server_hostname,
            hint=hint,
            openssl=_openssl_error(exc) if isinstance(exc, ssl.SSLError) else None,
            answer=answer,
        )
    if isinstance(exc, ssl.SSLCertVerificationError):
        code = exc.verify_code if isinstance(exc.verify_code, int) else None
        reason = str(exc.verify_message or exc.reason or exc)
        return TLSError(
            f"TLS certificate verification failed for {where}: {reason}",
            kind="verify",
            reason=reason,
            server_hostname=server_hostname,
            verify_code=code,
            hint=_VERIFY_HINTS.get(code or -1),
            openssl=_openssl_error(exc),
        )
    if isinstance(exc, ssl.SSLError):
        key = str(exc.reason or "")
        if key == "WRONG_VERSION_NUMBER":  # nothing of the answer came to us: the port hint
            reason = not_tls_reason(starttls=starttls)[0]
        else:
            reason = _PROTOCOL_REASONS.get(key) or key.replace("_", " ").lower() or str(exc)
        return TLSError(
            f"TLS handshake with {where} failed: {reason}",
            kind="protocol",
            reason=key or str(exc),
            server_hostname=server_hostname,
            openssl=_openssl_error(exc),
        )
    if isinstance(exc, (ConnectionError, EOFError)):
        return TLSError(
            f"TLS handshake with {where} failed: the server closed the connection "
            "(it may not speak TLS on this port, or it rejected our hello)",
            kind="closed",
            reason=str(exc) or type(exc).__name__,
            server_hostname=server_hostname,
        )
    return TLSError(
        f"TLS handshake with {where} failed: {exc}",
        kind="protocol",
        reason=str(exc) or type(exc).__name__,
        server_hostname=server_hostname,
    )


def _openssl_error(exc: ssl.SSLError) -> tuple[str, str] | None:
    """The (library, reason) mnemonics ssl gives an error OpenSSL raised; None for its own."""
    library, reason = getattr(exc, "library", None), getattr(exc, "reason", None)
    return (library, reason) if isinstance(library, str) and isinstance(reason, str) else None
