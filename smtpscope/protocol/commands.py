"""Typed SMTP commands: frozen dataclasses that validate themselves and render wire bytes."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import ClassVar

from .data import END_OF_DATA_VARIANTS, chunk_bytes, encode_content
from .errors import CommandSyntaxError
from .kinds import Kind
from .params import (
    MAIL_PARAMS,
    RCPT_PARAMS,
    Params,
    check_address,
    check_domain,
    check_params,
    check_text,
    format_params,
)
from .syntax import SYNTAX, VERBS  # here too, as before: the composer imports them from here

__all__ = [
    "SYNTAX",
    "VERBS",
    "Auth",
    "AuthCancel",
    "AuthResponse",
    "Bdat",
    "Command",
    "Data",
    "Ehlo",
    "Etrn",
    "Expn",
    "Helo",
    "Help",
    "Lhlo",
    "MailFrom",
    "MessageContent",
    "Noop",
    "Quit",
    "Raw",
    "RcptTo",
    "Rset",
    "StartTLS",
    "Vrfy",
    "Xclient",
    "bdat_chunks",
]

def _encode(text: str) -> bytes:
    return text.encode("utf-8")


@dataclass(frozen=True, slots=True)
class Command:
    """Base class of everything the client sends."""

    #: Key into the state tables (state.py). Usually the verb.
    kind: ClassVar[str] = ""

    @property
    def verb(self) -> str:
        return self.kind

    def to_bytes(self) -> bytes:
        raise NotImplementedError


# The verb classes below that add no field are plain subclasses of a dataclass: they inherit
# its fields, __init__, __repr__ (which shows their own name), __eq__ (which compares the
# class too) and frozen fields, without paying for a dataclass of their own at import.


@dataclass(frozen=True, slots=True)
class _DomainCommand(Command):
    domain: str

    def __post_init__(self) -> None:
        check_domain(self.domain, SYNTAX[self.kind])

    def to_bytes(self) -> bytes:
        return _encode(f"{self.kind} {self.domain}\r\n")


class Helo(_DomainCommand):
    __slots__ = ()
    kind: ClassVar[str] = Kind.HELO


class Ehlo(_DomainCommand):
    __slots__ = ()
    kind: ClassVar[str] = Kind.EHLO


class Lhlo(_DomainCommand):
    __slots__ = ()
    kind: ClassVar[str] = Kind.LHLO


@dataclass(frozen=True, slots=True)
class MailFrom(Command):
    address: str
    params: Params = ()
    kind: ClassVar[str] = Kind.MAIL

    def __post_init__(self) -> None:
        check_address(self.address, SYNTAX["MAIL"], allow_null=True)
        object.__setattr__(self, "params", check_params(self.params, MAIL_PARAMS, SYNTAX["MAIL"]))

    def param(self, key: str) -> str | None:
        """Value of parameter ``key`` ("" when present without a value, None when absent)."""
        for k, v in self.params:
            if k == key.upper():
                return "" if v is None else v
        return None

    def to_bytes(self) -> bytes:
        return _encode(f"MAIL FROM:<{self.address}>{format_params(self.params)}\r\n")


@dataclass(frozen=True, slots=True)
class RcptTo(Command):
    address: str
    params: Params = ()
    kind: ClassVar[str] = Kind.RCPT

    def __post_init__(self) -> None:
        check_address(self.address, SYNTAX["RCPT"], allow_null=False)
        object.__setattr__(self, "params", check_params(self.params, RCPT_PARAMS, SYNTAX["RCPT"]))

    def param(self, key: str) -> str | None:
        for k, v in self.params:
            if k == key.upper():
                return "" if v is None else v
        return None

    def to_bytes(self) -> bytes:
        return _encode(f"RCPT TO:<{self.address}>{format_params(self.params)}\r\n")


@dataclass(frozen=True, slots=True)
class _Bare(Command):
    def to_bytes(self) -> bytes:
        return _encode(f"{self.kind}\r\n")


class Data(_Bare):
    __slots__ = ()
    kind: ClassVar[str] = Kind.DATA


class Rset(_Bare):
    __slots__ = ()
    kind: ClassVar[str] = Kind.RSET


class StartTLS(_Bare):
    __slots__ = ()
    kind: ClassVar[str] = Kind.STARTTLS


class Quit(_Bare):
    __slots__ = ()
    kind: ClassVar[str] = Kind.QUIT


@dataclass(frozen=True, slots=True)
class _OptionalArg(Command):
    arg: str | None = None

    def __post_init__(self) -> None:
        if self.arg is not None:
            check_text(self.arg, f"the {self.kind} argument", SYNTAX[self.kind])
            if not self.arg.strip():
                raise CommandSyntaxError(
                    f"empty {self.kind} argument; leave it out instead", SYNTAX[self.kind]
                )

    def to_bytes(self) -> bytes:
        if self.arg is None:
            return _encode(f"{self.kind}\r\n")
        return _encode(f"{self.kind} {self.arg}\r\n")


class Noop(_OptionalArg):
    __slots__ = ()
    kind: ClassVar[str] = Kind.NOOP


class Help(_OptionalArg):
    __slots__ = ()
    kind: ClassVar[str] = Kind.HELP


@dataclass(frozen=True, slots=True)
class _RequiredArg(Command):
    arg: str

    def __post_init__(self) -> None:
        check_text(self.arg, f"the {self.kind} argument", SYNTAX[self.kind])
        if not self.arg.strip():
            raise CommandSyntaxError(f"{self.kind} needs an argument", SYNTAX[self.kind])

    def to_bytes(self) -> bytes:
        return _encode(f"{self.kind} {self.arg}\r\n")


class Vrfy(_RequiredArg):
    __slots__ = ()
    kind: ClassVar[str] = Kind.VRFY


class Expn(_RequiredArg):
    __slots__ = ()
    kind: ClassVar[str] = Kind.EXPN


class Etrn(_RequiredArg):
    __slots__ = ()
    kind: ClassVar[str] = Kind.ETRN


@dataclass(frozen=True, slots=True)
class Bdat(Command):
    """A BDAT chunk (RFC 3030). ``to_bytes`` is the command line followed by the chunk.

    ``size`` may be given with an empty ``chunk``: then only the ``BDAT <size>`` line is sent
    and the caller supplies the octets itself (as a raw send, expecting no reply).
    """

    chunk: bytes = b""
    last: bool = False
    size: int | None = None
    kind: ClassVar[str] = Kind.BDAT

    def __post_init__(self) -> None:
        if not isinstance(self.chunk, bytes):
            raise CommandSyntaxError("BDAT chunk must be bytes", SYNTAX["BDAT"])
        if self.size is None:
            object.__setattr__(self, "size", len(self.chunk))
        elif isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 0:
            raise CommandSyntaxError("BDAT size must be a number >= 0", SYNTAX["BDAT"])
        elif self.chunk and self.size != len(self.chunk):
            raise CommandSyntaxError(
                f"BDAT size {self.size} differs from the chunk length {len(self.chunk)}; "
                "use a raw send to declare a wrong size on purpose",
                SYNTAX["BDAT"],
            )

    @property
    def declared_size(self) -> int:
        return self.size if self.size is not None else len(self.chunk)

    @property
    def header_only(self) -> bool:
        return self.declared_size != len(self.chunk)

    def to_bytes(self) -> bytes:
        last = " LAST" if self.last else ""
        return _encode(f"BDAT {self.declared_size}{last}\r\n") + self.chunk


def bdat_chunks(data: bytes, size: int) -> tuple[Bdat, ...]:
    """Split ``data`` into BDAT commands of ``size`` octets, the final one flagged LAST."""
    return tuple(Bdat(piece, last) for piece, last in chunk_bytes(data, size))


def _check_mechanism(mechanism: str) -> str:
    # RFC 4422 §3.1: 1-20 characters from A-Z, 0-9, "-" and "_".
    upper = mechanism.upper()
    if not (1 <= len(upper) <= 20) or not all(c.isascii() and (c.isalnum() or c in "-_")
                                               for c in upper):
        raise CommandSyntaxError(
            f"{mechanism!r} is not a SASL mechanism name (1-20 of A-Z 0-9 - _)", SYNTAX["AUTH"]
        )
    return upper


@dataclass(frozen=True, slots=True)
class Auth(Command):
    """``AUTH mechanism [initial-response]``; the response is raw bytes, sent base64-encoded."""

    mechanism: str
    initial_response: bytes | None = None
    kind: ClassVar[str] = Kind.AUTH

    def __post_init__(self) -> None:
        object.__setattr__(self, "mechanism", _check_mechanism(self.mechanism))
        if self.initial_response is not None and not isinstance(self.initial_response, bytes):
            raise CommandSyntaxError("initial response must be bytes", SYNTAX["AUTH"])

    def to_bytes(self) -> bytes:
        if self.initial_response is None:
            return _encode(f"AUTH {self.mechanism}\r\n")
        # RFC 4954 §4: a zero-length initial response is sent as a single "=".
        ir = base64.b64encode(self.initial_response) if self.initial_response else b"="
        return _encode(f"AUTH {self.mechanism} ") + ir + b"\r\n"


@dataclass(frozen=True, slots=True)
class AuthResponse(Command):
    """Client's answer to a 334 challenge (raw bytes; sent base64-encoded, b"" as empty line)."""

    data: bytes
    kind: ClassVar[str] = Kind.AUTH_RESPONSE

    def __post_init__(self) -> None:
        if not isinstance(self.data, bytes):
            raise CommandSyntaxError("AUTH response must be bytes", "<base64 response> | *")

    def to_bytes(self) -> bytes:
        return base64.b64encode(self.data) + b"\r\n"


