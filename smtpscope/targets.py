"""Parse what a user types as a target (host, host:port, URL, user@domain, socket); no DNS."""

from __future__ import annotations

import ipaddress
from typing import Literal

from smtpscope.sanitize import quoted, visible
from smtpscope.values import Frozen

Security = Literal["plain", "starttls", "implicit", "auto"]

# scheme -> (default port, security, lmtp). "submissions" is RFC 8314's name for port 465.
SCHEMES: dict[str, tuple[int, Security, bool]] = {
    "smtp": (25, "auto", False),
    "smtps": (465, "implicit", False),
    "submission": (587, "starttls", False),
    "submissions": (465, "implicit", False),
    "lmtp": (24, "auto", True),
}

DEFAULT_PORT = 25
# Port 465 speaks TLS from the first byte (RFC 8314); waiting for a plaintext greeting there would
# only hang, so a bare host:465 is taken as implicit TLS.
IMPLICIT_TLS_PORTS = frozenset({465})

_MAX_HOST = 253
_MAX_LABEL = 63


class TargetError(ValueError):
    """A target string that cannot be understood; the message says what is wrong and how to fix.

    The text it quotes is escaped once, where the message is made (``sanitize.quoted``): views
    show the message with ``terminal_safe`` (argparse prints it as it is)."""


class Target(Frozen):
    """Where to connect. ``host`` is None when the target routes by MX (``mx_domain`` is set)."""

    __slots__ = ("host", "lmtp", "mailbox", "mx_domain", "original", "port", "security",
                 "unix_path")
    host: str | None
    port: int
    security: Security
    mx_domain: str | None
    original: str
    lmtp: bool
    mailbox: str | None  # "user@domain" when the user typed one
    unix_path: str | None  # unix:/path (SMTP) or lmtp:/path (LMTP) over a UNIX socket

    def __init__(self, host: str | None, port: int, security: Security, mx_domain: str | None,
                 original: str, lmtp: bool = False, mailbox: str | None = None,
                 unix_path: str | None = None) -> None:
        self._set(host=host, port=port, security=security, mx_domain=mx_domain,
                  original=original, lmtp=lmtp, mailbox=mailbox, unix_path=unix_path)

    @property
    def routes_by_mx(self) -> bool:
        return self.mx_domain is not None

    @property
    def is_ip(self) -> bool:
        return self.host is not None and _ip(self.host) is not None

    @property
    def display(self) -> str:
        """Short human form: ``host:port``, ``[v6]:port``, ``MX of domain:port`` or a socket."""
        if self.unix_path is not None:
            return f"{'lmtp' if self.lmtp else 'unix'}:{self.unix_path}"
        if self.host is None:
            return f"MX of {self.mx_domain}:{self.port}"
        return f"{format_host(self.host)}:{self.port}"


def format_host(host: str) -> str:
    """Bracket an IPv6 literal so a ``:port`` can follow it."""
    return f"[{host}]" if ":" in host else host


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _parse_port(text: str, where: str) -> int:
    if text == "":
        raise TargetError(f"missing port after ':' in {quoted(where)}")
    if not text.isascii() or not text.isdigit():
        raise TargetError(f"port {quoted(text)} in {quoted(where)} is not a number")
    port = int(text)
    if not 1 <= port <= 65535:
        raise TargetError(f"port {port} in {quoted(where)} is out of range (1-65535)")
    return port


def check_port(port: int) -> int:
    """Validate a port given as a number (``--port``)."""
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise TargetError(f"port {port} is out of range (1-65535)")
    return port


def _check_hostname(host: str, original: str) -> str:
    if host == "":
        raise TargetError(f"missing host name in {quoted(original)}")
    name = host[:-1] if host.endswith(".") else host
    if len(name) > _MAX_HOST:
        raise TargetError(f"host name in {quoted(original)} is longer than {_MAX_HOST} characters")
    for ch in name:
        # Letters (any script, for IDNs), digits, hyphen, underscore (seen in real MX names)
        # and dots: what the pattern ``\w|[-.]`` matches, without building one.
        if not (ch.isalnum() or ch in "-._"):
            raise TargetError(f"host name {quoted(host)} contains {quoted(ch)}, which a host "
                              "name cannot")
    for label in name.split("."):
        if label == "":
            raise TargetError(f"host name {quoted(host)} has an empty label (two dots in a row?)")
        if len(label) > _MAX_LABEL:
            raise TargetError(f"host name {quoted(host)} has a label longer than {_MAX_LABEL}")
        if label.startswith("-") or label.endswith("-"):
            raise TargetError(f"host name {quoted(host)} has a label starting or ending with '-'")
    return host


