"""Build RFC 5322 messages with the stdlib email package: drafts people edit, bytes servers get."""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email import policy as email_policy
from email.message import EmailMessage, MIMEPart
from email.utils import format_datetime, getaddresses, make_msgid, parsedate_to_datetime
from pathlib import Path
from typing import Any

from smtpscope.idn import to_ascii
from smtpscope.protocol.data import MAX_TEXT_LINE
from smtpscope.sanitize import visible

# Headers that describe the MIME structure. If the draft sets one of them, the person is writing
# the MIME by hand and the body goes out as typed instead of being re-encoded.
_MIME_HEADERS = frozenset({"mime-version", "content-type", "content-transfer-encoding"})

_ADDRESS_HEADERS = frozenset(
    {"from", "to", "cc", "bcc", "sender", "reply-to", "resent-from", "resent-to", "resent-cc"}
)

_HEADER_RE = re.compile(r"^([!-9;-~]+):[ \t]?(.*)$")


class DraftError(ValueError):
    """A draft that cannot be turned into a message; the text says which line and why."""


class NeedsSmtpUtf8(DraftError):
    """An address header that is not ASCII: only SMTPUTF8 (RFC 6531) carries it."""


@dataclass(frozen=True)
class Draft:
    """An editable message: headers in order, as typed (not encoded), and a text body."""

    headers: tuple[tuple[str, str], ...]
    body: str
    attachments: tuple[Path, ...] = ()

    def get(self, name: str) -> str | None:
        """First value of header ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    @property
    def needs_utf8(self) -> bool:
        """True when a header carries non-ASCII text: what SMTPUTF8 is for (RFC 6531/6532).

        A non-ASCII body alone does not count: that is 8BITMIME's job (RFC 6152).
        """
        return any(not _is_ascii(v) for _, v in self.headers)

    @property
    def needs_8bit(self) -> bool:
        """True when the body is not ASCII (so 8BITMIME could carry it unencoded)."""
        return not _is_ascii(self.body)


def _now() -> datetime:
    return datetime.now().astimezone()


def _is_ascii(text: str) -> bool:
    return text.isascii()


def _domain_of(address: str) -> str:
    _, _, domain = address.rpartition("@")
    domain = domain.strip().strip(">").strip()
    # A Message-ID domain must be ASCII; an IDN sender gets its A-label, anything odd a stand-in.
    try:
        domain = to_ascii(domain)
    except UnicodeError:
        domain = ""
    if not all(0 < len(label) <= 63 for label in domain.split(".")):
        domain = ""  # an empty or overlong label (or no domain at all)
    return domain or "smtpscope.invalid"


def make_draft(
    *,
    from_addr: str,
    to_addrs: Sequence[str] | str,
    subject: str,
    body: str,
    date: datetime | str | None = None,
    message_id: str | None = None,
    extra_headers: Iterable[tuple[str, str]] = (),
    attachments: Iterable[str | Path] = (),
) -> Draft:
    """A draft with Date, From, To, Subject and Message-ID filled in (now / a fresh id)."""
    if isinstance(to_addrs, str):
        to_addrs = [to_addrs]
    if date is None:
        date = _now()
    date_text = date if isinstance(date, str) else format_datetime(date)
    # make_msgid() without a domain calls getfqdn(), which can block on DNS: always pass one.
    msgid = message_id or make_msgid(domain=_domain_of(from_addr))
    headers: list[tuple[str, str]] = [
        ("Date", date_text),
        ("From", from_addr),
        ("To", ", ".join(to_addrs)),
        ("Subject", subject),
        ("Message-ID", msgid),
    ]
    headers.extend((str(k), str(v)) for k, v in extra_headers)
    return Draft(tuple(headers), body, tuple(Path(a) for a in attachments))


def format_draft(draft: Draft) -> str:
    """The human-readable text of a draft: ``Name: value`` lines, a blank line, the body."""
    head = "".join(f"{name}: {value}\n" for name, value in draft.headers)
    return f"{head}\n{draft.body}"


def draft_text(**fields: object) -> str:
    """Shortcut: :func:`make_draft` then :func:`format_draft` (same keyword arguments)."""
    return format_draft(make_draft(**fields))  # type: ignore[arg-type]


def parse_draft(text: str, attachments: Iterable[str | Path] = ()) -> Draft:
    """Read the editable text back: headers until the first empty line, then the body.

    Continuation lines (starting with space or tab) unfold into the previous header. A first
    line that is not a header means the whole text is body (a message without headers is legal
    to send from a debugger). Raises :class:`DraftError` for a stray line among the headers.
    """
    text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    headers: list[tuple[str, str]] = []
    if not lines or not _HEADER_RE.match(lines[0]):
        return Draft((), text, tuple(Path(a) for a in attachments))
    index = 0
    for index, line in enumerate(lines):
        if line == "":
            break
        if line[0] in " \t" and headers:
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
            continue
        match = _HEADER_RE.match(line)
        if match is None:
            raise DraftError(
                f"line {index + 1}: {line[:40]!r} is not a 'Name: value' header; "
                "leave an empty line between the headers and the body"
            )
        headers.append((match.group(1), match.group(2).strip()))
    else:
        index = len(lines)
    body = "\n".join(lines[index + 1 :])
    return Draft(tuple(headers), body, tuple(Path(a) for a in attachments))


def _policy(smtputf8: bool, eightbit: bool) -> email_policy.EmailPolicy[EmailMessage]:
    # SMTP policy: CRLF line endings, RFC 2047 for non-ASCII headers. SMTPUTF8 (RFC 6532) keeps
    # UTF-8 in headers as is, which is only allowed when the server advertised SMTPUTF8.
    if smtputf8:
        return email_policy.SMTPUTF8
    # The stock SMTP policy allows 8bit bodies; without 8BITMIME the body must be 7-bit clean.
    return email_policy.SMTP if eightbit else email_policy.SMTP.clone(cte_type="7bit")


def _check_header(name: str, value: str, smtputf8: bool) -> None:
    """Refuse what the email package would silently mangle, with the reason and the way out."""
    if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
        # A line break would end the header (or, alone, put a bare LF on the wire).
        raise DraftError(f"{visible(name)}: a header cannot contain a line break")
    lname = name.lower()
    if lname == "date" and value:
        try:
            parsedate_to_datetime(value)
        except (TypeError, ValueError):
            raise DraftError(
                f"Date: {value!r} is not an RFC 5322 date (e.g. {format_datetime(_now())!r}); "
                "use verbatim mode to send it anyway"
            ) from None
    if lname in _ADDRESS_HEADERS and not smtputf8 and not value.isascii():
        for _, addr in getaddresses([value]):
            if not addr.isascii():
                # RFC 2047 §5 forbids encoded-words inside an address; only SMTPUTF8 carries it.
                raise NeedsSmtpUtf8(
                    f"{name}: the address {addr!r} is not ASCII; it needs SMTPUTF8 "
                    "(a display name may be non-ASCII)"
                )


def _body_cte(body: str, eightbit: bool) -> str | None:
    """Transfer encoding for a text body; None lets the email package pick QP or base64."""
    if "\x00" in body:
        # RFC 2045 §2.7/§2.8: neither 7bit nor 8bit data may hold NUL; QP carries it as =00.
        return "quoted-printable"
    if body.isascii():
        return None
    # A body sent as 8bit keeps its lines within RFC 5321's limit (CRLF included); longer
    # lines fall back to a transfer encoding. Lines end at CR and LF only (bytes.splitlines):
    # str.splitlines would also end one at FF, NEL or U+2028, which go out inside the line.
    longest = max(map(len, body.encode("utf-8").splitlines()), default=0)
    if eightbit and longest + 2 <= MAX_TEXT_LINE:
        return "8bit"
    return None


def exact_text(data: bytes) -> str | None:
    """A file's bytes as text when a text part carries them unchanged, else None.

    The email package writes text as lines that each end in a line break (RFC 2045's canonical
    form): it ends an unterminated last line (so an empty file arrives as one empty line) and
    reads a lone CR as a line break. Such a file goes as bytes (base64) instead, so it arrives
    byte for byte.
    """
    if not data.endswith(b"\n") or b"\r" in data.replace(b"\r\n", b""):
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def add_file(msg: EmailMessage, data: bytes, ctype: str, filename: str | None,
             eightbit: bool = False) -> None:
    """Attach a file's bytes as ``ctype``: text when that keeps them exact, else base64."""
    maintype, _, subtype = ctype.partition("/")
    subtype = subtype or "octet-stream"
    named: dict[str, Any] = {"filename": filename} if filename else {}
    text = exact_text(data) if maintype == "text" else None
    if text is not None:
        msg.add_attachment(text, subtype=subtype, charset="utf-8",
                           cte=_body_cte(text, eightbit), **named)
        return
    if maintype.lower() == "message" and subtype.lower() == "rfc822":
        # RFC 2046 §5.2.1: a message/rfc822 body is 7bit, 8bit or binary, never base64 or
        # QP. One that is 7bit goes as it is; any other as opaque bytes (base64), where the
        # email package cannot write 8bit ones and a NUL or an overlong line fits none.
        if _fits_7bit(data):
            msg.add_attachment(data, maintype=maintype, subtype=subtype, cte="7bit", **named)
            return
        maintype, subtype = "application", "octet-stream"
    params = {"charset": "utf-8"} if maintype == "text" and _is_utf8(data) else {}
    msg.add_attachment(data, maintype=maintype, subtype=subtype, params=params, **named)


