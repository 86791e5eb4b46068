"""Realistic server output used across the protocol tests (several MTAs, not one)."""

from __future__ import annotations

POSTFIX_GREETING = b"220 mx.example.test ESMTP Postfix (Debian/GNU)\r\n"
POSTFIX_EHLO = (
    b"250-mx.example.test\r\n"
    b"250-PIPELINING\r\n"
    b"250-SIZE 10240000\r\n"
    b"250-VRFY\r\n"
    b"250-ETRN\r\n"
    b"250-STARTTLS\r\n"
    b"250-ENHANCEDSTATUSCODES\r\n"
    b"250-8BITMIME\r\n"
    b"250-DSN\r\n"
    b"250-SMTPUTF8\r\n"
    b"250 CHUNKING\r\n"
)
POSTFIX_EHLO_TLS = (
    b"250-mx.example.test\r\n"
    b"250-PIPELINING\r\n"
    b"250-SIZE 10240000\r\n"
    b"250-VRFY\r\n"
    b"250-ETRN\r\n"
    b"250-AUTH PLAIN LOGIN CRAM-MD5 DIGEST-MD5 SCRAM-SHA-1 SCRAM-SHA-256\r\n"
    b"250-ENHANCEDSTATUSCODES\r\n"
    b"250-8BITMIME\r\n"
    b"250-DSN\r\n"
    b"250-SMTPUTF8\r\n"
    b"250 CHUNKING\r\n"
)
EXIM_GREETING = b"220 mail.example.org ESMTP Exim 4.96 Fri, 27 Nov 2026 15:00:00 +0000\r\n"
EXIM_EHLO = (
    b"250-mail.example.org Hello client.example [192.0.2.10]\r\n"
    b"250-SIZE 52428800\r\n"
    b"250-LIMITS MAILMAX=1000 RCPTMAX=50000\r\n"
    b"250-8BITMIME\r\n"
    b"250-PIPELINING\r\n"
    b"250-PIPECONNECT\r\n"
    b"250-AUTH PLAIN LOGIN\r\n"
    b"250-CHUNKING\r\n"
    b"250-PRDR\r\n"
    b"250 HELP\r\n"
)
EXCHANGE_GREETING = (
    b"220 EX01.corp.example Microsoft ESMTP MAIL Service ready at "
    b"Fri, 27 Nov 2026 15:00:00 +0000\r\n"
)
EXCHANGE_EHLO = (
    b"250-EX01.corp.example Hello [192.0.2.10]\r\n"
    b"250-SIZE 37748736\r\n"
    b"250-PIPELINING\r\n"
    b"250-DSN\r\n"
    b"250-ENHANCEDSTATUSCODES\r\n"
    b"250-STARTTLS\r\n"
    b"250-X-ANONYMOUSTLS\r\n"
    b"250-AUTH NTLM\r\n"
    b"250-AUTH=LOGIN\r\n"
    b"250-X-EXPS GSSAPI NTLM\r\n"
    b"250-8BITMIME\r\n"
    b"250-BINARYMIME\r\n"
    b"250-CHUNKING\r\n"
    b"250-XRDST\r\n"
    b"250 XSHADOWREQUEST\r\n"
)
SENDMAIL_GREETING = (
    b"220 host.example.net ESMTP Sendmail 8.17.1/8.17.1; Fri, 27 Nov 2026 15:00:00 GMT\r\n"
)
SENDMAIL_EHLO = (
    b"250-host.example.net Hello client.example [192.0.2.10], pleased to meet you\r\n"
    b"250-ENHANCEDSTATUSCODES\r\n"
    b"250-PIPELINING\r\n"
    b"250-8BITMIME\r\n"
    b"250-SIZE\r\n"
    b"250-DSN\r\n"
    b"250-ETRN\r\n"
    b"250-DELIVERBY\r\n"
    b"250-EXPN\r\n"
    b"250-VERB\r\n"
    b"250-ONEX\r\n"
    b"250 HELP\r\n"
)
MOX_EHLO = (
    b"250-mox.example.test\r\n"
    b"250-PIPELINING\r\n"
    b"250-SIZE 104857600\r\n"
    b"250-REQUIRETLS\r\n"
    b"250-FUTURERELEASE 5184000 2025-05-08T11:28:17Z\r\n"
    b"250-LIMITS RCPTMAX=1000\r\n"
    b"250-SMTPUTF8\r\n"
    b"250 ENHANCEDSTATUSCODES\r\n"
)
SWAKS_EHLO = (
    b"250-SERVER Hello Server [1.1.1.1]\r\n"
    b"250-STARTTLS\r\n"
    b"250-PIPELINING\r\n"
    b"250-AUTH CRAM-MD5\r\n"
    b"250-AUTH=login\r\n"
    b"250 HELP\r\n"
)
MULTILINE_GREETING = (
    b"220-smtp.example.com ESMTP\r\n"
    b"220-Unsolicited bulk email is prohibited here.\r\n"
    b"220 Ready\r\n"
)
# Gmail: a multi-line 452 to the RCPT past its per-message limit (RFC 5321 §4.5.3.1.10: the
# others may go in a later transaction) and the 421 that rate-limits a sender at any point.
GMAIL_TOO_MANY_RECIPIENTS = (
    b"452-4.5.3 Your message has too many recipients. For more information regarding\r\n"
    b"452-4.5.3 Google's sending limits, visit\r\n"
    b"452 4.5.3  https://support.google.com/mail/?p=TooManyRecipientsError a1si - gsmtp\r\n"
)
GMAIL_RATE_LIMITED = (
    b"421-4.7.0 [192.0.2.10      15] Our system has detected an unusual rate of\r\n"
    b"421-4.7.0 unsolicited mail originating from your IP address. To protect our\r\n"
    b"421-4.7.0 users from spam, mail sent from your IP address has been temporarily\r\n"
    b"421-4.7.0 rate limited. Please visit\r\n"
    b"421-4.7.0  https://support.google.com/mail/?p=UnsolicitedRateLimitError to\r\n"
    b"421 4.7.0 review our Bulk Email Senders Guidelines. a1si - gsmtp\r\n"
)
# postgrey behind Postfix: the RCPT of an unknown (client, sender, recipient) triplet.
POSTGREY_GREYLISTED = (
    b"450 4.2.0 <b@y.test>: Recipient address rejected: Greylisted, see "
    b"http://postgrey.schweikert.ch/help/example.test.html\r\n"
)
