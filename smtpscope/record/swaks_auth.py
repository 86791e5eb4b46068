"""The AUTH of a recorded session as swaks options, for ``export --as swaks``.

A session may try AUTH more than once (a mechanism refused, then another; a second AUTH after
success, answered 503). swaks takes one ``--auth``: the one that succeeded, else the last
tried, and a note says which when there were several. The user name goes with it (it is no
secret: swaks shows it too); the password never does, swaks asks for it.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smtpscope.record.transcript import Entry

# Mechanisms swaks 20201014 implements (DIGEST-MD5 needs Perl's Authen::SASL there).
SWAKS_AUTH = ("PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5", "CRAM-SHA1", "NTLM")
_USER_IN_MASK = re.compile(r" for (.+?) hidden\]")


@dataclass
class _Try:
    mechanism: str
    user: str | None = None
    succeeded: bool = False


class AuthTries:
    """Each AUTH exchange of the session, in order, and where in the arguments they go."""

    def __init__(self) -> None:
        self.tries: list[_Try] = []
        self.at: int | None = None  # where the first AUTH was, among the arguments
        self.exchanging = False  # an AUTH whose exchange goes on (334s)

    def start(self, words: list[str], entry: Entry, at: int) -> None:
        """``AUTH MECHANISM [initial response]``, sent when the arguments were ``at`` long."""
        self.tries.append(_Try(words[1].upper()))
        self.at = at if self.at is None else self.at
        self.exchanging = True
        self.user(_login_user(words) or _scram_user(words), entry)

    def user(self, found: str | None, entry: Entry) -> None:
        """A client line of the exchange: a masked credential may name the user."""
        current = self.tries[-1] if self.tries else None
        if current is None or current.user is not None:
            return
        if found is None:
            match = _USER_IN_MASK.search(entry.text)
            found = match.group(1) if match else None
        if found is None and current.mechanism == "LOGIN" and not entry.redacted:
            # LOGIN's first answer, to "Username:", is the user name in base64.
            found = _login_user(["AUTH", "LOGIN", entry.text.strip()])
        current.user = found

    def reply(self, code: int) -> None:
        """A reply while the exchange goes on: anything but 334 ends it, 235 with success."""
        if self.exchanging and code != 334:
            self.exchanging = False
            self.tries[-1].succeeded = code == 235

    def options(self, notes: list[str]) -> list[str]:
        """``--auth`` and ``--auth-user`` for the try swaks repeats; its notes added."""
        if not self.tries:
            return []
        chosen = next((t for t in self.tries if t.succeeded), self.tries[-1])
        if len(self.tries) > 1:
            which = "the one that succeeded" if chosen.succeeded else "the last"
            notes.append(f"the session tried AUTH {', '.join(t.mechanism for t in self.tries)}: "
                         f"swaks repeats {chosen.mechanism}, {which}")
        if chosen.mechanism in SWAKS_AUTH:
            argv = ["--auth", chosen.mechanism]
            if chosen.mechanism == "DIGEST-MD5":
                notes.append("swaks needs Perl's Authen::SASL for DIGEST-MD5")
        else:
            argv = ["--auth", ",".join(SWAKS_AUTH[:3])]
            notes.append(f"swaks has no AUTH {chosen.mechanism}: it authenticates with PLAIN, "
                         "LOGIN or CRAM-MD5 instead, whichever the server offers")
        return argv + (["--auth-user", chosen.user] if chosen.user else [])


def _login_user(words: list[str]) -> str | None:
    """The user name of ``AUTH LOGIN <base64 user>``."""
    if len(words) != 3 or words[1].upper() != "LOGIN":
        return None
    try:
        return base64.b64decode(words[2], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


def _scram_user(words: list[str]) -> str | None:
    """The user in a SCRAM client-first message (``n,,n=user,r=...``)."""
    if len(words) != 3 or not words[1].upper().startswith("SCRAM-"):
        return None
    try:
        text = base64.b64decode(words[2], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    for attr in text.split(",")[2:]:
        if attr.startswith("n="):
            return attr[2:].replace("=2C", ",").replace("=3D", "=")
    return None
