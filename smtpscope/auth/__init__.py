"""Sans-IO SASL client mechanisms for SMTP AUTH, with every intermediate value exposed."""

from __future__ import annotations

from smtpscope.auth.base import HIDDEN, Mechanism, Step, show_bytes
from smtpscope.auth.cram_md5 import CramMD5
from smtpscope.auth.decode import Decoded, decode_blob
from smtpscope.auth.digest_md5 import DigestMD5
from smtpscope.auth.login import Login
from smtpscope.auth.oauth import OAuthBearer, XOAuth2
from smtpscope.auth.plain import Plain
from smtpscope.auth.redact import redact_client_line
from smtpscope.auth.scram import ScramSHA1, ScramSHA256

# The registry: adding a mechanism is its module plus one line here. Everything else (the
# name lookup, preference order, token fields, cleartext warnings, values safe to show,
# transcript masks) is derived from the metadata on each class.
REGISTERED: tuple[type[Mechanism], ...] = (
    Plain,
    Login,
    CramMD5,
    DigestMD5,
    ScramSHA1,
    ScramSHA256,
    XOAuth2,
    OAuthBearer,
)

# Upper-case SASL name -> class.
MECHANISMS: dict[str, type[Mechanism]] = {cls.name: cls for cls in REGISTERED}

# Mechanisms whose exchange puts the password or a token on the wire in recoverable form.
CLEARTEXT_MECHANISMS = frozenset(cls.name for cls in REGISTERED if cls.cleartext)
# Mechanisms that take an OAuth token rather than a password.
TOKEN_MECHANISMS = frozenset(cls.name for cls in REGISTERED if cls.token_based)
# Values every exchange may show, plus what each mechanism declares public.
PUBLIC_LABELS = frozenset({"challenge", "final reply", "server verified"}).union(
    *(cls.public_labels for cls in REGISTERED))


def preferred(*, automatic: bool = False) -> tuple[str, ...]:
    """Mechanism names, strongest first; ``automatic``: only those ``--auth auto`` may pick."""
    ranked = sorted(REGISTERED, key=lambda cls: -cls.preference)
    return tuple(cls.name for cls in ranked if cls.automatic or not automatic)


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
    "PUBLIC_LABELS",
    "REGISTERED",
    "TOKEN_MECHANISMS",
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
    "preferred",
    "redact_client_line",
    "show_bytes",
]
