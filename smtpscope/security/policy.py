"""One TLS policy for every command: how to handshake, then how to judge what was shown."""

from __future__ import annotations

import os
import re
import sys
from typing import TYPE_CHECKING

from smtpscope.security.levels import LEVELS, decide
from smtpscope.transport.tls_info import TLSInfo
from smtpscope.transport.x509 import pem_der
from smtpscope.values import Value

if TYPE_CHECKING:
    import ssl

    from smtpscope.dns.tlsa import TLSAReport

# ``ssl`` loads only for a handshake: judging a chain (``evaluate``) goes without it, which is
# what the certificate helper process runs (smtpscope.security.checker).
# --tls-min/--tls-max: the ssl.TLSVersion member of each.
VERSIONS = {"1.0": "TLSv1", "1.1": "TLSv1_1", "1.2": "TLSv1_2", "1.3": "TLSv1_3"}
_DIGEST_HEX = {"SHA256": 64, "SHA512": 128}


class PolicyError(ValueError):
    """A TLS option that cannot be used; the message names the option."""


def parse_fingerprint(text: str) -> tuple[str, str]:
    """``SHA256:AB:CD:..`` (or bare hex) to ("SHA256", "abcd..."); raises PolicyError."""
    head, sep, rest = text.strip().partition(":")
    if sep and head.upper() in _DIGEST_HEX:
        algo, value = head.upper(), rest
    else:
        algo, value = "", text.strip()
    value = re.sub(r"[:\s]", "", value).lower()
    if not re.fullmatch(r"[0-9a-f]+", value or "x"):
        raise PolicyError(f"--tls-fingerprint {text!r}: not hex")
    if not algo:
        algo = next((a for a, n in _DIGEST_HEX.items() if n == len(value)), "")
    if _DIGEST_HEX.get(algo) != len(value):
        raise PolicyError(f"--tls-fingerprint {text!r}: want SHA256:<64 hex> or SHA512:<128 hex>")
    return algo, value


