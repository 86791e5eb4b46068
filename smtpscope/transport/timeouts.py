"""Timeout defaults, including the per-stage client timeouts of RFC 5321 section 4.5.3.2."""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

#: Seconds to wait for the TCP connection (name resolution included).
DEFAULT_CONNECT_TIMEOUT: Final = 30.0
#: Seconds to wait for the TLS handshake (implicit TLS or STARTTLS).
DEFAULT_TLS_TIMEOUT: Final = 30.0
#: Seconds per read when the caller does not say: the generous RFC 5321 maximum.
DEFAULT_READ_TIMEOUT: Final = 300.0

#: RFC 5321 §4.5.3.2 minimum client timeouts, in seconds, keyed by the stage being waited on.
#: Read-only so no caller can change the defaults for everybody else.
RFC5321_TIMEOUTS: Final = MappingProxyType(
    {
        "greeting": 300.0,  # §4.5.3.2.1 initial 220 message: 5 minutes
        "mail": 300.0,  # §4.5.3.2.2 MAIL command: 5 minutes
        "rcpt": 300.0,  # §4.5.3.2.3 RCPT command: 5 minutes
        "data_init": 120.0,  # §4.5.3.2.4 DATA initiation (the 354): 2 minutes
        "data_block": 180.0,  # §4.5.3.2.5 each TCP SEND of a data block: 3 minutes
        "data_term": 600.0,  # §4.5.3.2.6 reply to the final "." : 10 minutes
    }
)


def capped(run_timeout: float | None, most: float) -> float:
    """How long a side step of a run (a DNS lookup, a policy fetch) may wait: never longer than
    the run's ``--timeout``, and ``most`` at most, since a run's limit is for an SMTP reply that
    may be slow on purpose, while a resolver or web server silent for seconds has gone."""
    return most if run_timeout is None else min(run_timeout, most)
