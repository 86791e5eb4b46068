"""Message options of ``smtpscope send`` with swaks' meanings: headers, body, parts, recipients."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from typing import Any

from smtpscope.message_parts import HeaderEdit, MessageSpec, Part, guess_type
from smtpscope.paths import input_problem

__all__ = ["MessageSpec", "MessageUsage", "add_arguments", "build_spec", "content_warnings",
           "dump_mail",
           "recipients", "render_for", "rewrite_argv", "size_param", "split_addresses"]

# ``--h-Subject x`` / ``--header-Subject x`` (swaks): a header name inside the option name.
_NAMED_HEADER = re.compile(r"^--(?:h|header)-([!-9;-~]+?)(?:=(.*))?$", re.DOTALL)
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")


class MessageUsage(ValueError):
    """A message option that cannot be used as given."""


def rewrite_argv(argv: Sequence[str]) -> list[str]:
    """Turn ``--h-NAME VALUE`` into ``--header 'NAME: VALUE'`` (argparse has no wildcards)."""
    out: list[str] = []
    items = list(argv)
    index = 0
    while index < len(items):
        arg = items[index]
        match = _NAMED_HEADER.match(arg) if arg != "--" else None
        if arg == "--":
            out.extend(items[index:])
            break
        if match:
            value = match.group(2)
            if value is None:
                if index + 1 >= len(items):
                    raise MessageUsage(f"{arg} needs a value")
                index += 1
                value = items[index]
            out += ["--header", f"{match.group(1)}: {value}"]
        else:
            out.append(arg)
        index += 1
    return out


class _Ordered(argparse.Action):
    """Keeps order-sensitive options (attach types, names, parts) in one list, as swaks does."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        items = list(getattr(namespace, "mime_events", None) or [])
        items.append((self.dest, values))
        namespace.mime_events = items


class _HeaderEdit(argparse.Action):
    """``--header`` replaces, ``--add-header`` appends; both keep their order."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        items = list(getattr(namespace, "header_edits", None) or [])
        op = "add" if self.dest == "add_header" else "replace"
        items.append((op, str(values)))
        namespace.header_edits = items


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The envelope and message options (the target, TLS and AUTH stay with the command)."""
    env = p.add_argument_group("envelope")
    env.add_argument("--from", dest="from_addr", default=None, metavar="ADDRESS",
                     help="envelope sender (MAIL FROM) and From header; '' for the null sender")
    env.add_argument("--to", action="append", default=[], metavar="ADDRESS[,ADDRESS...]",
                     help="recipient (RCPT TO and To header); comma-separated and/or repeated")
    env.add_argument("--cc", action="append", default=[], metavar="ADDRESS[,ADDRESS...]",
                     help="recipient in RCPT TO and the Cc header")
    env.add_argument("--bcc", action="append", default=[], metavar="ADDRESS[,ADDRESS...]",
                     help="recipient in RCPT TO only (no header)")
    msg = p.add_argument_group("message (swaks' meanings; @FILE reads a file, - reads stdin)")
    msg.add_argument("--header", dest="header", action=_HeaderEdit, metavar="'Name: value'",
                     help="set a header, replacing one of that name (the default Subject "
                     "too); --h-NAME VALUE is the same")
    msg.add_argument("--add-header", dest="add_header", action=_HeaderEdit,
                     metavar="'Name: value'", help="add a header (\\n separates several)")
    msg.add_argument("--subject", default="smtpscope test", help="Subject header")
    msg.add_argument("--body", default=None, metavar="TEXT|@FILE|-",
                     help="body text (\\n for new lines), from a file or stdin")
    msg.add_argument("--data", metavar="TEXT|@FILE|-",
                     help="the whole message instead of building one (header options still "
                     "apply)")
    msg.add_argument("--attach", dest="attach", action=_Ordered, metavar="@FILE|-|TEXT",
                     help="attach content (a plain FILE name works too, a directory is an "
                     "error); repeat for more")
    msg.add_argument("--attach-type", dest="attach_type", action=_Ordered, metavar="TYPE",
                     help="MIME type of every following --attach/--attach-body "
                     "(default: from the file name, else application/octet-stream)")
    msg.add_argument("--attach-name", dest="attach_name", action=_Ordered, nargs="?",
                     const="", metavar="NAME",
                     help="file name of the next --attach (no value: no name)")
    msg.add_argument("--attach-body", dest="attach_body", action=_Ordered,
                     metavar="TEXT|@FILE|-",
                     help="a body part (text/plain unless --attach-type); several make "
                     "multipart/alternative")
    msg.add_argument("--html", dest="html", action=_Ordered, metavar="TEXT|@FILE|-",
                     help="an HTML alternative to the text body")
    msg.add_argument("--smtputf8", action="store_true", help="MAIL FROM ... SMTPUTF8")
    msg.add_argument("--dump-mail", action="store_true",
                     help="print the message that would be sent and exit without connecting "
                     "(as for a server without 8BITMIME: a non-ASCII body is quoted-printable "
                     "or base64)")
    p.set_defaults(mime_events=[], header_edits=[])


