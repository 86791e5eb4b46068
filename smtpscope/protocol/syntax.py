"""The form of each SMTP verb the client sends, as the composer's hint bar shows it."""

from __future__ import annotations

from typing import Final

__all__ = ["SYNTAX", "VERBS"]

#: verb -> the form the composer's hint bar shows.
SYNTAX: Final[dict[str, str]] = {
    "HELO": "HELO <your-domain>",
    "EHLO": "EHLO <your-domain>",
    "LHLO": "LHLO <your-domain>",
    "MAIL": "MAIL FROM:<address> [SIZE=n] [BODY=7BIT|8BITMIME|BINARYMIME] [SMTPUTF8] "
    "[RET=FULL|HDRS] [ENVID=xtext] [AUTH=<>|addr] [REQUIRETLS] [MT-PRIORITY=-9..9] "
    "[BY=secs;R|N[T]] [HOLDFOR=secs|HOLDUNTIL=date-time] [PRDR]",
    "RCPT": "RCPT TO:<address> [NOTIFY=NEVER|SUCCESS,FAILURE,DELAY] [ORCPT=rfc822;address] "
    "[RRVS=date-time[;C|R]]",
    "DATA": "DATA",
    "BDAT": "BDAT <size> [LAST]",
    "RSET": "RSET",
    "NOOP": "NOOP [text]",
    "VRFY": "VRFY <user-or-address>",
    "EXPN": "EXPN <mailing-list>",
    "HELP": "HELP [topic]",
    "ETRN": "ETRN <[@#]node>",
    "STARTTLS": "STARTTLS",
    "AUTH": "AUTH <mechanism> [initial-response-base64 | =]",
    "QUIT": "QUIT",
    "XCLIENT": "XCLIENT NAME=value … (the attribute names the server lists after XCLIENT)",
}
VERBS: Final[tuple[str, ...]] = tuple(SYNTAX)
