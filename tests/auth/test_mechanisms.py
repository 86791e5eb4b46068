"""Mechanism behaviour beyond the RFC vectors: odd servers, state, verification, finish()."""

from __future__ import annotations

import hashlib

import pytest

from smtpscope.auth import MECHANISMS, Step, get_mechanism
from smtpscope.auth.directives import DirectiveError, parse_directives
from smtpscope.auth.saslprep import SASLprepError, saslprep
from smtpscope.auth.scram import MAX_ITERATIONS
from smtpscope.sanitize import visible


def values(step: Step) -> dict[str, str]:
    return dict(step.values)


def test_registry_and_lookup() -> None:
    assert set(MECHANISMS) == {
        "PLAIN",
        "LOGIN",
        "CRAM-MD5",
        "DIGEST-MD5",
        "SCRAM-SHA-1",
        "SCRAM-SHA-256",
        "XOAUTH2",
        "OAUTHBEARER",
    }
    for name, cls in MECHANISMS.items():
        assert cls.name == name
        assert get_mechanism(name.lower()) is cls
    with pytest.raises(KeyError, match="GSSAPI"):
        get_mechanism("GSSAPI")


def test_initial_response_only_where_the_mechanism_has_one() -> None:
    mech = MECHANISMS["PLAIN"](username="a", password="b")
    step = mech.initial_response()
    assert step is not None and step.response == b"\0a\0b"
    assert MECHANISMS["CRAM-MD5"](username="a", password="b").initial_response() is None
    assert MECHANISMS["DIGEST-MD5"](username="a", password="b").initial_response() is None


def test_wire_forms() -> None:
    assert Step(b"").wire(initial=True) == b"="
    assert Step(b"").wire() == b""
    assert Step(None, cancel=True).wire() == b"*"


# -- PLAIN / LOGIN -------------------------------------------------------------------------------


def test_plain_without_initial_response_answers_empty_334_once() -> None:
    mech = MECHANISMS["PLAIN"](username="alice", password="pw")
    step = mech.respond(b"")
    assert step.response == b"\0alice\0pw" and step.secret
    again = mech.respond(b"")
    assert again.cancel


def test_plain_after_initial_response_does_not_resend() -> None:
    mech = MECHANISMS["PLAIN"](username="alice", password="pw")
    mech.initial_response()
    assert mech.respond(b"").cancel


def test_login_with_initial_response() -> None:
    mech = MECHANISMS["LOGIN"](username="alice", password="pw")
    ir = mech.initial_response()
    assert ir is not None and ir.response == b"alice" and not ir.secret
    step = mech.respond(b"Password:")
    assert step.response == b"pw" and step.secret


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        (b"Username:", b"alice"),
        (b"username:", b"alice"),
        (b"Benutzername:", b"alice"),
        (b"Nom d'utilisateur:", b"alice"),
        (b"Password:", b"pw"),
        (b"Passwort:", b"pw"),
        (b"Mot de passe:", b"pw"),
        ("Contraseña:".encode(), b"pw"),
        (b"User password:", b"pw"),
    ],
)
def test_login_prompt_words(prompt: bytes, expected: bytes) -> None:
    mech = MECHANISMS["LOGIN"](username="alice", password="pw")
    assert mech.respond(prompt).response == expected


def test_login_unknown_prompts_follow_order() -> None:
    mech = MECHANISMS["LOGIN"](username="alice", password="pw")
    first = mech.respond(b"???")
    second = mech.respond(b"!!!")
    assert (first.response, second.response) == (b"alice", b"pw")
    assert first.warnings and second.warnings
    assert mech.respond(b"...").cancel


# -- CRAM-MD5 ------------------------------------------------------------------------------------


def test_cram_md5_odd_challenge_warns_and_second_challenge_cancels() -> None:
    mech = MECHANISMS["CRAM-MD5"](username="tim", password="x")
    step = mech.respond(b"not-a-timestamp")
    assert step.warnings and step.secret
    assert mech.respond(b"<1.2@h>").cancel


