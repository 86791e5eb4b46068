"""SCRAM-SHA-1 (RFC 5802) and SCRAM-SHA-256 (RFC 7677), without channel binding."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from smtpscope.auth import b64
from smtpscope.auth.base import (
    HIDDEN,
    Mechanism,
    Step,
    challenge_text,
    octets,
    show_bytes,
    show_text,
)
from smtpscope.auth.saslprep import saslprep_lenient

# RFC 5802 §5.1 asks for at least 4096 iterations; fewer is weak but still works, so we warn.
MIN_ITERATIONS = 4096
# A hostile server could ask for billions of iterations to pin the CPU; ten million PBKDF2 rounds
# already take seconds, so anything above is refused.
MAX_ITERATIONS = 10_000_000


# RFC 5802 §7 posit-number: %x31-39 *DIGIT.
_POSITIVE_NUMBER = re.compile(r"[1-9][0-9]*")


def escape_saslname(name: str) -> str:
    """RFC 5802 §5.1: ``=`` becomes ``=3D`` and ``,`` becomes ``=2C``."""
    return name.replace("=", "=3D").replace(",", "=2C")


def unescape_saslname(name: str) -> str:
    """The reverse of :func:`escape_saslname` (what a server does with ``n=``)."""
    return name.replace("=2C", ",").replace("=3D", "=")


@dataclass(frozen=True)
class ScramKeys:
    """RFC 5802 §3 key derivation: what client and server both compute from the password."""

    hash_name: str
    salted: bytes  # SaltedPassword = Hi(password, salt, i)
    client_key: bytes
    stored_key: bytes
    server_key: bytes

    @classmethod
    def derive(cls, hash_name: str, password: bytes, salt: bytes, iterations: int) -> ScramKeys:
        salted = hashlib.pbkdf2_hmac(hash_name, password, salt, iterations)
        client_key = hmac.digest(salted, b"Client Key", hash_name)
        return cls(hash_name, salted, client_key, hashlib.new(hash_name, client_key).digest(),
                   hmac.digest(salted, b"Server Key", hash_name))

    def client_signature(self, auth_message: bytes) -> bytes:
        return hmac.digest(self.stored_key, auth_message, self.hash_name)

    def server_signature(self, auth_message: bytes) -> bytes:
        return hmac.digest(self.server_key, auth_message, self.hash_name)

    def client_proof(self, auth_message: bytes) -> bytes:
        return _xor(self.client_key, self.client_signature(auth_message))

    def proof_is_valid(self, proof: bytes, auth_message: bytes) -> bool:
        """Server side: does ``proof`` recover a ClientKey that hashes to StoredKey?"""
        signature = self.client_signature(auth_message)
        if len(proof) != len(signature):
            return False
        client_key = _xor(proof, signature)
        return hmac.compare_digest(hashlib.new(self.hash_name, client_key).digest(),
                                   self.stored_key)


def parse_attributes(text: str) -> list[tuple[str, str]]:
    """Split ``r=...,s=...,i=...`` into (attribute, value) pairs; values may contain ``=``."""
    out = []
    for part in text.split(","):
        key, sep, value = part.partition("=")
        out.append((key, value) if sep else ("", part))
    return out


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _shortened(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


class Scram(Mechanism):
    """SCRAM client; subclasses pick the hash."""

    hash_name = "sha1"
    client_first = True
    public_labels = frozenset({
        "client nonce", "combined nonce", "server nonce part", "nonce check", "salt (base64)",
        "salt (hex)", "iterations", "password", "AuthMessage", "ServerSignature expected",
        "ServerSignature received", "server-final", "server-first", "server error",
        "GS2 header", "client-first", "username (SASLprep + escaped)",
    })

    @classmethod
    def answer_is_secret(cls, index: int, decoded: bytes | None, initial: bool | None) -> bool:
        # client-first (n,,n=user,r=...) is public; anything with a proof or undecodable is not.
        return decoded is None or b",p=" in decoded or decoded[:2] not in (b"n,", b"y,", b"p=")

    @classmethod
    def mask_label(cls, decoded: bytes | None, known: bool = True) -> str:
        return f"[{cls.name} client proof hidden]"

    def _setup(self) -> None:
        self._client_first_bare: str | None = None
        self._gs2_header = ""
        self._nonce = ""
        self._server_signature: bytes | None = None
        self._finished = False

    def verifies_server(self) -> bool:
        return True

    # -- client-first ---------------------------------------------------------------------

    def _initial(self) -> Step:
        warnings: list[str] = []
        user, warn = saslprep_lenient(self.username)
        if warn:
            warnings.append(f"user name: {warn}")
        self._nonce = self.cnonce or secrets.token_urlsafe(24)
        if any(c == "," or not 0x21 <= ord(c) <= 0x7E for c in self._nonce):
            warnings.append("The client nonce must be printable ASCII without ','.")
        authz = f"a={escape_saslname(self.authzid)}" if self.authzid else ""
        self._gs2_header = f"n,{authz},"
        self._client_first_bare = f"n={escape_saslname(user)},r={self._nonce}"
        message = self._gs2_header + self._client_first_bare
        values = (
            ("GS2 header", self._gs2_header + "  (n: no channel binding)"),
            ("username (SASLprep + escaped)", show_text(escape_saslname(user))),
            ("client nonce", show_text(self._nonce)),
            ("client-first", show_text(message)),
        )
        return Step(
            message.encode("utf-8"),
            values,
            f"{self.name} client-first: GS2 header, user name and a fresh client nonce. "
            "Not secret.",
            warnings=tuple(warnings),
        )

    # -- dispatch -------------------------------------------------------------------------

    def _respond(self, challenge: bytes) -> Step:
        if self._client_first_bare is None:
            if challenge:
                return self._unexpected(challenge, "expected an empty 334 before client-first")
            return self._initial()
        if self._server_signature is None:
            return self._client_final(challenge)
        if not self._finished:
            return self.verify_final(challenge)
        return self._unexpected(challenge, "the exchange is complete")

    # -- client-final ---------------------------------------------------------------------

    def _client_final(self, challenge: bytes) -> Step:
        server_first = challenge_text(challenge)
        pairs = parse_attributes(server_first)
        names = [name for name, _ in pairs]
        values: list[tuple[str, str]] = [("server-first", show_bytes(challenge))]
        if names[:1] == ["m"]:
            return self._unexpected(challenge, "mandatory extension m= is not supported")
        # RFC 5802 §7: r, s, i in this order, then extensions; a second r, s or i would leave
        # two candidates for what the server hashes.
        if names[:3] != ["r", "s", "i"] or any(names.count(name) > 1 for name in "rsi") \
                or "" in names:
            return self._unexpected(challenge, "server-first must be r=, s=, i= in this order, "
                                    "each once, then only key=value extensions (RFC 5802 §7)")
        nonce, salt_b64, iter_text = (value for _, value in pairs[:3])
        values += [
            ("client nonce", show_text(self._nonce)),
            ("combined nonce", show_text(nonce)),
        ]
        if not nonce.startswith(self._nonce) or len(nonce) <= len(self._nonce):
            values.append(("nonce check", "FAILED"))
            return Step(
                None,
                tuple(values),
                "NONCE MISMATCH: the server nonce must start with our client nonce and add to "
                "it. This may be a replay or a broken server. Cancelling with '*'.",
                cancel=True,
                warnings=("SCRAM server nonce does not extend the client nonce.",),
            )
        values.append(("server nonce part", show_text(nonce[len(self._nonce) :])))
        try:
            salt = b64.decode_strict(salt_b64)
        except ValueError:
            return self._unexpected(challenge, "salt s= is not valid base64")
        if not _POSITIVE_NUMBER.fullmatch(iter_text):  # ASCII only: "١٢٣".isdigit() is true
            return self._unexpected(challenge,
                                    f"iteration count i='{_shortened(iter_text)}' is invalid")
        # Compared as text first: int() refuses a number of more than 4300 digits.
        if len(iter_text) > len(str(MAX_ITERATIONS)) or int(iter_text) > MAX_ITERATIONS:
            return self._unexpected(challenge, f"i={_shortened(iter_text)} exceeds "
                                    f"{MAX_ITERATIONS}")
        iterations = int(iter_text)
        warnings: list[str] = []
        if iterations < MIN_ITERATIONS:
            warnings.append(f"Only {iterations} iterations (RFC 5802 asks for {MIN_ITERATIONS}+).")
        password, warn = saslprep_lenient(self.password, secret=True)
        if warn:
            warnings.append(f"password: {warn}")
        keys = ScramKeys.derive(self.hash_name, password.encode("utf-8"), salt, iterations)
        salted, client_key, stored_key = keys.salted, keys.client_key, keys.stored_key
        server_key = keys.server_key
        without_proof = f"c={_b64(self._gs2_header.encode())},r={nonce}"
        auth_message = f"{self._client_first_bare},{server_first},{without_proof}"
        # RFC 5802 §3: AuthMessage holds server-first as the server sent it (octets()).
        client_signature = keys.client_signature(octets(auth_message))
        proof = keys.client_proof(octets(auth_message))
        self._server_signature = keys.server_signature(octets(auth_message))
        message = f"{without_proof},p={_b64(proof)}"
        values += [
            ("salt (base64)", show_text(salt_b64)),
            ("salt (hex)", salt.hex()),
            ("iterations", str(iterations)),
            ("password", f"{HIDDEN} (SASLprep, UTF-8)"),
            ("SaltedPassword", salted.hex()),
            ("ClientKey", client_key.hex()),
            ("StoredKey", stored_key.hex()),
            ("AuthMessage", show_text(auth_message)),
            ("ClientSignature", client_signature.hex()),
            ("ClientProof", _b64(proof)),
            ("ServerKey", server_key.hex()),
            ("ServerSignature expected", _b64(self._server_signature)),
            ("client-final", show_text(message)),
        ]
        return Step(
            octets(message),
            tuple(values),
            f"{self.name} client-final: SaltedPassword = PBKDF2(password, salt, i); "
            "ClientProof = ClientKey XOR HMAC(StoredKey, AuthMessage). The server must answer "
            "with v=ServerSignature, which proves it knows the salted password.",
            secret=True,
            mask=f"[{self.name} client proof hidden]",
            warnings=tuple(warnings),
            revealed=(("password", f"{show_text(password)} (SASLprep, UTF-8)"),),
        )

    # -- server-final ---------------------------------------------------------------------

    def verify_final(self, challenge: bytes) -> Step:
        """Check server-final (``v=`` signature or ``e=`` error); may also be called directly."""
        self._finished = True
        # RFC 5802 §7: server-final is e= or v= first; what follows is extensions.
        key, first = parse_attributes(challenge_text(challenge))[0]
        expected = _b64(self._server_signature or b"")
        values: list[tuple[str, str]] = [("server-final", show_bytes(challenge))]
        if key == "e":
            values.append(("server error", show_text(first)))
            # The server's text as it is in the sentences: their views escape it (visible).
            return Step(
                None,
                tuple(values),
                f"The server reported a SCRAM error: {first}. Cancelling.",
                cancel=True,
                warnings=(f"SCRAM server error e={first}",),
            )
        got = first if key == "v" else None
        values += [
            ("ServerSignature received", show_text(got) if got is not None else "(missing)"),
            ("ServerSignature expected", expected),
        ]
        if got is not None and hmac.compare_digest(octets(got), expected.encode()):
            self.server_verified = True
            values.append(("server verified", "yes"))
            return Step(
                b"",
                tuple(values),
                "Server signature verified: the server knows the salted password. "
                "Answering with an empty line.",
            )
        self.server_verified = False
        values.append(("server verified", "NO - MISMATCH"))
        return Step(
            None,
            tuple(values),
            "SERVER VERIFICATION FAILED: v= does not match the expected ServerSignature. This "
            "server does not hold your credentials. Cancelling with '*'.",
            cancel=True,
            warnings=(f"{self.name} server signature mismatch: the server was NOT authenticated.",),
        )


class ScramSHA1(Scram):
    """SCRAM-SHA-1 (RFC 5802)."""

    name = "SCRAM-SHA-1"
    preference = 90
    automatic = True
    hash_name = "sha1"


class ScramSHA256(Scram):
    """SCRAM-SHA-256 (RFC 7677)."""

    name = "SCRAM-SHA-256"
    preference = 100
    automatic = True
    hash_name = "sha256"
