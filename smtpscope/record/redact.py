"""Redaction at the record boundary: secret-bearing AUTH lines never reach a view or a file.

The redactor follows the AUTH exchange as the transcript flows past (the AUTH command, each
``334`` challenge, the final reply) and asks the mechanism-aware rules in
:mod:`smtpscope.auth` whether a client line carries a secret. Challenges stay visible. The
original bytes of a masked line are kept only in memory (:attr:`Redactor.hidden`) so a screen
can offer a reveal toggle; they are never part of an :class:`Entry`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from smtpscope.record.transcript import Entry

_AUTH_RE = re.compile(rb"^\s*AUTH\s+([A-Za-z0-9_-]+)(?:\s+(\S*))?", re.IGNORECASE)


def _mechanism_rule(
    mechanism: str, step: int, line: bytes, initial_response: bool
) -> tuple[bytes, str] | None:
    # Imported on the first AUTH only: sessions without one (a probe) never load the SASL code.
    from smtpscope.auth.redact import redact_client_line

    return redact_client_line(mechanism, step, line, initial_response=initial_response)


@dataclass
class Redactor:
    """Stateful filter applied to every transcript entry before it is stored or shown."""

    record_secrets: bool = False
    hidden: dict[int, bytes] = field(default_factory=dict)
    _mechanism: str | None = None
    _step: int = 0
    _initial_response: bool = False
    _cancelled: bool = False  # the client sent "*": the next reply ends the exchange

    @property
    def in_auth(self) -> bool:
        """True while an AUTH exchange is under way."""
        return self._mechanism is not None

    def apply(self, entry: Entry, secret_mask: str | None = None, *,
              public: bool = False) -> Entry:
        """Return ``entry`` as it may be shown and recorded.

        ``secret_mask``: the caller knows the line is secret and how to label it; ``public``:
        the caller computed the line and knows it carries no secret (shown as sent).
        """
        if entry.direction == "server" and entry.kind == "reply":
            if self._mechanism is not None:
                # RFC 4954 §4: whatever answers "*" ends the exchange, even a (wrong) 334.
                if entry.code == 334 and not self._cancelled:
                    self._step += 1
                else:
                    self._mechanism = None
            return entry
        if entry.direction != "client" or entry.kind not in ("command", "raw"):
            return entry
        masked: tuple[bytes, str] | None = None
        match = _AUTH_RE.match(entry.raw)
        if match is not None and entry.raw[:4].upper() == b"AUTH" and not self.in_auth:
            self._mechanism = match.group(1).decode("ascii", "replace").upper()
            self._step = 0
            self._cancelled = False
            self._initial_response = bool(match.group(2))
            if not public:
                masked = _mechanism_rule(self._mechanism, 0, entry.raw, self._initial_response)
        elif self._mechanism is not None:
            self._cancelled = entry.raw.strip() == b"*"
            if not public:
                masked = _mechanism_rule(
                    self._mechanism, self._step, entry.raw, self._initial_response
                )
        if secret_mask is not None:
            # The caller computed the line and knows its precise label; keep any "AUTH MECH "
            # part, and the line's ending, as the rules' masks do.
            prefix = entry.raw[: match.start(2)] if match is not None and match.group(2) else b""
            ending = entry.raw[len(entry.raw.rstrip(b"\r\n")):]
            masked = (prefix + secret_mask.encode() + ending, secret_mask)
        if masked is None:
            return entry
        self.hidden[entry.seq] = entry.raw
        if self.record_secrets:
            return entry.replace(notes=(*entry.notes, f"secret recorded: {masked[1]}"))
        raw, _label = masked
        text = raw.decode("utf-8", "replace").rstrip("\r\n")
        return entry.replace(raw=raw, text=text, redacted=True,
                             notes=_notes_without(entry.notes, entry.text))


def _notes_without(notes: tuple[str, ...], secret_line: str) -> tuple[str, ...]:
    """``notes`` with any note that quotes the hidden line replaced (e.g. "raw: <password>").

    The credential is the whole line in an AUTH answer, the last word in ``AUTH MECH <ir>``.
    """
    secret = secret_line.strip()
    parts = {secret, secret.rsplit(" ", 1)[-1]}
    parts = {part for part in parts if len(part) >= 3}
    if not parts:
        return notes
    hidden = "(a note that quoted the hidden line is hidden too)"
    return tuple(hidden if any(part in note for part in parts) else note for note in notes)
