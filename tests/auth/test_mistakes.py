"""The classic mistakes in hand-made base64 AUTH blobs: named, fixed, never quoting the password."""

from __future__ import annotations

import base64
import subprocess

import pytest

from smtpscope.auth import decode_blob
from smtpscope.auth.mistakes import (
    PRINTF_LOGIN,
    PRINTF_PLAIN,
    PRINTF_TOKEN,
    Mistake,
    check_blob,
    encode_answer,
)
from tests.cli.test_auth_cli import run

RIGHT = b"\0tim\0tanstaaf"


def enc(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    ("typed", "mechanism", "found"),
    [
        (b"\\0tim\\0tanstaaf", None, [Mistake.LITERAL_NUL]),
        (b"\\x00tim\\x00tanstaaf", "PLAIN", [Mistake.LITERAL_NUL]),
        (b"\\000tim\\000tanstaaf", None, [Mistake.LITERAL_NUL]),
        (b"\\tim\\tanstaaf", None, [Mistake.LONE_BACKSLASH]),
        (b"\\0tim\\0tanstaaf\n", "PLAIN", [Mistake.LITERAL_NUL, Mistake.TRAILING_NEWLINE]),
        (b"\0tim\0tanstaaf\n", None, [Mistake.TRAILING_NEWLINE]),
        (b"tim\0tanstaaf", "PLAIN", [Mistake.MISSING_SEPARATOR]),
    ],
)
def test_each_mistake_is_named_and_corrected(typed: bytes, mechanism: str | None,
                                              found: list[Mistake]) -> None:
    check = check_blob(enc(typed), mechanism)
    assert list(check.mistakes) == found
    assert check.corrected is not None and base64.b64decode(check.corrected) == RIGHT
    assert all("tanstaaf" not in message for message in check.messages)


def test_a_login_answer_is_one_value_only_its_newline_is_a_mistake(capsys) -> None:
    # LOGIN has no separators: a backslash-zero in an answer is its own business, not a NUL
    # that went missing; echo's trailing newline still is a mistake, fixed by dropping it.
    assert not check_blob(enc(b"tim\\0pass"), "LOGIN")
    assert not check_blob(enc(b"tim\0pass"), "LOGIN")
    check = check_blob(enc(b"tanstaaf\n"), "LOGIN")
    assert list(check.mistakes) == [Mistake.TRAILING_NEWLINE]
    assert check.corrected == enc(b"tanstaaf")
    assert check.recipe == PRINTF_LOGIN == "printf '%s' 'VALUE' | base64"
    assert check_blob(enc(b"\\0tim\\0tanstaaf"), None).recipe == PRINTF_PLAIN


def test_right_blobs_and_other_answers_pass() -> None:
    assert not check_blob(enc(RIGHT), "PLAIN")
    assert not check_blob(enc(b"tim"), "LOGIN")
    assert not check_blob("*", "PLAIN") and not check_blob("=", "PLAIN")
    assert not check_blob("not base64!", "PLAIN")


def test_no_separator_at_all_is_named_but_cannot_be_fixed() -> None:
    check = check_blob(enc(b"timtanstaaf"), "PLAIN")
    assert list(check.mistakes) == [Mistake.MISSING_SEPARATOR] and check.corrected is None


def test_login_password_with_echo_newline_is_fixed() -> None:
    check = check_blob(enc(b"tanstaaf\n"), "LOGIN")
    assert list(check.mistakes) == [Mistake.TRAILING_NEWLINE]
    assert check.corrected == enc(b"tanstaaf")


def test_encode_answer_types_nul_as_backslash_zero() -> None:
    assert encode_answer("\\0tim\\0tanstaaf") == enc(RIGHT)
    assert encode_answer("a\\\\b") == enc(b"a\\b")
    assert encode_answer("alice") == enc(b"alice")


def test_printf_suggestion_really_produces_nuls() -> None:
    shell = PRINTF_PLAIN.replace("'USER'", "'tim'").replace("'PASSWORD'", "'tanstaaf'")
    out = subprocess.run(["sh", "-c", shell], capture_output=True, text=True, check=True)
    assert base64.b64decode(out.stdout.strip()) == RIGHT


