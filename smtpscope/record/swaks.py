"""swaks' lingua franca: a transcript in swaks' prefixes, and a swaks command line repeating it.

Prefixes follow ``ptrans()`` in swaks: ``=== `` information, ``*** `` errors, `` -> ``/`` ~> ``
lines sent (``~`` once TLS is on), ``**> ``/``*~> `` lines sent off-script, ``<-  ``/``<~  ``
expected replies and ``<** ``/``<~* `` unexpected ones. Every line of a multi-line message gets
the prefix.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from typing import Any

from smtpscope.record.export import entry_lines
from smtpscope.record.swaks_auth import AuthTries
from smtpscope.record.swaks_tls import failure_lines, tls_lines
from smtpscope.record.transcript import Entry
from smtpscope.sanitize import shell_join, visible
from smtpscope.stop_points import QUIT_POINTS, StopPoint

INFO = "=== "
ERROR = "*** "

# Reply classes a command expects (2 = 2xx ...): anything else is "unexpected" for swaks.
_EXPECT: dict[str, tuple[int, ...]] = {"DATA": (3,), "AUTH": (2, 3), "*AUTH": (2, 3)}
CLOSED = f"{INFO}Connection closed with remote host."


def _sent_prefix(entry: Entry) -> str:
    if entry.off_script:
        return "*~> " if entry.tls else "**> "
    return " ~> " if entry.tls else " -> "


def _reply_prefix(expected: bool, tls: bool) -> str:
    if expected:
        return "<~  " if tls else "<-  "
    return "<~* " if tls else "<** "


def _verb(entry: Entry) -> str:
    words = entry.text.split(None, 1)
    return words[0].upper() if words else ""


def _connection_line(info: dict[str, Any]) -> str | None:
    """swaks' line for a connection event the session typed in ``info`` (None if none)."""
    event = info.get("connection")
    where = visible(str(info.get("to", "")))  # a host or a command: the recording's text
    if event == "connecting":
        if info.get("transport") == "pipe":
            return f"{INFO}Trying pipe to {where}..."
        port = info.get("port")
        return f"{INFO}Trying {where}{'' if port is None else f':{visible(str(port))}'}..."
    if event == "connected":
        return f"{INFO}Connected to {where}."
    return CLOSED if event == "closed" else None


def _handshake(entry: Entry, info: dict[str, Any]) -> bool:
    """The entry says a TLS handshake completed (its info holds the TLS details)."""
    return entry.kind == "tls" or "cipher" in info


def _local_lines(entry: Entry, tls: dict[str, Any]) -> list[str]:
    """swaks' lines for smtpscope's own entry; ``tls`` is the last handshake's TLS details."""
    info = entry.info or {}
    if _handshake(entry, info):
        return [INFO + line for line in tls_lines(info)]
    line = _connection_line(info) if entry.kind == "note" else None
    if line is not None:
        return [line]
    prefix = ERROR if entry.kind in ("warning", "error") else INFO
    own = entry_lines(entry)
    failed = failure_lines(info.get("tls_failed"), tls, own) if entry.kind == "error" else None
    return [prefix + line for line in (own if failed is None else failed)]


