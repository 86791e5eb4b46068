"""A completed TLS handshake as views show it (``TLSInfo``), in a module of its own.

It holds no ``ssl``: the process that reads and judges a chain for another
(``smtpscope.security.checker``) builds these without loading OpenSSL's Python module.
"""

from __future__ import annotations

from typing import Any

from smtpscope.values import Frozen

from .x509 import CertInfo, cert_info_from_der


class TLSInfo(Frozen):
    """A completed TLS handshake, as a view should show it.

    ``peer_chain`` starts with the server certificate. Python 3.11 only exposes the full chain
    through a private accessor; when that is unavailable the chain holds the leaf alone
    (``chain_complete`` is then False).
    """

    __slots__ = ("_der", "accepted", "alpn", "bits", "cert_requested", "cert_sent",
                 "chain_complete", "cipher", "client_cert", "client_chain", "dane",
                 "fingerprint_match", "fingerprints_pinned", "hostname_checked", "insecure",
                 "level", "names_checked", "peer_chain", "peer_host", "refusal", "requested",
                 "server_hostname", "session_reused", "sni", "trust", "trust_anchor",
                 "trust_reason_code", "verified", "verified_name", "verify_error", "version")
    version: str  # "TLSv1.3"
    cipher: str
    bits: int
    peer_chain: tuple[CertInfo, ...]
    verified: bool
    verify_error: str | None
    insecure: bool
    server_hostname: str | None  # the name checked against the certificate
    sni: str | None  # the name sent in SNI: None for IP literals (RFC 6066 forbids them)
    alpn: str | None
    hostname_checked: bool
    chain_complete: bool
    session_reused: bool
    # Filled in by smtpscope.security.policy after the handshake (which itself never verifies):
    level: str  # the --tls-level that judged this session
    trust: str  # verified | trusted | untrusted | dane | fingerprint | unchecked
    trust_reason_code: str | None  # smtpscope.security.pkix.REASONS key
    names_checked: tuple[str, ...]
    verified_name: str | None
    trust_anchor: str | None
    fingerprint_match: str | None  # "certificate SHA256", "public key SHA256", ...
    fingerprints_pinned: int
    dane: Any  # smtpscope.security.dane.DaneResult when TLSA was looked up
    accepted: bool  # the level lets the session go on
    refusal: str | None  # why it does not
    peer_host: str | None  # the host name the session meant to reach (an MX name)
    requested: tuple[tuple[str, str], ...]  # TLS flags that shaped it: ("--tls-max", "1.2")
    cert_requested: bool | None  # the server asked for a client certificate; None: not known
    cert_sent: bool | None  # we sent one (and proved we hold its key); None: not known
    client_cert: str | None  # subject of the client certificate offered (--tls-cert)
    # The certificates of the --tls-cert file, PEM, the client's own first: public, as sent
    # in the handshake (its key is never read into them).
    client_chain: tuple[str, ...]
    # The chain as received (DER). Not a field. While ``describe_chains_here(False)`` holds,
    # a handshake leaves ``peer_chain`` empty and ``described()`` reads this.
    _der: tuple[bytes, ...]

    def __init__(self, version: str, cipher: str, bits: int, peer_chain: tuple[CertInfo, ...],
                 verified: bool, verify_error: str | None, insecure: bool,
                 server_hostname: str | None, sni: str | None = None, alpn: str | None = None,
                 hostname_checked: bool = True, chain_complete: bool = False,
                 session_reused: bool = False, level: str = "", trust: str = "unchecked",
                 trust_reason_code: str | None = None, names_checked: tuple[str, ...] = (),
                 verified_name: str | None = None, trust_anchor: str | None = None,
                 fingerprint_match: str | None = None, fingerprints_pinned: int = 0,
                 dane: Any = None, accepted: bool = True, refusal: str | None = None,
                 peer_host: str | None = None,
                 requested: tuple[tuple[str, str], ...] = (), cert_requested: bool | None = None,
                 cert_sent: bool | None = None, client_cert: str | None = None,
                 client_chain: tuple[str, ...] = (), peer_der: tuple[bytes, ...] = ()) -> None:
        self._set(version=version, cipher=cipher, bits=bits, peer_chain=peer_chain,
                  verified=verified, verify_error=verify_error, insecure=insecure,
                  server_hostname=server_hostname, sni=sni, alpn=alpn,
                  hostname_checked=hostname_checked, chain_complete=chain_complete,
                  session_reused=session_reused, level=level, trust=trust,
                  trust_reason_code=trust_reason_code, names_checked=names_checked,
                  verified_name=verified_name, trust_anchor=trust_anchor,
                  fingerprint_match=fingerprint_match, fingerprints_pinned=fingerprints_pinned,
                  dane=dane, accepted=accepted, refusal=refusal, peer_host=peer_host,
                  requested=requested, cert_requested=cert_requested, cert_sent=cert_sent,
                  client_cert=client_cert, client_chain=client_chain, _der=peer_der)

    def described(self) -> TLSInfo:
        """This handshake with its chain read, where the handshake left that for later."""
        if self.peer_chain or not self._der:
            return self
        return self._replace(peer_chain=tuple(cert_info_from_der(d) for d in self._der),
                             peer_der=self._der)

    @property
    def leaf(self) -> CertInfo | None:
        """The server's own certificate, if it sent one."""
        return self.peer_chain[0] if self.peer_chain else None
