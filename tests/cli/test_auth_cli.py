"""``smtpscope auth``: run as ``python -m smtpscope auth ...`` with stdin closed (never a TTY)."""

from __future__ import annotations

import base64
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def run(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "smtpscope", "auth", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        errors="surrogateescape",  # so a test can hand over bytes that are not UTF-8
        timeout=60,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
    )


def send_lines(out: str) -> list[str]:
    return [line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("send: ")]


def test_no_tty_and_no_password_source_fails_cleanly() -> None:
    result = run("plain", "--user", "tim")
    assert result.returncode == 1
    assert "not a terminal" in result.stderr and "--password-env" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_plain_with_password_env() -> None:
    result = run("plain", "--user", "tim", "--password-env", "PW", env={"PW": "tanstaaftanstaaf"})
    assert result.returncode == 0, result.stderr
    assert send_lines(result.stdout) == ["AHRpbQB0YW5zdGFhZnRhbnN0YWFm"]
    assert "AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm" in result.stdout
    assert "tanstaaftanstaaf" not in result.stdout
    assert "\\0tim\\0••••" in result.stdout


def test_password_on_command_line_warns() -> None:
    result = run("plain", "--user", "Kurt", "--authzid", "Ursel", "--password", "xipj3plmq")
    assert result.returncode == 0
    assert "shell history" in result.stderr
    assert send_lines(result.stdout) == ["VXJzZWwAS3VydAB4aXBqM3BsbXE="]


def test_password_stdin() -> None:
    result = run("login", "--user", "tim", "--password-stdin", stdin="tanstaaftanstaaf\n")
    assert result.returncode == 0, result.stderr
    assert send_lines(result.stdout) == ["dGlt", "dGFuc3RhYWZ0YW5zdGFhZg=="]


@pytest.mark.parametrize(("sources", "named"), [
    (["--password-env", "PW", "--password", "other"], "--password-env and --password"),
    (["--password", "other", "--password-env", "PW"], "--password-env and --password"),
    (["--password-stdin", "--password-env", "PW"], "--password-env and --password-stdin"),
    (["--netrc-host", "mx.test", "--password-stdin", "--password", "x"],
     "--netrc-host, --password-stdin and --password"),
])
def test_two_password_sources_are_refused(sources: list[str], named: str) -> None:
    """Whichever one the computation took, it may not be the one meant: nothing is computed."""
    result = run("plain", "--user", "tim", *sources, env={"PW": "tanstaaftanstaaf"},
                 stdin="fromstdin\n")
    assert result.returncode == 1
    assert f"{named} each name a password: give one" in result.stderr
    assert result.stdout == ""
    assert "tanstaaftanstaaf" not in result.stderr + result.stdout


def test_netrc(tmp_path: pathlib.Path) -> None:
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine mx.test login validuser password validpassword\n")
    netrc.chmod(0o600)
    result = run(
        "plain", "--user", "validuser", "--netrc-host", "mx.test", env={"HOME": str(tmp_path)}
    )
    assert result.returncode == 0, result.stderr
    assert send_lines(result.stdout) == ["AHZhbGlkdXNlcgB2YWxpZHBhc3N3b3Jk"]
    result = run("plain", "--user", "other", "--netrc-host", "mx.test", env={"HOME": str(tmp_path)})
    assert result.returncode == 1 and "validuser" in result.stderr


def test_cram_md5() -> None:
    result = run(
        "cram-md5",
        "--user",
        "tim",
        "--password-env",
        "PW",
        "--challenge",
        "334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+",
        env={"PW": "tanstaaftanstaaf"},
    )
    assert result.returncode == 0, result.stderr
    assert "b913a602c7eda7a495b4e6e7334d3890" in result.stdout
    assert send_lines(result.stdout) == ["dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw"]


def test_bad_challenge_fails_before_asking_for_password() -> None:
    result = run("cram-md5", "--user", "tim", "--challenge", "not*base64")
    assert result.returncode == 1
    assert "--challenge: invalid base64" in result.stderr


