"""swaks' stop points (``--quit-after``, ``--drop-after``, ``--drop-after-send``): one table.

The names, their aliases and their places are swaks 20201014's (``sub sendmail``), so a pasted
swaks command line stops where swaks would; ``MEANINGS`` says where, for the help. Two notes:
``helo`` comes before XCLIENT, as in swaks' code (its manual says after the greeting that
follows XCLIENT; ``auth`` is that point). With TLS on connect swaks stops at ``tls`` before the
banner; smtpscope reads the banner first, as a QUIT before it would be out of turn.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from enum import StrEnum


class StopPoint(StrEnum):
    """A point in the conversation where swaks can stop (its canonical name)."""

    CONNECT = "connect"
    FIRST_HELO = "first-helo"
    TLS = "tls"
    HELO = "helo"
    XCLIENT = "xclient"
    AUTH = "auth"
    MAIL = "mail"
    RCPT = "rcpt"
    DATA = "data"
    DOT = "dot"


ALIASES: dict[str, StopPoint] = {
    "banner": StopPoint.CONNECT, "first-ehlo": StopPoint.FIRST_HELO,
    "first-lhlo": StopPoint.FIRST_HELO, "starttls": StopPoint.TLS, "ehlo": StopPoint.HELO,
    "lhlo": StopPoint.HELO, "from": StopPoint.MAIL, "to": StopPoint.RCPT,
}

MEANINGS: dict[StopPoint, str] = {
    StopPoint.CONNECT: "after the banner",
    StopPoint.FIRST_HELO: "after the first EHLO",
    StopPoint.TLS: "right after the STARTTLS handshake, before EHLO inside TLS (after the "
                   "first EHLO if STARTTLS is not tried, after the banner with implicit TLS)",
    StopPoint.HELO: "after the EHLO inside TLS, else after the only one (before XCLIENT)",
    StopPoint.XCLIENT: "after the reply to XCLIENT (needs --xclient), before EHLO again",
    StopPoint.AUTH: "where AUTH is done or would be",
    StopPoint.MAIL: "after MAIL FROM",
    StopPoint.RCPT: "after the last RCPT TO",
    StopPoint.DATA: "after the 354 to DATA",
    StopPoint.DOT: "after the reply to the message",
}

# swaks refuses DATA and DOT for --quit-after (after the 354 a QUIT would be message content).
QUIT_POINTS = tuple(p for p in StopPoint if p not in (StopPoint.DATA, StopPoint.DOT))
DROP_POINTS = tuple(StopPoint)


def reaches(stop: StopPoint | None, point: StopPoint) -> bool:
    """True when a run that stops at ``stop`` (None: the whole transaction) gets to ``point``:
    the members are in the order of the conversation."""
    order = tuple(StopPoint)
    return stop is None or order.index(stop) >= order.index(point)


def names(points: tuple[StopPoint, ...]) -> tuple[str, ...]:
    """Every name ``points`` answer to: each canonical name followed by its aliases."""
    return tuple(n for p in points for n in (p.value, *(a for a, q in ALIASES.items() if q is p)))


def described(points: tuple[StopPoint, ...]) -> str:
    """``points`` for a help text: each name with its aliases and where it stops."""
    return "; ".join(f"{'|'.join(names((p,)))}: {MEANINGS[p]}" for p in points)


def parser(points: tuple[StopPoint, ...]) -> Callable[[str], StopPoint]:
    """An argparse ``type``: a name or alias in any case, as swaks takes it, to its point."""
    def parse(text: str) -> StopPoint:
        value = text.strip().lower()
        point = ALIASES.get(value) or next((p for p in points if p.value == value), None)
        if point is None or point not in points:
            raise argparse.ArgumentTypeError(
                f"invalid stop point {text!r} (choose from {', '.join(names(points))})")
        return point

    return parse
