"""CRAM-MD5 (RFC 2195): ``user SP hex(HMAC-MD5(key=password, msg=challenge))``."""

from __future__ import annotations

import hashlib
import hmac

from smtpscope.auth.base import HIDDEN, Mechanism, Step, show_bytes, show_text


def cram_md5_digest(password: str, challenge: bytes) -> str:
    """Lower-case hex HMAC-MD5 of the challenge keyed with the password."""
    return hmac.new(password.encode(), challenge, hashlib.md5).hexdigest()


class CramMD5(Mechanism):
    """CRAM-MD5: no password on the wire, but the digest allows an offline guess."""

    name = "CRAM-MD5"
    preference = 50
    automatic = True
    public_labels = frozenset({"challenge", "HMAC key", "HMAC input", "user", "password"})

    @classmethod
    def mask_label(cls, decoded: bytes | None, known: bool = True) -> str:
        user = (decoded or b"").rpartition(b" ")[0].decode("utf-8", "replace")
        return f"[CRAM-MD5 response for {show_text(user)} hidden]" if user \
            else "[CRAM-MD5 response hidden]"

    def _setup(self) -> None:
        self._answered = False

    def _respond(self, challenge: bytes) -> Step:
        if self._answered:
            return self._unexpected(challenge, "CRAM-MD5 has a single challenge")
        self._answered = True
        digest = cram_md5_digest(self.password, challenge)
        response = self.username.encode() + b" " + digest.encode()
        warnings: tuple[str, ...] = ()
        text = challenge.decode("utf-8", errors="replace")
        if not (text.startswith("<") and text.endswith(">") and "@" in text):
            warnings = ("The challenge is not in the usual <digits.digits@host> form.",)
        values = (
            ("challenge", show_bytes(challenge)),
            ("HMAC key", f"the password ({HIDDEN})"),
            ("HMAC input", "the challenge bytes exactly as decoded"),
            ("HMAC-MD5 hex", digest),
            ("response", f"{show_text(self.username)} {digest}"),
        )
        return Step(
            response,
            values,
            "CRAM-MD5 answers with the user name, a space and the lower-case hex HMAC-MD5 of "
            "the challenge keyed with the password. The server cannot prove it knows the password.",
            secret=True,
            mask=f"[CRAM-MD5 response for {show_text(self.username)} hidden]",
            warnings=warnings,
            revealed=(("HMAC key", f"the password ({show_text(self.password)})"),),
        )