def to_swaks(entries: Iterable[Entry]) -> str:
    """Render entries in swaks' transcript format (one string, lines end with LF)."""
    out: list[str] = []
    # Expected reply classes of the commands still awaiting replies, in order (pipelining).
    pending: deque[tuple[int, ...]] = deque([(2,)])  # the greeting
    closed = False
    # The last reply was a 334: the client's next line answers the SASL challenge, whatever
    # word it starts with (a server's recording keeps it as a command: "dGVzdGVy").
    challenged = False
    tls: dict[str, Any] = {}  # the last handshake's TLS details
    dialing: dict[str, Any] | None = None  # a connection tried and not yet said connected
    for entry in entries:
        if entry.direction == "local":
            info = entry.info or {}
            if "recording" in info:  # another recording starts: greeting
                pending, closed = deque([(2,)]), False
            if _handshake(entry, info):
                tls = info
            if info.get("connection") in ("connecting", "connected"):
                dialing = info if info["connection"] == "connecting" else None
            failed = info.get("tls_failed") if entry.kind == "error" else None
            if isinstance(failed, dict) and not failed.get("starttls") and dialing:
                # TLS from the first byte failed: the TCP connection it needed was made.
                out.append(str(_connection_line({**dialing, "connection": "connected"})))
            lines = _local_lines(entry, tls)
            if lines == [CLOSED] and closed:
                continue  # swaks says it once
            # swaks exits on a failed TLS start without a word of the connection's end.
            closed = closed or lines == [CLOSED] or isinstance(failed, dict)
            out.extend(lines)
            continue
        if entry.direction == "client":
            prefix = _sent_prefix(entry)
            out.extend(prefix + line for line in entry_lines(entry))
            verb = _verb(entry)
            if entry.kind == "raw" and not entry.text.strip():
                continue
            challenged, was_challenged = False, challenged
            if entry.kind == "content":
                pending.append((2,))
            elif verb == "AUTH" or entry.redacted or was_challenged:
                pending.append((2, 3))
            else:
                pending.append(_EXPECT.get(verb, (2, 3) if entry.kind == "raw" else (2,)))
            continue
        # server
        if entry.kind != "reply" or entry.reply is None:
            out.extend(_reply_prefix(False, entry.tls) + line for line in entry_lines(entry))
            continue
        code = int(entry.reply["code"])
        if entry.reply.get("unsolicited") or not pending:
            expected = False
        else:
            expected = code // 100 in pending.popleft()
        challenged = code == 334
        prefix = _reply_prefix(expected, entry.tls)
        out.extend(prefix + line for line in entry_lines(entry))
    if out and not closed:
        out.append(CLOSED)
    return "\n".join(out) + ("\n" if out else "")


# -- a swaks command line repeating the client side ---------------------------------------------

# Where swaks stops once the greeting is sent again: inside TLS it is its HELO point; after
# XCLIENT it is past HELO (swaks' HELO comes before XCLIENT) and AUTH is the next point.
_AGAIN = {StopPoint.TLS: StopPoint.HELO, StopPoint.XCLIENT: StopPoint.AUTH}
# Linux caps one execve argument at 32 pages (MAX_ARG_STRLEN), terminating NUL included.
_MAX_ARGUMENT = 32 * 4096 - 1


def _data_argument(wire: bytes, notes: list[str]) -> str:
    """``--data`` for message content as it went on the wire after the 354.

    With ``--no-data-fixup`` swaks sends the argument as it is and appends CRLF: no ``\\n``
    or ``%TOKEN%`` replacement, no dot-stuffing, no terminator of its own. So the argument is
    the wire bytes without their final CRLF (undecodable bytes ride along as surrogates, which
    the shell quoting turns back into the same bytes). Before that swaks still reads ``-`` as
    stdin, a leading ``@`` as a file name (``@@`` is a literal ``@``) and text without a line
    break as a file name.
    """
    ends_crlf = wire.endswith(b"\r\n")
    body = wire[:-2] if ends_crlf else wire
    if not ends_crlf:
        notes.append("the message does not end with CRLF on the wire: swaks appends one")
    if b"\0" in body:
        notes.append("the message holds NUL bytes, which no command-line argument can carry: "
                     "the shell ends --data at the first one")
    if len(body) > _MAX_ARGUMENT:
        notes.append(f"the message is {len(body)} bytes, more than one command-line argument "
                     f"may hold ({_MAX_ARGUMENT + 1} bytes with its end): the shell refuses it")
    if b"\n" not in body and b"\\n" not in body and b"%NEWLINE%" not in body:
        notes.append("swaks reads --data without a line break as a file name ('-' as stdin): "
                     "this message is not repeated")
    text = body.decode("utf-8", "surrogateescape")
    return "@" + text if text.startswith("@") else text


def _bdat_wire(chunks: bytes) -> bytes:
    """What DATA would carry for a message sent in BDAT chunks: dot-stuffed, terminated."""
    from smtpscope.protocol import dot_stuff

    body = dot_stuff(chunks)
    return body + (b".\r\n" if body.endswith(b"\r\n") or not body else b"\r\n.\r\n")


def _params(text: str, verb: str, notes: list[str]) -> None:
    for param in text.split():
        notes.append(f"{verb} parameter {param} not repeated (swaks has no option for it)")