def test_digest_md5_with_rspauth() -> None:
    challenge = base64.b64encode(
        b'realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",qop="auth",algorithm=md5-sess,'
        b"charset=utf-8"
    ).decode()
    args = [
        "digest-md5",
        "--user",
        "chris",
        "--password-env",
        "PW",
        "--challenge",
        challenge,
        "--host",
        "elwood.innosoft.com",
        "--service",
        "imap",
        "--cnonce",
        "OA6MHXh6VqTrRk",
    ]
    good = run(
        *args,
        "--rspauth",
        "cnNwYXV0aD1lYTQwZjYwMzM1YzQyN2I1NTI3Yjg0ZGJhYmNkZmZmZA==",
        env={"PW": "secret"},
    )
    assert good.returncode == 0, good.stderr
    assert "d388dad90d4bbd760a152321f2143af7" in good.stdout
    assert "a2549853149b0536f01f0b850c643c57" in good.stdout
    assert send_lines(good.stdout)[1] == "(empty line)"
    bad = run(
        *args, "--rspauth", base64.b64encode(b"rspauth=" + b"0" * 32).decode(), env={"PW": "secret"}
    )
    assert bad.returncode == 2
    assert "SERVER VERIFICATION FAILED" in bad.stdout
    assert send_lines(bad.stdout)[-1] == "*"


def test_scram_client_first_needs_no_password() -> None:
    result = run("scram-sha-1", "--user", "user", "--nonce", "fyko+d2lbbFgONRv9qkxdawL")
    assert result.returncode == 0, result.stderr
    assert send_lines(result.stdout) == ["biwsbj11c2VyLHI9ZnlrbytkMmxiYkZnT05Sdjlxa3hkYXdM"]


def test_scram_random_nonce_printed_for_reuse() -> None:
    result = run("scram-sha-256", "--user", "user")
    assert result.returncode == 0
    assert "--nonce '" in result.stdout


