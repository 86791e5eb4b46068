"""The TLS options of a recorded session in swaks' words, for ``export --as swaks``."""

from __future__ import annotations

from typing import Any

_ORDER = ("1.0", "1.1", "1.2", "1.3")
_SWAKS_VERSION = {"1.0": "tlsv1", "1.1": "tlsv1_1", "1.2": "tlsv1_2", "1.3": "tlsv1_3"}


def swaks_tls_options(info: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(swaks arguments, notes) for the TLS flags recorded in a TLS entry's ``requested``."""
    requested: dict[str, list[str]] = {}
    for flag, value in info.get("requested") or ():
        requested.setdefault(flag, []).append(value)

    def one(flag: str) -> str | None:
        return requested.get(flag, [None])[0]

    argv: list[str] = []
    notes: list[str] = []
    if one("--tls-level") in ("verify", "secure"):
        argv.append("--tls-verify")
    ca = one("--capath") or one("--cafile")
    if ca:
        argv += ["--tls-ca-path", ca]
    for ours, theirs in (("--tls-cert", "--tls-cert"), ("--tls-key", "--tls-key"),
                         ("--tls-ciphers", "--tls-cipher"), ("--sni", "--tls-sni")):
        if one(ours):
            argv += [theirs, str(one(ours))]
    low, high = one("--tls-min"), one("--tls-max")
    if low or high:
        span = _ORDER[_ORDER.index(low or "1.0"): _ORDER.index(high or "1.3") + 1]
        argv += ["--tls-protocol", ",".join(_SWAKS_VERSION[v] for v in span)]
    for flag in ("--verify-name", "--tls-fingerprint"):
        if flag in requested:
            notes.append(f"swaks has no {flag}: the check is not repeated")
    if one("--tls-level") in ("dane", "dane-only", "fingerprint"):
        notes.append(f"swaks has no DANE or pinning: --tls-level {one('--tls-level')} is not "
                     "repeated")
    return argv, notes