def check_reference_name(text: str) -> str:
    """Validate a name the server's certificate must carry (``--verify-name``).

    A host name (an IDN too), an IP address (brackets optional), or Postfix's ``.domain`` for
    any name below that domain. Returned without brackets or a trailing dot.
    """
    if text == "":
        raise TargetError("empty name: give the host name the certificate must carry")
    inner = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    if _ip(inner) is not None:
        return inner
    if "*" in text:
        raise TargetError(f"{quoted(text)} is a wildcard, which only a certificate carries: give "
                          "the host name to look for, or .DOMAIN for any name below DOMAIN")
    name = text[1:] if text.startswith(".") else text
    if name.startswith("."):
        raise TargetError(f"{quoted(text)} starts with two dots")
    _check_idn(name, text)
    return text.rstrip(".")


def check_server_name(text: str) -> str:
    """Validate a name to send in SNI (``--sni``): a host name, never an address (RFC 6066 §3)."""
    if text == "":
        raise TargetError("empty name: leave the option out to send the host connected to")
    if _ip(text[1:-1] if text.startswith("[") else text) is not None:
        raise TargetError(f"{quoted(text)} is an IP address: SNI carries host names only "
                          "(RFC 6066 §3), so none would be sent")
    return _check_idn(text, text)


def _check_idn(host: str, original: str) -> str:
    """A host name that TLS can use: valid as a target's, and with A-labels for its U-labels."""
    _check_hostname(host, original)
    if not host.isascii():
        from smtpscope.idn import to_ascii

        try:
            to_ascii(host.rstrip("."))
        except UnicodeError as exc:
            raise TargetError(f"{quoted(original)} is not a valid internationalized host name "
                              f"({exc})") from None
    return host


def check_domain(text: str) -> str:
    """Validate a mail domain (``smtpscope mx DOMAIN``); ``user@domain`` gives its domain."""
    value = text.strip()
    if "@" in value:
        value = value.rpartition("@")[2]
    if value == "" or any(ch.isspace() for ch in value):
        raise TargetError(f"{quoted(text)} is not a domain name")
    if _ip(value.strip("[]")) is not None:
        raise TargetError(f"{quoted(text)} is an IP address, not a mail domain")
    _check_idn(value, text)
    return value.rstrip(".") or value


def _split_host_port(text: str, original: str) -> tuple[str, int | None]:
    """Split ``host``, ``host:port``, ``[v6]``, ``[v6]:port`` or a bare IPv6 literal."""
    if text.startswith("["):
        end = text.find("]")
        if end == -1:
            raise TargetError(f"unbalanced brackets in {quoted(original)}: missing ']'")
        inner, rest = text[1:end], text[end + 1 :]
        if "[" in inner:
            raise TargetError(f"unbalanced brackets in {quoted(original)}")
        if inner.lower().startswith("ipv6:"):  # RFC 5321 address-literal form
            inner = inner[5:]
        if _ip(inner) is None:
            raise TargetError(f"{quoted(inner)} inside brackets is not an IP address")
        if rest == "":
            return inner, None
        if not rest.startswith(":"):
            raise TargetError(f"unexpected {quoted(rest)} after ']' in {quoted(original)}; "
                              "write [addr]:port")
        return inner, _parse_port(rest[1:], original)
    if "]" in text:
        raise TargetError(f"unbalanced brackets in {quoted(original)}: ']' without '['")
    if text.count(":") >= 2:
        # A bare IPv6 literal carries no port: '::1:25' is itself a valid address.
        if _ip(text) is None:
            raise TargetError(
                f"{quoted(text)} looks like an IPv6 address but is not one; "
                "to give a port write [address]:port"
            )
        return text, None
    host, sep, port_text = text.partition(":")
    if not sep:
        return host, None
    if host == "":
        raise TargetError(f"missing host before ':{visible(port_text)}' in {quoted(original)}")
    if host.lower() in SCHEMES and not port_text.isdigit():
        raise TargetError(f"{quoted(original)} is missing '//': did you mean "
                          f"{visible(f'{host}://{port_text}')}?")
    return host, _parse_port(port_text, original)


def _host(text: str, original: str) -> str:
    return text if _ip(text) is not None else _check_idn(text, original)


def _unknown_scheme(scheme: str) -> TargetError:
    from smtpscope.typos import close_match  # only for a mistyped scheme

    close = close_match(scheme, SCHEMES)
    if close:
        return TargetError(f"unknown scheme {quoted(scheme)}; did you mean {close}?")
    known = ", ".join(f"{name}://" for name in SCHEMES)
    return TargetError(f"unknown scheme {quoted(scheme)}; known schemes: {known}")


