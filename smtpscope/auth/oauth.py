"""XOAUTH2 (Google/Microsoft) and OAUTHBEARER (RFC 7628): a bearer token in one message."""

from __future__ import annotations

import json

from smtpscope.auth.base import HIDDEN, Mechanism, Step, show_bytes, show_text


def parse_error_challenge(challenge: bytes) -> tuple[tuple[str, str], ...] | None:
    """(name, value) of each field of an RFC 7628 §3.2.2 JSON error challenge, shown safely
    (:func:`show_text`); None when it is not a JSON object."""
    try:
        data = json.loads(challenge.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    return tuple((show_text(str(k)), show_text(str(v))) for k, v in data.items())


class _Bearer(Mechanism):
    """Shared flow: send the token message once, then acknowledge an error challenge."""

    client_first = True
    token_based = True
    cleartext = True
    public_labels = frozenset({"token", "layout", "username", "server error", "GS2 header"})

    @classmethod
    def answer_is_secret(cls, index: int, decoded: bytes | None, initial: bool | None) -> bool:
        return decoded != b"\x01"  # the ^A that acknowledges an error challenge is public

    @classmethod
    def mask_label(cls, decoded: bytes | None, known: bool = True) -> str:
        return f"[{cls.name} token hidden]"
    # What RFC 7628 / the vendor says to send after an error challenge.
    error_ack = b""
    ack_text = ""

    def _setup(self) -> None:
        self._sent = False

    def _message(self) -> tuple[bytes, str]:
        raise NotImplementedError

    def _framed(self) -> tuple[tuple[str, str], ...]:
        """(label, value) of each value the message frames between ^A separators."""
        raise NotImplementedError

    def _credentials(self) -> Step:
        self._sent = True
        message, layout = self._message()
        token = self.token or ""
        clear_layout = layout.replace(f"Bearer {HIDDEN}", f"Bearer {show_text(token)}")
        values = (
            ("user", show_text(self.username)),
            ("token", f"{HIDDEN} ({len(token)} chars)"),
            ("layout", layout),
        )
        warnings = [] if token else ["No token given."]
        for label, value in self._framed():
            if "\x01" in value:
                warnings.append(f"The {label} holds ^A (0x01), the separator between the "
                                "fields: the server will read different fields than intended.")
        return Step(
            message,
            values,
            f"{self.name}: key=value pairs separated by ^A (0x01), ended by ^A^A. The bearer "
            "token is as good as a password until it expires.",
            secret=True,
            mask=f"[{self.name} token for {show_text(self.username)} hidden]",
            warnings=tuple(warnings),
            revealed=(("token", show_text(token)), ("layout", clear_layout)),
        )

    def _initial(self) -> Step:
        return self._credentials()

    def _respond(self, challenge: bytes) -> Step:
        if not self._sent and not challenge:
            return self._credentials()
        fields = parse_error_challenge(challenge)
        values = (("challenge", show_bytes(challenge)),
                  *((f"error {name}", value) for name, value in fields or ()))
        if not self._sent:
            return self._unexpected(challenge, "a non-empty challenge before the token was sent")
        # What the server said goes where every view and the recording see it (a warning:
        # ``conversation.auth.note_step``), not only into the step's values.
        said = ", ".join(f"{name} {value}" for name, value in fields or ())
        warnings = (f"The server rejected the token: {said}.",) if fields else \
            ("The error challenge is not a JSON object.",)
        return Step(
            self.error_ack,
            values,
            f"The server rejected the token (see the error fields). {self.ack_text} The server "
            "then sends the final failure reply.",
            warnings=warnings,
        )


class XOAuth2(_Bearer):
    """XOAUTH2: ``user=U ^A auth=Bearer T ^A ^A``; errors are answered with an empty line."""

    name = "XOAUTH2"
    preference = 5
    error_ack = b""
    ack_text = "XOAUTH2 answers the error challenge with an empty line."

    def _message(self) -> tuple[bytes, str]:
        token = self.token or ""
        message = f"user={self.username}\x01auth=Bearer {token}\x01\x01".encode()
        layout = f"user={show_text(self.username)}^Aauth=Bearer {HIDDEN}^A^A"
        return message, layout

    def _framed(self) -> tuple[tuple[str, str], ...]:
        return (("user name", self.username), ("token", self.token or ""))


class OAuthBearer(_Bearer):
    """OAUTHBEARER (RFC 7628): GS2 header, host, port, ``auth=Bearer T``; errors get ``^A``."""

    name = "OAUTHBEARER"
    preference = 6
    error_ack = b"\x01"
    ack_text = "RFC 7628 §3.2.3 requires the client to answer it with a single ^A (AQ==)."

    def _message(self) -> tuple[bytes, str]:
        token = self.token or ""
        # Many servers (Gmail among them) want the authzid; RFC 7628's own example sets it to the
        # user, so an empty authzid defaults to the user name.
        authzid = self.authzid or self.username
        gs2 = f"n,a={authzid.replace('=', '=3D').replace(',', '=2C')},"
        kvs = []
        if self.host:
            kvs += [f"host={self.host}", f"port={self.port}"]
        head = gs2 + "\x01" + "".join(kv + "\x01" for kv in kvs)
        message = f"{head}auth=Bearer {token}\x01\x01".encode()
        layout = show_text(head).replace("\\x01", "^A") + f"auth=Bearer {HIDDEN}^A^A"
        return message, layout

    def _framed(self) -> tuple[tuple[str, str], ...]:
        return (("authzid" if self.authzid else "user name", self.authzid or self.username),
                ("host", self.host or ""), ("token", self.token or ""))
