"""parse_command: read what a person types in the composer into a typed Command."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable

from ..values import Frozen
from .commands import (
    SYNTAX,
    Auth,
    AuthCancel,
    AuthResponse,
    Bdat,
    Command,
    Data,
    Ehlo,
    Etrn,
    Expn,
    Helo,
    Help,
    Lhlo,
    MailFrom,
    Noop,
    Quit,
    Raw,
    RcptTo,
    Rset,
    StartTLS,
    Vrfy,
    Xclient,
)
from .errors import CommandSyntaxError
from .params import Params
from .state import State

__all__ = ["ParsedCommand", "parse_command", "parse_xclient"]

_AUTH_RESPONSE_HINT = "<base64 response> | * to cancel"
_PATH = r"(?is)(FROM|TO)\b\s*(:?)\s*(.*)\Z"  # compiled on first use


class ParsedCommand(Frozen):
    """A command read from typed text, with notes on what was fixed up or assumed."""

    __slots__ = ("command", "notes")
    command: Command
    notes: tuple[str, ...]

    def __init__(self, command: Command, notes: tuple[str, ...] = ()) -> None:
        self._set(command=command, notes=notes)


def _b64(text: str, what: str, hint: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        # Never quote the text: in AUTH it is often a password typed at a "Password:" prompt,
        # and this message becomes a note in the transcript and the recording.
        raise CommandSyntaxError(
            f"{what} is not valid base64 ({len(text)} characters, not shown: it may be a "
            "secret)", hint) from None


def _params(words: list[str]) -> Params:
    out: list[tuple[str, str | None]] = []
    for word in words:
        key, sep, value = word.partition("=")
        out.append((key.upper(), value if sep else None))
    return tuple(out)


def _path(verb: str, word: str, rest: str, notes: list[str]) -> tuple[str, Params]:
    hint = SYNTAX[verb]
    m = re.match(_PATH, rest)
    if m is None or m.group(1).upper() != word:
        raise CommandSyntaxError(f"{verb} must be followed by {word}:<address>", hint)
    if not m.group(2):
        notes.append(f"added the ':' after {word}")
    after = m.group(3).strip()
    if after.startswith("<"):
        end = after.find(">")
        if end < 0:
            raise CommandSyntaxError("the address has no closing '>'", hint)
        address, tail = after[1:end], after[end + 1 :]
        if tail and not tail[0].isspace():
            raise CommandSyntaxError("put a space between '>' and the parameters", hint)
    else:
        parts = after.split(None, 1)
        if not parts:
            null = " (use <> for the null sender)" if verb == "MAIL" else ""
            raise CommandSyntaxError(f"{verb} {word}: needs an address{null}", hint)
        address, tail = parts[0], parts[1] if len(parts) > 1 else ""
        notes.append(f"added the angle brackets: <{address}>")
    return address, _params(tail.split())


def _no_arg(cls: type[Command]) -> Callable[[str, list[str]], Command]:
    def build(rest: str, notes: list[str]) -> Command:
        if rest:
            raise CommandSyntaxError(f"{cls.kind} takes no argument", SYNTAX[cls.kind])
        return cls()

    return build


def _domain(cls: type[Helo | Ehlo | Lhlo]) -> Callable[[str, list[str]], Command]:
    def build(rest: str, notes: list[str]) -> Command:
        hint = SYNTAX[cls.kind]
        words = rest.split()
        if not words:
            raise CommandSyntaxError(f"{cls.kind} needs your host's domain name", hint)
        if len(words) > 1:
            raise CommandSyntaxError(f"{cls.kind} takes one domain, got {len(words)} words", hint)
        return cls(words[0])

    return build


def _optional(cls: type[Noop | Help]) -> Callable[[str, list[str]], Command]:
    def build(rest: str, notes: list[str]) -> Command:
        return cls(rest or None)

    return build


def _required(cls: type[Vrfy | Expn | Etrn]) -> Callable[[str, list[str]], Command]:
    def build(rest: str, notes: list[str]) -> Command:
        if not rest:
            raise CommandSyntaxError(f"{cls.kind} needs an argument", SYNTAX[cls.kind])
        return cls(rest)

    return build


def _mail(rest: str, notes: list[str]) -> Command:
    address, params = _path("MAIL", "FROM", rest, notes)
    return MailFrom(address, params)


def _rcpt(rest: str, notes: list[str]) -> Command:
    address, params = _path("RCPT", "TO", rest, notes)
    return RcptTo(address, params)


def _bdat(rest: str, notes: list[str]) -> Command:
    hint = SYNTAX["BDAT"]
    words = rest.split()
    if not words or not (words[0].isascii() and words[0].isdigit()):
        raise CommandSyntaxError("BDAT needs the chunk size in octets", hint)
    if len(words) > 2 or (len(words) == 2 and words[1].upper() != "LAST"):
        raise CommandSyntaxError("BDAT takes a size and optionally LAST", hint)
    size = int(words[0])
    notes.append(f"the {size} octets of the chunk must follow (sent as data, no reply awaited)")
    return Bdat(b"", last=len(words) == 2, size=size)


def _auth(rest: str, notes: list[str]) -> Command:
    hint = SYNTAX["AUTH"]
    words = rest.split()
    if not words:
        raise CommandSyntaxError("AUTH needs a mechanism name", hint)
    if len(words) > 2:
        raise CommandSyntaxError("AUTH takes a mechanism and at most one initial response", hint)
    if len(words) == 1:
        return Auth(words[0])
    ir = b"" if words[1] == "=" else _b64(words[1], "the initial response", hint)
    return Auth(words[0], ir)


def parse_xclient(attributes: str) -> Xclient:
    """XCLIENT from its ``NAME=VALUE ...`` words (what follows the verb, or ``--xclient``)."""
    pairs = []
    for word in attributes.split():
        name, eq, value = word.partition("=")
        if not eq:
            raise CommandSyntaxError(f"XCLIENT attribute {word!r} is not NAME=VALUE",
                                     SYNTAX["XCLIENT"])
        pairs.append((name, value))
    return Xclient(tuple(pairs))


def _cancel(rest: str, notes: list[str]) -> Command:
    if rest:
        raise CommandSyntaxError("* takes no argument", _AUTH_RESPONSE_HINT)
    notes.append("'*' cancels an AUTH exchange (RFC 4954)")
    return AuthCancel()


_BUILDERS: dict[str, Callable[[str, list[str]], Command]] = {
    "HELO": _domain(Helo),
    "EHLO": _domain(Ehlo),
    "LHLO": _domain(Lhlo),
    "MAIL": _mail,
    "RCPT": _rcpt,
    "DATA": _no_arg(Data),
    "BDAT": _bdat,
    "RSET": _no_arg(Rset),
    "NOOP": _optional(Noop),
    "VRFY": _required(Vrfy),
    "EXPN": _required(Expn),
    "HELP": _optional(Help),
    "ETRN": _required(Etrn),
    "STARTTLS": _no_arg(StartTLS),
    "AUTH": _auth,
    "QUIT": _no_arg(Quit),
    "XCLIENT": lambda rest, notes: parse_xclient(rest),
    "*": _cancel,
}


def parse_command(text: str, *, state: State | None = None) -> ParsedCommand:
    """Read one typed line. Raises only CommandSyntaxError (``.hint`` shows the right form).

    With ``state=State.AUTH`` the line is a SASL response: base64 text, or ``*`` to cancel.
    Unknown verbs become ``Raw`` with a note, so anything can still be sent.
    """
    if not isinstance(text, str):
        raise CommandSyntaxError("command text must be a string", "VERB [arguments]")
    if text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith("\n"):
        text = text[:-1]
    if "\r" in text or "\n" in text or "\x00" in text:
        raise CommandSyntaxError(
            "the line contains CR, LF or NUL; use a raw send for control characters",
            "one command per line",
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise CommandSyntaxError("the line has characters UTF-8 cannot encode", "") from None
    line = text.strip()
    notes: list[str] = []
    if state is State.AUTH:
        if line == "*":
            return ParsedCommand(AuthCancel())
        return ParsedCommand(AuthResponse(_b64(line, "the response", _AUTH_RESPONSE_HINT)))
    if not line:
        raise CommandSyntaxError("empty command", "EHLO <your-domain>, MAIL FROM:<address>, …")
    parts = line.split(None, 1)
    verb = parts[0].upper()
    rest = parts[1].strip() if len(parts) > 1 else ""
    builder = _BUILDERS.get(verb)
    if builder is None:
        note = f"{parts[0]} is not a verb smtpscope knows; sent as typed"
        return ParsedCommand(Raw((line + "\r\n").encode("utf-8"), note), (note,))
    command = builder(rest, notes)
    return ParsedCommand(command, tuple(notes))
