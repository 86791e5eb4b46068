"""``mx --check-tls``: STARTTLS to every MX, its certificate checked for its own name, and DANE."""

from __future__ import annotations

import ssl
from typing import Any

from smtpscope.dns._json import jsonable
from smtpscope.security.pkix import PkixResult, check_chain, trust_anchors
from smtpscope.security.policy import TLSPolicy
from smtpscope.security.starttls_client import StepFailed, open_tls, quit_politely
from smtpscope.session_types import Stage
from smtpscope.transport.errors import ConnectError, TLSError, TransportError
from smtpscope.transport.tls import peer_chain_der
from smtpscope.transport.x509 import cert_info_from_der

#: What ``failed_before`` keeps of each address that did not answer.
FAILURE_KEYS = ("address", "error", "error_step", "error_kind")


def failure_kind(exc: BaseException) -> tuple[str | None, str | None]:
    """(the stage that failed, how) from the exception's type, never its text: ``connect``
    (ConnectError kinds), ``tls`` (TLSError kinds), an SMTP step (StepFailed kinds); an OS
    error on an open connection (reset, broken pipe) is that connection ``closed``. Stages
    are the conversation's words, as ``stage`` in probe's report."""
    if isinstance(exc, ConnectError):
        return Stage.CONNECT.value, exc.kind
    if isinstance(exc, TLSError):
        return Stage.TLS.value, exc.kind
    if isinstance(exc, StepFailed):
        return exc.step.value, exc.kind
    if isinstance(exc, ConnectionError):
        return None, "closed"
    return None, None


def check_mx_tls(host: str, address: str, port: int, *, tlsa: Any = None,
                 cafile: str | None = None, capath: str | None = None, timeout: float = 10.0,
                 helo: str = "smtpscope.localhost") -> tuple[dict[str, Any], PkixResult | None]:
    """One MX: (a JSON-ready result, its PKIX result for ``host`` or None when unreachable)."""
    base: dict[str, Any] = {"host": host, "address": address, "port": port}
    context = TLSPolicy(level="may").context()  # look first, judge afterwards
    try:
        tls, wire = open_tls(address, port, implicit=False, context=context, sni=host,
                               helo=helo, timeout=timeout)
    except (OSError, ssl.SSLError, TransportError) as exc:  # ConnectionError is an OSError
        step, kind = failure_kind(exc)
        return {**base, "error": str(exc), "error_step": step, "error_kind": kind}, None
    chain, complete = peer_chain_der(tls)
    version = tls.version()
    quit_politely(tls, wire, implicit=False)
    pkix = check_chain(chain, (host,), trust_anchors(cafile, capath))
    dane = None
    if tlsa is not None and tlsa.records:
        from smtpscope.security.dane import match_tlsa

        dane = match_tlsa(tlsa, chain, (host,))
    leaf = cert_info_from_der(chain[0]) if chain else None
    return {**base, "error": None, "error_step": None, "error_kind": None, "version": version,
            "chain_complete": complete, "certificate": jsonable(leaf), "pkix": jsonable(pkix),
            "dane": jsonable(dane)}, pkix


def check_mx_host(host: str, addresses: tuple[str, ...], port: int, **options: Any
                  ) -> tuple[dict[str, Any], PkixResult | None]:
    """:func:`check_mx_tls` at each address of ``host`` in turn until one answers, as a sender
    tries them (RFC 5321 §5.1); the result is that address's, with the ones that failed before
    it under ``failed_before`` (the last one's when none answered)."""
    failed: list[dict[str, Any]] = []
    result: dict[str, Any] = {"host": host, "address": None, "port": port,
                              "error": "no address to connect to", "error_step": None,
                              "error_kind": None}
    pkix = None
    for address in addresses:
        if result["address"] is not None:
            failed.append({key: result[key] for key in FAILURE_KEYS})
        result, pkix = check_mx_tls(host, address, port, **options)
        if result["error"] is None:
            break
    return {**result, "failed_before": failed}, pkix


def check_lines(results: list[dict[str, Any]]) -> list[str]:
    """The results as text lines (before sanitizing)."""
    lines = []
    for r in results:
        for failed in r.get("failed_before", ()):
            lines.append(f"{r['host']} [{failed['address']}]:{r['port']}: no TLS: "
                         f"{failed['error']}")
        head = f"{r['host']} [{r['address']}]:{r['port']}"
        if r.get("error"):
            lines.append(f"{head}: no TLS: {r['error']}")
            continue
        pkix = r["pkix"]
        verdict = f"certificate valid for {r['host']}" if pkix["status"] == "verified" else \
            f"certificate {pkix['status']}: {pkix['reason']}"
        lines.append(f"{head}: {r['version']}, {verdict}")
        if r.get("certificate"):
            lines.append(f"    subject {r['certificate']['subject']}; SPKI SHA-256 "
                         f"{r['certificate']['spki_sha256']}")
        if r.get("dane"):
            lines.append(f"    DANE: {r['dane']['summary']}")
    return lines