def test_auth_decode_names_the_mistake_once_escaped_and_suggests_printf() -> None:
    result = run("decode", enc(b"\\0tim\\0tanstaaf\n"))
    assert result.returncode == 0
    out = result.stdout
    assert "mistake: the blob holds the characters \\0 where NUL bytes belong" in out
    assert "\\\\" not in out  # backslashes shown once
    # The corrected blob carries the password: masked, as the decoded one is, unless revealed.
    assert "newline" in out and "fixed:   •••• (it carries the secret" in out
    assert enc(RIGHT) not in out
    assert "printf '\\0%s\\0%s'" in out
    assert "tanstaaf" not in out
    revealed = run("decode", enc(b"\\0tim\\0tanstaaf\n"), "--reveal").stdout
    assert f"fixed:   {enc(RIGHT)}" in revealed


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        (b"tim\\0tanstaaf", [Mistake.LITERAL_NUL, Mistake.MISSING_SEPARATOR]),  # printf 'u\\0p'
        (b"\\0tim\\0tanstaaf\n", [Mistake.LITERAL_NUL, Mistake.TRAILING_NEWLINE]),
        (b"\0tim\0tanstaaf\n", [Mistake.TRAILING_NEWLINE]),
        (b"\\tim\\tanstaaf", [Mistake.LONE_BACKSLASH]),
        (b"tim\0tanstaaf", [Mistake.MISSING_SEPARATOR]),
    ],
)
def test_decode_names_each_mistake_once_with_one_fix(typed: bytes, found: list[Mistake]) -> None:
    """The checker alone names the mistakes: the PLAIN reading adds no second wording of them,
    and one printf recipe is offered, not one per checker."""
    result = run("decode", enc(typed))
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert list(decode_blob(enc(typed)).check.mistakes) == found
    assert sum(line.startswith("mistake: ") for line in lines) == len(found)
    assert not [line for line in lines if line.startswith("warning: ")]
    assert result.stdout.count("printf") == 1
    assert f"build it with: {PRINTF_PLAIN}" in lines
    assert "tanstaaf" not in result.stdout
    # The escapes and lone backslashes are read as the separators they stand for.
    assert "  authcid   tim" in lines


def test_an_echoed_value_is_a_masked_login_answer_with_the_one_value_recipe() -> None:
    result = run("decode", enc(b"tanstaaf\n"))
    assert "kind:   login-answer" in result.stdout and "tanstaaf" not in result.stdout
    assert "mistake: it ends with a newline" in result.stdout
    assert f"build it with: {PRINTF_LOGIN}" in result.stdout.splitlines()


def test_distinct_plain_findings_stay_warnings() -> None:
    result = run("decode", enc(b"tim\0tim\0\n"))
    lines = result.stdout.splitlines()
    assert "warning: Empty password." in lines
    assert "warning: authzid equals authcid: harmless, but usually left empty." in lines
    assert "mistake: it ends with a newline (echo without -n): the server takes it as part " \
        "of the password" in lines


@pytest.mark.parametrize(("mechanism", "typed"), [
    ("XOAUTH2", b"user=tim@x.test\x01auth=Bearer ya29.tanstaaf\x01\x01\n"),
    ("OAUTHBEARER", b"n,a=tim@x.test,\x01auth=Bearer ya29.tanstaaf\x01\x01\n"),
])
def test_an_echoed_token_message_is_one_mistake_with_its_own_recipe(mechanism: str,
                                                                    typed: bytes) -> None:
    """echo's newline after the ^A^A is the one mistake: no stray field for it, no claim
    that the message lacks its ^A^A, and a recipe that builds a token message."""
    result = run("decode", enc(typed))
    lines = result.stdout.splitlines()
    assert f"kind:   {mechanism.lower()}" in lines
    assert [line for line in lines if line.startswith(("mistake: ", "warning: "))] == [
        "mistake: it ends with a newline (echo without -n): the server takes it as part of "
        "the token message"]
    assert [line.split()[0] for line in lines if line.startswith("  ")][-2:] == ["auth", "token"]
    assert f"build it with: {PRINTF_TOKEN[mechanism]}" in lines
    assert "tanstaaf" not in result.stdout


@pytest.mark.parametrize("mechanism", list(PRINTF_TOKEN))
def test_the_token_recipe_builds_the_message(mechanism: str) -> None:
    recipe = PRINTF_TOKEN[mechanism].replace("'USER'", "tim@x.test").replace("'TOKEN'", "t0k")
    built = subprocess.run(["sh", "-c", recipe], capture_output=True, check=True).stdout
    message = base64.b64decode(built)
    assert message.endswith(b"auth=Bearer t0k\x01\x01") and b"\n" not in message
    assert decode_blob(built.decode()).kind == mechanism.lower()
    assert not decode_blob(built.decode()).check and not decode_blob(built.decode()).warnings


def test_a_field_name_is_escaped_once() -> None:
    """A control byte in a token message's field name shows as one escape (\\x07), as in a
    value, not escaped a second time."""
    result = run("decode", enc(b"user=tim\x01k\x07ey=v\x01auth=Bearer t0k\x01\x01"))
    assert "  k\\x07ey" in result.stdout and "\\\\x07" not in result.stdout
