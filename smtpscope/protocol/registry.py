"""EHLO keyword registry as data (IANA "SMTP Service Extensions" plus keywords seen in the wild)."""

from __future__ import annotations

from typing import Final

from ..values import Frozen

__all__ = ["KEYWORDS", "LIMITS", "KeywordInfo", "explain_limits", "lookup_keyword"]


class KeywordInfo(Frozen):
    __slots__ = ("keyword", "meaning", "params", "rfc", "verbs")
    keyword: str
    rfc: str
    meaning: str
    params: str
    verbs: str

    def __init__(self, keyword: str, rfc: str, meaning: str, params: str = "",
                 verbs: str = "") -> None:
        self._set(keyword=keyword, rfc=rfc, meaning=meaning, params=params, verbs=verbs)


_ROWS: Final[tuple[KeywordInfo, ...]] = (
    KeywordInfo("SIZE", "RFC 1870", "Message size declaration",
                "optional maximum size in octets (0 or none: no fixed limit)", "MAIL … SIZE=n"),
    KeywordInfo("PIPELINING", "RFC 2920", "Command pipelining (send MAIL/RCPT/DATA in a batch)"),
    KeywordInfo("8BITMIME", "RFC 6152", "8-bit MIME transport", "", "BODY=8BITMIME / 7BIT"),
    KeywordInfo("SMTPUTF8", "RFC 6531", "Internationalized email (UTF-8 addresses and headers)",
                "", "MAIL … SMTPUTF8"),
    KeywordInfo("CHUNKING", "RFC 3030", "Message transfer in chunks", "", "BDAT <size> [LAST]"),
    KeywordInfo("BINARYMIME", "RFC 3030", "Binary MIME bodies (requires BDAT)", "",
                "BODY=BINARYMIME"),
    KeywordInfo("DSN", "RFC 3461", "Delivery status notifications", "",
                "MAIL RET=FULL|HDRS ENVID=; RCPT NOTIFY= ORCPT="),
    KeywordInfo("ENHANCEDSTATUSCODES", "RFC 2034", "Replies carry x.y.z enhanced status codes"),
    KeywordInfo("STARTTLS", "RFC 3207", "Upgrade to TLS (EHLO again afterwards)", "", "STARTTLS"),
    KeywordInfo("AUTH", "RFC 4954", "SMTP authentication (SASL)", "mechanism list",
                "AUTH mech [initial-response]; MAIL AUTH="),
    KeywordInfo("REQUIRETLS", "RFC 8689", "Require TLS for onward delivery", "",
                "MAIL … REQUIRETLS"),
    KeywordInfo("LIMITS", "RFC 9422", "Server limits", "MAILMAX=n RCPTMAX=n RCPTDOMAINMAX=n"),
    KeywordInfo("MT-PRIORITY", "RFC 6710", "Message transfer priorities", "optional policy name",
                "MAIL … MT-PRIORITY=-9..9"),
    KeywordInfo("DELIVERBY", "RFC 2852", "Deliver by a time", "optional minimum by-time",
                "MAIL … BY=<secs>;R|N[T]"),
    KeywordInfo("ETRN", "RFC 1985", "Remote message queue starting", "", "ETRN [@#]node"),
    KeywordInfo("FUTURERELEASE", "RFC 4865", "Future message release",
                "max interval, max date-time", "MAIL … HOLDFOR= / HOLDUNTIL="),
    KeywordInfo("BURL", "RFC 4468", "Message submission by URL reference", "", "BURL"),
    KeywordInfo("CHECKPOINT", "RFC 1845", "Checkpoint/restart of transactions", "",
                "MAIL … TRANSID="),
    KeywordInfo("CONNEG", "RFC 4141", "Content conversion permission and negotiation"),
    KeywordInfo("CONPERM", "RFC 4141", "Content conversion permission"),
    KeywordInfo("NO-SOLICITING", "RFC 3865", "No-soliciting keywords", "solicitation keywords"),
    KeywordInfo("MTRK", "RFC 3885", "Message tracking", "", "MAIL … MTRK="),
    KeywordInfo("ATRN", "RFC 2645", "Authenticated TURN (on-demand mail relay)", "", "ATRN"),
    KeywordInfo("RRVS", "RFC 7293", "Require-Recipient-Valid-Since", "", "RCPT … RRVS="),
    KeywordInfo("SUBMITTER", "RFC 4405", "Responsible submitter (experimental, Sender ID)", "",
                "MAIL … SUBMITTER="),
    KeywordInfo("SEND", "RFC 821", "Send to terminal (historic)", "", "SEND"),
    KeywordInfo("SOML", "RFC 821", "Send or mail (historic)", "", "SOML"),
    KeywordInfo("SAML", "RFC 821", "Send and mail (historic)", "", "SAML"),
    KeywordInfo("TURN", "RFC 821", "Turn roles around (historic, insecure)", "", "TURN"),
    KeywordInfo("EXPN", "RFC 5321", "Expand a mailing list", "", "EXPN"),
    KeywordInfo("HELP", "RFC 5321", "Help text", "", "HELP"),
    KeywordInfo("VRFY", "RFC 5321", "Verify a user name", "", "VRFY"),
    KeywordInfo("VERB", "Sendmail", "Verbose mode (sendmail vendor keyword)", "", "VERB"),
    KeywordInfo("ONEX", "Sendmail", "One message per connection (sendmail vendor keyword)", "",
                "ONEX"),
    KeywordInfo("PRDR", "draft-hall-prdr-00", "Per-recipient data responses (353 reply)", "",
                "MAIL … PRDR"),
    KeywordInfo("XCLIENT", "Postfix XCLIENT_README", "Override client attributes (Postfix)",
                "attribute list (NAME ADDR PORT PROTO HELO LOGIN DESTADDR DESTPORT …)",
                "XCLIENT attr=value …"),
    KeywordInfo("XFORWARD", "Postfix XFORWARD_README", "Forward client attributes (Postfix)",
                "attribute list (NAME ADDR PORT PROTO HELO IDENT SOURCE)", "XFORWARD attr=value …"),
    KeywordInfo("UTF8SMTP", "RFC 5336", "Internationalized email, experimental predecessor of "
                "SMTPUTF8"),
)

