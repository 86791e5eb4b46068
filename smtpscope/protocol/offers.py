"""What may be typed under an advertisement: verb and parameter templates for line editors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from .checks import param_keyword
from .params import MAIL_TEMPLATES, RCPT_TEMPLATES
from .state import LMTP_ONLY, REQUIRES_EXTENSION, SMTP_ONLY

if TYPE_CHECKING:
    from collections.abc import Iterable

    from .capabilities import Capabilities

__all__ = ["VERB_TEMPLATES", "mechanism_offers", "param_offers", "verb_offers",
           "xclient_offers"]

#: How each verb starts on a line, in the order a completion lists them.
VERB_TEMPLATES: Final[tuple[str, ...]] = (
    "EHLO ", "HELO ", "LHLO ", "MAIL FROM:<", "RCPT TO:<", "DATA", "BDAT ", "RSET", "NOOP",
    "VRFY ", "EXPN ", "HELP", "ETRN ", "STARTTLS", "AUTH ", "QUIT", "XCLIENT ",
)


def _advertised(caps: Capabilities | None, keyword: str | None) -> bool:
    return keyword is None or (caps is not None and caps.has(keyword))


def verb_offers(caps: Capabilities | None, *, lmtp: bool | None = None) -> list[str]:
    """Verb templates the engine would accept under ``caps`` (extension verbs need their
    keyword; with ``lmtp`` known, only that protocol's greeting verb)."""
    offers = []
    for template in VERB_TEMPLATES:
        verb = template.split()[0]
        if (verb in LMTP_ONLY and lmtp is not True) or (verb in SMTP_ONLY and lmtp is True):
            continue
        if _advertised(caps, REQUIRES_EXTENSION.get(verb)):
            offers.append(template)
    return offers


def param_offers(verb: str, caps: Capabilities | None, present: Iterable[str] = ()) -> list[str]:
    """MAIL or RCPT parameter templates whose keyword ``caps`` advertises, skipping the
    parameter names in ``present``. Without an EHLO reply nothing is advertised."""
    if caps is None:
        return []
    table = MAIL_TEMPLATES if verb.upper() == "MAIL" else RCPT_TEMPLATES
    skip = {name.upper() for name in present}
    offers = []
    for template in table:
        key, _, value = template.partition("=")
        if key in skip:
            continue
        needed = param_keyword(key, value or None)
        if _advertised(caps, needed):
            offers.append(template)
    return offers


def _typeable(name: str) -> bool:
    """A name the server sent that a line editor may offer: printable ASCII, as the grammars
    of SASL mechanism names (RFC 4422 §3.1) and XCLIENT attributes have it. A control
    character or an undecodable byte (kept as a lone surrogate for display) is shown in the
    transcript and the inspector, never put on a line to send."""
    return name.isascii() and name.isprintable()


def mechanism_offers(caps: Capabilities | None) -> list[str]:
    """The SASL mechanisms ``caps`` advertises, in the server's order (typeable ones)."""
    return [m for m in caps.auth_mechanisms if _typeable(m)] if caps is not None else []


def xclient_offers(caps: Capabilities | None, present: Iterable[str] = ()) -> list[str]:
    """``NAME=`` for each attribute the server lists after XCLIENT (Postfix does), in its
    order, skipping the names in ``present``."""
    cap = caps.get("XCLIENT") if caps is not None else None
    if cap is None:
        return []
    skip = {name.upper() for name in present}
    return [f"{name.upper()}=" for name in cap.params
            if name.upper() not in skip and _typeable(name)]
