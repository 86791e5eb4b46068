"""The SASL mechanism base class, the Step value it returns, and display helpers."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import ClassVar

from smtpscope.sanitize import visible

# What a masked password or token looks like in displayed values.
HIDDEN = "••••"


@dataclass(frozen=True)
class Step:
    """One client move in a SASL exchange, with everything needed to explain it.

    ``response`` is the raw (not yet base64-encoded) payload to send, ``None`` when there is
    nothing to send (no initial response, or a purely informational step such as
    :meth:`Mechanism.finish`). ``cancel`` True means: send ``*`` to abort the exchange (RFC 4954
    §4); ``response`` is then ``None``. ``values`` are labelled intermediates for display and
    never contain the password or token itself; ``revealed`` holds the clear form of the values
    shown masked, by label, for a screen's reveal toggle only (never recorded or printed).
    ``secret`` says the response carries the password, a token or a value allowing an offline
    guess; ``mask`` is what a transcript shows instead.
    """

    response: bytes | None
    values: tuple[tuple[str, str], ...] = ()
    explanation: str = ""
    secret: bool = False
    mask: str = ""
    cancel: bool = False
    warnings: tuple[str, ...] = ()
    revealed: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    def wire(self, *, initial: bool = False) -> bytes:
        """The line to send (no CRLF): base64, ``*`` to cancel, ``=`` for an empty initial one."""
        if self.cancel:
            return b"*"
        if self.response is None:
            return b""
        if initial and self.response == b"":
            return b"="
        return base64.b64encode(self.response)


def show_bytes(data: bytes) -> str:
    """Render bytes for display: NUL as ``\\0``, other controls as ``\\x01``, ``\\`` as is.

    A backslash is shown once, as typed. Where backslash sequences stand in for NUL bytes (the
    classic ``echo '\\0user\\0pass'`` mistake) the decoder says so in words; doubling every
    backslash instead made correct and mistaken blobs equally hard to read.
    """
    out: list[str] = []
    for ch in data.decode("utf-8", errors="surrogateescape"):
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte smuggled through surrogateescape
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch == "\0":
            out.append("\\0")
        elif ch == "\t":
            out.append("\\t")
        else:
            out.append(visible(ch, keep_backslashes=True))
    return "".join(out)


def show_text(text: str) -> str:
    """Like :func:`show_bytes` for text that is already decoded."""
    return show_bytes(octets(text))


def challenge_text(challenge: bytes) -> str:
    """A challenge as text to parse: UTF-8, each undecodable byte kept (surrogateescape) so a
    parsed value shows as the challenge does (``\\xNN``, :func:`show_text`), never as U+FFFD."""
    return challenge.decode("utf-8", errors="surrogateescape")


def octets(text: str) -> bytes:
    """``text`` as UTF-8 for a hash or the wire, the bytes :func:`challenge_text` kept put back
    as the server sent them (they are what the server hashes too)."""
    return text.encode("utf-8", errors="surrogateescape")


class Mechanism:
    """Base class: one instance drives one client side of one AUTH exchange.

    Call :meth:`initial_response` only when you send its result with ``AUTH <MECH> <ir>``: it
    advances the state (so a later 334 is not answered with the credentials again). Then call
    :meth:`respond` with each decoded 334 challenge and :meth:`finish` with the final reply code.
    """

    name: ClassVar[str] = ""
    # True when the mechanism defines a client-first message usable as an initial response.
    client_first: ClassVar[bool] = False
    # -- metadata: every table elsewhere (preference order, token fields, cleartext warnings,
    # values safe to show, transcript masks) is derived from these, so a new mechanism is one
    # file plus one registration line in auth/__init__.py.
    #: Higher is stronger; picks the default in the helper and the ``auto`` choice.
    preference: ClassVar[int] = 0
    #: ``--auth auto`` may choose it (a password mechanism that is not deprecated).
    automatic: ClassVar[bool] = False
    #: Takes an OAuth token instead of a password.
    token_based: ClassVar[bool] = False
    #: The password or token crosses the wire in recoverable form (only base64).
    cleartext: ClassVar[bool] = False
    #: Labels of computed values that are safe to show even in a secret step.
    public_labels: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self,
        *,
        username: str = "",
        password: str = "",
        authzid: str = "",
        token: str | None = None,
        host: str = "",
        port: int = 25,
        cnonce: str | None = None,
        realm: str | None = None,
        service: str = "smtp",
    ) -> None:
        self.username = username
        self.password = password
        self.authzid = authzid
        self.token = token
        self.host = host
        self.port = port
        self.cnonce = cnonce
        self.realm = realm
        self.service = service
        # True / False once the server proved (or failed to prove) it knows the secret;
        # None for mechanisms without server authentication or before the proof arrives.
        self.server_verified: bool | None = None
        self.done = False
        self.steps: list[Step] = []
        self._setup()

    # -- public API -----------------------------------------------------------------------

    def initial_response(self) -> Step | None:
        """The payload for ``AUTH MECH <ir>``, or None when the mechanism has none."""
        step = self._initial()
        if step is not None:
            self.steps.append(step)
        return step

    def respond(self, challenge: bytes) -> Step:
        """Answer one decoded 334 challenge."""
        step = self._respond(challenge)
        self.steps.append(step)
        return step

    def finish(self, code: int, text: str = "") -> Step:
        """Account for the final reply (235, 535, ...); returns an informational Step."""
        self.done = True
        values: list[tuple[str, str]] = [("final reply", f"{code} {visible(text)}".rstrip())]
        warnings: list[str] = []
        if 200 <= code < 300:
            explanation = f"{self.name}: authentication succeeded."
            if self.server_verified is False:
                warnings.append(
                    "The server accepted us although its own proof did NOT verify: this is not "
                    "the server that holds your credentials (or a broken implementation)."
                )
            elif self.server_verified is None and self.verifies_server():
                warnings.append(
                    "The server never proved that it knows the password (no server signature)."
                )
        elif code == 334:
            explanation = "334 is a challenge, not a final reply: pass it to respond()."
        else:
            explanation = f"{self.name}: authentication failed with {code}."
        if self.server_verified is not None:
            values.append(("server verified", "yes" if self.server_verified else "NO"))
        step = Step(None, tuple(values), explanation, warnings=tuple(warnings))
        self.steps.append(step)
        return step

    # -- the redaction rule (used by auth/redact.py for lines typed by hand) ---------------

    @classmethod
    def answer_is_secret(cls, index: int, decoded: bytes | None, initial: bool | None) -> bool:
        """Must the client's line number ``index`` (0: the initial response on the AUTH line)
        be masked? ``decoded`` is its payload (None: not base64); ``initial`` whether the AUTH
        line carried an initial response (None: unknown). Default: every answer may carry the
        secret, so every answer is masked."""
        return True

    @classmethod
    def mask_label(cls, decoded: bytes | None, known: bool = True) -> str:
        """What a transcript shows instead of a masked line (``known``: the rule was sure)."""
        return f"[{cls.name} response hidden]"

    def verifies_server(self) -> bool:
        """True for mechanisms in which the server proves knowledge of the secret."""
        return False

    # -- for subclasses -------------------------------------------------------------------

    def _setup(self) -> None:
        """Initialise per-exchange state (called at the end of ``__init__``)."""

    def _initial(self) -> Step | None:
        return None

    def _respond(self, challenge: bytes) -> Step:
        raise NotImplementedError

    def _unexpected(self, challenge: bytes, why: str) -> Step:
        """Cancel on a challenge the mechanism has no answer for."""
        return Step(
            None,
            (("challenge", show_bytes(challenge)),),
            f"{self.name}: unexpected challenge ({why}); cancelling with '*'.",
            cancel=True,
        )