# A comma separates addresses only outside a quoted local part and an address literal:
# "a,b"@example.test is one mailbox (RFC 5321 §4.1.2 Quoted-string).
_ADDRESS_ITEM = re.compile(r'(?:"(?:[^"\\]|\\.)*"?|\[[^\]]*\]?|[^,"\[])+')


def split_addresses(values: Sequence[str]) -> list[str]:
    """Repeated and comma-separated address options as one list (empty items dropped)."""
    out: list[str] = []
    for value in values:
        out.extend(m.group().strip() for m in _ADDRESS_ITEM.finditer(value) if m.group().strip())
    return out


def recipients(args: argparse.Namespace) -> list[str]:
    """Every envelope recipient: To, then Cc, then Bcc, each once."""
    every = split_addresses(args.to) + split_addresses(args.cc) + split_addresses(args.bcc)
    return list(dict.fromkeys(every))


def _unescape(text: str) -> str:
    return text.replace("\\n", "\n").replace("\\t", "\t")


_stdin_cache: list[bytes] = []


def _stdin() -> bytes:
    # swaks allows '-' several times (body and attachments): the same bytes each time.
    if not _stdin_cache:
        _stdin_cache.append(sys.stdin.buffer.read())
    return _stdin_cache[0]


def read_spec(value: str, what: str, *, plain_file: bool = False) -> tuple[bytes, str | None]:
    """Content of a TEXT|@FILE|- value and the file name it came from (None for text, stdin)."""
    if value == "-":
        return _stdin(), None
    if value.startswith("@@"):
        return _unescape(value[1:]).encode("utf-8"), None
    path = value[1:] if value.startswith("@") else (value if plain_file else None)
    if path is not None:
        try:
            with open(path, "rb") as handle:
                return handle.read(), os.path.basename(path)
        except OSError as exc:
            raise MessageUsage(f"cannot read {what} file {path!r}: {exc.strerror}") from exc
    return _unescape(value).encode("utf-8"), None


def _names_a_file(value: str) -> bool:
    """Whether a bare ``--attach`` value is a file name (swaks reads one without the @).

    Only a value that names nothing is text: a directory, a device or an unreadable file is an
    error, never attached as the text of its own name.
    """
    if value == "-" or value.startswith("@") or not os.path.lexists(value):
        return False
    problem = input_problem(value)
    if problem is not None:
        raise MessageUsage(f"--attach {value!r} {problem}")
    return True


def _header_edits(args: argparse.Namespace) -> list[HeaderEdit]:
    edits: list[HeaderEdit] = []
    for op, item in args.header_edits:
        for line in _unescape(item).split("\n") if op == "add" else [item]:
            name, sep, value = line.partition(":")
            if not sep or not _HEADER_NAME.match(name.strip()):
                option = "--add-header" if op == "add" else "--header"
                raise MessageUsage(f"{option} {line!r} is not 'Name: value'")
            edits.append(HeaderEdit(op, name.strip(), value.strip()))
    return edits


def _parts(args: argparse.Namespace, spec: MessageSpec) -> None:
    ctype: str | None = None
    name: str | None = None
    named = False
    for dest, value in args.mime_events:
        if dest == "attach_type":
            ctype = value
        elif dest == "attach_name":
            name, named = value or None, True
        elif dest == "attach":
            data, filename = read_spec(value, "--attach", plain_file=_names_a_file(value))
            shown = name if named else filename
            spec.attachments.append(Part(data, ctype or guess_type(shown or filename), shown))
            name, named = None, False
        elif dest == "attach_body":
            data, _ = read_spec(value, "--attach-body", plain_file=False)
            spec.bodies.append(Part(data, ctype or "text/plain"))
        elif dest == "html":
            data, _ = read_spec(value, "--html", plain_file=False)
            spec.bodies.append(Part(data, "text/html"))