def _fits_7bit(data: bytes) -> bool:
    """ASCII without NUL, in lines within RFC 5321's limit (RFC 2045 §2.7)."""
    return data.isascii() and b"\0" not in data and \
        max(map(len, data.splitlines()), default=0) + 2 <= MAX_TEXT_LINE


def one_mime_version(entity: MIMEPart) -> None:
    """Leave MIME-Version in the message header only (RFC 2045 §4): ``set_content`` and the
    ``add_*`` methods put it on every part they make too. An attached message (message/rfc822)
    keeps its own: only the multipart tree built here is walked."""
    for part in entity.iter_parts():
        del part["MIME-Version"]
        if part.get_content_maintype() == "multipart":
            one_mime_version(part)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _attach(msg: EmailMessage, path: Path, eightbit: bool) -> None:
    ctype, encoding = mimetypes.guess_type(path.name)
    if ctype is None or encoding is not None:
        # Compressed or unknown: send as opaque bytes rather than claim a text type.
        ctype = "application/octet-stream"
    data = path.read_bytes()
    if ctype.startswith("text/") and not _is_utf8(data):
        ctype = "application/octet-stream"  # a text type would need a charset we cannot know
    add_file(msg, data, ctype, path.name, eightbit)


def body_is_8bit(draft: Draft, *, smtputf8: bool = False, eightbit: bool = False) -> bool:
    """Whether :func:`encode_draft` would send this draft's text body as 8bit."""
    if any(name.lower() in _MIME_HEADERS for name, _ in draft.headers):
        return draft.needs_8bit  # hand-written MIME goes out as typed
    return _body_cte(draft.body, eightbit or smtputf8) == "8bit"


