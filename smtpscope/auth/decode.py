"""Decode a base64 AUTH blob or 334 challenge, recognise what it is, and flag classic mistakes."""

from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass

from smtpscope.auth import b64
from smtpscope.auth.base import HIDDEN, show_bytes, show_text
from smtpscope.auth.directives import DirectiveError, parse_directives
from smtpscope.auth.login import classify_prompt
from smtpscope.auth.mistakes import CLEAN, BlobCheck, check_raw, separators, split_at
from smtpscope.auth.scram import parse_attributes

_B64_ALPHABET = frozenset(string.ascii_letters + string.digits + "+/")
# Leading text people paste along with the blob.
_PREFIX = re.compile(r"^\s*(?:(?:S:|C:)\s*)?(?:334[ -]|AUTH\s+([A-Za-z0-9_-]+)\s+)", re.I)
_CRAM_CHALLENGE = re.compile(r"^<[^<>@\s]+@[^<>\s]+>$")
_CRAM_RESPONSE = re.compile(r"^(\S(?:.*\S)?) ([0-9a-fA-F]{32})$")
_SCRAM_FIRST = re.compile(r"^(?:n|y|p=[^,]*),(?:a=[^,]*)?,n=")
# Whole prompts without a colon, as draft-murchison-sasl-login spells them.
_LOGIN_PROMPTS = frozenset({"user name", "username", "password"})


@dataclass(frozen=True)
class Decoded:
    """A decoded blob: ``raw`` bytes, display ``text`` (secrets masked unless revealed),
    ``kind`` label, labelled ``fields``, ``warnings`` (oddities), ``check`` (the classic
    hand-made mistakes, each named once, with their one fix), and ``error`` set (with
    ``kind == "invalid"``) when the input is not base64 at all."""

    raw: bytes
    text: str
    kind: str
    fields: tuple[tuple[str, str], ...] = ()
    warnings: tuple[str, ...] = ()
    error: str | None = None
    check: BlobCheck = CLEAN


def b64decode_tolerant(text: str) -> tuple[bytes, list[str]]:
    """Decode pasted base64 under the lenient policy (see :mod:`smtpscope.auth.b64`)."""
    return b64.decode(text, b64.Policy.LENIENT)


def split_pasted(text: str) -> tuple[str, str | None, str]:
    """Pasted text as (the base64 part, the mechanism an ``AUTH MECH`` prefix names, the
    prefix cut off: a leading ``334 ``, ``AUTH MECH `` or ``C:``/``S:``, else "")."""
    match = _PREFIX.match(text)
    if match is None:
        return text, None, ""
    named = match.group(1).upper() if match.group(1) else None
    return text[match.end() :], named, match.group(0).strip()


def decode_blob(b64: str, context_mechanism: str | None = None, *, reveal: bool = False) -> Decoded:
    """Decode ``b64`` and label it; ``context_mechanism`` biases recognition (e.g. "PLAIN")."""
    text, named, prefix = split_pasted(b64)
    context = context_mechanism.upper() if context_mechanism else named
    notes: list[str] = []
    if prefix:
        notes.append(f"Ignored the leading '{show_text(prefix)}'.")
    try:
        raw, more = b64decode_tolerant(text)
    except ValueError as exc:
        return Decoded(b"", "", "invalid", warnings=tuple(notes), error=str(exc))
    result = _classify(raw, context, reveal)
    # The mistakes are the checker's alone: the PLAIN reading above only splits where it says.
    checked = context or _CHECKED_AS.get(result.kind)
    return Decoded(
        result.raw,
        result.text,
        result.kind,
        result.fields,
        (*notes, *more, *result.warnings),
        check=check_raw(raw, checked),
    )


# What a blob recognised as one of these kinds is checked as (mistakes.check_raw).
_CHECKED_AS = {"plain": "PLAIN", "xoauth2": "XOAUTH2", "oauthbearer": "OAUTHBEARER"}