def build_spec(args: argparse.Namespace) -> MessageSpec:
    """The message the options describe; raises :class:`MessageUsage` before any connection."""
    _stdin_cache.clear()
    from smtpscope.stop_points import StopPoint, reaches

    to = split_addresses(args.to)
    stop = getattr(args, "stop_at", None)  # as swaks: a run that ends earlier needs neither
    if not recipients(args) and reaches(stop, StopPoint.RCPT):
        raise MessageUsage("give at least one recipient: --to, --cc or --bcc")
    if args.from_addr is None and reaches(stop, StopPoint.MAIL):
        raise MessageUsage("--from is required ('' for the null sender)")
    spec = MessageSpec(from_addr=args.from_addr or "", to=to, cc=split_addresses(args.cc),
                       subject=args.subject, edits=_header_edits(args),
                       smtputf8=bool(getattr(args, "smtputf8", False)))
    if args.data is not None:
        if args.body is not None or args.mime_events:
            raise MessageUsage("--data is the whole message: --body, --html and --attach "
                               "cannot be added to it")
        data, _ = read_spec(args.data, "--data")
        spec.data = data
        return spec
    if args.body is not None:
        data, _ = read_spec(args.body, "--body")
        try:
            spec.body = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MessageUsage("--body is not UTF-8 text; send it with --attach") from exc
    _parts(args, spec)
    from smtpscope.message import DraftError, NeedsSmtpUtf8

    try:
        spec.render()  # refuse now what cannot be encoded, not after connecting
    except NeedsSmtpUtf8 as exc:
        raise MessageUsage(f"{exc}: add --smtputf8 (the server must advertise it)") from exc
    except DraftError as exc:
        raise MessageUsage(str(exc)) from exc
    return spec


def render_for(spec: MessageSpec, caps: Any) -> bytes:
    """The message for this server: 8bit text when it offers 8BITMIME, else 7-bit safe."""
    from smtpscope.message import DraftError

    eightbit = caps is not None and caps.has("8BITMIME")
    try:
        return spec.render(eightbit=eightbit)
    except DraftError as exc:
        raise MessageUsage(str(exc)) from exc


def content_warnings(spec: MessageSpec, content: bytes, caps: Any) -> list[str]:
    """What a message given as is (--data, hand-written MIME) breaks, each sent regardless.

    A built message never does: the encoder picks a transfer encoding instead. ``caps`` None
    (no server yet) leaves out the 8BITMIME check.
    """
    from smtpscope.protocol import line_ending_report, message_octets
    from smtpscope.protocol.data import MAX_TEXT_LINE, long_lines

    out: list[str] = []
    given = spec.data if spec.data is not None else (spec.body or "").encode("utf-8")
    lone_cr = line_ending_report(given)["bare_cr"]
    if lone_cr:
        out.append(f"{lone_cr} lone CR byte(s) sent as line breaks: SMTP allows CR only "
                   "before LF (RFC 5321 §2.3.8)")
    long = long_lines(message_octets(content))
    if long:
        (first, octets), more = long[0], len(long) - 1
        out.append(f"line {first} is {octets} octets with its CRLF"
                   + (f" ({more} more lines too)" if more else "")
                   + f", over the {MAX_TEXT_LINE} of RFC 5321 §4.5.3.1.6: sent as is; a server "
                   "may refuse the message or split the line")
    if caps is not None and not caps.has("8BITMIME") and not content.isascii():
        out.append("the message has 8-bit bytes and the server does not advertise 8BITMIME "
                   "(RFC 6152): sent as is")
    return out


def size_param(content: bytes, caps: Any) -> list[tuple[str, str | None]]:
    """``SIZE=n`` (RFC 1870) when the server offers SIZE: the octets with CRLF line ends."""
    if caps is None or not caps.has("SIZE"):
        return []
    from smtpscope.protocol import message_octets

    return [("SIZE", str(len(message_octets(content))))]


def dump_mail(args: argparse.Namespace) -> int:
    """``--dump-mail``: print the message as it would go to a server without 8BITMIME."""
    from smtpscope.cli import common

    try:
        spec = build_spec(args)
        data = spec.render(eightbit=False)
    except (MessageUsage, ValueError) as exc:
        common.error_line("send", str(exc))
        return common.EXIT_USAGE
    for warning in content_warnings(spec, data, None):
        common.error_line("send", f"warning: {warning}")
    text = data.replace(b"\r\n", b"\n")
    if sys.stdout.isatty():  # on a terminal, bytes from files are shown, never acted on
        from smtpscope.sanitize import visible_bytes

        lines = text.removesuffix(b"\n").split(b"\n")
        sys.stdout.write("".join(visible_bytes(line) + "\n" for line in lines))
        sys.stdout.flush()
        return common.EXIT_OK
    sys.stdout.flush()
    sys.stdout.buffer.write(text)  # piped: the exact message, for a file or another tool
    sys.stdout.buffer.flush()
    return common.EXIT_OK