def encode_draft(draft: Draft, *, smtputf8: bool = False, eightbit: bool = False) -> bytes:
    """Encode a draft as wire-ready message bytes with CRLF line endings (no dot-stuffing).

    Non-ASCII headers become RFC 2047 encoded-words unless ``smtputf8``; a non-ASCII body goes
    out as 8bit when ``eightbit`` (8BITMIME) or ``smtputf8`` allows it, else as quoted-printable
    or base64. Raises :class:`DraftError` when a header cannot be encoded (e.g. a non-ASCII
    address without SMTPUTF8).
    """
    pol = _policy(smtputf8, eightbit)
    for name, value in draft.headers:
        _check_header(name, value, smtputf8)
    hand_mime = any(name.lower() in _MIME_HEADERS for name, _ in draft.headers)
    msg = EmailMessage(policy=pol)
    current = ""
    try:
        for name, value in draft.headers:
            current = name
            # Bcc recipients belong in the envelope only (RFC 5322 §3.6.3): never on the wire.
            if name.lower() != "bcc":
                msg[name] = value
        current = ""
        if hand_mime:
            # The person wrote the MIME headers: send their body as typed, only fixing line ends.
            head = msg.as_bytes(policy=pol)
            body = draft.body.encode("utf-8").replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            return head + body
        # RFC 6531 servers that advertise SMTPUTF8 also take 8BITMIME, so SMTPUTF8 implies 8bit.
        cte = _body_cte(draft.body, eightbit or smtputf8)
        msg.set_content(draft.body, charset="utf-8", cte=cte)
        for path in draft.attachments:
            _attach(msg, path, eightbit or smtputf8)
        one_mime_version(msg)
        return msg.as_bytes(policy=pol)
    except OSError as exc:
        raise DraftError(f"cannot read attachment: {exc}") from exc
    except AttributeError as exc:
        # The stdlib's structured-header parser trips over some malformed address lists
        # (e.g. `.:` as a From value) with an internal AttributeError: name the header instead.
        where = f"the {visible(current)} header" if current else "the message"
        raise DraftError(f"cannot parse {where}: it is not a valid address list") from exc
    except (ValueError, TypeError, UnicodeError, IndexError) as exc:
        hint = "" if smtputf8 else " (non-ASCII addresses need SMTPUTF8)"
        raise DraftError(f"cannot encode the message: {exc}{hint}") from exc


