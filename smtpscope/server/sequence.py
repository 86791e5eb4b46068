"""Commands the session's state forbids, which aiosmtpd would serve: the refusals it lacks.

aiosmtpd keeps MAIL/RCPT/DATA in order, but answers STARTTLS with 220 on a connection that is
already encrypted (and then starts a second TLS layer inside the first, which no client
expects), and runs AUTH in the middle of a mail transaction. Both answers follow Postfix,
the server a user compares with.
"""

from __future__ import annotations

# RFC 3207 has no reply for it; Postfix's smtpd says this, on the implicit-TLS port as well.
TLS_ALREADY_ACTIVE = "554 5.5.1 Error: TLS already active"
# RFC 4954 4: "An AUTH command issued during a mail transaction MUST be rejected with a 503
# reply"; Postfix's words and enhanced code.
AUTH_IN_TRANSACTION = "503 5.5.1 Error: MAIL transaction in progress"


def out_of_sequence(verb: str, *, tls_active: bool, in_transaction: bool) -> str | None:
    """The refusal for ``verb`` in this state, or None when the state allows it."""
    if verb == "STARTTLS" and tls_active:
        return TLS_ALREADY_ACTIVE
    if verb == "AUTH" and in_transaction:
        return AUTH_IN_TRANSACTION
    return None
