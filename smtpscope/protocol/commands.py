"""Typed SMTP commands: frozen values that validate themselves and render wire bytes."""

from __future__ import annotations

import base64
from typing import ClassVar

from ..values import Frozen
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


# Sets a field in __init__, past Frozen's refusal: a command is built for every send, and one
# call a field is faster than Frozen._set's keyword loop.
_setattr = object.__setattr__


class Command(Frozen):
    """Base class of everything the client sends."""

    __slots__ = ()
    #: Key into the state tables (state.py). Usually the verb.
    kind: ClassVar[str] = ""

    @property
    def verb(self) -> str:
        return self.kind

    def to_bytes(self) -> bytes:
        raise NotImplementedError


# The verb classes below that add no field are plain subclasses of a shape (_DomainCommand,
# _Bare, ...): they inherit its fields and __init__; __repr__ shows their own name and __eq__
# compares the class too.


class _DomainCommand(Command):
    __slots__ = ("domain",)
    domain: str

    def __init__(self, domain: str) -> None:
        check_domain(domain, SYNTAX[self.kind])
        _setattr(self, "domain", domain)

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


class _PathCommand(Command):
    """MAIL FROM and RCPT TO: an address and ESMTP parameters (keywords upper-cased)."""

    __slots__ = ("address", "params")
    address: str
    params: Params

    def param(self, key: str) -> str | None:
        """Value of parameter ``key`` ("" when present without a value, None when absent)."""
        for k, v in self.params:
            if k == key.upper():
                return "" if v is None else v
        return None


class MailFrom(_PathCommand):
    __slots__ = ()
    kind: ClassVar[str] = Kind.MAIL

    def __init__(self, address: str, params: Params = ()) -> None:
        check_address(address, SYNTAX["MAIL"], allow_null=True)
        _setattr(self, "address", address)
        _setattr(self, "params", check_params(params, MAIL_PARAMS, SYNTAX["MAIL"]))

    def to_bytes(self) -> bytes:
        return _encode(f"MAIL FROM:<{self.address}>{format_params(self.params)}\r\n")

    @property
    def body_8bit(self) -> bool:
        """BODY=8BITMIME or BINARYMIME (RFC 6152, RFC 3030): the content may be 8-bit."""
        return (self.param("BODY") or "").upper() in ("8BITMIME", "BINARYMIME")


class RcptTo(_PathCommand):
    __slots__ = ()
    kind: ClassVar[str] = Kind.RCPT

    def __init__(self, address: str, params: Params = ()) -> None:
        check_address(address, SYNTAX["RCPT"], allow_null=False)
        _setattr(self, "address", address)
        _setattr(self, "params", check_params(params, RCPT_PARAMS, SYNTAX["RCPT"]))

    def to_bytes(self) -> bytes:
        return _encode(f"RCPT TO:<{self.address}>{format_params(self.params)}\r\n")


class _Bare(Command):
    __slots__ = ()

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


class _OptionalArg(Command):
    __slots__ = ("arg",)
    arg: str | None

    def __init__(self, arg: str | None = None) -> None:
        if arg is not None:
            check_text(arg, f"the {self.kind} argument", SYNTAX[self.kind])
            if not arg.strip():
                raise CommandSyntaxError(
                    f"empty {self.kind} argument; leave it out instead", SYNTAX[self.kind]
                )
        _setattr(self, "arg", arg)

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


class _RequiredArg(Command):
    __slots__ = ("arg",)
    arg: str

    def __init__(self, arg: str) -> None:
        check_text(arg, f"the {self.kind} argument", SYNTAX[self.kind])
        if not arg.strip():
            raise CommandSyntaxError(f"{self.kind} needs an argument", SYNTAX[self.kind])
        _setattr(self, "arg", arg)

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


class Bdat(Command):
    """A BDAT chunk (RFC 3030). ``to_bytes`` is the command line followed by the chunk.

    ``size`` may be given with an empty ``chunk``: then only the ``BDAT <size>`` line is sent
    and the caller supplies the octets itself (as a raw send, expecting no reply).
    """

    __slots__ = ("chunk", "last", "size")
    chunk: bytes
    last: bool
    size: int | None  # None only as an argument: the chunk's length then
    kind: ClassVar[str] = Kind.BDAT

    def __init__(self, chunk: bytes = b"", last: bool = False, size: int | None = None) -> None:
        if not isinstance(chunk, bytes):
            raise CommandSyntaxError("BDAT chunk must be bytes", SYNTAX["BDAT"])
        if size is None:
            size = len(chunk)
        elif isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise CommandSyntaxError("BDAT size must be a number >= 0", SYNTAX["BDAT"])
        elif chunk and size != len(chunk):
            raise CommandSyntaxError(
                f"BDAT size {size} differs from the chunk length {len(chunk)}; "
                "use a raw send to declare a wrong size on purpose",
                SYNTAX["BDAT"],
            )
        _setattr(self, "chunk", chunk)
        _setattr(self, "last", last)
        _setattr(self, "size", size)

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


