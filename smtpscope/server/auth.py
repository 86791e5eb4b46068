"""Server-side AUTH: the one credential check, plus CRAM-MD5 and SCRAM-SHA-256 for aiosmtpd.

aiosmtpd has PLAIN and LOGIN built in and calls an ``authenticator`` with the decoded login and
password; it also runs any ``auth_<NAME>`` method of the SMTP class as a mechanism. CRAM-MD5
(RFC 2195) and SCRAM-SHA-256 (RFC 5802/7677) are such methods here, computed with the client's
own code in ``smtpscope.auth`` and written with aiosmtpd's ``challenge_auth`` (send a 334, read
the answer), so every mechanism ends in :meth:`finish_auth`, where the AUTH fault is rolled and
the outcome is noted in the transcript.
"""

from __future__ import annotations

import hmac
import secrets
import time
from typing import TYPE_CHECKING, Any

from aiosmtpd.smtp import MISSING, AuthResult, LoginPassword, auth_mechanism

from smtpscope.auth import b64
from smtpscope.auth.cram_md5 import cram_md5_digest
from smtpscope.auth.scram import ScramKeys, parse_attributes, unescape_saslname
from smtpscope.sanitize import visible

if TYPE_CHECKING:
    from aiosmtpd.smtp import SMTP, Envelope, Session

    from smtpscope.server.context import ServerContext
    from smtpscope.server.observe import SessionTap

SCRAM_ITERATIONS = 4096  # RFC 7677's minimum; a debugging server has no reason to be slower


def _b64(data: bytes) -> str:
    return b64.encode(data)


def _scram_attrs(text: str) -> dict[str, str]:
    """The first value of each one-letter attribute (the client's parser, first wins)."""
    attrs: dict[str, str] = {}
    for key, value in parse_attributes(text):
        if len(key) == 1:
            attrs.setdefault(key, value)
    return attrs


def authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    """aiosmtpd's callback for its built-in PLAIN and LOGIN."""
    assert isinstance(auth_data, LoginPassword)
    mixin: AuthMixin = server  # type: ignore[assignment]
    user = auth_data.login.decode("utf-8", "replace")
    expected = mixin.ctx.users.get(user)
    ok = expected is not None and hmac.compare_digest(expected.encode(), auth_data.password)
    return mixin.finish_auth(mechanism, user, ok)


class AuthMixin:
    """Mechanisms and the shared ending; mixed into the aiosmtpd SMTP subclass."""

    ctx: ServerContext
    tap: SessionTap
    hostname: str

    # push(), challenge_auth() (aiosmtpd's SMTP) and injected() (ScopeSMTP) come from the
    # classes this is mixed with; stubs here would shadow them in the MRO.
    push: Any
    challenge_auth: Any
    injected: Any

    def finish_auth(self, mechanism: str, user: str, ok: bool) -> AuthResult:
        """Roll the AUTH fault, note the outcome, and tell aiosmtpd what to answer."""
        fault = self.ctx.injector.check("AUTH")
        if fault is not None:
            self.injected(fault)
            return AuthResult(success=False, handled=False, message=fault.reply())
        if ok:
            self.tap.note(f"authenticated as '{visible(user)}' with {mechanism}")
            return AuthResult(success=True, auth_data=user)
        known = "wrong password" if user in self.ctx.users else "unknown user"
        self.tap.note(f"{mechanism} authentication failed for '{visible(user)}' ({known})")
        return AuthResult(success=False, handled=False)

    async def _refuse(self, reply: str) -> AuthResult:
        await self.push(reply)
        return AuthResult(success=False, handled=True)

    @auth_mechanism("CRAM-MD5")
    async def auth_CRAM_MD5(self, _server: Any, args: list[str]) -> AuthResult:
        if len(args) > 1:
            return await self._refuse("501 5.5.4 CRAM-MD5 takes no initial response")
        challenge = f"<{secrets.randbelow(10**12)}.{int(time.time())}@{self.hostname}>".encode()
        response = await self.challenge_auth(challenge)
        if response is MISSING:
            return AuthResult(success=False, handled=True)
        user, _, digest = response.decode("utf-8", "replace").rpartition(" ")
        password = self.ctx.users.get(user)
        ok = password is not None and hmac.compare_digest(
            cram_md5_digest(password, challenge), digest.lower()
        )
        return self.finish_auth("CRAM-MD5", user, ok)

    @auth_mechanism("SCRAM-SHA-256")
    async def auth_SCRAM_SHA_256(self, _server: Any, args: list[str]) -> AuthResult:
        if len(args) > 1:
            try:
                first = b64.decode_strict(args[1])
            except ValueError:
                return await self._refuse("501 5.5.2 Can't decode base64")
        else:
            first = await self.challenge_auth(b"")
            if first is MISSING:
                return AuthResult(success=False, handled=True)
        try:
            cbflag, authzid, bare = first.decode("utf-8").split(",", 2)
        except (UnicodeDecodeError, ValueError):
            return await self._refuse("501 5.5.2 Malformed SCRAM client-first message")
        if cbflag.startswith("p="):
            return await self._refuse("535 5.7.8 Channel binding is not supported here")
        attrs = _scram_attrs(bare)
        if cbflag not in ("n", "y") or not bare.startswith("n=") or "r" not in attrs:
            return await self._refuse("501 5.5.2 Malformed SCRAM client-first message")
        user = unescape_saslname(attrs["n"])
        nonce = attrs["r"] + secrets.token_urlsafe(18)
        salt = self.ctx.scram_salt(user)
        server_first = f"r={nonce},s={_b64(salt)},i={SCRAM_ITERATIONS}"
        final = await self.challenge_auth(server_first.encode())
        if final is MISSING:
            return AuthResult(success=False, handled=True)
        final_text = final.decode("utf-8", "replace")
        without_proof, _, proof_b64 = final_text.rpartition(",p=")
        fattrs = _scram_attrs(without_proof)
        gs2_header = f"{cbflag},{authzid},".encode()
        if fattrs.get("r") != nonce or fattrs.get("c") != _b64(gs2_header):
            return self.finish_auth("SCRAM-SHA-256", user, False)
        try:
            proof = b64.decode_strict(proof_b64)
        except ValueError:
            return self.finish_auth("SCRAM-SHA-256", user, False)
        password = self.ctx.users.get(user)
        # The same derivation as the client (auth/scram.py); an unknown user gets a random
        # password, so the work done, and the time taken, do not tell users apart.
        keys = ScramKeys.derive("sha256", (password or secrets.token_hex(16)).encode(), salt,
                                SCRAM_ITERATIONS)
        message = f"{bare},{server_first},{without_proof}".encode()
        ok = password is not None and keys.proof_is_valid(proof, message)
        result = self.finish_auth("SCRAM-SHA-256", user, ok)
        if not result.success:
            return result
        # Success carries the server's proof in a last 334 (RFC 4954 has no data on 235).
        verifier = _b64(keys.server_signature(message))
        if await self.challenge_auth(f"v={verifier}".encode()) is MISSING:
            return AuthResult(success=False, handled=True)
        return result