def _proxy(raw: bytes, argv: list[str]) -> bool:
    """swaks' --proxy-* options for a PROXY header we sent before the banner; False if none."""
    from smtpscope.transport.proxy import parse

    found = parse(raw)
    if found is None:
        return False
    version, family, source, dest = found
    if version == 2:
        family = "AF_INET" if family == "TCP4" else "AF_INET6"
    argv += ["--proxy-version", str(version), "--proxy-family", family,
             "--proxy-source", source[0], "--proxy-source-port", str(source[1]),
             "--proxy-dest", dest[0], "--proxy-dest-port", str(dest[1])]
    return True


def _server(target: str) -> list[str]:
    """swaks' transport options for a recorded endpoint: TCP, a UNIX socket or a pipe."""
    kind, sep, rest = target.partition(":")
    if sep and kind == "pipe":
        return ["--pipe", rest]
    if sep and kind in ("unix", "lmtp") and rest.startswith("/"):
        return ["--socket", rest]
    return ["--server", target]


def _endpoint(header: dict[str, Any]) -> tuple[str, bool]:
    """Where the recorded client connected, and whether TLS started on connect.

    A ``serve`` recording's target is the client's own (ephemeral) address; the address it
    connected to is ``listen``, the accepted socket's local address.
    """
    if header.get("role") == "server":
        return str(header.get("listen", "localhost")), header.get("tls") == "implicit"
    return str(header.get("target", "localhost")), header.get("security") == "implicit"


class _Export:
    """State of one walk over the entries: the argv so far and the notes."""

    def __init__(self, header: dict[str, Any]) -> None:
        target, self.implicit = _endpoint(header)
        self.argv = ["swaks", *_server(target)]
        # Known from the header even when the session ended before LHLO.
        self.lmtp = header.get("protocol") == "lmtp"
        self.argv += ["--protocol", "LMTP"] if self.lmtp else []
        self.notes: list[str] = []
        self.tos: list[str] = []
        # How far the client went, as swaks' stop point (DOT: the message went out).
        self.last = StopPoint.CONNECT
        self.helo: str | None = None
        self.auths = AuthTries()
        self.messages: list[bytes] = []  # each as DATA carried it, after the 354
        self.chunks: bytes | None = None  # BDAT payloads of a message not yet ended by LAST
        self.previous = ""  # kind of the previous client entry: content lines continue

    def content(self, entry: Entry, continues: bool) -> None:
        """Message content; lines typed one by one after a 354 are entries of one message."""
        if continues and self.messages:
            self.messages[-1] += entry.raw
        else:
            self.messages.append(entry.raw)
        self.last = StopPoint.DOT

    def chunk(self, entry: Entry, words: list[str]) -> None:
        if self.chunks is None:
            self.chunks = b""
            if not any("BDAT" in note for note in self.notes):
                self.notes.append("swaks has no BDAT (CHUNKING): the message is sent with DATA "
                                  "instead")
        self.chunks += entry.raw.split(b"\r\n", 1)[1] if b"\r\n" in entry.raw else b""
        if words[-1].upper() == "LAST":
            self.messages.append(_bdat_wire(self.chunks))
            self.chunks = None
        self.last = StopPoint.DOT

    def data_options(self) -> list[str]:
        if self.chunks is not None:
            self.messages.append(_bdat_wire(self.chunks))
        if not self.messages:
            return []
        if len(self.messages) > 1:
            self.notes.append(f"swaks sends one message: the {len(self.messages) - 1} after the "
                              "first are not repeated")
        return ["--data", _data_argument(self.messages[0], self.notes), "--no-data-fixup"]