# -- DIGEST-MD5 ----------------------------------------------------------------------------------


def test_digest_md5_dovecot_empty_realm() -> None:
    mech = MECHANISMS["DIGEST-MD5"](username="u", password="p", host="mx.test", cnonce="c")
    step = mech.respond(b'realm="",nonce="abc",qop="auth",charset=utf-8,algorithm=md5-sess')
    assert b'realm=""' in (step.response or b"")
    assert b'digest-uri="smtp/mx.test"' in (step.response or b"")
    assert "empty realm" in values(step)["realm chosen"]
    # Dovecot's rspauth for these inputs comes from the same formula.
    assert mech.respond(f"rspauth={values(step)['expected rspauth']}".encode()).response == b""


def test_digest_md5_no_realm_multiple_realms_and_override() -> None:
    mech = MECHANISMS["DIGEST-MD5"](username="u", password="p", host="h", cnonce="c")
    step = mech.respond(b"nonce=abc,qop=auth,algorithm=md5-sess")
    assert b'realm=""' in (step.response or b"") and b"charset" not in (step.response or b"")
    multi = b'realm="one",realm="two",nonce="n",qop="auth",algorithm=md5-sess'
    step = MECHANISMS["DIGEST-MD5"](username="u", password="p", host="h").respond(multi)
    assert b'realm="one"' in (step.response or b"")
    step = MECHANISMS["DIGEST-MD5"](username="u", password="p", host="h", realm="two").respond(
        multi
    )
    assert b'realm="two"' in (step.response or b"")
    step = MECHANISMS["DIGEST-MD5"](username="u", password="p", host="h", realm="x").respond(multi)
    assert any("not among" in w for w in step.warnings)


def test_digest_md5_quoting_and_unquoted_values() -> None:
    mech = MECHANISMS["DIGEST-MD5"](username='we"ird\\', password="p", host="h", cnonce="c")
    step = mech.respond(b"realm=r ,  nonce=abc , qop=auth,algorithm=md5-sess")
    assert b'username="we\\"ird\\\\"' in (step.response or b"")
    assert values(step)["directive nonce"] == "abc"


def test_digest_md5_values_show_bytes_as_the_challenge_does() -> None:
    # A byte that is not UTF-8, a backslash (quoted as \\) and a control byte in realm and
    # nonce: each directive shows them as the challenge line does, never as U+FFFD, and the
    # hashes and the response carry the bytes the server sent.
    challenge = b'realm="r\\\\\xff\x01",nonce="n\xff\\\\",qop="auth",algorithm=md5-sess'
    mech = MECHANISMS["DIGEST-MD5"](username="u", password="p", host="h", cnonce="c")
    step = mech.respond(challenge)
    shown = r'realm="r\\\xff\x01",nonce="n\xff\\",qop="auth",algorithm=md5-sess'
    assert values(step)["challenge"] == shown
    assert values(step)["directive realm"] == r"r\\xff\x01"
    assert values(step)["directive nonce"] == "n\\xff\\"
    realm, nonce = b"r\\\xff\x01", b"n\xff\\"
    assert values(step)["H(user:realm:pass) hex"] == hashlib.md5(b"u:" + realm + b":p").hexdigest()
    assert values(step)["A1 hex"].endswith((b":" + nonce + b":c").hex())
    assert b'realm="r\\\\\xff\x01",nonce="n\xff\\\\"' in (step.response or b"")
    # An rspauth that is not ASCII is a mismatch shown as sent (compared as bytes: with str,
    # compare_digest raises TypeError on anything but ASCII).
    step = mech.respond(b"rspauth=ab\xff")
    assert step.cancel and values(step)["rspauth received"] == r"ab\xff"
    assert mech.server_verified is False


