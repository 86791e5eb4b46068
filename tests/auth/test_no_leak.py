"""The password and token never reach displayed text; derived secrets never reach masks."""

from __future__ import annotations

import base64

import pytest

from smtpscope.auth import MECHANISMS, Mechanism, Step, decode_blob, redact_client_line

PASSWORD = "Sup3r-S3cret-pw"
TOKEN = "ya29.T0KEN-d0-not-leak"


def displayed(step: Step) -> list[str]:
    """Everything a view prints for a step (values, explanation, mask, warnings)."""
    return [v for pair in step.values for v in pair] + [
        step.explanation,
        step.mask,
        *step.warnings,
    ]


def exchange(name: str) -> tuple[Mechanism, list[Step]]:
    mech = MECHANISMS[name](
        username="alice", password=PASSWORD, token=TOKEN, host="mx.test", cnonce="abc"
    )
    steps: list[Step] = []
    first = mech.initial_response()
    if first is not None:
        steps.append(first)
    if name == "LOGIN":
        steps.append(mech.respond(b"Password:"))
    elif name == "CRAM-MD5":
        steps.append(mech.respond(b"<1.2@mx.test>"))
    elif name == "DIGEST-MD5":
        step = mech.respond(b'realm="",nonce="n",qop="auth",charset=utf-8,algorithm=md5-sess')
        steps.append(step)
        steps.append(mech.respond(b"rspauth=" + dict(step.values)["expected rspauth"].encode()))
    elif name.startswith("SCRAM"):
        steps.append(mech.respond(b"r=abcdef,s=QSXCR+Q6sek8bf92,i=4096"))
        steps.append(mech.respond(b"v=AAAA"))
    elif name in ("XOAUTH2", "OAUTHBEARER"):
        steps.append(mech.respond(b'{"status":"401"}'))
    steps.append(mech.finish(235, "ok"))
    return mech, steps


@pytest.mark.parametrize("name", sorted(MECHANISMS))
def test_password_and_token_never_displayed(name: str) -> None:
    _, steps = exchange(name)
    assert any(s.secret for s in steps)
    for step in steps:
        for text in displayed(step):
            assert PASSWORD not in text, (name, text)
            assert TOKEN not in text, (name, text)


@pytest.mark.parametrize("name", sorted(MECHANISMS))
def test_secret_responses_have_masks_without_the_response(name: str) -> None:
    _, steps = exchange(name)
    for step in steps:
        if step.secret:
            assert step.mask.startswith("[") and step.mask.endswith("hidden]")
            assert step.response is not None
            assert step.response.decode() not in step.mask
            assert base64.b64encode(step.response).decode() not in step.explanation


def test_derived_secrets_not_in_mask_or_explanation() -> None:
    _, cram = exchange("CRAM-MD5")
    digest = dict(cram[0].values)["HMAC-MD5 hex"]
    _, dmd5 = exchange("DIGEST-MD5")
    response = dict(dmd5[0].values)["response"]
    _, scram = exchange("SCRAM-SHA-256")
    proof = dict(scram[1].values)["ClientProof"]
    for steps, secret in ((cram, digest), (dmd5, response), (scram, proof)):
        for step in steps:
            assert secret not in step.mask and secret not in step.explanation
            assert all(secret not in w for w in step.warnings)


def test_redaction_masks_do_not_contain_secrets() -> None:
    blob = base64.b64encode(f"\0alice\0{PASSWORD}".encode())
    result = redact_client_line("PLAIN", 0, b"AUTH PLAIN " + blob + b"\r\n")
    assert result is not None
    assert PASSWORD.encode() not in result[0] and blob not in result[0]


def test_decode_hides_password_by_default() -> None:
    result = decode_blob(base64.b64encode(f"\0alice\0{PASSWORD}".encode()).decode())
    assert PASSWORD not in result.text
    assert all(PASSWORD not in v for pair in result.fields for v in pair)
    assert all(PASSWORD not in w for w in result.warnings)


@pytest.mark.parametrize("name", sorted(MECHANISMS))
def test_responses_not_marked_secret_carry_no_secret(name: str) -> None:
    """A response with ``secret`` False is shown as sent in the transcript: it must hold
    neither the password nor the token."""
    _, steps = exchange(name)
    for step in steps:
        if not step.secret and step.response is not None:
            assert PASSWORD.encode() not in step.response, (name, step)
            assert TOKEN.encode() not in step.response, (name, step)


def test_login_repeated_prompts_keep_the_password_secret() -> None:
    mech = MECHANISMS["LOGIN"](username="alice", password=PASSWORD)
    steps = [mech.initial_response(), mech.respond(b"Username:"), mech.respond(b"Username:"),
             mech.respond(b"Password:"), mech.respond(b"Password:")]
    assert [s.secret for s in steps if s is not None] == [False, False, False, True, True]
    for step in steps:
        assert step is not None
        if step.response is not None and PASSWORD.encode() in step.response:
            assert step.secret and step.mask == "[LOGIN password hidden]"
