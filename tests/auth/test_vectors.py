"""Every RFC / fixture vector from PROTOCOL.md §6, reproduced through the mechanism classes."""

from __future__ import annotations

import base64
import hashlib

from smtpscope.auth import MECHANISMS, Mechanism, Step, get_mechanism


def b64(data: bytes) -> bytes:
    return base64.b64encode(data)


def values(step: Step) -> dict[str, str]:
    return dict(step.values)


# -- CRAM-MD5 (RFC 2195 §2 and swaks fixture 00602) ---------------------------------------------


def test_cram_md5_rfc2195() -> None:
    mech = MECHANISMS["CRAM-MD5"](username="tim", password="tanstaaftanstaaf")
    challenge = base64.b64decode("PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+")
    assert challenge == b"<1896.697170952@postoffice.reston.mci.net>"
    step = mech.respond(challenge)
    assert step.response == b"tim b913a602c7eda7a495b4e6e7334d3890"
    assert step.wire() == b"dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw"
    assert values(step)["HMAC-MD5 hex"] == "b913a602c7eda7a495b4e6e7334d3890"
    assert values(step)["challenge"] == "<1896.697170952@postoffice.reston.mci.net>"
    assert step.secret and step.mask == "[CRAM-MD5 response for tim hidden]"


def test_cram_md5_swaks_fixture() -> None:
    mech = get_mechanism("cram-md5")(username="validuser", password="validpassword")
    step = mech.respond(base64.b64decode("PDQ1Ny4xNjA3NDY1NzMzQG5vZGUuZXhhbXBsZS5jb20+"))
    assert step.wire() == b"dmFsaWR1c2VyIDFiNDQ4MzliOGIxNDA4ZDI5MDY4OGRkMTNhMDYxMGU3"
    assert step.response == b"validuser 1b44839b8b1408d290688dd13a0610e7"


# -- PLAIN (RFC 4616 §4 and swaks fixture 00600) -------------------------------------------------


def test_plain_rfc4616_no_authzid() -> None:
    step = MECHANISMS["PLAIN"](username="tim", password="tanstaaftanstaaf").initial_response()
    assert step is not None
    assert step.response == b"\0tim\0tanstaaftanstaaf"
    assert step.wire(initial=True) == b"AHRpbQB0YW5zdGFhZnRhbnN0YWFm"
    assert values(step)["layout"] == "\\0tim\\0••••"
    assert step.mask == "[PLAIN credentials for tim hidden]"


def test_plain_rfc4616_with_authzid() -> None:
    mech = MECHANISMS["PLAIN"](username="Kurt", password="xipj3plmq", authzid="Ursel")
    step = mech.initial_response()
    assert step is not None
    assert step.wire() == b"VXJzZWwAS3VydAB4aXBqM3BsbXE="
    assert values(step)["layout"] == "Ursel\\0Kurt\\0••••"


def test_plain_swaks_fixture() -> None:
    step = MECHANISMS["PLAIN"](username="validuser", password="validpassword").initial_response()
    assert step is not None
    assert step.wire() == b"AHZhbGlkdXNlcgB2YWxpZHBhc3N3b3Jk"


def test_login_prompts_from_protocol_doc() -> None:
    mech = MECHANISMS["LOGIN"](username="tim", password="tanstaaftanstaaf")
    user = mech.respond(base64.b64decode("VXNlcm5hbWU6"))
    password = mech.respond(base64.b64decode("UGFzc3dvcmQ6"))
    assert user.response == b"tim" and not user.secret
    assert password.response == b"tanstaaftanstaaf" and password.secret
    assert password.mask == "[LOGIN password hidden]"


# -- DIGEST-MD5 (RFC 2831 §4) --------------------------------------------------------------------

