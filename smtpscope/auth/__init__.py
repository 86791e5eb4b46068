"""Sans-IO SASL client mechanisms for SMTP AUTH, with every intermediate value exposed."""

from __future__ import annotations

from smtpscope.auth.base import HIDDEN, Mechanism, Step, show_bytes
from smtpscope.auth.cram_md5 import CramMD5
from smtpscope.auth.decode import Decoded, decode_blob
from smtpscope.auth.digest_md5 import DigestMD5
from smtpscope.auth.login import Login
from smtpscope.auth.oauth import OAuthBearer, XOAuth2
from smtpscope.auth.plain import Plain
from smtpscope.auth.redact import ClientLineRedactor, redact_client_line
from smtpscope.auth.scram import ScramSHA1, ScramSHA256

# Upper-case SASL name -> class. A plain dict so the set of mechanisms is visible in one place.
MECHANISMS: dict[str, type[Mechanism]] = {
    "PLAIN": Plain,
    "LOGIN": Login,
    "CRAM-MD5": CramMD5,
    "DIGEST-MD5": DigestMD5,
    "SCRAM-SHA-1": ScramSHA1,
    "SCRAM-SHA-256": ScramSHA256,
    "XOAUTH2": XOAuth2,
    "OAUTHBEARER": OAuthBearer,
}

# Mechanisms whose exchange puts the password or a token on the wire in recoverable form.
CLEARTEXT_MECHANISMS = frozenset({"PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER"})


def get_mechanism(name: str) -> type[Mechanism]:
    """Look up a mechanism class by SASL name (case-insensitive); KeyError names the known ones."""
    try:
        return MECHANISMS[name.upper()]
    except KeyError:
        known = ", ".join(MECHANISMS)
        raise KeyError(f"unsupported SASL mechanism {name!r}; supported: {known}") from None


__all__ = [
    "CLEARTEXT_MECHANISMS",
    "HIDDEN",
    "MECHANISMS",
    "ClientLineRedactor",
    "CramMD5",
    "Decoded",
    "DigestMD5",
    "Login",
    "Mechanism",
    "OAuthBearer",
    "Plain",
    "ScramSHA1",
    "ScramSHA256",
    "Step",
    "XOAuth2",
    "decode_blob",
    "get_mechanism",
    "redact_client_line",
    "show_bytes",
]
