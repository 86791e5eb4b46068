"""PLAIN (RFC 4616): ``authzid NUL authcid NUL passwd`` in one message."""

from __future__ import annotations

from dataclasses import replace

from smtpscope.auth.base import HIDDEN, Mechanism, Step, show_text


def plain_layout(authzid: str, authcid: str, password: str = HIDDEN) -> str:
    """The PLAIN message as displayed: NULs as ``\\0``, the password masked unless given."""
    return f"{show_text(authzid)}\\0{show_text(authcid)}\\0{password}"


class Plain(Mechanism):
    """PLAIN: the credentials in clear (base64 is encoding, not protection)."""

    name = "PLAIN"
    client_first = True
    preference = 20
    automatic = True
    cleartext = True
    public_labels = frozenset({"authzid", "authcid", "password", "layout"})

    @classmethod
    def mask_label(cls, decoded: bytes | None, known: bool = True) -> str:
        parts = (decoded or b"").split(b"\0")
        user = parts[1].decode("utf-8", "replace") if len(parts) >= 3 else ""
        return f"[PLAIN credentials for {show_text(user)} hidden]" if user \
            else "[PLAIN credentials hidden]"

    def _setup(self) -> None:
        self._sent = False

    def _credentials(self) -> Step:
        self._sent = True
        blob = b"\0".join((self.authzid.encode(), self.username.encode(), self.password.encode()))
        values = (
            ("authzid", show_text(self.authzid) if self.authzid else "(empty: act as authcid)"),
            ("authcid", show_text(self.username)),
            ("password", HIDDEN),
            ("layout", plain_layout(self.authzid, self.username)),
        )
        warnings = []
        if not self.username:
            warnings.append("Empty authcid: servers reject PLAIN without a user name.")
        if not self.password:
            warnings.append("Empty password.")
        return Step(
            blob,
            values,
            "PLAIN sends authzid, authcid and password separated by NUL bytes, base64-encoded. "
            "Anyone who sees the line has the password: use it only over TLS.",
            secret=True,
            mask=f"[PLAIN credentials for {show_text(self.username)} hidden]",
            warnings=tuple(warnings),
            revealed=(("password", show_text(self.password)),
                      ("layout", plain_layout(self.authzid, self.username,
                                              show_text(self.password)))),
        )

    def _initial(self) -> Step:
        return self._credentials()

    def _respond(self, challenge: bytes) -> Step:
        if self._sent:
            return self._unexpected(challenge, "the credentials were already sent")
        step = self._credentials()
        if challenge:
            return replace(step, warnings=(*step.warnings,
                                           "PLAIN servers should send an empty 334 challenge."))
        return step