def test_digest_md5_refuses_without_qop_auth_or_nonce() -> None:
    mech = MECHANISMS["DIGEST-MD5"](username="u", password="p", host="h")
    assert mech.respond(b'nonce="n",qop="auth-conf"').cancel
    assert MECHANISMS["DIGEST-MD5"](username="u", password="p").respond(b'realm="r"').cancel
    assert MECHANISMS["DIGEST-MD5"](username="u", password="p").respond(b'nonce="n').cancel


@pytest.mark.parametrize("challenge", [
    b'nonce="a",nonce="b",qop="auth",algorithm=md5-sess',
    b'nonce="a",qop="auth",qop="auth-int",algorithm=md5-sess',
    b'nonce="a",qop="auth",algorithm=md5-sess,charset=utf-8,charset=utf-8',
    b'nonce="a",qop="auth",algorithm=md5-sess,algorithm=md5',
])
def test_digest_md5_repeated_single_directive_aborts(challenge: bytes) -> None:
    """RFC 2831 §2.1.1: a second nonce (qop, charset, algorithm...) leaves two candidates for
    what the server hashes; the client aborts instead of picking one."""
    step = MECHANISMS["DIGEST-MD5"](username="u", password="p", host="h").respond(challenge)
    assert step.cancel and step.response is None
    assert "more than once" in step.explanation and "RFC 2831" in step.explanation


def test_digest_md5_repeated_realm_is_a_choice_not_an_error() -> None:
    mech = MECHANISMS["DIGEST-MD5"](username="u", password="p", host="h")
    step = mech.respond(b'realm="a",realm="b",nonce="n",qop="auth",algorithm=md5-sess')
    assert not step.cancel and values(step)["realm chosen"].startswith("'a'")


def test_digest_md5_charset_other_than_utf8_is_named_and_ignored() -> None:
    mech = MECHANISMS["DIGEST-MD5"](username="u", password="p", host="h")
    step = mech.respond(b'nonce="n",qop="auth",algorithm=md5-sess,charset=iso-8859-1')
    assert not step.cancel and b"charset" not in (step.response or b"")
    assert any("charset=iso-8859-1" in w and "utf-8" in w for w in step.warnings)
    assert values(step)["charset"] == "ISO 8859-1 (no charset=utf-8)"


@pytest.mark.parametrize("charset, wire", [("", b'username="j\xfcrgen"'),
                                           (",charset=utf-8", b'username="j\xc3\xbcrgen"')])
def test_digest_md5_user_name_travels_in_the_charset_it_is_hashed_in(
        charset: str, wire: bytes) -> None:
    """RFC 2831 §2.1.2: without charset=utf-8 the user name is ISO 8859-1 on the wire too;
    the server reads it so and hashes what it read."""
    mech = MECHANISMS["DIGEST-MD5"](username="j\u00fcrgen", password="p", host="h")
    step = mech.respond(f'nonce="n",qop="auth",algorithm=md5-sess{charset}'.encode())
    assert wire in (step.response or b"")


def test_digest_md5_missing_rspauth_is_failure() -> None:
    mech = MECHANISMS["DIGEST-MD5"](username="u", password="p", host="h")
    mech.respond(b'nonce="n",qop="auth",algorithm=md5-sess')
    step = mech.respond(b"something=else")
    assert step.cancel and mech.server_verified is False


def test_digest_md5_authzid_included() -> None:
    mech = MECHANISMS["DIGEST-MD5"](username="u", password="p", host="h", authzid="z", cnonce="c")
    step = mech.respond(b'nonce="n",qop="auth",algorithm=md5-sess')
    assert (step.response or b"").endswith(b',authzid="z"')


def test_parse_directives() -> None:
    assert parse_directives('a=1, b="x,\\"y", realm="", realm=z') == [
        ("a", "1"),
        ("b", 'x,"y'),
        ("realm", ""),
        ("realm", "z"),
    ]
    with pytest.raises(DirectiveError):
        parse_directives("novalue")