def test_scram_sha256_full() -> None:
    server_first = base64.b64encode(
        b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
    ).decode()
    base = [
        "scram-sha-256",
        "--user",
        "user",
        "--nonce",
        "rOprNGfwEbeRWgbNEkqO",
        "--password-env",
        "PW",
        "--server-first",
        server_first,
    ]
    good_final = base64.b64encode(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=").decode()
    result = run(*base, "--server-final", good_final, env={"PW": "pencil"})
    assert result.returncode == 0, result.stderr
    assert "c4a49510323ab4f952cac1fa99441939e78ea74d6be81ddf7096e87513dc615d" in result.stdout
    assert "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=" in result.stdout
    assert "server verified           yes" in result.stdout
    bad_final = base64.b64encode(b"v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=").decode()
    result = run(*base, "--server-final", bad_final, env={"PW": "pencil"})
    assert result.returncode == 2 and "SERVER VERIFICATION FAILED" in result.stdout


def test_an_empty_server_proof_given_on_purpose_is_checked_not_ignored() -> None:
    """``--server-final ''`` or ``--rspauth ''`` is a (missing) proof to verify: exit 2, never
    the exit 0 of a run that was given no proof to check."""
    server_first = base64.b64encode(b"r=NONCEsrv,s=QSXCR+Q6sek8bf92,i=4096").decode()
    scram = run("scram-sha-1", "--user", "u", "--nonce", "NONCE", "--password-env", "PW",
                "--server-first", server_first, "--server-final", "", env={"PW": "pencil"})
    assert scram.returncode == 2 and "SERVER VERIFICATION FAILED" in scram.stdout
    challenge = base64.b64encode(b'nonce="n",qop="auth",algorithm=md5-sess').decode()
    digest = run("digest-md5", "--user", "u", "--password-env", "PW", "--host", "h",
                 "--challenge", challenge, "--rspauth", "", env={"PW": "pencil"})
    assert digest.returncode == 2 and "SERVER VERIFICATION FAILED" in digest.stdout
    assert "pencil" not in scram.stdout + scram.stderr + digest.stdout + digest.stderr
    # The code is the one --help documents.
    assert "2 the server's proof" in " ".join(run("scram-sha-1", "--help").stdout.split())


def test_server_bytes_that_are_not_utf8_are_shown_as_sent() -> None:
    # A byte that is not UTF-8, a backslash and a control byte: the parsed values show them as
    # the challenge line does; the sentences are escaped once (a real backslash doubled).
    server_first = base64.b64encode(b"r=abcdef,s=QSXCR+Q6sek8bf92,i=4096").decode()
    server_final = base64.b64encode(b"e=bad \xff\\\x1b").decode()
    result = run("scram-sha-256", "--user", "u", "--nonce", "abc", "--password-env", "PW",
                 "--server-first", server_first, "--server-final", server_final,
                 env={"PW": "p"})
    assert result.returncode == 2, result.stderr
    lines = [" ".join(line.split()) for line in result.stdout.splitlines()]
    assert r"server error bad \xff\\x1b" in lines
    assert r"warning: SCRAM server error e=bad \xff\\\x1b" in lines
    challenge = base64.b64encode(b'realm="r\\\\\xff\x01",nonce="n\xff",qop="auth"').decode()
    result = run("digest-md5", "--user", "u", "--password-env", "PW", "--host", "h",
                 "--challenge", challenge, env={"PW": "p"})
    assert result.returncode == 0, result.stderr
    lines = [" ".join(line.split()) for line in result.stdout.splitlines()]
    assert r'challenge realm="r\\\xff\x01",nonce="n\xff",qop="auth"' in lines
    assert r"directive realm r\\xff\x01" in lines
    assert r"directive nonce n\xff" in lines
    assert "\ufffd" not in result.stdout


def test_scram_server_first_requires_nonce() -> None:
    result = run("scram-sha-1", "--user", "u", "--server-first", "cj1hYmM=")
    assert result.returncode == 1 and "--nonce" in result.stderr


def test_xoauth2() -> None:
    expected = (
        "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhk"
        "SFJoZG1semRHRXVZMjl0Q2cBAQ=="
    )
    result = run(
        "xoauth2",
        "--user",
        "someuser@example.com",
        "--token-env",
        "TOK",
        env={"TOK": "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"},
    )
    assert result.returncode == 0, result.stderr
    assert send_lines(result.stdout) == [expected]
    assert "ya29." not in result.stdout.replace(expected, "")


def test_oauthbearer() -> None:
    result = run(
        "oauthbearer",
        "--user",
        "user@example.com",
        "--token-env",
        "TOK",
        "--host",
        "server.example.com",
        "--port",
        "143",
        env={"TOK": "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg=="},
    )
    assert result.returncode == 0, result.stderr
    assert send_lines(result.stdout) == [
        "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVy"
        "IHZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB"
    ]


def test_oauthbearer_port_out_of_range_is_a_usage_error() -> None:
    result = run("oauthbearer", "--user", "u", "--token-env", "T", "--host", "h",
                 "--port", "99999999", env={"T": "tok"})
    assert result.returncode == 1 and result.stdout == ""
    assert "port 99999999 is out of range" in result.stderr


def test_oauth_without_token_fails_cleanly() -> None:
    result = run("xoauth2", "--user", "u")
    assert result.returncode == 1 and "token" in result.stderr and "Traceback" not in result.stderr


def test_decode() -> None:
    result = run("decode", "AHRpbQB0YW5zdGFhZnRhbnN0YWFm")
    assert result.returncode == 0
    assert "kind:   plain" in result.stdout and "tanstaaftanstaaf" not in result.stdout
    revealed = run("decode", "AHRpbQB0YW5zdGFhZnRhbnN0YWFm", "--reveal")
    assert "tanstaaftanstaaf" in revealed.stdout
    mistake = run("decode", base64.b64encode(b"\\0tim\\0pw").decode())
    assert "mistake: the blob holds the characters \\0 where NUL bytes belong" in mistake.stdout


@pytest.mark.parametrize("pasted", [
    "AHRp bQB0YW5z\nZGFhZnRhbnN0YWFm",  # wrapped as base64 -w / a mail client does
    "AUTH PLAIN AHRpbQB0YW5z\r\n ZGFhZnRhbnN0YWFm",
])
def test_decode_a_correct_blob_with_line_breaks_names_no_mistake(pasted: str) -> None:
    result = run("decode", pasted)
    assert result.returncode == 0 and "authcid   tim" in result.stdout
    assert "mistake:" not in result.stdout and "build it with" not in result.stdout


def test_decode_checks_a_login_answer_as_the_auth_line_names_it() -> None:
    """``AUTH LOGIN <blob>``: a LOGIN answer has no NUL to miss, only echo's newline."""
    result = run("decode", "AUTH LOGIN " + base64.b64encode(b"tanstaaf\n").decode())
    assert result.returncode == 0 and "no NUL" not in result.stdout
    assert "mistake: it ends with a newline" in result.stdout
    assert "build it with: printf '%s' 'VALUE' | base64" in result.stdout


def test_decode_login_answer_masked_and_unknown_mechanism_refused() -> None:
    secret = base64.b64encode(b"alice-secret-pw").decode()
    masked = run("decode", "-m", "LOGIN", secret)
    assert masked.returncode == 0 and "alice-secret-pw" not in masked.stdout
    assert "kind:   login-answer" in masked.stdout and "--reveal" in masked.stdout
    assert "alice-secret-pw" in run("decode", "-m", "LOGIN", secret, "--reveal").stdout
    bogus = run("decode", "-m", "bogus", secret)
    assert bogus.returncode == 1 and bogus.stdout == ""
    assert "unknown mechanism 'bogus'" in bogus.stderr
    assert "PLAIN, LOGIN, CRAM-MD5" in bogus.stderr and "OAUTHBEARER" in bogus.stderr


def test_decode_invalid_base64() -> None:
    result = run("decode", "abc$")
    assert result.returncode == 1 and "invalid base64" in result.stderr


def test_decode_escapes_terminal_controls() -> None:
    result = run("decode", base64.b64encode(b"evil\x1b]0;title\x07").decode())
    assert result.returncode == 0
    assert "\x1b" not in result.stdout and "\\x1b" in result.stdout


@pytest.mark.parametrize("args, env, stdin", [
    (("plain", "--user", "tim", "--password-env", "PW"), {"PW": "p\udce4ss"}, None),
    (("login", "--user", "tim", "--password-stdin"), {}, "p\udce4ss\n"),
    (("plain", "--user", "t\udce4m", "--password-env", "PW"), {"PW": "pw"}, None),
    (("xoauth2", "--user", "tim", "--token", "t\udce4k"), {}, None),
    (("digest-md5", "--user", "tim", "--password-env", "PW", "--host", "h\udce4",
      "--challenge", "bm9uY2U9IngiLHFvcD0iYXV0aCI="), {"PW": "pw"}, None),
])
def test_text_that_is_not_utf8_is_refused_in_one_line(
        args: tuple[str, ...], env: dict[str, str], stdin: str | None) -> None:
    # A Latin-1 byte (0xe4) in a name or secret: PEP 383 carries it as a lone surrogate.
    result = run(*args, env=env, stdin=stdin)
    assert result.returncode == 1, result.stderr
    assert "is not UTF-8 text" in result.stderr and "Traceback" not in result.stderr
    assert "crashed" not in result.stderr and result.stdout == ""


def test_decode_names_a_byte_that_is_not_utf8() -> None:
    result = run("decode", "AB\udce4C")
    assert result.returncode == 1
    assert "invalid base64: byte 0xe4 at position 3" in result.stderr


def test_no_mechanism_given() -> None:
    result = run()
    assert result.returncode == 1 and "choose a mechanism" in result.stderr


# A server's text with ESC, a backslash and a quote. Step values and decoded warnings are
# escaped once where they are made (backslash kept, as typed); warnings and explanations
# are escaped once by visible() at the surface (backslash shown doubled).
TRICKY = "a\x1bb\\c'd"
AS_VALUE = "'a\\x1bb\\c'd'"
AS_WORDS = "'a\\x1bb\\\\c'd'"


def _digest(*extra: str, challenge: bytes) -> str:
    result = run("digest-md5", "--user", "u", "--password-env", "PW",
                 "--challenge", base64.b64encode(challenge).decode(), *extra,
                 env={"PW": "pw"})
    assert "\x1b" not in result.stdout
    return result.stdout


def test_digest_md5_server_realm_is_escaped_once() -> None:
    realm = TRICKY.replace("\\", "\\\\").encode()  # a DIGEST-MD5 quoted-string
    out = _digest(challenge=b'realm="' + realm + b'",nonce="n",qop="auth",algorithm=md5-sess')
    rows = dict(re.split(r"\s{2,}", line.strip(), maxsplit=1) for line in out.splitlines()
                if line.startswith("  ") and re.search(r"\S\s{2,}\S", line))
    assert rows["realms offered"] == AS_VALUE
    assert rows["realm chosen"] == f"{AS_VALUE} (offered by the server)"
    assert f"warning: No host given: digest-uri uses {AS_WORDS}; pass the server name." in out
    given = _digest("--realm", "mine", "--host", "h", challenge=b'realm="' + realm
                    + b'",nonce="n",qop="auth",algorithm=md5-sess')
    assert f"warning: Realm 'mine' is not among those offered: {AS_WORDS}." in given


def test_digest_md5_and_scram_refusals_quote_the_server_once() -> None:
    digest = _digest(challenge=b"nonce=n," + TRICKY.encode())
    assert f"expected key=value at position 8: {AS_WORDS}); cancelling" in digest
    first = base64.b64encode(f"r=cnonceSERVER,s=c2FsdA==,i={TRICKY}".encode()).decode()
    scram = run("scram-sha-256", "--user", "u", "--password-env", "PW", "--nonce", "cnonce",
                "--server-first", first, env={"PW": "pw"})
    assert "\x1b" not in scram.stdout
    assert f"iteration count i={AS_WORDS} is invalid" in scram.stdout


def test_decode_warnings_quote_the_blob_once() -> None:
    blob = base64.b64encode(f"n,a=u,\x01auth={TRICKY} tok\x01\x01".encode()).decode()
    result = run("decode", "-m", "OAUTHBEARER", blob)
    assert result.returncode == 0 and "\x1b" not in result.stdout
    assert f"warning: Scheme {AS_VALUE}: servers expect 'Bearer'." in result.stdout
    # The words before an error are said once as well (the prefix here is all it allows).
    bad = run("decode", "AUTH PLAIN abc$")
    assert "note: Ignored the leading 'AUTH PLAIN'." in bad.stderr


@pytest.mark.parametrize("nonce", ["a,b", "", "two words", "caf\u00e9"])
def test_a_scram_nonce_outside_rfc_5802_is_refused(nonce: str) -> None:
    """A ',' would split the attribute (r=a,b reads as r=a and an attribute 'b'); nothing is
    computed, and no password is asked for."""
    result = run("scram-sha-256", "--user", "user", "--password-env", "PW", "--nonce", nonce,
                 env={"PW": "pencil"})
    assert result.returncode == 1
    assert "a SCRAM nonce is printable ASCII without ','" in result.stderr
    assert result.stdout == ""


def test_a_netrc_others_may_read_is_refused_in_plain_words(tmp_path: pathlib.Path) -> None:
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine mx.test login validuser password validpassword\n")
    netrc.chmod(0o644)
    result = run("plain", "--user", "validuser", "--netrc-host", "mx.test",
                 env={"HOME": str(tmp_path)})
    assert result.returncode == 1
    assert result.stderr.strip().endswith(
        "cannot use netrc: ~/.netrc access too permissive: access permissions must restrict "
        "access to only the owner")  # no "(None, line None)"
    assert "validpassword" not in result.stdout + result.stderr
