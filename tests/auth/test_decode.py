"""decode_blob: base64 tolerance, recognition of each kind, and the classic PLAIN mistakes."""

from __future__ import annotations

import base64

import pytest

from smtpscope.auth import decode_blob, show_bytes
from smtpscope.auth.mistakes import Mistake


def enc(data: bytes) -> str:
    return base64.b64encode(data).decode()


def fields(data: bytes, context: str | None = None, reveal: bool = False) -> dict[str, str]:
    return dict(decode_blob(enc(data), context, reveal=reveal).fields)


# -- base64 handling ----------------------------------------------------------------------------


def test_invalid_base64_is_reported_with_position() -> None:
    result = decode_blob("AHRp$bQ")
    assert result.kind == "invalid" and result.raw == b""
    assert result.error is not None and "'$'" in result.error and "position 5" in result.error


def test_impossible_length() -> None:
    result = decode_blob("AHRpb")
    assert result.kind == "invalid" and "cannot encode" in (result.error or "")


def test_whitespace_and_missing_padding_tolerated() -> None:
    result = decode_blob(" VXNl\n cm5hbWU6 ")
    assert result.raw == b"Username:" and any("Whitespace" in w for w in result.warnings)
    result = decode_blob("VXJzZWwAS3VydAB4aXBqM3BsbXE")
    assert result.raw == b"Ursel\0Kurt\0xipj3plmq"
    assert any("Padding" in w for w in result.warnings)


def test_prefixes_and_url_safe_alphabet() -> None:
    result = decode_blob("334 VXNlcm5hbWU6")
    assert result.kind == "login-prompt"
    result = decode_blob("AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm")
    assert result.kind == "plain" and dict(result.fields)["authcid"] == "tim"
    result = decode_blob(enc(b"\xfb\xff").replace("+", "-").replace("/", "_"))
    assert result.raw == b"\xfb\xff" and any("URL-safe" in w for w in result.warnings)


def test_empty_and_equals() -> None:
    assert decode_blob("=").kind == "empty"
    assert decode_blob("").kind == "empty"


def test_visible_text_shows_controls() -> None:
    result = decode_blob(enc(b"a\x1b[2Jb\x7f\xff"))
    assert "\x1b" not in result.text and "\\x1b" in result.text
    assert "\\x7f" in result.text and "\\xff" in result.text


# -- PLAIN and its classic mistakes --------------------------------------------------------------


def test_plain_fields_password_hidden_unless_revealed() -> None:
    result = decode_blob("VXJzZWwAS3VydAB4aXBqM3BsbXE=")
    assert result.kind == "plain"
    f = dict(result.fields)
    assert (f["authzid"], f["authcid"]) == ("Ursel", "Kurt")
    assert "xipj3plmq" not in f["password"] and "xipj3plmq" not in result.text
    assert result.text == "Ursel\\0Kurt\\0••••"
    assert not result.warnings
    revealed = decode_blob("VXJzZWwAS3VydAB4aXBqM3BsbXE=", reveal=True)
    assert dict(revealed.fields)["password"] == "xipj3plmq"
    assert "xipj3plmq" in revealed.text


@pytest.mark.parametrize(
    "blob",
    [
        b"\\0tim\\0secret",
        b"\\x00tim\\x00secret",
        b"\\000tim\\000secret",
        b"\\u0000tim\\u0000secret",
    ],
)
def test_plain_literal_backslash_sequences(blob: bytes) -> None:
    result = decode_blob(enc(blob))
    assert result.kind == "plain"
    assert result.check.mistakes == (Mistake.LITERAL_NUL,) and not result.warnings
    assert dict(result.fields)["authcid"] == "tim"
    assert "secret" not in result.text and "secret" not in str(result.fields)


def test_plain_only_one_nul() -> None:
    result = decode_blob(enc(b"tim\0secret"))
    assert result.check.mistakes == (Mistake.MISSING_SEPARATOR,) and not result.warnings
    assert "secret" not in result.text


def test_plain_trailing_newline() -> None:
    result = decode_blob(enc(b"\0tim\0secret\n"))
    assert result.check.mistakes == (Mistake.TRAILING_NEWLINE,) and not result.warnings
    assert "secret" not in result.text


