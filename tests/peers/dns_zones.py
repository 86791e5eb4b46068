"""The zones tests/peers/dns.py writes from the Postfix harness's live certificates, to be signed:
tls.test (NSEC) and nsec3.test (NSEC3, RFC 5155), both with the TLSA of the harness's key.

Stdlib only (and openssl): dns.py loads this file by path, before any signing.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

TLS_ZONE = "tls.test"
NSEC3_ZONE = "nsec3.test"
STS_ID = "20261130T000000"


def _spki_sha256(cert: str) -> str:
    pem = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-pubkey"],
                         capture_output=True, check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pem,
                         capture_output=True, check=True).stdout
    return hashlib.sha256(der).hexdigest()


def _cert_digest(cert: str, algorithm: str) -> str:
    import ssl

    der = ssl.PEM_cert_to_DER_cert(Path(cert).read_text())
    return hashlib.new(algorithm, der).hexdigest()


def _port(mta: dict[str, object]) -> int:
    return int(dict(mta["ports"])["smtp"])  # type: ignore[call-overload]


def _dane_zone(origin: str, mta: dict[str, object]) -> list[str]:
    """What both signed zones hold: an MX (mx) with TLSA for the live key; another host (other)
    with addresses and no TLSA, the only MX of notlsa: DNSSEC proves there is no TLSA there."""
    port = _port(mta)
    good = _spki_sha256(str(mta["cert_file"]))
    return [
        f"$ORIGIN {origin}.",
        "$TTL 300",
        f"@ IN SOA ns.{origin}. hostmaster.{origin}. 1 3600 600 86400 300",
        f"@ IN NS ns.{origin}.",
        "; Written by tests/peers/dns.py start from the Postfix harness's live certificates.",
        "ns IN A 127.0.0.1",
        f"@ IN MX 10 mx.{origin}.",
        "mx IN A 127.0.0.1",
        "other IN A 127.0.0.1",
        f"notlsa IN MX 10 other.{origin}.",
        f"; TLSA at the harness's SMTP port ({port}): the live key (DANE-EE SPKI SHA2-256), and",
        "; the harness CA (DANE-TA Cert SHA2-256), which Postfix does not send.",
        f"_{port}._tcp.mx IN TLSA 3 1 1 {good}",
        f"_{port}._tcp.mx IN TLSA 2 0 1 {_cert_digest(str(mta['ca_file']), 'sha256')}",
    ]


def tls_zone(mta: dict[str, object]) -> str:
    """tls.test: the DANE zone, plus an MX whose TLSA does not match, one whose TLSA signature
    does not verify, and MTA-STS domains (enforce, testing) with a matching and a non-matching
    MX."""
    port = _port(mta)
    tls = dict(mta.get("tls") or {})  # type: ignore[call-overload]
    good = _spki_sha256(str(mta["cert_file"]))
    stranger = _spki_sha256(str(tls["stranger.pem"])) if "stranger.pem" in tls else "00" * 32
    lines = [
        *_dane_zone(TLS_ZONE, mta),
        "bad IN A 127.0.0.1",
        "; TLSA that cannot match: another key, and a certificate digest of another CA's key.",
        f"_{port}._tcp.bad IN TLSA 3 1 1 {stranger}",
        f"_{port}._tcp.bad IN TLSA 3 0 2 {_cert_digest(str(mta['ca_file']), 'sha512')}",
        "; The live key again, under a signature made invalid (dnssec.BOGUS): a validating",
        "; resolver answers SERVFAIL, as for a broken zone or a forged answer.",
        "bogus IN A 127.0.0.1",
        f"_{port}._tcp.bogus IN TLSA 3 1 1 {good}",
    ]
    for sub in ("enforce", "testing", "nomatch"):
        lines += [
            f"{sub} IN MX 10 mx.{TLS_ZONE}.",
            f"{sub} IN MX 20 other.{TLS_ZONE}.",
            f'_mta-sts.{sub} IN TXT "v=STSv1; id={STS_ID}"',
            f"mta-sts.{sub} IN A 127.0.0.1",
            f'_smtp._tls.{sub} IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@{TLS_ZONE}"',
        ]
    return "\n".join(lines) + "\n"


def signed_zones(mta: dict[str, object]) -> dict[str, tuple[str, bool]]:
    """Zone name -> (its text, whether to sign it with NSEC3 rather than NSEC)."""
    return {TLS_ZONE: (tls_zone(mta), False),
            NSEC3_ZONE: ("\n".join(_dane_zone(NSEC3_ZONE, mta)) + "\n", True)}