def _classify(raw: bytes, context: str | None, reveal: bool) -> Decoded:
    if not raw:
        return Decoded(raw, "", "empty", (("meaning", "empty response / empty challenge"),))
    if context == "LOGIN":  # a prompt or an answer, and any answer may be the password
        return _login(raw, reveal)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _not_utf8(raw, context, reveal)
    if context == "PLAIN" or (b"\0" in raw and not _looks_oauth(text)):
        return _plain(raw, reveal)
    found = _token_message(raw, text, reveal)
    if found is not None:
        return found
    for check in (_scram, _cram, _digest, _json):
        found = check(raw, text, context)
        if found is not None:
            return found
    found = _login_prompt(raw, text)
    if found is not None:
        return found
    if separators(raw)[0] is not None:
        # Backslashes where PLAIN's NULs belong (with or without the 0): treat it as PLAIN,
        # so the password part stays masked.
        return _plain(raw, reveal)
    if raw.endswith(b"\n"):  # `echo VALUE | base64`: a hand-made LOGIN answer, maybe a password
        return _login(raw, reveal)
    return Decoded(raw, show_bytes(raw), "text", (("length", f"{len(raw)} bytes"),))


def _not_utf8(raw: bytes, context: str | None, reveal: bool) -> Decoded:
    """A blob that is not UTF-8 may still carry a secret: a password typed in Latin-1 is sent
    as those bytes. PLAIN's shape (exactly two NULs) and the token messages are recognised on
    the bytes, so their secret is masked as in a UTF-8 blob."""
    text = raw.decode("utf-8", errors="surrogateescape")  # undecodable bytes kept, not lost
    found = _token_message(raw, text, reveal)
    if found is None and (context == "PLAIN" or raw.count(b"\0") == 2):
        found = _plain(raw, reveal)
    if found is None:
        return Decoded(raw, show_bytes(raw), "binary", (("length", f"{len(raw)} bytes"),),
                       ("Not valid UTF-8.",))
    note = ("Not valid UTF-8, which PLAIN (RFC 4616) and the OAuth messages (RFC 7628) must "
            "be: a secret in another charset (Latin-1?) is sent as these bytes.")
    return Decoded(found.raw, found.text, found.kind, found.fields, (*found.warnings, note))


def _token_message(raw: bytes, text: str, reveal: bool) -> Decoded | None:
    if text.startswith("user=") and "\x01auth=" in text:
        return _xoauth2(raw, text, reveal)
    if _looks_oauth(text):
        return _oauthbearer(raw, text, reveal)
    return None


def _looks_oauth(text: str) -> bool:
    return bool(re.match(r"^(?:n|y|p=[^,]*),(?:a=[^,]*)?,\x01", text)) and "auth=" in text


def _mask_tail(raw: bytes, start: int, reveal: bool) -> str:
    """Display ``raw`` with the bytes from ``start`` on (the password) hidden."""
    if reveal:
        return show_bytes(raw)
    return show_bytes(raw[:start]) + HIDDEN


# -- PLAIN ---------------------------------------------------------------------------------


def _plain(raw: bytes, reveal: bool) -> Decoded:
    """PLAIN's fields, split where :func:`~smtpscope.auth.mistakes.separators` finds them
    (escapes for NUL too); missing separators and echo's newline are the checker's to name."""
    warnings: list[str] = []
    spans = separators(raw, "PLAIN")[1]
    parts = split_at(raw, spans)
    fields: list[tuple[str, str]] = []
    if len(parts) == 1:
        fields.append(("content", show_bytes(raw) if reveal else HIDDEN))
        return Decoded(raw, show_bytes(raw) if reveal else HIDDEN, "plain", tuple(fields))
    if len(parts) == 2:
        authzid, authcid, password = b"", parts[0], parts[1]
    else:
        if len(parts) > 3:
            warnings.append(
                f"{len(parts) - 1} NUL separators, PLAIN has exactly two; the server will "
                "reject it (or read a NUL as part of the password)."
            )
        authzid, authcid, password = parts[0], parts[1], b"\0".join(parts[2:])
    if not authcid:
        warnings.append("Empty authcid (user name).")
    if not password or password in (b"\n", b"\r\n"):
        warnings.append("Empty password.")
    if authzid and authzid == authcid:
        warnings.append("authzid equals authcid: harmless, but usually left empty.")
    fields += [
        ("authzid", show_bytes(authzid) if authzid else "(empty)"),
        ("authcid", show_bytes(authcid)),
        ("password", show_bytes(password) if reveal else f"{HIDDEN} ({len(password)} bytes)"),
    ]
    pw_start = spans[1].stop if len(spans) > 1 else spans[0].stop
    return Decoded(raw, _mask_tail(raw, pw_start, reveal), "plain", tuple(fields), tuple(warnings))