@dataclass(frozen=True, slots=True)
class AuthCancel(Command):
    """``*``: abandon the AUTH exchange (RFC 4954 §4); the server answers 501."""

    kind: ClassVar[str] = Kind.AUTH_CANCEL

    def to_bytes(self) -> bytes:
        return b"*\r\n"


@dataclass(frozen=True, slots=True)
class Xclient(Command):
    """``XCLIENT NAME=VALUE ...`` (Postfix XCLIENT_README); values as written (xtext is theirs)."""

    attributes: tuple[tuple[str, str], ...]
    kind: ClassVar[str] = Kind.XCLIENT

    def __post_init__(self) -> None:
        hint = SYNTAX["XCLIENT"]
        if not self.attributes:
            raise CommandSyntaxError("XCLIENT needs at least one NAME=VALUE attribute", hint)
        for name, value in self.attributes:
            word = f"{name}={value}"
            if not name or "=" in name:
                raise CommandSyntaxError(f"XCLIENT attribute {word!r} is not NAME=VALUE", hint)
            if not word.isascii() or not word.isprintable() or " " in word:
                raise CommandSyntaxError(f"XCLIENT attribute {word!r} has a character SMTP "
                                         "cannot carry (xtext-encode it as +XX)", hint)

    def to_bytes(self) -> bytes:
        words = " ".join(f"{name}={value}" for name, value in self.attributes)
        return f"XCLIENT {words}\r\n".encode("ascii")


