"""Commands the session's state forbids, which aiosmtpd would serve: the refusals it lacks.

aiosmtpd keeps MAIL/RCPT/DATA in order, but answers STARTTLS with 220 on a connection that is
already encrypted (and then starts a second TLS layer inside the first, which no client
expects), and runs AUTH in the middle of a mail transaction. It also hangs up on a client
that sends too many unknown commands with 502, "command not implemented", where RFC 5321 3.8
wants 421, and answers AUTH after HELO as an unknown command, counted as a failed attempt.
The answers follow Postfix, the server a user compares with.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiosmtpd.smtp import BOGUS_LIMIT

# RFC 3207 has no reply for it; Postfix's smtpd says this, on the implicit-TLS port as well.
TLS_ALREADY_ACTIVE = "554 5.5.1 Error: TLS already active"
# RFC 4954 4: "An AUTH command issued during a mail transaction MUST be rejected with a 503
# reply"; Postfix's words and enhanced code.
AUTH_IN_TRANSACTION = "503 5.5.1 Error: MAIL transaction in progress"
# RFC 4954 3: AUTH is an ESMTP extension, offered in the EHLO reply only; after HELO the client
# has not been offered it. Postfix's words and code.
AUTH_NOT_ENABLED = "503 5.5.1 Error: authentication not enabled"


def out_of_sequence(
    verb: str, *, tls_active: bool, in_transaction: bool, helo_only: bool = False
) -> str | None:
    """The refusal for ``verb`` in this state, or None when the state allows it.

    ``helo_only``: the client greeted with HELO, not EHLO, so no extension was offered.
    """
    if verb == "STARTTLS" and tls_active:
        return TLS_ALREADY_ACTIVE
    if verb == "AUTH" and helo_only:
        return AUTH_NOT_ENABLED
    if verb == "AUTH" and in_transaction:
        return AUTH_IN_TRANSACTION
    return None


# aiosmtpd's count of unknown commands a connection may send; the last one closes it.
MAX_UNRECOGNIZED = BOGUS_LIMIT
UNRECOGNIZED = '500 Error: command "{verb}" not recognized'
# RFC 5321 3.8: a server closing the channel on its own says 421 first; Postfix's code for a
# client past its error limit ("421 4.7.0 host Error: too many errors").
TOO_MANY_UNRECOGNIZED = "421 4.7.0 {host} Error: too many unrecognized commands, closing"


class CommandTable(dict[str, Any]):
    """aiosmtpd's verb -> handler table, in which an unknown verb gets a handler as well.

    aiosmtpd answers an unknown verb, and closes after a few, inside its read loop; it looks
    the verb up with ``get`` first, so the answer is made here. HELP still lists and explains
    known verbs only: the unknown verbs' handlers carry no syntax.
    """

    def __init__(self, methods: dict[str, Any], unknown: Callable[[str], Any]) -> None:
        super().__init__(methods)
        self._unknown = unknown

    def get(self, verb: str, default: Any = None) -> Any:
        method = super().get(verb, default)
        return self._unknown(verb) if method is None else method


class UnrecognizedMixin:
    """The answer to an unknown command, and the close after :data:`MAX_UNRECOGNIZED`."""

    push: Any  # ScopeSMTP's; stubs here would shadow them in the MRO
    tap_note: Any
    transport: asyncio.BaseTransport | None
    hostname: str
    _unrecognized = 0

    def unknown_command(self, verb: str) -> Callable[[str | None], Any]:
        async def unknown(_arg: str | None) -> None:
            self._unrecognized += 1
            if self._unrecognized < MAX_UNRECOGNIZED:
                await self.push(UNRECOGNIZED.format(verb=verb))
                return
            self.tap_note(f"{self._unrecognized} unrecognized commands: closing the connection")
            await self.push(TOO_MANY_UNRECOGNIZED.format(host=self.hostname))
            if self.transport is not None:
                self.transport.close()

        return unknown