# -- OAuth ---------------------------------------------------------------------------------


def _token_fields(
    raw: bytes, pairs: list[str], reveal: bool
) -> tuple[list[tuple[str, str]], str, list[str]]:
    fields: list[tuple[str, str]] = []
    warnings: list[str] = []
    masked = raw
    for pair in pairs:
        key, _, value = pair.partition("=")
        if key == "auth":
            scheme, _, token = value.partition(" ")
            fields.append(("auth scheme", show_text(scheme)))
            shown = show_text(token) if reveal else f"{HIDDEN} ({len(token)} chars)"
            fields.append(("token", shown))
            if token and not reveal:
                masked = masked.replace(token.encode(errors="surrogateescape"), HIDDEN.encode())
            if scheme.lower() != "bearer":
                warnings.append(f"Scheme '{show_text(scheme)}': servers expect 'Bearer'.")
        elif key:
            fields.append((show_text(key), show_text(value)))
    return fields, show_bytes(masked).replace("\\x01", "^A"), warnings


def _xoauth2(raw: bytes, text: str, reveal: bool) -> Decoded:
    text = text.rstrip("\r\n")  # echo's newline: a mistake of its own (mistakes.check_raw)
    body = text[:-2] if text.endswith("\x01\x01") else text
    fields, shown, warnings = _token_fields(raw, body.split("\x01"), reveal)
    if not text.endswith("\x01\x01"):
        warnings.append("XOAUTH2 must end with ^A^A.")
    return Decoded(raw, shown, "xoauth2", tuple(fields), tuple(warnings))


def _oauthbearer(raw: bytes, text: str, reveal: bool) -> Decoded:
    gs2, _, rest = text.rstrip("\r\n").partition("\x01")  # the newline: as in _xoauth2
    body = rest[:-2] if rest.endswith("\x01\x01") else rest
    fields, shown, warnings = _token_fields(raw, body.split("\x01"), reveal)
    authz = next((p[2:] for p in gs2.split(",") if p.startswith("a=")), "")
    fields[:0] = [("GS2 header", show_text(gs2)), ("authzid", show_text(authz) or "(empty)")]
    if not rest.endswith("\x01\x01"):
        warnings.append("OAUTHBEARER must end with ^A^A.")
    return Decoded(raw, shown, "oauthbearer", tuple(fields), tuple(warnings))


def _json(raw: bytes, text: str, context: str | None) -> Decoded | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    fields = tuple((show_text(str(k)), show_text(str(v))) for k, v in data.items())
    kind = "oauth-error" if "status" in data else "json"
    warnings: tuple[str, ...] = ()
    if kind == "oauth-error":
        warnings = ("OAUTHBEARER: answer with AQ== (^A); XOAUTH2: answer with an empty line.",)
    return Decoded(raw, show_bytes(raw), kind, fields, warnings)


# -- SCRAM, CRAM-MD5, DIGEST-MD5, LOGIN ------------------------------------------------------


def _scram(raw: bytes, text: str, context: str | None) -> Decoded | None:
    def unescape(name: str) -> str:
        return name.replace("=2C", ",").replace("=3D", "=")

    names = {
        "n": "user",
        "r": "nonce",
        "s": "salt (base64)",
        "i": "iterations",
        "c": "channel binding (base64)",
        "p": "client proof",
        "v": "server signature",
        "e": "server error",
        "a": "authzid",
        "m": "mandatory extension",
    }
    if _SCRAM_FIRST.match(text):
        gs2_flag, authz, bare = text.split(",", 2)
        fields = [
            ("GS2 channel-binding flag", show_text(gs2_flag)),
            ("authzid", show_text(unescape(authz[2:])) or "(empty)"),
        ]
        fields += [
            (names.get(k, k), show_text(unescape(v) if k == "n" else v))
            for k, v in parse_attributes(bare)
        ]
        return Decoded(raw, show_bytes(raw), "scram-client-first", tuple(fields))
    pairs = parse_attributes(text)
    keys = [k for k, _ in pairs]
    if keys[:1] == ["r"] and "s" in keys and "i" in keys:
        kind = "scram-server-first"
    elif keys[:1] == ["c"] and "r" in keys and "p" in keys:
        kind = "scram-client-final"
    elif keys in (["v"], ["e"]):
        kind = "scram-server-final"
    else:
        return None
    fields = [(names.get(k, k), show_text(v)) for k, v in pairs]
    if kind == "scram-server-first":
        salt = dict(pairs)["s"]
        try:
            fields.append(("salt (hex)", b64.decode_strict(salt).hex()))
        except ValueError:
            fields.append(("salt (hex)", "(invalid base64)"))
    if kind == "scram-client-final":
        try:
            cbind = b64.decode_strict(dict(pairs)["c"])
            fields.append(("channel binding (decoded)", show_bytes(cbind)))
        except ValueError:
            pass
    return Decoded(raw, show_bytes(raw), kind, tuple(fields))


