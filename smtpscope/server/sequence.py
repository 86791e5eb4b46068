"""Commands the session's state forbids, which aiosmtpd would serve: the refusals it lacks.

aiosmtpd keeps MAIL/RCPT/DATA in order, but answers STARTTLS with 220 on a connection that is
already encrypted (and then starts a second TLS layer inside the first, which no client
expects). The answers follow Postfix, the server a user compares with.
"""

from __future__ import annotations

# RFC 3207 has no reply for it; Postfix's smtpd says this, on the implicit-TLS port as well.
TLS_ALREADY_ACTIVE = "554 5.5.1 Error: TLS already active"


def out_of_sequence(verb: str, *, tls_active: bool) -> str | None:
    """The refusal for ``verb`` in this state, or None when the state allows it."""
    if verb == "STARTTLS" and tls_active:
        return TLS_ALREADY_ACTIVE
    return None