def envelope(draft: Draft) -> tuple[str, list[str]]:
    """MAIL FROM and RCPT TO addresses implied by the draft's From, To, Cc and Bcc headers."""
    senders = [addr for _, addr in getaddresses([draft.get("From") or ""]) if addr]
    recipients: list[str] = []
    for name, value in draft.headers:
        if name.lower() in ("to", "cc", "bcc"):
            recipients.extend(addr for _, addr in getaddresses([value]) if addr)
    return (senders[0] if senders else ""), list(dict.fromkeys(recipients))


def build_message(
    *,
    from_addr: str,
    to_addrs: Sequence[str] | str,
    subject: str,
    body: str,
    date: datetime | str | None = None,
    message_id: str | None = None,
    extra_headers: Iterable[tuple[str, str]] = (),
    smtputf8: bool = False,
    eightbit: bool = False,
    attachments: Iterable[str | Path] = (),
) -> bytes:
    """Build a complete message (CRLF bytes, not dot-stuffed) from its parts."""
    draft = make_draft(
        from_addr=from_addr,
        to_addrs=to_addrs,
        subject=subject,
        body=body,
        date=date,
        message_id=message_id,
        extra_headers=extra_headers,
        attachments=attachments,
    )
    return encode_draft(draft, smtputf8=smtputf8, eightbit=eightbit)


def format_size(size: int) -> str:
    """Human size in decimal units (SIZE is advertised in octets; 10 MB = 10,000,000)."""
    if size < 1000:
        return f"{size} B"
    for unit, scale in (("KB", 1000), ("MB", 1000**2), ("GB", 1000**3)):
        if size < scale * 1000 or unit == "GB":
            text = f"{size / scale:.1f}".removesuffix(".0")
            return f"{text} {unit}"
    return f"{size} B"  # pragma: no cover - loop always returns