def _cram(raw: bytes, text: str, context: str | None) -> Decoded | None:
    if _CRAM_CHALLENGE.match(text):
        local, _, host = text[1:-1].partition("@")
        fields = (
            ("challenge", show_text(text)),
            ("unique part", show_text(local)),
            ("host", show_text(host)),
        )
        return Decoded(raw, show_bytes(raw), "cram-md5-challenge", fields)
    response = _CRAM_RESPONSE.match(text)
    if response and (context in (None, "CRAM-MD5")):
        user_fields = (
            ("user", show_text(response.group(1))),
            ("HMAC-MD5 hex", response.group(2).lower()),
        )
        warnings: tuple[str, ...] = ()
        if response.group(2) != response.group(2).lower():
            warnings = ("RFC 2195 requires lower-case hex.",)
        return Decoded(raw, show_bytes(raw), "cram-md5-response", user_fields, warnings)
    return None


def _digest(raw: bytes, text: str, context: str | None) -> Decoded | None:
    if "=" not in text or not ("nonce=" in text or text.startswith("rspauth=")):
        return None
    try:
        pairs = parse_directives(text)
    except DirectiveError:
        return None
    keys = {k for k, _ in pairs}
    if keys == {"rspauth"}:
        kind = "digest-md5-rspauth"
    elif "response" in keys:
        kind = "digest-md5-response"
    elif "nonce" in keys:
        kind = "digest-md5-challenge"
    else:
        return None
    fields = tuple((k, show_text(v)) for k, v in pairs)
    warnings = []
    realms = [v for k, v in pairs if k == "realm"]
    if kind == "digest-md5-challenge":
        if realms == [""]:
            warnings.append('realm="" (as Dovecot sends): the client uses the empty realm.')
        elif len(realms) > 1:
            warnings.append(f"{len(realms)} realms offered; the client picks one.")
        if "md5-sess" not in text:
            warnings.append("No algorithm=md5-sess.")
    return Decoded(raw, show_bytes(raw), kind, fields, tuple(warnings))


def _login_prompt(raw: bytes, text: str) -> Decoded | None:
    """A LOGIN prompt: "Username:"-like text, or the draft's bare "User Name" and "Password"."""
    stripped = text.strip()
    if len(stripped) > 40:
        return None
    if not stripped.endswith(":") and stripped.lower() not in _LOGIN_PROMPTS:
        return None
    kind = classify_prompt(raw)
    fields = (("prompt", show_text(text)), ("asks for", kind or "(unrecognised prompt)"))
    return Decoded(raw, show_bytes(raw), "login-prompt", fields)


def _login(raw: bytes, reveal: bool) -> Decoded:
    """A blob of a LOGIN exchange: a server prompt, else a client answer.

    An answer carries no label: the same blob shape is the user name or the password, so every
    answer is masked like PLAIN's password unless ``reveal``, and the output says so.
    """
    prompt = _login_prompt(raw, raw.decode("utf-8", errors="replace"))
    if prompt is not None:
        return prompt
    taken = "the user name or the password: a LOGIN answer does not say which"
    if not reveal:
        taken += ", so it is masked like a password (--reveal shows it)"
    fields = (
        ("answer", show_bytes(raw) if reveal else f"{HIDDEN} ({len(raw)} bytes)"),
        ("taken for", taken),
    )
    return Decoded(raw, show_bytes(raw) if reveal else HIDDEN, "login-answer", fields)