class Auth(Command):
    """``AUTH mechanism [initial-response]``; the response is raw bytes, sent base64-encoded."""

    __slots__ = ("initial_response", "mechanism")
    mechanism: str
    initial_response: bytes | None
    kind: ClassVar[str] = Kind.AUTH

    def __init__(self, mechanism: str, initial_response: bytes | None = None) -> None:
        _setattr(self, "mechanism", _check_mechanism(mechanism))
        if initial_response is not None and not isinstance(initial_response, bytes):
            raise CommandSyntaxError("initial response must be bytes", SYNTAX["AUTH"])
        _setattr(self, "initial_response", initial_response)

    def to_bytes(self) -> bytes:
        if self.initial_response is None:
            return _encode(f"AUTH {self.mechanism}\r\n")
        # RFC 4954 §4: a zero-length initial response is sent as a single "=".
        ir = base64.b64encode(self.initial_response) if self.initial_response else b"="
        return _encode(f"AUTH {self.mechanism} ") + ir + b"\r\n"


class AuthResponse(Command):
    """Client's answer to a 334 challenge (raw bytes; sent base64-encoded, b"" as empty line)."""

    __slots__ = ("data",)
    data: bytes
    kind: ClassVar[str] = Kind.AUTH_RESPONSE

    def __init__(self, data: bytes) -> None:
        if not isinstance(data, bytes):
            raise CommandSyntaxError("AUTH response must be bytes", "<base64 response> | *")
        _setattr(self, "data", data)

    def to_bytes(self) -> bytes:
        return base64.b64encode(self.data) + b"\r\n"


class AuthCancel(Command):
    """``*``: abandon the AUTH exchange (RFC 4954 §4); the server answers 501."""

    __slots__ = ()
    kind: ClassVar[str] = Kind.AUTH_CANCEL

    def to_bytes(self) -> bytes:
        return b"*\r\n"


class Xclient(Command):
    """``XCLIENT NAME=VALUE ...`` (Postfix XCLIENT_README); values as written (xtext is theirs)."""

    __slots__ = ("attributes",)
    attributes: tuple[tuple[str, str], ...]
    kind: ClassVar[str] = Kind.XCLIENT

    def __init__(self, attributes: tuple[tuple[str, str], ...]) -> None:
        hint = SYNTAX["XCLIENT"]
        if not attributes:
            raise CommandSyntaxError("XCLIENT needs at least one NAME=VALUE attribute", hint)
        for name, value in attributes:
            word = f"{name}={value}"
            if not name or "=" in name:
                raise CommandSyntaxError(f"XCLIENT attribute {word!r} is not NAME=VALUE", hint)
            if not word.isascii() or not word.isprintable() or " " in word:
                raise CommandSyntaxError(f"XCLIENT attribute {word!r} has a character SMTP "
                                         "cannot carry (xtext-encode it as +XX)", hint)
        _setattr(self, "attributes", attributes)

    def to_bytes(self) -> bytes:
        words = " ".join(f"{name}={value}" for name, value in self.attributes)
        return f"XCLIENT {words}\r\n".encode("ascii")


class Raw(Command):
    """Exact bytes, not validated: the off-script escape hatch."""

    __slots__ = ("data", "expect_reply", "note")
    data: bytes
    note: str
    expect_reply: bool
    kind: ClassVar[str] = Kind.RAW

    def __init__(self, data: bytes, note: str = "", expect_reply: bool = True) -> None:
        if not isinstance(data, bytes):
            raise CommandSyntaxError("raw data must be bytes", "raw bytes")
        _setattr(self, "data", data)
        _setattr(self, "note", note)
        _setattr(self, "expect_reply", expect_reply)

    def to_bytes(self) -> bytes:
        return self.data


class MessageContent(Command):
    """The message after a 354 (see data.encode_content for normal vs verbatim mode).

    ``terminator`` names an END_OF_DATA_VARIANTS entry; None means the standard CRLF.CRLF in
    normal mode and nothing added in verbatim mode.
    """

    __slots__ = ("body", "terminator", "verbatim")
    body: bytes
    verbatim: bool
    terminator: str | None
    kind: ClassVar[str] = Kind.CONTENT

    def __init__(self, body: bytes, verbatim: bool = False, terminator: str | None = None) -> None:
        if not isinstance(body, bytes):
            raise CommandSyntaxError("message content must be bytes", "message bytes")
        if terminator is not None and terminator not in END_OF_DATA_VARIANTS:
            raise CommandSyntaxError(
                f"unknown end-of-data variant {terminator!r}", " | ".join(END_OF_DATA_VARIANTS)
            )
        _setattr(self, "body", body)
        _setattr(self, "verbatim", verbatim)
        _setattr(self, "terminator", terminator)

    def to_bytes(self) -> bytes:
        return encode_content(self.body, verbatim=self.verbatim, variant=self.terminator)
