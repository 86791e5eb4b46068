"""Replay's word on authentication: the mechanism a 235 accepted, at the step the live status
bar showed it, and gone again where the live engine forgot it.

The rules are the engine's (``protocol/matching.py``): a 235 to AUTH authenticates with the
mechanism that AUTH named; a 220 to STARTTLS forgets it (RFC 3207 §4.2), and so does a server
that starts over after XCLIENT; EHLO and RSET leave it; the connection's end ends it. The
mechanism is typed from the recorded AUTH command, whose credentials a recording hides.
"""

from __future__ import annotations

from bisect import bisect_left

from smtpscope.protocol import Auth, CommandSyntaxError, parse_command
from smtpscope.record.transcript import Entry

# Replies after which the connection is over: the live bar then says nothing of AUTH.
_CLOSING = (221, 421)


def auth_mechanism(command: str) -> str | None:
    """The mechanism an ``AUTH`` command line names (its initial response left out), else None."""
    parts = command.split(None, 2)
    if len(parts) < 2 or parts[0].upper() != "AUTH":
        return None
    try:
        parsed = parse_command(f"AUTH {parts[1]}").command
    except CommandSyntaxError:
        return None
    return parsed.mechanism if isinstance(parsed, Auth) else None


class AuthTimeline:
    """Where in a recording the authentication changes, entry by entry as replay scans them."""

    def __init__(self) -> None:
        self._at: list[int] = []
        self._mechanisms: list[str | None] = []
        self._asked: str | None = None  # the mechanism of the AUTH awaiting its outcome
        self._in_auth = False  # between AUTH and the reply that ends its exchange
        self._current: str | None = None
        self._last_verb = b""

    def _set(self, index: int, mechanism: str | None) -> None:
        if mechanism != self._current:
            self._current = mechanism
            self._at.append(index)
            self._mechanisms.append(mechanism)

    def restart(self, index: int) -> None:
        """Another recording joined on at ``index``: a new connection, not authenticated."""
        self._asked, self._in_auth, self._last_verb = None, False, b""
        self._set(index, None)

    def follow(self, index: int, entry: Entry) -> None:
        """Take in the entry at ``index`` (entries come in order, each once)."""
        if entry.direction == "client" and entry.kind in ("command", "raw"):
            if self._in_auth:
                return  # a SASL response, or * to cancel: the exchange goes on
            # The verb from the bytes (no text decoded per entry: replay scans every one).
            words = entry.raw.split(None, 1)
            verb = words[0].upper() if words else b""
            if verb == b"AUTH":
                self._asked, self._in_auth = auth_mechanism(entry.text), True
            self._last_verb = verb
            return
        code = entry.code if entry.direction == "server" else None
        if code is None:
            return
        if code in _CLOSING:
            self._in_auth = False
            self._set(index, None)
        elif self._in_auth:
            if code == 334:
                return  # the server asks for more of the same exchange
            self._in_auth = False
            if code == 235:
                self._set(index, self._asked or "?")
        elif code == 220 and self._last_verb in (b"STARTTLS", b"XCLIENT"):
            self._set(index, None)  # TLS (or the server starting over) forgets it
        self._last_verb = b""

    def at(self, shown: int) -> str | None:
        """The mechanism the bar shows once the first ``shown`` entries are on screen."""
        i = bisect_left(self._at, shown) - 1
        return self._mechanisms[i] if i >= 0 else None