EX1_CHALLENGE = (
    "cmVhbG09ImVsd29vZC5pbm5vc29mdC5jb20iLG5vbmNlPSJPQTZNRzl0RVFHbTJoaCIscW9wPSJhdXRoIixh"
    "bGdvcml0aG09bWQ1LXNlc3MsY2hhcnNldD11dGYtOA=="
)
EX1_RESPONSE = (
    "Y2hhcnNldD11dGYtOCx1c2VybmFtZT0iY2hyaXMiLHJlYWxtPSJlbHdvb2QuaW5ub3NvZnQuY29tIixub25jZT0i"
    "T0E2TUc5dEVRR20yaGgiLG5jPTAwMDAwMDAxLGNub25jZT0iT0E2TUhYaDZWcVRyUmsiLGRpZ2VzdC11cmk9Imlt"
    "YXAvZWx3b29kLmlubm9zb2Z0LmNvbSIscmVzcG9uc2U9ZDM4OGRhZDkwZDRiYmQ3NjBhMTUyMzIxZjIxNDNhZjcs"
    "cW9wPWF1dGg="
)


def _digest_ex1() -> tuple[Mechanism, Step]:
    mech = MECHANISMS["DIGEST-MD5"](
        username="chris",
        password="secret",
        host="elwood.innosoft.com",
        service="imap",
        cnonce="OA6MHXh6VqTrRk",
    )
    return mech, mech.respond(base64.b64decode(EX1_CHALLENGE))


def test_digest_md5_example1_response_and_intermediates() -> None:
    _, step = _digest_ex1()
    assert step.wire().decode() == EX1_RESPONSE
    v = values(step)
    assert v["H(user:realm:pass) hex"] == "eb5a750053e4d2c34aa84bbc9b0b6ee7"
    assert v["HEX(H(A1))"] == "a2549853149b0536f01f0b850c643c57"
    assert v["HEX(H(A2))"] == "15e3594677e51ade69715d1cb7d207ba"
    assert v["A2"] == "AUTHENTICATE:imap/elwood.innosoft.com"
    assert v["rspauth HEX(H(A2))"] == "0d83dab1214f2fd7b0745ac431d63a5a"
    assert v["response"] == "d388dad90d4bbd760a152321f2143af7"
    assert v["expected rspauth"] == "ea40f60335c427b5527b84dbabcdfffd"
    # A1 is raw digest bytes + ":nonce:cnonce", shown as hex.
    assert v["A1 hex"].startswith("eb5a750053e4d2c34aa84bbc9b0b6ee7" + b":OA6M".hex())
    assert v["nc"] == "00000001" and v["cnonce"] == "OA6MHXh6VqTrRk"
    assert v["digest-uri"] == "imap/elwood.innosoft.com"
    assert step.secret and step.mask == "[DIGEST-MD5 response for chris hidden]"


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def test_digest_md5_example1_classic_hex_a1_bug_is_not_what_we_compute() -> None:
    _, step = _digest_ex1()
    # The bug: hex of H(user:realm:pass) inside A1 instead of the raw 16 bytes.
    bad_ha1 = md5(
        md5(b"chris:elwood.innosoft.com:secret").encode() + b":OA6MG9tEQGm2hh:OA6MHXh6VqTrRk"
    )
    ha2 = md5(b"AUTHENTICATE:imap/elwood.innosoft.com")
    bug = md5(f"{bad_ha1}:OA6MG9tEQGm2hh:00000001:OA6MHXh6VqTrRk:auth:{ha2}".encode())
    assert bug == "26ef1190b643a36e879673066098379c"
    assert values(step)["response"] != bug
    assert bug.encode() not in (step.response or b"")


def test_digest_md5_example1_rspauth_verified() -> None:
    mech, _ = _digest_ex1()
    challenge = base64.b64decode("cnNwYXV0aD1lYTQwZjYwMzM1YzQyN2I1NTI3Yjg0ZGJhYmNkZmZmZA==")
    step = mech.respond(challenge)
    assert step.response == b"" and not step.cancel
    assert mech.server_verified is True
    assert values(step)["server verified"] == "yes"


def test_digest_md5_example1_wrong_rspauth_cancels_loudly() -> None:
    mech, _ = _digest_ex1()
    step = mech.respond(b"rspauth=ea40f60335c427b5527b84dbabcdfffe")
    assert step.cancel and step.response is None and step.wire() == b"*"
    assert mech.server_verified is False
    assert "SERVER VERIFICATION FAILED" in step.explanation
    assert values(step)["server verified"].startswith("NO")
    assert step.warnings