@pytest.mark.parametrize(("blob", "word"), [(b"\0\0secret", "authcid"), (b"\0tim\0", "password")])
def test_plain_empty_parts(blob: bytes, word: str) -> None:
    result = decode_blob(enc(blob))
    assert any(word in w.lower() for w in result.warnings)


def test_plain_context_forces_interpretation() -> None:
    result = decode_blob(enc(b"timsecret"), "PLAIN")
    assert result.kind == "plain" and result.check.mistakes == (Mistake.MISSING_SEPARATOR,)
    assert "timsecret" not in result.text


def test_plain_three_nuls() -> None:
    assert any("3 NUL" in w for w in decode_blob(enc(b"a\0b\0c\0d")).warnings)


# -- the other kinds -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("blob", "asks"),
    [
        ("VXNlcm5hbWU6", "username"),
        ("UGFzc3dvcmQ6", "password"),
        (enc(b"Benutzername:"), "username"),
        (enc("Пароль:".encode()), "password"),
    ],
)
def test_login_prompts(blob: str, asks: str) -> None:
    result = decode_blob(blob)
    assert result.kind == "login-prompt" and dict(result.fields)["asks for"] == asks


@pytest.mark.parametrize("answer", [b"alice-secret-pw", b"mypassword", b'{"a": 1}', b"\xff\xfe"])
def test_login_answer_is_masked_unless_revealed(answer: bytes) -> None:
    # Any LOGIN answer may be the password, whatever it looks like (a word, JSON, bytes).
    result = decode_blob(enc(answer), "LOGIN")
    shown = " ".join([result.text, *(v for pair in result.fields for v in pair)])
    assert result.kind == "login-answer"
    assert answer.decode("utf-8", "replace") not in shown
    assert "user name or the password" in dict(result.fields)["taken for"]
    revealed = decode_blob(enc(answer), "login", reveal=True)
    assert revealed.kind == "login-answer" and revealed.text == show_bytes(answer)


@pytest.mark.parametrize(("prompt", "asks"), [(b"User Name", "username"),
                                              (b"Password", "password")])
def test_login_context_still_knows_the_drafts_bare_prompts(prompt: bytes, asks: str) -> None:
    result = decode_blob(enc(prompt), "LOGIN")
    assert result.kind == "login-prompt" and dict(result.fields)["asks for"] == asks


def test_cram_md5_challenge_and_response() -> None:
    result = decode_blob("PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+")
    assert result.kind == "cram-md5-challenge"
    assert dict(result.fields)["host"] == "postoffice.reston.mci.net"
    result = decode_blob("dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw")
    assert result.kind == "cram-md5-response"
    assert dict(result.fields) == {
        "user": "tim",
        "HMAC-MD5 hex": "b913a602c7eda7a495b4e6e7334d3890",
    }


def test_digest_md5_kinds() -> None:
    challenge = b'realm="",nonce="abc",qop="auth",charset=utf-8,algorithm=md5-sess'
    result = decode_blob(enc(challenge))
    assert result.kind == "digest-md5-challenge"
    assert dict(result.fields)["nonce"] == "abc"
    assert any("Dovecot" in w for w in result.warnings)
    result = decode_blob(
        enc(b'username="chris",nonce="n",response=d388dad90d4bbd760a152321f2143af7')
    )
    assert result.kind == "digest-md5-response"
    result = decode_blob("cnNwYXV0aD1lYTQwZjYwMzM1YzQyN2I1NTI3Yjg0ZGJhYmNkZmZmZA==")
    assert result.kind == "digest-md5-rspauth"
    assert dict(result.fields)["rspauth"] == "ea40f60335c427b5527b84dbabcdfffd"


