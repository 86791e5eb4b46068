"""Reply-code catalogue as data (RFC 5321 basic codes, RFC 3463/5248 enhanced codes) + explain()."""

from __future__ import annotations

from typing import Final

from ..values import Frozen
from .events import EnhancedCode, Reply

__all__ = [
    "BASIC_CODES",
    "CLASS_WORDS",
    "ENHANCED_DETAILS",
    "ENHANCED_SUBJECTS",
    "Explanation",
    "describe_basic",
    "describe_enhanced",
    "explain",
]

#: Basic reply codes: RFC 5321 §4.2.2-4.2.3 plus the extensions that define their own.
BASIC_CODES: Final[dict[int, str]] = {
    211: "System status, or system help reply",
    214: "Help message",
    220: "Service ready",
    221: "Service closing transmission channel",
    235: "Authentication succeeded (RFC 4954)",
    250: "Requested mail action okay, completed",
    251: "User not local; will forward",
    252: "Cannot VRFY user, but will accept message and attempt delivery",
    253: "OK, messages pending for the node have been started (ETRN, RFC 1985)",
    334: "Authentication challenge: send the next SASL response (RFC 4954)",
    353: "Per-recipient data responses follow (PRDR)",
    354: "Start mail input; end with <CRLF>.<CRLF>",
    421: "Service not available, closing transmission channel",
    432: "A password transition is needed (RFC 4954)",
    450: "Requested mail action not taken: mailbox unavailable (busy or temporarily blocked)",
    451: "Requested action aborted: local error in processing",
    452: "Requested action not taken: insufficient system storage (or too many recipients)",
    454: "Temporary failure: TLS not available (RFC 3207) or temporary authentication failure "
    "(RFC 4954)",
    455: "Server unable to accommodate parameters",
    458: "Unable to queue messages for the node (ETRN, RFC 1985)",
    459: "Node not allowed (ETRN, RFC 1985)",
    500: "Syntax error, command unrecognized (or line too long)",
    501: "Syntax error in parameters or arguments",
    502: "Command not implemented",
    503: "Bad sequence of commands",
    504: "Command parameter not implemented",
    521: "Host does not accept mail (RFC 7504)",
    530: "Authentication required (RFC 4954)",
    534: "Authentication mechanism is too weak (RFC 4954)",
    535: "Authentication credentials invalid (RFC 4954)",
    538: "Encryption required for requested authentication mechanism (RFC 4954)",
    550: "Requested action not taken: mailbox unavailable (not found, no access, or policy)",
    551: "User not local; please try the forward-path",
    552: "Requested mail action aborted: exceeded storage allocation",
    553: "Requested action not taken: mailbox name not allowed",
    554: "Transaction failed (in a greeting: no SMTP service here)",
    555: "MAIL FROM/RCPT TO parameters not recognized or not implemented",
    556: "Domain does not accept mail (RFC 7504)",
}

#: Meaning of the first digit, for codes missing from the catalogue.
_CLASS_FALLBACK: Final[dict[int, str]] = {
    1: "Positive preliminary reply (unused in SMTP)",
    2: "Positive completion",
    3: "Positive intermediate: the server waits for more",
    4: "Transient negative completion: try again later",
    5: "Permanent negative completion",
}

#: RFC 3463 class words, used after an enhanced meaning: "(permanent failure)".
CLASS_WORDS: Final[dict[int, str]] = {
    2: "success",
    4: "persistent transient failure",
    5: "permanent failure",
}

#: X.subject (RFC 3463 §3).
ENHANCED_SUBJECTS: Final[dict[int, str]] = {
    0: "Other or undefined status",
    1: "Addressing status",
    2: "Mailbox status",
    3: "Mail system status",
    4: "Network and routing status",
    5: "Mail delivery protocol status",
    6: "Message content or media status",
    7: "Security or policy status",
}

