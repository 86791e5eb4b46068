"""A message built from parts like swaks builds it: header edits, body alternatives, attachments."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field
from email.message import EmailMessage

from smtpscope.message import (
    Draft,
    DraftError,
    add_file,
    encode_draft,
    make_draft,
    one_mime_version,
)
from smtpscope.message import _body_cte as body_cte
from smtpscope.message import _check_header as check_header
from smtpscope.message import _policy as make_policy

DEFAULT_BODY = "This is a test message sent by smtpscope.\n"


@dataclass(frozen=True)
class HeaderEdit:
    """``add`` appends a header; ``replace`` replaces every header of that name (else appends)."""

    op: str  # "add" | "replace"
    name: str
    value: str


@dataclass(frozen=True)
class Part:
    """One MIME part: its content, its type and (for attachments) the file name to show."""

    data: bytes
    ctype: str
    filename: str | None = None


@dataclass
class MessageSpec:
    """Everything needed to render the message once the server's capabilities are known."""

    from_addr: str
    to: list[str]
    cc: list[str] = field(default_factory=list)
    subject: str = "smtpscope test"
    body: str | None = None
    edits: list[HeaderEdit] = field(default_factory=list)
    bodies: list[Part] = field(default_factory=list)  # --attach-body / --html: alternatives
    attachments: list[Part] = field(default_factory=list)
    data: bytes | None = None  # --data: the whole message, only header edits applied
    smtputf8: bool = False

    @property
    def is_mime(self) -> bool:
        return bool(self.bodies or self.attachments)

    def render(self, *, eightbit: bool = False) -> bytes:
        """Wire-ready bytes (CRLF, not dot-stuffed); 8bit text when ``eightbit`` (8BITMIME)."""
        if self.data is not None:
            return apply_edits_raw(self.data, self.edits)
        draft = self.draft()
        if not self.is_mime:
            return encode_draft(draft, smtputf8=self.smtputf8, eightbit=eightbit)
        return _render_mime(draft, self, eightbit=eightbit or self.smtputf8)

    def draft(self) -> Draft:
        extra = [("Cc", ", ".join(self.cc))] if self.cc else []
        base = make_draft(from_addr=self.from_addr, to_addrs=self.to, subject=self.subject,
                          body=self.body if self.body is not None else DEFAULT_BODY,
                          extra_headers=extra)
        return Draft(tuple(apply_edits(list(base.headers), self.edits)), base.body)


def apply_edits(headers: list[tuple[str, str]], edits: list[HeaderEdit]) -> list[tuple[str, str]]:
    """Apply header edits in order: a replace keeps the first position of that name."""
    out = list(headers)
    for edit in edits:
        wanted = edit.name.lower()
        where = [i for i, (name, _) in enumerate(out) if name.lower() == wanted]
        if edit.op == "replace" and where:
            out[where[0]] = (edit.name, edit.value)
            out = [h for i, h in enumerate(out) if i not in where[1:]]
        else:
            out.append((edit.name, edit.value))
    return out


def _split_raw(data: bytes) -> tuple[list[bytes], bytes, bytes]:
    """Header lines (folded lines joined), the blank-line separator, the body of raw bytes."""
    text = data.replace(b"\r\n", b"\n")
    head, sep, body = text.partition(b"\n\n")
    if not sep:
        head, sep, body = text, b"", b""
    lines: list[bytes] = []
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and lines:
            lines[-1] += b"\n" + line
        elif line:
            lines.append(line)
    return lines, sep, body


def apply_edits_raw(data: bytes, edits: list[HeaderEdit]) -> bytes:
    """Header edits on a message given whole (``--data``): other bytes stay as they were."""
    if not edits:
        return data
    lines, _sep, body = _split_raw(data)
    for edit in edits:
        new = f"{edit.name}: {edit.value}".encode()
        prefix = edit.name.lower().encode() + b":"
        where = [i for i, line in enumerate(lines) if line.lower().startswith(prefix)]
        if edit.op == "replace" and where:
            lines[where[0]] = new
            lines = [line for i, line in enumerate(lines) if i not in where[1:]]
        else:
            lines.append(new)
    head = b"\n".join(lines)
    return (head + b"\n\n" + body).replace(b"\n", b"\r\n")


def guess_type(filename: str | None) -> str:
    """MIME type for a file name; opaque bytes when unknown or compressed."""
    if not filename:
        return "application/octet-stream"
    ctype, encoding = mimetypes.guess_type(filename)
    return "application/octet-stream" if ctype is None or encoding is not None else ctype


def _add_part(msg: EmailMessage, part: Part, eightbit: bool, *, how: str) -> None:
    """Put ``part`` into ``msg``: ``how`` is "first" (set_content), "alternative" or "attach"."""
    if how == "attach":
        add_file(msg, part.data, part.ctype, part.filename, eightbit)
        return
    maintype, _, subtype = part.ctype.partition("/")
    subtype = subtype or "octet-stream"
    adder = msg.set_content if how == "first" else msg.add_alternative
    if maintype == "text":
        try:
            text = part.data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            adder(text, subtype=subtype, charset="utf-8", cte=body_cte(text, eightbit))
            return
    adder(part.data, maintype=maintype, subtype=subtype)


def _render_mime(draft: Draft, spec: MessageSpec, *, eightbit: bool) -> bytes:
    pol = make_policy(spec.smtputf8, eightbit)
    for name, value in draft.headers:
        check_header(name, value, spec.smtputf8)
    msg = EmailMessage(policy=pol)
    try:
        for name, value in draft.headers:
            if name.lower() != "bcc":
                msg[name] = value
        bodies = list(spec.bodies)
        if spec.body is not None or not bodies:
            bodies.insert(0, Part(draft.body.encode("utf-8"), "text/plain"))
        for index, part in enumerate(bodies):
            _add_part(msg, part, eightbit, how="alternative" if index else "first")
        for part in spec.attachments:
            _add_part(msg, part, eightbit, how="attach")
        one_mime_version(msg)
        return msg.as_bytes(policy=pol)
    except (ValueError, TypeError, UnicodeError, IndexError) as exc:
        raise DraftError(f"cannot encode the message: {exc}") from exc