def test_scram_kinds() -> None:
    result = decode_blob("biwsbj11c2VyLHI9ZnlrbytkMmxiYkZnT05Sdjlxa3hkYXdM")
    assert result.kind == "scram-client-first"
    assert dict(result.fields)["user"] == "user"
    assert dict(result.fields)["nonce"] == "fyko+d2lbbFgONRv9qkxdawL"
    assert fields(b"n,a=x=2Cy,n=a=3Db,r=N")["user"] == "a=b"
    result = decode_blob(
        enc(b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096")
    )
    assert result.kind == "scram-server-first"
    assert dict(result.fields)["iterations"] == "4096"
    assert dict(result.fields)["salt (hex)"] == "4125c247e43ab1e93c6dff76"
    result = decode_blob(enc(b"c=biws,r=abc,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="))
    assert result.kind == "scram-client-final"
    assert dict(result.fields)["channel binding (decoded)"] == "n,,"
    result = decode_blob(enc(b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ="))
    assert result.kind == "scram-server-final"
    assert decode_blob(enc(b"e=invalid-proof")).kind == "scram-server-final"


def test_xoauth2_token_masked() -> None:
    token = "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"
    result = decode_blob(enc(f"user=someuser@example.com\x01auth=Bearer {token}\x01\x01".encode()))
    assert result.kind == "xoauth2"
    assert token not in result.text and token not in str(result.fields)
    assert result.text == "user=someuser@example.com^Aauth=Bearer ••••^A^A"
    assert dict(result.fields)["user"] == "someuser@example.com"
    revealed = decode_blob(enc(f"user=u\x01auth=Bearer {token}\x01\x01".encode()), reveal=True)
    assert dict(revealed.fields)["token"] == token


def test_xoauth2_missing_terminator() -> None:
    result = decode_blob(enc(b"user=u\x01auth=Bearer t"))
    assert any("^A^A" in w for w in result.warnings)


def test_oauthbearer_token_masked() -> None:
    blob = (
        "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVy"
        "IHZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB"
    )
    result = decode_blob(blob)
    assert result.kind == "oauthbearer"
    f = dict(result.fields)
    assert (f["authzid"], f["host"], f["port"]) == ("user@example.com", "server.example.com", "143")
    assert "vF9dft4q" not in result.text and "vF9dft4q" not in str(result.fields)


def test_oauth_error_json() -> None:
    blob = (
        "eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIiwic2NvcGUiOiJleGFtcGxlX3Njb3BlIiwib3BlbmlkLWNvbmZpZ3Vy"
        "YXRpb24iOiJodHRwczovL2V4YW1wbGUuY29tLy53ZWxsLWtub3duL29wZW5pZC1jb25maWd1cmF0aW9uIn0="
    )
    result = decode_blob(blob)
    assert result.kind == "oauth-error"
    assert dict(result.fields)["status"] == "invalid_token"
    assert any("AQ==" in w for w in result.warnings)


def test_plain_text_and_binary() -> None:
    assert decode_blob(enc(b"hello world")).kind == "text"
    assert decode_blob(enc(b"\xff\xfe\x00")).kind == "binary"


@pytest.mark.parametrize("blob, context", [
    (b"\0bob\0p\xe4sswort", None),  # a Latin-1 password: not UTF-8, still PLAIN's shape
    (b"bob\0p\xe4sswort", "PLAIN"),
])
def test_plain_password_masked_when_not_utf8(blob: bytes, context: str | None) -> None:
    result = decode_blob(enc(blob), context)
    assert result.kind == "plain"
    shown = result.text + str(result.fields)
    assert "sswort" not in shown and "\\xe4" not in shown
    assert any("UTF-8" in w for w in result.warnings)
    assert dict(decode_blob(enc(blob), context, reveal=True).fields)["password"] == "p\\xe4sswort"


@pytest.mark.parametrize("blob", [b"user=u\x01auth=Bearer ya29\xffsecret\x01\x01",
                                  b"n,,\x01auth=Bearer ya29\xffsecret\x01\x01"])
def test_token_masked_when_not_utf8(blob: bytes) -> None:
    result = decode_blob(enc(blob))
    assert result.kind in ("xoauth2", "oauthbearer")
    assert "secret" not in result.text + str(result.fields)
    assert result.text.endswith("Bearer ••••^A^A")


def test_binary_with_many_nuls_is_not_taken_for_plain() -> None:
    # An NTLM negotiate message: binary, NUL bytes, nothing secret.
    assert decode_blob(enc(b"NTLMSSP\0\x01\0\0\0\x07\x82\x08\xa2")).kind == "binary"
