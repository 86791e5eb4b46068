"""redact_client_line: which hand-typed AUTH lines hide, for every mechanism."""

from __future__ import annotations

import base64

import pytest

from smtpscope.auth import redact_client_line


def b(text: bytes) -> bytes:
    return base64.b64encode(text)


PLAIN_IR = b(b"\0alice\0secret")
SCRAM_FIRST = b(b"n,,n=user,r=abc")
SCRAM_FINAL = b(b"c=biws,r=abcdef,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=")
CRAM = b(b"tim b913a602c7eda7a495b4e6e7334d3890")
DIGEST = b(b'username="u",realm="",nonce="n",response=0123456789abcdef0123456789abcdef')
XOAUTH = b(b"user=u\x01auth=Bearer tok\x01\x01")

# (mechanism, step index, line, initial response used, expected mask or None to keep)
CASES = [
    ("PLAIN", 0, b"AUTH PLAIN " + PLAIN_IR + b"\r\n", True, "[PLAIN credentials for alice hidden]"),
    ("PLAIN", 0, b"AUTH PLAIN\r\n", False, None),
    ("PLAIN", 0, b"AUTH PLAIN =\r\n", True, None),
    ("PLAIN", 1, PLAIN_IR + b"\r\n", False, "[PLAIN credentials for alice hidden]"),
    ("PLAIN", 1, b"bm90LXBsYWlu\r\n", False, "[PLAIN credentials hidden]"),
    ("PLAIN", 1, b"*\r\n", False, None),
    ("LOGIN", 0, b"AUTH LOGIN\r\n", False, None),
    ("LOGIN", 1, b(b"alice") + b"\r\n", False, None),
    ("LOGIN", 2, b(b"secret") + b"\r\n", False, "[LOGIN password hidden]"),
    ("LOGIN", 0, b"AUTH LOGIN " + b(b"alice") + b"\r\n", True, None),
    ("LOGIN", 1, b(b"secret") + b"\r\n", True, "[LOGIN password hidden]"),
    ("CRAM-MD5", 0, b"AUTH CRAM-MD5\r\n", False, None),
    ("CRAM-MD5", 1, CRAM + b"\r\n", False, "[CRAM-MD5 response for tim hidden]"),
    ("DIGEST-MD5", 0, b"AUTH DIGEST-MD5\r\n", False, None),
    ("DIGEST-MD5", 1, DIGEST + b"\r\n", False, "[DIGEST-MD5 response hidden]"),
    ("DIGEST-MD5", 2, b"\r\n", False, None),
    ("SCRAM-SHA-1", 0, b"AUTH SCRAM-SHA-1 " + SCRAM_FIRST + b"\r\n", True, None),
    ("SCRAM-SHA-256", 1, SCRAM_FIRST + b"\r\n", False, None),
    ("SCRAM-SHA-256", 1, SCRAM_FINAL + b"\r\n", True, "[SCRAM-SHA-256 client proof hidden]"),
    ("SCRAM-SHA-1", 2, SCRAM_FINAL + b"\r\n", False, "[SCRAM-SHA-1 client proof hidden]"),
    ("SCRAM-SHA-1", 3, b"\r\n", False, None),
    ("XOAUTH2", 0, b"AUTH XOAUTH2 " + XOAUTH + b"\r\n", True, "[XOAUTH2 token hidden]"),
    ("XOAUTH2", 1, XOAUTH + b"\r\n", False, "[XOAUTH2 token hidden]"),
    ("XOAUTH2", 2, b"\r\n", False, None),
    ("OAUTHBEARER", 0, b"AUTH OAUTHBEARER " + XOAUTH + b"\r\n", True, "[OAUTHBEARER token hidden]"),
    ("OAUTHBEARER", 1, b"AQ==\r\n", True, None),
    ("NTLM", 0, b"AUTH NTLM TlRMTVNTUAABAAAA\r\n", True, "[NTLM response hidden]"),
    ("NTLM", 1, b"TlRMTVNTUAADAAAA\r\n", True, "[NTLM response hidden]"),
    ("GSSAPI", 2, b"*\r\n", True, None),
]


@pytest.mark.parametrize(("mech", "index", "line", "initial", "mask"), CASES)
def test_redaction_table(
    mech: str, index: int, line: bytes, initial: bool, mask: str | None
) -> None:
    result = redact_client_line(mech, index, line, initial_response=initial)
    if mask is None:
        assert result is None
        return
    assert result is not None
    replacement, label = result
    assert label == mask
    assert replacement.endswith(b"\r\n")  # line ending kept
    body = line.rstrip(b"\r\n").split()[-1]
    assert body not in replacement
    if index == 0:
        assert replacement.startswith(line.split()[0] + b" " + line.split()[1] + b" ")


def test_login_without_knowing_about_initial_response_masks_every_answer() -> None:
    user = b(b"alice") + b"\r\n"
    assert redact_client_line("LOGIN", 0, b"AUTH LOGIN " + user) is None
    for index in (1, 2):
        result = redact_client_line("LOGIN", index, user)
        assert result is not None and result[1] == "[LOGIN response hidden]"


def test_mechanism_name_is_case_insensitive() -> None:
    assert redact_client_line("plain", 1, PLAIN_IR) is not None