# -- SCRAM ---------------------------------------------------------------------------------------


def test_scram_escapes_username_and_authzid() -> None:
    mech = MECHANISMS["SCRAM-SHA-256"](username="a=b,c", password="p", authzid="x,y", cnonce="N")
    step = mech.initial_response()
    assert step is not None
    assert step.response == b"n,a=x=2Cy,n=a=3Db=2Cc,r=N"


def test_scram_random_nonce_is_valid() -> None:
    step = MECHANISMS["SCRAM-SHA-1"](username="u", password="p").initial_response()
    assert step is not None
    nonce = values(step)["client nonce"]
    assert len(nonce) >= 24 and "," not in nonce and nonce.isprintable()


def test_scram_answers_empty_334_with_client_first() -> None:
    mech = MECHANISMS["SCRAM-SHA-1"](username="u", password="p", cnonce="N")
    assert mech.respond(b"").response == b"n,,n=u,r=N"


def test_scram_nonce_must_extend_client_nonce() -> None:
    mech = MECHANISMS["SCRAM-SHA-1"](username="u", password="p", cnonce="abc")
    mech.initial_response()
    step = mech.respond(b"r=xyzdef,s=QSXCR+Q6sek8bf92,i=4096")
    assert step.cancel and "NONCE MISMATCH" in step.explanation
    mech = MECHANISMS["SCRAM-SHA-1"](username="u", password="p", cnonce="abc")
    mech.initial_response()
    assert mech.respond(b"r=abc,s=QSXCR+Q6sek8bf92,i=4096").cancel  # nothing added


def test_scram_iteration_sanity() -> None:
    mech = MECHANISMS["SCRAM-SHA-1"](username="u", password="p", cnonce="abc")
    mech.initial_response()
    step = mech.respond(b"r=abcdef,s=QSXCR+Q6sek8bf92,i=1000")
    assert not step.cancel and any("1000 iterations" in w for w in step.warnings)
    for bad in (b"0", b"x", str(MAX_ITERATIONS + 1).encode()):
        mech = MECHANISMS["SCRAM-SHA-1"](username="u", password="p", cnonce="abc")
        mech.initial_response()
        assert mech.respond(b"r=abcdef,s=QSXCR+Q6sek8bf92,i=" + bad).cancel


def test_scram_rejects_mandatory_extension_and_bad_salt() -> None:
    for server_first in (b"m=ext,r=abcdef,s=QSXC,i=4096", b"r=abcdef,s=!!,i=4096", b"r=abcdef"):
        mech = MECHANISMS["SCRAM-SHA-1"](username="u", password="p", cnonce="abc")
        mech.initial_response()
        assert mech.respond(server_first).cancel


@pytest.mark.parametrize("server_first", [
    "r=abcdef,s=QSXCR+Q6sek8bf92,i=\u0664\u0660\u0669\u0666",  # Arabic-Indic 4096: isdigit()
    "r=abcdef,s=QSXCR+Q6sek8bf92,i=04096",  # posit-number has no leading zero
    "r=abcdef,s=QSXCR+Q6sek8bf92,i=+4096",
    "r=abcdef,s=QSXCR+Q6sek8bf92,i=4096,i=1",  # which count does the server use?
    "r=abcdef,r=abcxyz,s=QSXCR+Q6sek8bf92,i=4096",
    "s=QSXCR+Q6sek8bf92,r=abcdef,i=4096",  # RFC 5802 §7: r, s, i in this order
    "r=abcdef,s=QSXCR+Q6sek8bf92,i=4096,junk",
    "r=abcdef,s=QSXCR+Q6sek8bf92,i=" + "9" * 5000,  # past int()'s 4300-digit limit
])
def test_scram_server_first_outside_the_grammar_is_cancelled(server_first: str) -> None:
    mech = MECHANISMS["SCRAM-SHA-1"](username="u", password="p", cnonce="abc")
    mech.initial_response()
    step = mech.respond(server_first.encode())
    assert step.cancel and step.response is None and "ClientProof" not in values(step)