def swaks_command(header: dict[str, Any], entries: Iterable[Entry]) -> tuple[list[str], list[str]]:
    """A swaks argument list repeating what the client sent, and notes on what it cannot say.

    Every note is one line naming something the command line does not repeat. Secrets stay
    out: with ``--auth`` but no ``--auth-password`` swaks prompts for it.
    """
    ex = _Export(header)
    argv, notes = ex.argv, ex.notes
    seen_tls = False
    tls_info: dict[str, Any] | None = None
    pipelined = False
    waiting = 0  # commands sent and not yet answered: more than one means PIPELINING
    for entry in entries:
        if entry.direction != "client":
            if entry.kind == "tls":
                seen_tls = True
                tls_info = entry.info
            if entry.kind == "reply" and not (entry.reply or {}).get("unsolicited"):
                waiting = max(0, waiting - 1)
                if entry.code is not None:
                    ex.auths.reply(entry.code)
            continue
        if ex.auths.exchanging:
            ex.auths.user(None, entry)  # challenge responses: the mask may name the user
            waiting += 1
            continue
        verb = _verb(entry)
        if verb in ("MAIL", "RCPT", "DATA") and waiting > 0:
            pipelined = True
        waiting += 1
        words = entry.text.strip().split()
        continues, ex.previous = ex.previous == "content", entry.kind
        if entry.kind == "content":
            ex.content(entry, continues)
        elif verb in ("EHLO", "HELO", "LHLO") and ex.helo is not None:
            # EHLO again after STARTTLS or XCLIENT: swaks does that by itself
            ex.last = _AGAIN.get(ex.last, ex.last)
        elif verb in ("EHLO", "HELO", "LHLO") and len(words) > 1:
            ex.helo = words[1]
            if verb == "LHLO" and not ex.lmtp:  # a recording older than its "protocol"
                argv += ["--protocol", "LMTP"]
                ex.lmtp = True
            argv += ["--helo", ex.helo]
            ex.last = StopPoint.HELO  # the only greeting, unless STARTTLS follows
        elif verb == "STARTTLS":
            argv.append("--tls")
            ex.last = StopPoint.TLS
        elif verb == "AUTH" and len(words) > 1:
            ex.auths.start(words, entry, len(argv))
            ex.last = StopPoint.AUTH
        elif verb == "MAIL":
            match = re.match(r"(?i)MAIL FROM:\s*<([^>]*)>(.*)", entry.text.strip())
            if match:
                argv += ["--from", match.group(1) or "<>"]
                _params(match.group(2), "MAIL FROM", notes)
            ex.last = StopPoint.MAIL
        elif verb == "RCPT":
            match = re.match(r"(?i)RCPT TO:\s*<([^>]*)>(.*)", entry.text.strip())
            if match:
                ex.tos.append(match.group(1))
                _params(match.group(2), f"RCPT TO:<{match.group(1)}>", notes)
            ex.last = StopPoint.RCPT
        elif verb == "BDAT":
            ex.chunk(entry, words)
        elif verb in ("DATA", "QUIT") or (entry.redacted and verb != "AUTH"):
            continue  # implied by the options above; secrets are left to swaks' prompt
        elif entry.kind == "raw" and ex.helo is None and _proxy(entry.raw, argv):
            continue
        elif verb == "XCLIENT" and len(words) > 1:
            argv += ["--xclient", " ".join(words[1:])]
            ex.last = StopPoint.XCLIENT
        elif entry.off_script or entry.kind == "raw" or verb not in ("NOOP", "RSET"):
            shown = entry.text.strip() or repr(entry.raw)
            notes.append(f"not repeated (swaks has no option for it): {shown}")
    if ex.auths.at is not None:  # before the --to below: it finds --from by position
        argv[ex.auths.at:ex.auths.at] = ex.auths.options(notes)
    if ex.tos:
        index = argv.index("--from") + 2 if "--from" in argv else len(argv)
        argv[index:index] = ["--to", ",".join(ex.tos)]
    argv += ex.data_options()
    if pipelined:
        argv.append("--pipeline")
    if ex.implicit or (seen_tls and "--tls" not in argv):
        argv.append("--tls-on-connect")
    if tls_info is not None:
        from smtpscope.security.swaks_tls import swaks_tls_options

        more, why = swaks_tls_options(tls_info)
        argv += more
        notes += why
    if ex.last in QUIT_POINTS:
        argv += ["--quit-after", ex.last.upper()]
    return argv, notes


def swaks_command_line(header: dict[str, Any], entries: Iterable[Entry]) -> tuple[str, list[str]]:
    """:func:`swaks_command` joined into one line, shell-quoted and free of control characters.

    The arguments are what a client sent (and so, for a ``serve`` recording, what a stranger
    chose): ``$'...'`` quoting keeps the bytes for the shell and only text for the terminal.
    """
    argv, notes = swaks_command(header, entries)
    return shell_join(argv), [visible(note, keep_backslashes=True) for note in notes]
