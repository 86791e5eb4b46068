"""The trace headers serve puts above each message it stores, as a delivering MTA writes them.

RFC 5321 4.4: a server that receives a message inserts a ``Received`` line at the beginning of
its content, and the one that makes the final delivery (serve, into its Maildir) adds a
``Return-Path`` with the reverse-path. The layout follows Postfix's (one clause a line, the TLS
parameters as a comment, ``for`` only with a single recipient); the ``with`` keyword says what
the session was, as RFC 3848 and RFC 6531 register it. serve keeps one file per message, not
one per recipient as Postfix's and Dovecot's ``Delivered-To`` assume, so the envelope
recipients go in one ``Envelope-to`` header, as Exim's ``envelope_to_add`` writes it: a Bcc
recipient is in no other header.

Everything the client chose (its HELO name, its addresses) passes a check first: a name that
is not an RFC 5321 ``Domain`` or ``address-literal`` is replaced by the client's address and
shown only inside a comment, made of printable ASCII, so no client can end a header line or
start one.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from smtpscope.idn import to_ascii
from smtpscope.transport.addresses import address_literal

# RFC 5322 2.1.1: lines SHOULD be no longer than 78 characters (without the CRLF).
FOLD_AT = 78
# RFC 5321 4.5.3.1.2 (a domain) and 4.1.2's sub-domain, with 4.5.3.1.1's 63-octet labels.
MAX_DOMAIN = 255
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = rf"{_LABEL}(?:\.{_LABEL})*\Z"
# RFC 5321 4.1.3: an address literal of any form is dcontent (%d33-90 / %d94-126) in brackets.
_LITERAL = r"\[[\x21-\x5a\x5e-\x7e]+\]\Z"
# Characters a comment may hold as they are (RFC 5322 ctext); anything else is shown as "?".
_NOT_CTEXT = r"[^\x21-\x27\x2a-\x5b\x5d-\x7e]"
# Any control character (C0, DEL, C1): none reaches a header, whatever let it through.
_CONTROL = r"[\x00-\x1f\x7f-\x9f]"
# The most of a refused HELO name the comment repeats.
HELO_SHOWN = 64
CRLF = "\r\n"


@dataclass(frozen=True)
class Arrival:
    """What one accepted message's trace says: the session and its envelope."""

    helo: str  # the HELO/EHLO argument as the client sent it
    extended: bool  # EHLO rather than HELO
    client: str  # the client's IP address
    server: str  # serve's --hostname
    queue_id: str
    mail_from: str
    rcpt_tos: tuple[str, ...]
    when: datetime  # aware, in the local zone
    tls: str | None = None  # see tls_comment
    authenticated: bool = False
    smtputf8: bool = False

    @property
    def protocol(self) -> str:
        """The ``with`` value: RFC 3848's ESMTP with S for TLS and A for AUTH; RFC 6531's
        UTF8SMTP... when MAIL said SMTPUTF8. HELO has plain SMTP only."""
        if not self.extended:
            return "SMTP"
        base = "UTF8SMTP" if self.smtputf8 else "ESMTP"
        return base + "S" * (self.tls is not None) + "A" * self.authenticated


def domain_or_none(name: str) -> str | None:
    """``name`` as RFC 5321 allows it after FROM or BY: a Domain (a non-ASCII name as its
    A-labels) or an address literal; None for anything else."""
    if re.match(_LITERAL, name):
        return name
    try:
        ascii_name = to_ascii(name)
    except UnicodeError:
        return None
    if len(ascii_name) > MAX_DOMAIN or not re.match(_DOMAIN, ascii_name):
        return None
    return ascii_name


def client_literal(host: str) -> str:
    """The client's address as an RFC 5321 address literal (``[192.0.2.1]``,
    ``[IPv6:2001:db8::1]``); ``[unknown]`` when it is no IP address."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return "[unknown]"  # not an IP socket: the literal form stays well-formed
    return address_literal(ip)


def tls_comment(ssl_object: Any) -> str | None:
    """``using TLSv1.3 with cipher NAME (256/256 bits)`` as Postfix words it, or None."""
    if ssl_object is None:
        return None
    cipher = ssl_object.cipher()
    if not cipher:
        return f"using {ssl_object.version()}"
    name, _, bits = cipher
    # The cipher's own key length (Postfix's second number) is in OpenSSL's cipher list.
    algorithm = next((c["alg_bits"] for c in ssl_object.context.get_ciphers()
                      if c["name"] == name), bits)
    return f"using {ssl_object.version()} with cipher {name} ({bits}/{algorithm} bits)"


def _fold(name: str, groups: list[list[str]]) -> str:
    """``name: ...``: each group starts a line, its words fill lines up to :data:`FOLD_AT`."""
    lines: list[str] = []
    for number, words in enumerate(groups):
        line = f"{name}:" if number == 0 else ""
        for word in words:
            if not line:
                line = f"\t{word}"
            elif len(line) + 1 + len(word) <= FOLD_AT or line == f"{name}:":
                line = f"{line} {word}"
            else:
                lines.append(line)
                line = f"\t{word}"
        lines.append(line)
    return CRLF.join(lines) + CRLF


def _plain(text: str) -> str:
    return re.sub(_CONTROL, "?", text)


def _received(arrival: Arrival) -> str:
    literal = client_literal(arrival.client)
    helo = domain_or_none(arrival.helo)
    groups = [["from", helo or literal, f"({literal})"]]
    if helo is None:
        shown = re.sub(_NOT_CTEXT, "?", arrival.helo[:HELO_SHOWN])
        more = "..." if len(arrival.helo) > HELO_SHOWN else ""
        groups.append([f"(helo={shown}{more})"])
    if arrival.tls is not None:
        groups.append(f"({arrival.tls})".split(" "))
    groups.append(["by", arrival.server, "(smtpscope)", "with", arrival.protocol,
                   "id", arrival.queue_id])
    date = format_datetime(arrival.when)
    if len(arrival.rcpt_tos) == 1:  # Postfix's rule: never name one recipient to the others
        groups.append(["for", f"<{_plain(arrival.rcpt_tos[0])}>;", date])
    else:
        groups[-1][-1] += ";"
        groups.append([date])
    return _fold("Received", groups)


def trace_headers(arrival: Arrival) -> bytes:
    """``Return-Path``, ``Envelope-to`` and ``Received``, CRLF-ended, to go above the content."""
    recipients = [f"{_plain(r)}," for r in arrival.rcpt_tos]
    recipients[-1] = recipients[-1].removesuffix(",")
    text = (_fold("Return-Path", [[f"<{_plain(arrival.mail_from)}>"]])
            + _fold("Envelope-to", [recipients]) + _received(arrival))
    return text.encode("utf-8")
