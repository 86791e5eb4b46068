"""``smtpscope auth``: compute SASL responses offline, show every intermediate, decode blobs."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from smtpscope.cli.common import port_number
from smtpscope.cli.suggest import suggest
from smtpscope.typos import did_you_mean

if TYPE_CHECKING:
    from smtpscope.auth import Mechanism, Step
    from smtpscope.auth.mistakes import BlobCheck

EXIT_OK = 0
EXIT_ERROR = 1
# The server's proof (DIGEST-MD5 rspauth, SCRAM v=) did not verify.
EXIT_VERIFY_FAILED = 2

EXIT_CODES = (
    f"Exit codes: {EXIT_OK} the lines were computed (or the blob decoded); {EXIT_ERROR} a usage "
    "error, input that is not base64, or a challenge the mechanism refuses (it answers '*'); "
    f"{EXIT_VERIFY_FAILED} the server's proof (DIGEST-MD5 rspauth, SCRAM v=) did not verify."
)

_PASSWORD_HINT = "--password-env VAR, --netrc-host HOST, --password-stdin or a terminal prompt"
_TOKEN_HINT = "--token-env VAR or a terminal prompt"


class _Fail(Exception):
    """A user-facing error: printed as one line, exit code 1."""


def add_parser(subparsers: Any) -> None:
    """Register ``smtpscope auth`` and its per-mechanism sub-subcommands."""
    p = subparsers.add_parser(
        "auth",
        help="compute or decode AUTH (SASL) exchanges offline",
        description=(
            "Compute the base64 lines an SMTP client sends for each SASL mechanism, showing "
            "every intermediate value (HMAC input, A1/A2, SCRAM keys), or decode a blob. "
            "Passwords come from --password-env, --netrc-host, --password-stdin or a no-echo "
            "prompt; they are never printed."
        ),
        epilog=EXIT_CODES,
    )
    p.set_defaults(handler=run, auth_command=None)
    sub = p.add_subparsers(dest="auth_command", metavar="MECHANISM")

    def mech(name: str, help_text: str, *, password: bool = True) -> argparse.ArgumentParser:
        sp: argparse.ArgumentParser = sub.add_parser(name, help=help_text, description=help_text,
                                                     epilog=EXIT_CODES)
        sp.add_argument("--user", "--auth-user", "-u", dest="user", required=True,
                        help="user name (authcid)")
        if password:
            _add_password_options(sp)
        return sp

    sp = mech("plain", "PLAIN (RFC 4616): authzid NUL user NUL password")
    sp.add_argument("--authzid", default="", help="authorization identity (usually empty)")
    mech("login", "LOGIN: base64 user name, then base64 password")
    sp = mech("cram-md5", "CRAM-MD5 (RFC 2195): answer a challenge")
    sp.add_argument("--challenge", required=True, help="the base64 text of the 334 challenge")
    sp = mech("digest-md5", "DIGEST-MD5 (RFC 2831): answer a challenge, verify rspauth")
    sp.add_argument("--challenge", required=True, help="the base64 text of the first 334")
    sp.add_argument("--host", default="", help="server name for digest-uri smtp/HOST")
    sp.add_argument("--service", default="smtp", help="digest-uri service (default smtp)")
    sp.add_argument("--cnonce", help="client nonce (default: random)")
    sp.add_argument("--realm", help="realm to use instead of the first one offered")
    sp.add_argument("--authzid", default="")
    sp.add_argument("--rspauth", metavar="BASE64", help="the second 334 (rspauth) to verify")
    for name in ("scram-sha-1", "scram-sha-256"):
        sp = mech(name, f"{name.upper()}: client-first; with --server-first the client-final")
        sp.add_argument("--authzid", default="")
        sp.add_argument("--nonce", help="client nonce (reuse the one client-first printed)")
        sp.add_argument("--server-first", metavar="BASE64", help="the server-first 334 text")
        sp.add_argument("--server-final", metavar="BASE64", help="the server-final 334 text")
    for name in ("xoauth2", "oauthbearer"):
        sp = mech(name, f"{name.upper()}: bearer token message", password=False)
        sp.add_argument("--token-env", metavar="VAR", help="environment variable with the token")
        sp.add_argument("--token", help="the token itself (lands in shell history)")
        sp.add_argument("--authzid", default="")
        sp.add_argument("--host", default="", help="(OAUTHBEARER) server host name")
        sp.add_argument("--port", type=port_number, default=587,
                        help="(OAUTHBEARER) server port")
    sp = sub.add_parser("decode", help="decode and label a base64 AUTH blob or challenge")
    sp.add_argument("blob", help="base64 text (a leading '334 ' or 'AUTH MECH ' is ignored)")
    suggest(sp.add_argument("--mechanism", "-m", metavar="MECH",
                            help="interpret as this mechanism: PLAIN, LOGIN, CRAM-MD5, "
                            "DIGEST-MD5, SCRAM-SHA-1, SCRAM-SHA-256, XOAUTH2 or OAUTHBEARER. A "
                            "LOGIN blob that is not a prompt is an answer, the user name or the "
                            "password: it is masked"), _mechanism_names)
    sp.add_argument("--reveal", action="store_true",
                    help="show passwords, tokens and LOGIN answers")


def _mechanism_names() -> list[str]:
    from smtpscope.auth import MECHANISMS

    return list(MECHANISMS)


def _add_password_options(sp: argparse.ArgumentParser) -> None:
    group = sp.add_argument_group("password source (give one; none: a no-echo prompt)")
    group.add_argument("--password-env", metavar="VAR", help="read the password from $VAR")
    group.add_argument("--netrc-host", metavar="HOST", help="password from ~/.netrc for HOST")
    group.add_argument("--password-stdin", action="store_true", help="read one line from stdin")
    group.add_argument("--password", help="the password itself (lands in shell history)")


def run(args: argparse.Namespace) -> int:
    """Run ``smtpscope auth ...``; returns the exit code."""
    command = args.auth_command
    if command is None:
        print("smtpscope auth: choose a mechanism or 'decode' (see --help)", file=sys.stderr)
        return EXIT_ERROR
    try:
        if command == "decode":
            return _decode(args)
        _check_text(args)
        return _HANDLERS[command](args)
    except _Fail as exc:
        from smtpscope.sanitize import visible

        print(f"smtpscope auth {command}: {visible(str(exc), keep_backslashes=True)}",
              file=sys.stderr)
        return EXIT_ERROR


# -- helpers -----------------------------------------------------------------------------------


def _password(args: argparse.Namespace) -> str:
    from smtpscope import credentials

    given = [option for option, value in (
        ("--password-env", args.password_env), ("--netrc-host", args.netrc_host),
        ("--password-stdin", args.password_stdin), ("--password", args.password is not None),
    ) if value]
    if len(given) > 1:
        # Which one to believe is not ours to guess: a wrong one computes a wrong answer.
        said = f"{', '.join(given[:-1])} and {given[-1]}"
        raise _Fail(f"{said} each name a password: give one")
    try:
        if args.password is not None:
            credentials.warn_command_line_secret("password")
            return credentials.utf8_text(args.password, "--password")
        if args.password_stdin:
            return credentials.from_stdin()
        return credentials.get_secret(
            env=args.password_env,
            netrc_host=args.netrc_host,
            user=args.user,
            prompt=f"Password for {args.user}: ",
            allow_prompt=True,
            hint=_PASSWORD_HINT,
        )
    except credentials.CredentialError as exc:
        raise _Fail(str(exc)) from None


def _token(args: argparse.Namespace) -> str:
    from smtpscope import credentials

    try:
        if args.token is not None:
            credentials.warn_command_line_secret("token")
            return credentials.utf8_text(args.token, "--token")
        return credentials.get_secret(
            env=args.token_env,
            netrc_host=None,
            user=args.user,
            prompt=f"Bearer token for {args.user}: ",
            allow_prompt=True,
            what="token",
            hint=_TOKEN_HINT,
        )
    except credentials.CredentialError as exc:
        raise _Fail(str(exc)) from None


def _challenge(text: str, option: str) -> bytes:
    from smtpscope.auth.decode import b64decode_tolerant

    text = text.strip()
    if text.startswith(("334 ", "334-")):
        text = text[4:]
    try:
        return b64decode_tolerant(text)[0]
    except ValueError as exc:
        raise _Fail(f"{option}: {exc}") from None


def _print_step(title: str, step: Step, *, initial_mech: str | None = None) -> None:
    from smtpscope.sanitize import visible

    print(f"== {title}")
    width = max((len(label) for label, _ in step.values), default=0)
    for label, value in step.values:
        # Labels, as values, are made visible where they are made (show_text).
        print(f"  {visible(label, keep_backslashes=True):<{width}}  "
              f"{visible(value, keep_backslashes=True)}")
    for warning in step.warnings:
        print(f"  warning: {visible(warning)}")
    if step.explanation:
        print(f"  {visible(step.explanation)}")
    if step.cancel:
        print("send: *")
    elif step.response is not None:
        line = step.wire().decode("ascii")
        print(f"send: {visible(line)}" if line else "send: (empty line)")
        if initial_mech is not None:
            initial = step.wire(initial=True).decode("ascii")
            print(f"  or as initial response: AUTH {visible(initial_mech)} {visible(initial)}")


def _check_text(args: argparse.Namespace) -> None:
    """Refuse a name that is not UTF-8 before a password is asked for: it cannot be sent."""
    from smtpscope.credentials import CredentialError, utf8_text

    for dest in ("user", "authzid", "host", "service", "realm", "cnonce", "nonce"):
        value = getattr(args, dest, None)
        try:
            if isinstance(value, str):
                utf8_text(value, f"--{dest}")
        except CredentialError as exc:
            raise _Fail(str(exc)) from None
    nonce = getattr(args, "nonce", None)
    if nonce is not None and (not nonce or any(c == "," or not "!" <= c <= "~" for c in nonce)):
        # RFC 5802 §5.1: printable ASCII but ','. One with a ',' reads as two attributes; the
        # rerun this command prints would carry it on.
        from smtpscope.sanitize import quoted

        raise _Fail(f"--nonce {quoted(nonce)}: a SCRAM nonce is printable ASCII without ',' "
                    "(RFC 5802 §5.1)")


def _mechanism(name: str, args: argparse.Namespace, **kwargs: Any) -> Mechanism:
    from smtpscope.auth import get_mechanism

    return get_mechanism(name)(username=args.user, authzid=getattr(args, "authzid", ""), **kwargs)


# -- mechanisms ----------------------------------------------------------------------------------


def _plain(args: argparse.Namespace) -> int:
    mech = _mechanism("PLAIN", args, password=_password(args))
    step = mech.initial_response()
    assert step is not None
    _print_step("PLAIN", step, initial_mech="PLAIN")
    return EXIT_OK


def _login(args: argparse.Namespace) -> int:
    mech = _mechanism("LOGIN", args, password=_password(args))
    _print_step("LOGIN answer to 334 VXNlcm5hbWU6 (Username:)", mech.respond(b"Username:"))
    _print_step("LOGIN answer to 334 UGFzc3dvcmQ6 (Password:)", mech.respond(b"Password:"))
    return EXIT_OK


def _cram_md5(args: argparse.Namespace) -> int:
    challenge = _challenge(args.challenge, "--challenge")
    mech = _mechanism("CRAM-MD5", args, password=_password(args))
    _print_step("CRAM-MD5", mech.respond(challenge))
    return EXIT_OK


def _digest_md5(args: argparse.Namespace) -> int:
    challenge = _challenge(args.challenge, "--challenge")
    rspauth = _challenge(args.rspauth, "--rspauth") if args.rspauth is not None else None
    mech = _mechanism(
        "DIGEST-MD5",
        args,
        password=_password(args),
        host=args.host,
        service=args.service,
        cnonce=args.cnonce,
        realm=args.realm,
    )
    step = mech.respond(challenge)
    _print_step("DIGEST-MD5 response", step)
    if step.cancel:
        return EXIT_ERROR
    if rspauth is not None:
        _print_step("DIGEST-MD5 rspauth", mech.respond(rspauth))
        if mech.server_verified is False:
            return EXIT_VERIFY_FAILED
    return EXIT_OK


def _scram(args: argparse.Namespace) -> int:
    name = args.auth_command.upper()
    # An empty value given on purpose is a (malformed) message to check, not no message.
    given_first, given_final = args.server_first is not None, args.server_final is not None
    if (given_first or given_final) and not args.nonce:
        raise _Fail(
            "--server-first needs the same client nonce as client-first: pass --nonce NONCE"
        )
    if given_final and not given_first:
        raise _Fail("--server-final needs --server-first (the signature covers both messages)")
    server_first = _challenge(args.server_first, "--server-first") if given_first else None
    server_final = _challenge(args.server_final, "--server-final") if given_final else None
    password = _password(args) if server_first is not None else ""
    mech = _mechanism(name, args, password=password, cnonce=args.nonce)
    first = mech.initial_response()
    assert first is not None
    _print_step(f"{name} client-first", first, initial_mech=name)
    if server_first is None:
        from smtpscope.sanitize import visible

        nonce = dict(first.values).get("client nonce", "")
        print(f"next: rerun with --nonce '{visible(nonce)}' --server-first BASE64 "
              "(the 334 text)")
        return EXIT_OK
    final = mech.respond(server_first)
    _print_step(f"{name} client-final", final)
    if final.cancel:
        return EXIT_ERROR
    if server_final is not None:
        _print_step(f"{name} server-final", mech.respond(server_final))
        if mech.server_verified is not True:
            return EXIT_VERIFY_FAILED
    return EXIT_OK


def _oauth(args: argparse.Namespace) -> int:
    name = args.auth_command.upper()
    mech = _mechanism(name, args, token=_token(args), host=args.host, port=args.port)
    step = mech.initial_response()
    assert step is not None
    _print_step(name, step, initial_mech=name)
    return EXIT_OK


def _decode(args: argparse.Namespace) -> int:
    from smtpscope.auth import decode_blob
    from smtpscope.sanitize import visible

    if args.mechanism is not None:
        from smtpscope.auth import MECHANISMS

        if args.mechanism.upper() not in MECHANISMS:
            raise _Fail(f"unknown mechanism {args.mechanism!r} for --mechanism; known: "
                        f"{', '.join(MECHANISMS)}{did_you_mean(args.mechanism, MECHANISMS)}")
    result = decode_blob(args.blob, args.mechanism, reveal=args.reveal)
    if result.error:
        for warning in result.warnings:
            print(f"note: {visible(warning, keep_backslashes=True)}", file=sys.stderr)
        # The error quotes the offending character with repr(): already escaped.
        print(f"smtpscope auth decode: {visible(result.error, keep_backslashes=True)}",
              file=sys.stderr)
        return EXIT_ERROR
    print(f"kind:   {result.kind}")
    print(f"bytes:  {len(result.raw)}")
    print(f"text:   {visible(result.text, keep_backslashes=True)}")
    width = max((len(label) for label, _ in result.fields), default=0)
    for label, value in result.fields:
        # Labels, as values, are made visible where they are made (show_text).
        print(f"  {visible(label, keep_backslashes=True):<{width}}  "
              f"{visible(value, keep_backslashes=True)}")
    # Warnings are smtpscope's words around values already made visible: no second escaping.
    for warning in result.warnings:
        print(f"warning: {visible(warning, keep_backslashes=True)}")
    _print_fix(result.check, reveal=args.reveal)
    return EXIT_OK


def _print_fix(check: BlobCheck, *, reveal: bool) -> None:
    """Name the classic hand-made mistakes, the corrected blob (it carries the secret: shown
    with ``reveal`` only, as the decoded one is), and the one command that builds it right."""
    from smtpscope.auth.base import HIDDEN
    from smtpscope.sanitize import visible

    for message in check.messages:
        print(f"mistake: {visible(message, keep_backslashes=True)}")
    if check.corrected and reveal:
        print(f"fixed:   {visible(check.corrected)}")
    elif check.corrected:
        print(f"fixed:   {visible(HIDDEN)} (it carries the secret: --reveal prints it)")
    if check.recipe:
        print(f"build it with: {visible(check.recipe, keep_backslashes=True)}")


_HANDLERS = {
    "plain": _plain,
    "login": _login,
    "cram-md5": _cram_md5,
    "digest-md5": _digest_md5,
    "scram-sha-1": _scram,
    "scram-sha-256": _scram,
    "xoauth2": _oauth,
    "oauthbearer": _oauth,
}
