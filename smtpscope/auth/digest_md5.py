"""DIGEST-MD5 (RFC 2831, Historic per RFC 6331): md5-sess with qop=auth, and rspauth checking."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from smtpscope.auth.base import (
    HIDDEN,
    Mechanism,
    Step,
    challenge_text,
    octets,
    show_bytes,
    show_text,
)
from smtpscope.auth.directives import DirectiveError, parse_directives, quote

NC = "00000001"  # we answer exactly one challenge, so the nonce count is always 1
# RFC 2831 §2.1.1: each of these may appear once at most (realm may repeat); a challenge that
# repeats one is to be aborted, since the two values cannot both be what the server hashes.
SINGLE_DIRECTIVES = ("nonce", "qop", "stale", "maxbuf", "charset", "algorithm", "cipher")


def _md5(data: bytes) -> bytes:
    return hashlib.md5(data).digest()


def _hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def encode_credential(value: str) -> bytes:
    """Encode user, realm or password for hashing as RFC 2831 §2.1.2.1 says.

    With ``charset=utf-8`` a value whose characters all fit ISO 8859-1 is still hashed as
    ISO 8859-1 (the RFC's compatibility rule, which Cyrus SASL follows); otherwise UTF-8.
    Without the charset directive the value must be ISO 8859-1 anyway, so both cases agree;
    a value outside ISO 8859-1 without the directive is a client error and goes out as UTF-8.
    A realm byte that was not UTF-8 is hashed as the server sent it (:func:`octets`).
    """
    try:
        return value.encode("iso-8859-1")
    except UnicodeEncodeError:
        return octets(value)


def digest_values(
    *,
    username: str,
    realm: str,
    password: str,
    nonce: str,
    cnonce: str,
    digest_uri: str,
    authzid: str = "",
    nc: str = NC,
    qop: str = "auth",
) -> dict[str, str]:
    """Compute the md5-sess response and the expected rspauth, with every intermediate."""
    secret = _md5(
        encode_credential(username)
        + b":"
        + encode_credential(realm)
        + b":"
        + encode_credential(password)
    )
    a1 = secret + octets(f":{nonce}:{cnonce}")
    if authzid:
        a1 += b":" + authzid.encode()
    ha1 = _hex(a1)
    a2 = f"AUTHENTICATE:{digest_uri}"
    ha2 = _hex(octets(a2))
    response = _hex(octets(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}"))
    a2_rsp = f":{digest_uri}"
    ha2_rsp = _hex(octets(a2_rsp))
    rspauth = _hex(octets(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2_rsp}"))
    return {
        "H(user:realm:pass) hex": secret.hex(),
        "A1 hex": a1.hex(),
        "HEX(H(A1))": ha1,
        "A2": a2,
        "HEX(H(A2))": ha2,
        "response": response,
        "rspauth A2": a2_rsp,
        "rspauth HEX(H(A2))": ha2_rsp,
        "expected rspauth": rspauth,
    }


class DigestMD5(Mechanism):
    """DIGEST-MD5 client: one response, then the server's rspauth is verified."""

    name = "DIGEST-MD5"
    preference = 40  # deprecated (RFC 6331): offered in the helper, never chosen by auto
    public_labels = frozenset({
        "challenge", "realms offered", "realm chosen", "cnonce", "nc", "qop", "digest-uri",
        "charset", "A2", "HEX(H(A2))", "rspauth A2", "rspauth HEX(H(A2))", "expected rspauth",
        "rspauth received", "username", "password",
    })

    def _setup(self) -> None:
        self._expected_rspauth: str | None = None
        self._answered_rspauth = False

    def verifies_server(self) -> bool:
        return True

    def _respond(self, challenge: bytes) -> Step:
        if self._expected_rspauth is None:
            return self._first(challenge)
        if not self._answered_rspauth:
            return self._rspauth(challenge)
        return self._unexpected(challenge, "the exchange is complete")

    def _first(self, challenge: bytes) -> Step:
        text = challenge_text(challenge)
        try:
            pairs = parse_directives(text)
        except DirectiveError as exc:
            return self._unexpected(challenge, f"unparseable directive list: {exc}")
        keys = [key for key, _ in pairs]
        repeated = [key for key in SINGLE_DIRECTIVES if keys.count(key) > 1]
        if repeated:
            return self._unexpected(challenge, f"{', '.join(repeated)} given more than once, "
                                    "which RFC 2831 §2.1.1 says to abort on")
        directives = {key: value for key, value in pairs if key != "realm"}
        realms = [value for key, value in pairs if key == "realm"]
        values: list[tuple[str, str]] = [("challenge", show_bytes(challenge))]
        values += [(f"directive {k}", show_text(v)) for k, v in pairs]
        warnings: list[str] = []
        nonce = directives.get("nonce")
        if not nonce:
            return self._unexpected(challenge, "no nonce directive")
        qops = [q.strip().lower() for q in directives.get("qop", "auth").split(",")]
        if "auth" not in qops:
            return self._unexpected(challenge, f"qop offers {qops}, only 'auth' is supported")
        if directives.get("algorithm", "").lower() != "md5-sess":
            warnings.append("The challenge lacks algorithm=md5-sess, which RFC 2831 requires.")
        if "stale" in directives:
            warnings.append("stale=true: the server says an earlier nonce expired.")
        charset = directives.get("charset")
        utf8 = charset is not None and charset.lower() == "utf-8"
        if charset is not None and not utf8:
            warnings.append(f"charset={show_text(charset)}: RFC 2831 defines only utf-8; "
                            "ignored, so the credentials are hashed as ISO 8859-1.")
        if not utf8 and any(ord(c) > 0xFF for c in self.username + self.password):
            warnings.append("No charset=utf-8 offered but the credentials need UTF-8.")
        if self.realm is not None:
            realm = self.realm
            if realms and realm not in realms:
                offered = ", ".join(f"'{r}'" for r in realms)
                warnings.append(f"Realm '{realm}' is not among those offered: {offered}.")
            realm_note = "given by the user"
        elif realms:
            realm = realms[0]
            realm_note = "first offered" if len(realms) > 1 else "offered by the server"
            if realm == "":
                realm_note = 'server sent realm="" (Dovecot does): the empty realm is used'
        else:
            realm = ""
            realm_note = "no realm offered: the empty realm is used"
        cnonce = self.cnonce or secrets.token_urlsafe(18)
        host = self.host or realm or "localhost"
        if not self.host:
            warnings.append(f"No host given: digest-uri uses '{host}'; pass the server name.")
        digest_uri = f"{self.service}/{host}"
        computed = digest_values(
            username=self.username,
            realm=realm,
            password=self.password,
            nonce=nonce,
            cnonce=cnonce,
            digest_uri=digest_uri,
            authzid=self.authzid,
        )
        self._expected_rspauth = computed["expected rspauth"]
        parts = []
        if utf8:
            parts.append("charset=utf-8")
        parts += [
            f"username={quote(self.username)}",
            f"realm={quote(realm)}",
            f"nonce={quote(nonce)}",
            f"nc={NC}",
            f"cnonce={quote(cnonce)}",
            f"digest-uri={quote(digest_uri)}",
            f"response={computed['response']}",
            "qop=auth",
        ]
        if self.authzid:
            parts.append(f"authzid={quote(self.authzid)}")
        # RFC 2831 §2.1.2: without charset=utf-8 the values travel in ISO 8859-1, as hashed.
        joined = ",".join(parts)
        response = octets(joined) if utf8 else encode_credential(joined)
        values += [
            ("realms offered", ", ".join(f"'{show_text(r)}'" for r in realms) or "(none)"),
            ("realm chosen", f"'{show_text(realm)}' ({realm_note})"),
            ("cnonce", show_text(cnonce)),
            ("nc", NC),
            ("qop", "auth"),
            ("digest-uri", show_text(digest_uri)),
            ("charset", "utf-8" if utf8 else "ISO 8859-1 (no charset=utf-8)"),
            ("password", HIDDEN),
        ]
        values += [(k, show_text(v)) for k, v in computed.items()]
        values.append(("client response", show_bytes(response)))
        return Step(
            response,
            tuple(values),
            "DIGEST-MD5 md5-sess: A1 = H(user:realm:pass) as RAW 16 bytes + ':nonce:cnonce'; "
            "response = HEX(H(HEX(H(A1)):nonce:nc:cnonce:qop:HEX(H(A2)))) with "
            "A2 = 'AUTHENTICATE:digest-uri'. The server must answer with rspauth.",
            secret=True,
            mask=f"[DIGEST-MD5 response for {show_text(self.username)} hidden]",
            warnings=tuple(warnings),
            revealed=(("password", show_text(self.password)),),
        )

    def _rspauth(self, challenge: bytes) -> Step:
        self._answered_rspauth = True
        expected = self._expected_rspauth or ""
        text = challenge_text(challenge)
        try:
            got = dict(parse_directives(text)).get("rspauth")
        except DirectiveError:
            got = None
        values = [
            ("challenge", show_bytes(challenge)),
            ("rspauth received", show_text(got) if got is not None else "(missing)"),
            ("rspauth expected", expected),
        ]
        if got is not None and hmac.compare_digest(octets(got.lower()), expected.encode()):
            self.server_verified = True
            values.append(("server verified", "yes"))
            return Step(
                b"",
                tuple(values),
                "rspauth matches: the server knows the password. Answering with an empty line.",
            )
        self.server_verified = False
        values.append(("server verified", "NO - MISMATCH"))
        return Step(
            None,
            tuple(values),
            "SERVER VERIFICATION FAILED: the rspauth does not match what the password implies. "
            "This server does not know your password (or it is not the server you meant). "
            "Cancelling with '*'.",
            cancel=True,
            warnings=("DIGEST-MD5 rspauth mismatch: the server was NOT authenticated.",),
        )