#: X.subject.detail, class-neutral (RFC 3463 §3, IANA registry per RFC 5248 and later RFCs).
ENHANCED_DETAILS: Final[dict[tuple[int, int], str]] = {
    (0, 0): "Other undefined status",
    (1, 0): "Other address status",
    (1, 1): "Bad destination mailbox address",
    (1, 2): "Bad destination system address",
    (1, 3): "Bad destination mailbox address syntax",
    (1, 4): "Destination mailbox address ambiguous",
    (1, 5): "Destination address valid",
    (1, 6): "Destination mailbox has moved, no forwarding address",
    (1, 7): "Bad sender's mailbox address syntax",
    (1, 8): "Bad sender's system address",
    (1, 9): "Message relayed to non-compliant mailer (RFC 3886)",
    (1, 10): "Recipient address has null MX (RFC 7505)",
    (2, 0): "Other or undefined mailbox status",
    (2, 1): "Mailbox disabled, not accepting messages",
    (2, 2): "Mailbox full",
    (2, 3): "Message length exceeds administrative limit",
    (2, 4): "Mailing list expansion problem",
    (3, 0): "Other or undefined mail system status",
    (3, 1): "Mail system full",
    (3, 2): "System not accepting network messages",
    (3, 3): "System not capable of selected features",
    (3, 4): "Message too big for system",
    (3, 5): "System incorrectly configured",
    (3, 6): "Requested priority was changed (RFC 6710)",
    (4, 0): "Other or undefined network or routing status",
    (4, 1): "No answer from host",
    (4, 2): "Bad connection",
    (4, 3): "Directory server failure",
    (4, 4): "Unable to route",
    (4, 5): "Mail system congestion",
    (4, 6): "Routing loop detected",
    (4, 7): "Delivery time expired",
    (5, 0): "Other or undefined protocol status",
    (5, 1): "Invalid command",
    (5, 2): "Syntax error",
    (5, 3): "Too many recipients",
    (5, 4): "Invalid command arguments",
    (5, 5): "Wrong protocol version",
    (5, 6): "Authentication exchange line is too long (RFC 4954)",
    (6, 0): "Other or undefined media error",
    (6, 1): "Media not supported",
    (6, 2): "Conversion required and prohibited",
    (6, 3): "Conversion required but not supported",
    (6, 4): "Conversion with loss performed",
    (6, 5): "Conversion failed",
    (6, 6): "Message content not available (RFC 4468)",
    (6, 7): "Non-ASCII addresses not permitted for that sender/recipient (RFC 6531)",
    (6, 8): "UTF-8 string reply is required, but not permitted by the SMTP client (RFC 6531)",
    (6, 9): "UTF-8 header message cannot be transferred to one or more recipients (RFC 6531)",
    (6, 10): "UTF-8 string reply required but not permitted (duplicate of X.6.8, deprecated)",
    (7, 0): "Other or undefined security status",
    (7, 1): "Delivery not authorized, message refused",
    (7, 2): "Mailing list expansion prohibited",
    (7, 3): "Security conversion required but not possible",
    (7, 4): "Security features not supported",
    (7, 5): "Cryptographic failure",
    (7, 6): "Cryptographic algorithm not supported",
    (7, 7): "Message integrity failure",
    (7, 8): "Authentication credentials invalid (RFC 4954)",
    (7, 9): "Authentication mechanism is too weak (RFC 4954)",
    (7, 10): "Encryption needed (RFC 5248)",
    (7, 11): "Encryption required for requested authentication mechanism (RFC 4954)",
    (7, 12): "A password transition is needed (RFC 4954)",
    (7, 13): "User account disabled (RFC 5248)",
    (7, 14): "Trust relationship required (RFC 5248)",
    (7, 15): "Priority level is too low (RFC 6710)",
    (7, 16): "Message is too big for the specified priority (RFC 6710)",
    (7, 17): "Mailbox owner has changed (RFC 7293)",
    (7, 18): "Domain owner has changed (RFC 7293)",
    (7, 19): "RRVS test cannot be completed (RFC 7293)",
    (7, 20): "No passing DKIM signature found (RFC 7372)",
    (7, 21): "No acceptable DKIM signature found (RFC 7372)",
    (7, 22): "No valid author-matched DKIM signature found (RFC 7372)",
    (7, 23): "SPF validation failed (RFC 7372)",
    (7, 24): "SPF validation error (RFC 7372)",
    (7, 25): "Reverse DNS validation failed (RFC 7372)",
    (7, 26): "Multiple authentication checks failed (RFC 7372)",
    (7, 27): "Sender address has null MX (RFC 7505)",
    (7, 28): "Mail flood detected",
    (7, 29): "ARC validation failure (RFC 8617)",
    (7, 30): "REQUIRETLS support required (RFC 8689)",
}

#: Class-specific wording where the class-neutral text reads wrong.
_CLASS_SPECIFIC: Final[dict[tuple[int, int, int], str]] = {
    (2, 0, 0): "OK",
    (2, 1, 0): "Sender address OK",
    (2, 1, 5): "Destination address valid",
    (2, 7, 0): "Authentication succeeded / security status OK (RFC 4954)",
}


class Explanation(Frozen):
    """What a reply means: basic-code text, enhanced-code text (if any), one-line summary."""

    __slots__ = ("basic", "enhanced", "summary")
    basic: str
    enhanced: str | None
    summary: str

    def __init__(self, basic: str, enhanced: str | None, summary: str) -> None:
        self._set(basic=basic, enhanced=enhanced, summary=summary)


def describe_basic(code: int) -> str:
    text = BASIC_CODES.get(code)
    if text is not None:
        return text
    fallback = _CLASS_FALLBACK.get(code // 100, "Not an SMTP reply class")
    return f"{fallback} (code {code} is not in the catalogue)"


def describe_enhanced(code: EnhancedCode) -> str:
    """Class-neutral meaning of an enhanced code, falling back to its subject."""
    specific = _CLASS_SPECIFIC.get((code.klass, code.subject, code.detail))
    if specific is not None:
        return specific
    detail = ENHANCED_DETAILS.get((code.subject, code.detail))
    if detail is not None:
        return detail
    subject = ENHANCED_SUBJECTS.get(code.subject)
    if subject is not None:
        return f"{subject} (detail {code.detail} not in the registry)"
    return f"Unregistered status (subject {code.subject})"


def explain(reply: Reply) -> Explanation:
    """Explain ``reply``.

    Summary example: "535 5.7.8 — Authentication credentials invalid (permanent failure)".
    """
    basic = describe_basic(reply.code)
    if reply.enhanced is None:
        return Explanation(basic, None, f"{reply.code} — {basic}")
    enhanced = describe_enhanced(reply.enhanced)
    word = CLASS_WORDS.get(reply.enhanced.klass, "unknown class")
    summary = f"{reply.code} {reply.enhanced} — {enhanced} ({word})"
    return Explanation(basic, enhanced, summary)