class TLSPolicy(Value):
    """What the user asked of TLS: handshake parameters, names, pins and the level."""

    __slots__ = ("_context", "cafile", "capath", "ciphers", "client_cert", "client_key",
                 "dane_check", "fingerprints", "insecure", "level", "max_version",
                 "min_version", "nexthop", "show_certs", "sni", "tlsa", "verify_names")
    level: str
    cafile: str | None
    capath: str | None
    verify_names: tuple[str, ...]  # --verify-name; empty: the host connected to
    sni: str | None  # --sni; None: the host name (never an IP literal)
    fingerprints: tuple[tuple[str, str], ...]
    client_cert: str | None
    client_key: str | None
    min_version: str | None
    max_version: str | None
    ciphers: str | None
    show_certs: bool
    insecure: bool  # the user said --insecure: checks are reported, never enforced
    nexthop: str | None  # the mail domain of an @domain target (for "secure")
    tlsa: dict[tuple[str, int], TLSAReport]
    dane_check: bool  # look TLSA up even when the level does not need it
    _context: ssl.SSLContext | None  # built by context(), once; not a field

    def __init__(self, level: str = "may", cafile: str | None = None, capath: str | None = None,
                 verify_names: tuple[str, ...] = (), sni: str | None = None,
                 fingerprints: tuple[tuple[str, str], ...] = (), client_cert: str | None = None,
                 client_key: str | None = None, min_version: str | None = None,
                 max_version: str | None = None, ciphers: str | None = None,
                 show_certs: bool = False, insecure: bool = False, nexthop: str | None = None,
                 tlsa: dict[tuple[str, int], TLSAReport] | None = None,
                 dane_check: bool = False) -> None:
        self._set(level=level, cafile=cafile, capath=capath, verify_names=verify_names, sni=sni,
                  fingerprints=fingerprints, client_cert=client_cert, client_key=client_key,
                  min_version=min_version, max_version=max_version, ciphers=ciphers,
                  show_certs=show_certs, insecure=insecure, nexthop=nexthop,
                  tlsa={} if tlsa is None else tlsa, dane_check=dane_check, _context=None)
        if self.level not in LEVELS:
            raise PolicyError(f"--tls-level {self.level!r}: one of {', '.join(LEVELS)}")
        for label, version in (("--tls-min", self.min_version), ("--tls-max", self.max_version)):
            if version is not None and version not in VERSIONS:
                raise PolicyError(f"{label} {version!r}: one of {', '.join(VERSIONS)}")

    @property
    def wants_tlsa(self) -> bool:
        return self.dane_check or self.level in ("dane", "dane-only")

    @property
    def tls_required(self) -> bool:
        return LEVELS[self.level].tls_required

    def context(self) -> ssl.SSLContext:
        """The handshake context: it never verifies, so a bad certificate can still be shown.

        Verification happens afterwards in ``evaluate``, by the rules of the level. One context
        per policy, so a saved session can be offered again (``probe --reconnect``).
        """
        if self._context is not None:
            return self._context
        import ssl

        from smtpscope.transport.tls import watch_client_certificate
        # ssl.create_default_context's client context without its system CA store: loading
        # that costs tens of milliseconds per context and a context that never verifies does
        # not read it (the CAs that count are the level's, used in ``evaluate``).
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        keylog = os.environ.get("SSLKEYLOGFILE")  # as create_default_context honours it
        if keylog and not sys.flags.ignore_environment:
            context.keylog_filename = keylog
        watch_client_certificate(context)  # a view can say whether the server asked for one
        if self.client_cert:
            try:
                context.load_cert_chain(self.client_cert, self.client_key)
            except (OSError, ssl.SSLError) as exc:
                what = "no key in the file (give --tls-key)" if not self.client_key else exc
                raise PolicyError(f"--tls-cert {self.client_cert}: cannot load certificate "
                                  f"and key: {what}") from exc
        if self.min_version:
            context.minimum_version = getattr(ssl.TLSVersion, VERSIONS[self.min_version])
            if context.minimum_version < ssl.TLSVersion.TLSv1_2:
                context.set_ciphers("DEFAULT:@SECLEVEL=0")
        if self.max_version:
            context.maximum_version = getattr(ssl.TLSVersion, VERSIONS[self.max_version])
            if context.maximum_version < ssl.TLSVersion.TLSv1_2:
                context.set_ciphers("DEFAULT:@SECLEVEL=0")
        if self.ciphers:
            try:
                context.set_ciphers(self.ciphers)  # TLS 1.2 and below; 1.3 suites stay default
            except ssl.SSLError as exc:
                raise PolicyError(f"--tls-ciphers {self.ciphers!r}: {exc}") from exc
        self._context = context
        return context

    def names_for(self, host: str) -> tuple[str, ...]:
        """Reference names the certificate must carry under this level."""
        if self.verify_names:
            return self.verify_names
        if self.level == "secure" and self.nexthop:
            return (self.nexthop, "." + self.nexthop)
        return (host.strip("[]").rstrip("."),)

    def evaluate(self, info: TLSInfo, host: str, port: int) -> TLSInfo:
        """Judge a finished handshake: PKIX, pins, DANE, then whether the level lets it on."""
        from smtpscope.security.pkix import check_chain, trust_anchors

        # The chain as received; a certificate that cannot be read has no PEM to go back to.
        chain = info._der or tuple(pem_der(c.pem) for c in info.peer_chain if c.pem)
        names = self.names_for(host)
        try:
            anchors = trust_anchors(self.cafile, self.capath)
        except (OSError, ValueError):  # (ssl.SSLError is an OSError)
            anchors = ()
        pkix = check_chain(chain, names, anchors)
        pin = None
        for algo, value in self.fingerprints:
            leaf = info.leaf
            if leaf is None:
                break
            cert_fp = leaf.fingerprint_sha256 if algo == "SHA256" else _sha512(chain[0])
            spki_fp = leaf.spki_sha256 if algo == "SHA256" else leaf.spki_sha512
            if value == cert_fp:
                pin = f"certificate {algo}"
            elif value == spki_fp:
                pin = f"public key {algo}"
        dane = None
        report = next((self.tlsa[k] for k in ((n.rstrip(".").lower(), port)
                                              for n in (host, *self.verify_names))
                       if k in self.tlsa), None)
        if report is not None:
            from smtpscope.security.dane import match_tlsa

            dane = match_tlsa(report, chain, (host.rstrip("."), *self.verify_names))
        if dane is not None and dane.matched:
            trust = "dane"
        elif pin is not None and self.level == "fingerprint":
            trust = "fingerprint"
        else:
            trust = pkix.status
        refusal = decide(
            self.level, trust=trust, dane_applies=bool(dane and dane.applies),
            dane_matched=bool(dane and dane.matched), fingerprint_matched=pin is not None,
            pkix_verified=pkix.status == "verified", pkix_reason=pkix.reason,
            dane_lookup=dane.lookup if dane is not None else None,
        )
        if self.insecure:
            refusal = None
        client = self.client_certificates()
        return info._replace(
            verified=pkix.status == "verified",
            verify_error=pkix.reason,
            insecure=self.insecure,
            hostname_checked=True,
            level=self.level,
            trust=trust,
            trust_reason_code=pkix.reason_code,
            names_checked=names,
            verified_name=pkix.matched_name,
            trust_anchor=pkix.anchor,
            fingerprint_match=pin,
            fingerprints_pinned=len(self.fingerprints),
            dane=dane,
            accepted=refusal is None,
            refusal=refusal,
            peer_host=host,
            requested=self.requested(),
            client_cert=self.client_subject(client),
            client_chain=client,
        )

    def client_certificates(self) -> tuple[str, ...]:
        """The certificates of the --tls-cert file, PEM, in its order (the client's own
        first); () without one or when none can be read.

        Each is written anew from its parsed form, so nothing else the file holds (the private
        key kept with the certificate) can come along into a recording.
        """
        if not self.client_cert:
            return ()
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import Encoding

        try:
            with open(self.client_cert, "rb") as file:
                found = x509.load_pem_x509_certificates(file.read())
        except (OSError, ValueError):
            return ()
        return tuple(cert.public_bytes(Encoding.PEM).decode("ascii") for cert in found)

    @staticmethod
    def client_subject(chain: tuple[str, ...]) -> str | None:
        """The subject of the client's own certificate (the chain's first); None without one."""
        if not chain:
            return None
        from smtpscope.transport.x509 import cert_info_from_der

        return cert_info_from_der(pem_der(chain[0])).subject or None

    def requested(self) -> tuple[tuple[str, str], ...]:
        """The options as flags, for recordings and ``export --as swaks``. Files are named by
        their absolute paths: the recording is read, and its command run, from elsewhere."""
        from os.path import abspath

        pairs = [("--tls-level", self.level), ("--cafile", self.cafile and abspath(self.cafile)),
                 ("--capath", self.capath and abspath(self.capath)), ("--sni", self.sni),
                 ("--tls-cert", self.client_cert and abspath(self.client_cert)),
                 ("--tls-key", self.client_key and abspath(self.client_key)),
                 ("--tls-min", self.min_version), ("--tls-max", self.max_version),
                 ("--tls-ciphers", self.ciphers)]
        pairs += [("--verify-name", name) for name in self.verify_names]
        pairs += [("--tls-fingerprint", f"{algo}:{value}") for algo, value in self.fingerprints]
        return tuple((flag, value) for flag, value in pairs if value)


def _sha512(der: bytes) -> str:
    import hashlib

    return hashlib.sha512(der).hexdigest()


def policy_for(options: object) -> TLSPolicy:
    """The policy of a session: its own, or one built from the plain verify/cafile options."""
    policy = getattr(options, "tls", None)
    if isinstance(policy, TLSPolicy):
        return policy
    verify = bool(getattr(options, "verify", True))
    return TLSPolicy(level="verify" if verify else "may", cafile=getattr(options, "cafile", None),
                     insecure=not verify)