def test_digest_md5_example2_acap() -> None:
    mech = MECHANISMS["DIGEST-MD5"](
        username="chris",
        password="secret",
        host="elwood.innosoft.com",
        service="acap",
        cnonce="OA9BSuZWMSpW8m",
    )
    challenge = (
        b'realm="elwood.innosoft.com",nonce="OA9BSXrbuRhWay",qop="auth",'
        b"algorithm=md5-sess,charset=utf-8"
    )
    step = mech.respond(challenge)
    assert values(step)["response"] == "6084c6db3fede7352c551284490fd0fc"
    assert b"response=6084c6db3fede7352c551284490fd0fc" in (step.response or b"")
    assert b'digest-uri="acap/elwood.innosoft.com"' in (step.response or b"")
    assert values(step)["expected rspauth"] == "2f0b3d7c3c2e486600ef710726aa2eae"
    final = mech.respond(b"rspauth=2f0b3d7c3c2e486600ef710726aa2eae")
    assert final.response == b"" and mech.server_verified is True


# -- SCRAM (RFC 5802 §5, RFC 7677 §3) -------------------------------------------------------------


def test_scram_sha1_rfc5802() -> None:
    mech = MECHANISMS["SCRAM-SHA-1"](
        username="user", password="pencil", cnonce="fyko+d2lbbFgONRv9qkxdawL"
    )
    first = mech.initial_response()
    assert first is not None
    assert first.response == b"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL"
    assert first.wire() == b"biwsbj11c2VyLHI9ZnlrbytkMmxiYkZnT05Sdjlxa3hkYXdM"
    assert not first.secret
    final = mech.respond(b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096")
    assert final.response == (
        b"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
    )
    v = values(final)
    assert v["SaltedPassword"] == "1d96ee3a529b5a5f9e47c01f229a2cb8a6e15f7d"
    assert v["ClientKey"] == "e234c47bf6c36696dd6d852b99aaa2ba26555728"
    assert v["StoredKey"] == "e9d94660c39d65c38fbad91c358f14da0eef2bd6"
    assert v["ServerKey"] == "0fe09258b3ac852ba502cc62ba903eaacdbf7d31"
    assert v["AuthMessage"] == (
        "n=user,r=fyko+d2lbbFgONRv9qkxdawL,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
        "s=QSXCR+Q6sek8bf92,i=4096,c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j"
    )
    assert v["ClientProof"] == "v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
    assert v["ServerSignature expected"] == "rmF9pqV8S7suAoZWja4dJRkFsKQ="
    assert v["salt (hex)"] == base64.b64decode("QSXCR+Q6sek8bf92").hex()
    assert v["iterations"] == "4096"
    assert v["server nonce part"] == "3rfcNHYJY1ZVvWVs7j"
    assert final.secret and final.mask == "[SCRAM-SHA-1 client proof hidden]"
    done = mech.respond(b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ=")
    assert done.response == b"" and not done.cancel
    assert mech.server_verified is True


SHA256_SERVER_FIRST = (
    b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
)


def _scram256() -> tuple[Mechanism, Step]:
    mech = MECHANISMS["SCRAM-SHA-256"](
        username="user", password="pencil", cnonce="rOprNGfwEbeRWgbNEkqO"
    )
    first = mech.initial_response()
    assert first is not None and first.response == b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
    return mech, mech.respond(SHA256_SERVER_FIRST)


def test_scram_sha256_rfc7677() -> None:
    mech, final = _scram256()
    assert final.response == (
        b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    )
    v = values(final)
    assert v["SaltedPassword"] == (
        "c4a49510323ab4f952cac1fa99441939e78ea74d6be81ddf7096e87513dc615d"
    )
    assert v["ClientKey"] == "a60fc923d67e8644a92d16b96eda5ef4656b0c725c484374be25535576996e8b"
    assert v["StoredKey"] == "586e5df283e6dceb5c3e791d8b8528ec191e664045ce971792e2e6b5bb13e2a6"
    assert v["ServerKey"] == "c1f3cbc1c13a9d35a14c0990eed97629ea225863e566a4314ab99f3f00e5d9d5"
    assert v["ServerSignature expected"] == "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
    done = mech.respond(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
    assert done.response == b"" and mech.server_verified is True


def test_scram_sha256_tampered_signature_fails() -> None:
    mech, _ = _scram256()
    done = mech.respond(b"v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
    assert done.cancel and done.wire() == b"*"
    assert mech.server_verified is False
    assert "SERVER VERIFICATION FAILED" in done.explanation


def test_scram_sha1_tampered_signature_fails() -> None:
    mech = MECHANISMS["SCRAM-SHA-1"](
        username="user", password="pencil", cnonce="fyko+d2lbbFgONRv9qkxdawL"
    )
    mech.initial_response()
    mech.respond(b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096")
    done = mech.respond(b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ")  # truncated
    assert done.cancel and mech.server_verified is False


# -- OAUTHBEARER (RFC 7628 §4.1) and XOAUTH2 (Google) --------------------------------------------

OAUTHBEARER_TOKEN = "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg=="
OAUTH_ERROR = (
    "eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIiwic2NvcGUiOiJleGFtcGxlX3Njb3BlIiwib3BlbmlkLWNvbmZpZ3Vy"
    "YXRpb24iOiJodHRwczovL2V4YW1wbGUuY29tLy53ZWxsLWtub3duL29wZW5pZC1jb25maWd1cmF0aW9uIn0="
)


def test_oauthbearer_rfc7628() -> None:
    mech = MECHANISMS["OAUTHBEARER"](
        username="user@example.com", token=OAUTHBEARER_TOKEN, host="server.example.com", port=143
    )
    step = mech.initial_response()
    assert step is not None
    assert step.response == (
        b"n,a=user@example.com,\x01host=server.example.com\x01port=143\x01"
        b"auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01"
    )
    assert step.wire() == (
        b"bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVy"
        b"IHZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB"
    )
    assert values(step)["layout"] == (
        "n,a=user@example.com,^Ahost=server.example.com^Aport=143^Aauth=Bearer ••••^A^A"
    )
    assert step.secret and step.mask == "[OAUTHBEARER token for user@example.com hidden]"


def test_oauthbearer_error_challenge_answered_with_ctrl_a() -> None:
    mech = MECHANISMS["OAUTHBEARER"](
        username="user@example.com", token=OAUTHBEARER_TOKEN, host="server.example.com", port=143
    )
    mech.initial_response()
    step = mech.respond(base64.b64decode(OAUTH_ERROR))
    assert step.response == b"\x01" and step.wire() == b"AQ=="
    assert not step.secret
    v = values(step)
    assert v["error status"] == "invalid_token"
    assert v["error scope"] == "example_scope"
    assert v["error openid-configuration"].startswith("https://example.com/")


def test_xoauth2_google_example() -> None:
    token = "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"
    step = MECHANISMS["XOAUTH2"](username="someuser@example.com", token=token).initial_response()
    assert step is not None
    assert step.response == (
        b"user=someuser@example.com\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"
        b"\x01\x01"
    )
    assert step.wire() == (
        b"dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhk"
        b"SFJoZG1semRHRXVZMjl0Q2cBAQ=="
    )
    assert values(step)["layout"] == "user=someuser@example.com^Aauth=Bearer ••••^A^A"


def test_xoauth2_error_challenge_gets_empty_response() -> None:
    mech = MECHANISMS["XOAUTH2"](username="someuser@example.com", token="t0k")
    mech.initial_response()
    step = mech.respond(base64.b64decode(OAUTH_ERROR))
    assert step.response == b"" and not step.cancel and not step.secret
    assert values(step)["error status"] == "invalid_token"
    # What the server said is a warning, so the transcript and the recording carry it too.
    assert step.warnings == ("The server rejected the token: status invalid_token, scope "
                             "example_scope, openid-configuration "
                             "https://example.com/.well-known/openid-configuration.",)


def test_a_hostile_error_challenge_is_shown_escaped() -> None:
    mech = MECHANISMS["XOAUTH2"](username="someuser@example.com", token="t0k")
    mech.initial_response()
    step = mech.respond(rb'{"status": "\u001b]0;owned\u0007", "[b]x": "1"}')
    assert step.warnings == ("The server rejected the token: status \\x1b]0;owned\\x07, "
                             "[b]x 1.",)