@dataclass(frozen=True, slots=True)
class Raw(Command):
    """Exact bytes, not validated: the off-script escape hatch."""

    data: bytes
    note: str = ""
    expect_reply: bool = True
    kind: ClassVar[str] = Kind.RAW

    def __post_init__(self) -> None:
        if not isinstance(self.data, bytes):
            raise CommandSyntaxError("raw data must be bytes", "raw bytes")

    def to_bytes(self) -> bytes:
        return self.data


@dataclass(frozen=True, slots=True)
class MessageContent(Command):
    """The message after a 354 (see data.encode_content for normal vs verbatim mode).

    ``terminator`` names an END_OF_DATA_VARIANTS entry; None means the standard CRLF.CRLF in
    normal mode and nothing added in verbatim mode.
    """

    body: bytes
    verbatim: bool = False
    terminator: str | None = None
    kind: ClassVar[str] = Kind.CONTENT

    def __post_init__(self) -> None:
        if not isinstance(self.body, bytes):
            raise CommandSyntaxError("message content must be bytes", "message bytes")
        if self.terminator is not None and self.terminator not in END_OF_DATA_VARIANTS:
            raise CommandSyntaxError(
                f"unknown end-of-data variant {self.terminator!r}",
                " | ".join(END_OF_DATA_VARIANTS),
            )

    def to_bytes(self) -> bytes:
        return encode_content(self.body, verbatim=self.verbatim, variant=self.terminator)