def _parse_mailbox(text: str, original: str) -> tuple[str | None, str | None, str]:
    """Return (mx_domain, literal host, mailbox) for ``user@domain`` / ``@domain``."""
    local, _, domain = text.rpartition("@")
    if domain == "":
        raise TargetError(f"missing domain after '@' in {quoted(original)}")
    if domain.startswith("["):  # user@[127.0.0.1]: an address literal, no MX lookup
        host, port = _split_host_port(domain, original)
        if port is not None:
            raise TargetError(
                f"a port cannot follow an address literal in {quoted(original)}; use --port"
            )
        return None, host, text if local else ""
    name, colon, port_text = domain.partition(":")
    address = _ip(domain) or _ip(name)
    if address is not None:  # user@127.0.0.1 would be looked up as a name and not exist
        from smtpscope.transport.addresses import address_literal

        literal = address_literal(address)
        with_port = " and give the port with --port" if colon and address != _ip(domain) else ""
        raise TargetError(f"{quoted(original)} names an IP address, not a mail domain: write "
                          f"{visible(local)}@{literal} (an address literal, RFC 5321 §4.1.3)"
                          f"{with_port}")
    if colon:
        raise TargetError(
            f"a port cannot follow a mail domain in {quoted(original)}; "
            f"use @{name} with --port {port_text}"
        )
    _check_hostname(domain, original)
    return domain.rstrip(".") or domain, None, text if local else ""


def parse_target(text: str, port_override: int | None = None) -> Target:
    """Parse ``text``; ``port_override`` (``--port``) replaces the port of every kind of target."""
    original = text
    if port_override is not None:
        check_port(port_override)
    text = text.strip()
    if text == "":
        raise TargetError("empty target: give a host, host:port, smtp://host or user@domain")
    if any(ch.isspace() for ch in text):
        raise TargetError(f"target {quoted(original)} contains a space")
    socket_target = _maybe_unix(text, original)
    if socket_target is not None:
        return socket_target
    scheme: str | None = None
    if "://" in text:
        scheme, _, text = text.partition("://")
        if scheme.lower() not in SCHEMES:
            raise _unknown_scheme(scheme)
        scheme = scheme.lower()
        if text.endswith("/"):
            text = text[:-1]
        if "/" in text:
            raise TargetError(f"unexpected path in {quoted(original)}; a target is scheme://host[:port]")
        if "@" in text:
            raise TargetError(
                f"{quoted(original)} has a user part; credentials do not belong in the target, "
                "and a mail domain is written user@domain without a scheme"
            )
        if text == "":
            raise TargetError(f"missing host after '{scheme}://'")
    elif "@" in text:
        mx_domain, literal, mailbox = _parse_mailbox(text, original)
        port = port_override if port_override is not None else DEFAULT_PORT
        security: Security = "implicit" if port in IMPLICIT_TLS_PORTS else "auto"
        return Target(
            host=literal,
            port=port,
            security=security,
            mx_domain=mx_domain,
            original=original,
            mailbox=mailbox or None,
        )
    host, typed_port = _split_host_port(text, original)
    host = _host(host, original)
    if scheme is not None:
        default_port, security, lmtp = SCHEMES[scheme]
        effective = port_override or typed_port or default_port
        return Target(host, effective, security, None, original, lmtp=lmtp)
    effective = port_override or typed_port or DEFAULT_PORT
    security = "implicit" if effective in IMPLICIT_TLS_PORTS else "auto"
    return Target(host, effective, security, None, original)


# A UNIX socket target: ``unix:/path`` speaks SMTP, ``lmtp:/path`` LMTP (e.g. Dovecot's
# /run/dovecot/lmtp). One slash, or a relative path: ``lmtp://host`` stays a TCP URL.
UNIX_SCHEMES = {"unix": False, "lmtp": True}


def _maybe_unix(text: str, original: str) -> Target | None:
    scheme, sep, path = text.partition(":")
    if not sep or scheme.lower() not in UNIX_SCHEMES or path.startswith("//"):
        return None
    if path == "" or path.isdigit():
        return None  # "lmtp:24" is host:port, and an empty path is nobody's socket
    if "\0" in path:
        raise TargetError(f"socket path in {quoted(original)} contains a NUL byte")
    return Target(None, 0, "plain", None, original, lmtp=UNIX_SCHEMES[scheme.lower()],
                  unix_path=path)