def test_scram_server_first_extensions_are_ignored() -> None:
    mech = MECHANISMS["SCRAM-SHA-1"](username="u", password="p", cnonce="abc")
    mech.initial_response()
    step = mech.respond(b"r=abcdef,s=QSXCR+Q6sek8bf92,i=4096,x=future")
    assert not step.cancel and values(step)["iterations"] == "4096"


def test_scram_server_final_reads_its_first_attribute() -> None:
    """server-final is ``e=`` or ``v=`` first (RFC 5802 §7); a v= later on is an extension."""
    mech = MECHANISMS["SCRAM-SHA-256"](username="user", password="pencil",
                                       cnonce="rOprNGfwEbeRWgbNEkqO")
    mech.initial_response()
    mech.respond(b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                 b"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
    step = mech.respond(b"x=1,v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
    assert step.cancel and mech.server_verified is False


def test_scram_server_error() -> None:
    mech = MECHANISMS["SCRAM-SHA-256"](username="u", password="p", cnonce="abc")
    mech.initial_response()
    mech.respond(b"r=abcdef,s=QSXCR+Q6sek8bf92,i=4096")
    step = mech.respond(b"e=invalid-proof")
    assert step.cancel and values(step)["server error"] == "invalid-proof"
    assert mech.server_verified is None


def test_scram_shows_the_server_messages_bytes_as_sent() -> None:
    # An undecodable byte in server-first or server-final is shown as \xNN, never as U+FFFD.
    mech = MECHANISMS["SCRAM-SHA-256"](username="u", password="p", cnonce="abc")
    mech.initial_response()
    step = mech.respond(b"r=abcdef,s=QSXCR+Q6sek8bf92,i=4096,x=caf\xe9")
    assert values(step)["server-first"] == "r=abcdef,s=QSXCR+Q6sek8bf92,i=4096,x=caf\\xe9"
    step = mech.respond(b"e=invalid-proof \xff")
    assert values(step)["server-final"] == "e=invalid-proof \\xff"


def test_scram_parsed_values_show_bytes_as_the_message_does() -> None:
    # A byte that is not UTF-8, a backslash and an ESC: each value shows them as its message
    # line does, never as U+FFFD; the server's bytes are what the proof covers and is sent.
    mech = MECHANISMS["SCRAM-SHA-256"](username="u", password="p", cnonce="abc")
    mech.initial_response()
    step = mech.respond(b"r=abc\xffdef,s=QSXCR+Q6sek8bf92,i=4096")
    assert values(step)["combined nonce"] == r"abc\xffdef"
    assert values(step)["AuthMessage"].startswith(r"n=u,r=abc,r=abc\xffdef,s=")
    assert (step.response or b"").startswith(b"c=biws,r=abc\xffdef,p=")
    step = mech.respond(b"e=invalid-proof \xff\\\x1b")
    assert values(step)["server-final"] == r"e=invalid-proof \xff\\x1b"
    assert values(step)["server error"] == r"invalid-proof \xff\\x1b"
    # The sentences hold the server's text; the views escape it once, a real backslash doubled.
    assert visible(step.warnings[0]) == r"SCRAM server error e=invalid-proof \xff\\\x1b"
    assert visible(step.explanation).startswith(
        r"The server reported a SCRAM error: invalid-proof \xff\\\x1b.")


def test_scram_saslprep_password() -> None:
    # U+00A0 (no-break space) maps to a space, U+00AD (soft hyphen) to nothing, then NFKC.
    a = MECHANISMS["SCRAM-SHA-1"](username="u", password="I\u00adX\u00a0\u2168", cnonce="n")
    b = MECHANISMS["SCRAM-SHA-1"](username="u", password="IX IX", cnonce="n")
    for mech in (a, b):
        mech.initial_response()
    first = b"r=nn,s=QSXCR+Q6sek8bf92,i=4096"
    assert a.respond(first).response == b.respond(first).response


def test_scram_saslprep_warning_never_names_a_password_character() -> None:
    mech = MECHANISMS["SCRAM-SHA-1"](username="u\x07", password="pw\x07x", cnonce="n")
    first = mech.initial_response()
    assert first is not None and any("U+0007" in w for w in first.warnings)  # the user name
    step = mech.respond(b"r=nn,s=QSXCR+Q6sek8bf92,i=4096")
    warning = next(w for w in step.warnings if w.startswith("password:"))
    assert "ASCII control" in warning and "U+0007" not in warning


def test_saslprep_rfc4013_examples() -> None:
    assert saslprep("I\u00adX") == "IX"
    assert saslprep("user") == "user"
    assert saslprep("USER") == "USER"
    assert saslprep("\u00aa") == "a"
    assert saslprep("\u2168") == "IX"
    with pytest.raises(SASLprepError):
        saslprep("\u0007")
    with pytest.raises(SASLprepError):
        saslprep("\u0627\u0031")


# -- finish() ------------------------------------------------------------------------------------


def test_finish_warns_when_server_never_proved_itself() -> None:
    mech = MECHANISMS["SCRAM-SHA-1"](username="u", password="p")
    mech.initial_response()
    step = mech.finish(235, "2.7.0 ok")
    assert mech.done and step.response is None
    assert any("never proved" in w for w in step.warnings)
    plain = MECHANISMS["PLAIN"](username="u", password="p")
    assert not plain.finish(235).warnings
    failed = plain.finish(535, "5.7.8 bad")
    assert "failed" in failed.explanation
    assert dict(failed.values)["final reply"] == "535 5.7.8 bad"


def test_finish_after_failed_verification_warns_loudly() -> None:
    mech = MECHANISMS["DIGEST-MD5"](username="u", password="p", host="h")
    mech.respond(b'nonce="n",qop="auth",algorithm=md5-sess')
    mech.respond(b"rspauth=00000000000000000000000000000000")
    step = mech.finish(235)
    assert any("NOT verify" in w for w in step.warnings)
    assert dict(step.values)["server verified"] == "NO"


def test_finish_escapes_server_text() -> None:
    step = MECHANISMS["PLAIN"](username="u", password="p").finish(535, "bad\x1b[31m")
    assert "\x1b" not in dict(step.values)["final reply"]


def test_oauth_unexpected_challenge_before_token() -> None:
    mech = MECHANISMS["OAUTHBEARER"](username="u", token="t")
    assert mech.respond(b"weird").cancel
    mech = MECHANISMS["OAUTHBEARER"](username="u", token="t")
    assert mech.respond(b"").secret  # an empty 334 asks for the message
    assert mech.respond(b"not json").warnings


@pytest.mark.parametrize(("name", "kwargs", "label"), [
    ("XOAUTH2", {"username": "u\x01auth=Bearer x"}, "user name"),
    ("XOAUTH2", {"username": "u", "token": "t\x01\x01"}, "token"),
    ("OAUTHBEARER", {"username": "u", "authzid": "a\x01b"}, "authzid"),
    ("OAUTHBEARER", {"username": "u", "host": "h\x01port=1"}, "host"),
])
def test_bearer_separator_inside_a_value_is_warned(name: str, kwargs: dict[str, str],
                                                   label: str) -> None:
    # ^A frames the fields of both messages: one inside a value makes the server read other
    # fields. The message is still built as asked (a tester may mean it), with a warning.
    kwargs.setdefault("token", "tok")
    step = MECHANISMS[name](**kwargs).respond(b"")
    assert [w for w in step.warnings if f"The {label} holds ^A" in w]
    clean = MECHANISMS[name](username="u", token="tok", host="mx.example").respond(b"")
    assert not [w for w in clean.warnings if "^A" in w]