#: keyword (upper case) -> registry row.
KEYWORDS: Final[dict[str, KeywordInfo]] = {row.keyword: row for row in _ROWS}

NOT_REGISTERED: Final = "not in the registry"
VENDOR: Final = "vendor extension"


def lookup_keyword(keyword: str) -> tuple[str, str]:
    """Return (meaning, rfc) for an EHLO keyword; unknown ones are labelled, never an error."""
    upper = keyword.upper()
    row = KEYWORDS.get(upper)
    if row is not None:
        return row.meaning, row.rfc
    # RFC 5321 §2.2.2: keywords starting with "X" are local/vendor and never registered.
    if upper.startswith("X"):
        return VENDOR, ""
    return NOT_REGISTERED, ""


#: RFC 9422 LIMITS names (IANA "SMTP Server Limits" registry) -> what the number bounds.
LIMITS: Final[dict[str, str]] = {
    "MAILMAX": "transactions per session",
    "RCPTMAX": "recipients per transaction",
    "RCPTDOMAINMAX": "recipient domains per transaction",
}


def explain_limits(params: tuple[str, ...]) -> str:
    """``RCPTMAX=1000`` as "at most 1000 recipients per transaction", per param.

    RFC 9422 section 3: a client ignores limits it does not know, and a value must be digits.
    """
    parts = []
    for param in params:
        name, sep, value = param.partition("=")
        what = LIMITS.get(name.upper())
        if what is None:
            parts.append(f"{name}: {NOT_REGISTERED}")
        elif not (sep and value.isascii() and value.isdigit()):
            parts.append(f"{name}: no readable number")
        else:
            parts.append(f"at most {int(value)} {what}")
    return "; ".join(parts)
