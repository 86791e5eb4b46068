"""Bridges from recorded entries back to the engine: explanations and capabilities."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from rich.text import Text

from smtpscope.protocol import EnhancedCode, RemoteProtocolError, Reply, parse_reply
from smtpscope.record import Entry
from smtpscope.sanitize import visible


def reply_from_entry(entry: Entry) -> Any:
    """The engine's Reply for a reply entry (None if it is not one).

    Built from what the engine parsed when the reply arrived, carried on the entry as its
    ``reply`` fields; only an entry without them (an old recording) is parsed here, once, by
    the engine's own reply parser.
    """
    if entry.kind != "reply" or entry.direction != "server":
        return None
    fields = entry.reply
    if fields is not None:
        reply = _reply_from_fields(fields, entry.raw)
        if reply is not None:
            return reply
    try:
        parsed = parse_reply(entry.raw)
    except RemoteProtocolError:
        return None
    return parsed if isinstance(parsed, Reply) else None


def _codes_from_fields(fields: dict[str, Any]) -> tuple[int, str | None] | None:
    """(code, enhanced code as recorded) when an entry's recorded fields describe a whole
    reply (None when not: a recording may keep only the code)."""
    code, texts = fields.get("code"), fields.get("lines")
    if not isinstance(code, int) or not 100 <= code <= 999 or not isinstance(texts, list):
        return None
    if not texts or "enhanced" not in fields:
        return None
    text = fields.get("enhanced")
    if isinstance(text, str):
        parts = text.split(".")
        if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts):
            return None
        return code, text
    return code, None


def _enhanced(text: str | None) -> EnhancedCode | None:
    return None if text is None else EnhancedCode(*(int(p) for p in text.split(".")))


@lru_cache(maxsize=1024)
def _summary(code: int, enhanced: str | None) -> str:
    """explain()'s summary of a reply, which reads only its code and enhanced code (the
    catalogue is fixed): worked out once per pair, not once per reply shown."""
    from smtpscope.protocol import explain

    return str(explain(Reply(code, (), b"", _enhanced(enhanced), (), False)).summary)


def _reply_from_fields(fields: dict[str, Any], raw: bytes) -> Any:
    """A Reply from an entry's recorded fields (None when they do not describe one whole)."""
    codes = _codes_from_fields(fields)
    if codes is None:
        return None
    code, enhanced = codes[0], _enhanced(codes[1])
    texts = fields["lines"]
    lines = tuple(str(line).encode("utf-8") for line in texts)
    warnings = tuple(str(w) for w in fields.get("warnings") or ())
    return Reply(code, lines, raw, enhanced, warnings, bool(fields.get("unsolicited")))


def explain_entry(entry: Entry) -> str | None:
    """The catalogue's explanation of a reply entry, e.g. ``550 5.1.1 — Bad destination…``;
    for a 334 challenge, the challenge decoded."""
    if entry.code == 334:
        return challenge_note(entry)
    fields = entry.reply
    if fields is not None and entry.kind == "reply" and entry.direction == "server":
        codes = _codes_from_fields(fields)
        if codes is not None:
            return _summary(*codes)
    reply = reply_from_entry(entry)
    if reply is None:
        return None
    return _summary(reply.code, None if reply.enhanced is None else str(reply.enhanced))


def challenge_note(entry: Entry) -> str | None:
    """A 334 challenge decoded, e.g. ``challenge decoded: Username:`` (None if not base64)."""
    if entry.redacted:
        return None
    blob = entry.text.strip()[4:].strip()
    if not blob:
        return "empty challenge: answer with the base64 response (or * to cancel)"
    from smtpscope.auth.decode import b64decode_tolerant

    try:
        raw, _ = b64decode_tolerant(blob)
    except ValueError:
        return None  # not base64: some servers put plain words after 334
    return "challenge decoded: " + raw.decode("utf-8", errors="surrogateescape")


def describe_entry(entry: Entry) -> str | None:
    """The longer explanation shown for a selected reply: the basic and enhanced codes apart."""
    reply = reply_from_entry(entry)
    if reply is None:
        return None
    from smtpscope.protocol import explain

    found = explain(reply)
    classes = {2: "success", 3: "intermediate: go on", 4: "temporary failure: retry later",
               5: "permanent failure"}
    text = f"{reply.code}: {found.basic} ({classes.get(reply.code // 100, 'unknown class')})"
    if reply.enhanced is not None and found.enhanced:
        text += f"\n{reply.enhanced}: {found.enhanced}"
    if reply.warnings:
        text += "\n" + "; ".join(reply.warnings)
    return text


def selection_text(entry: Entry | None, width: int) -> Text:
    """What the panel under the transcript shows for the selected entry.

    A line too wide for the pane is shown in full first (escaped, up to 400 characters), since
    the pane clips rather than wraps; then the explanation of a reply's codes.
    """
    text = Text()
    if entry is None:
        return text
    line = entry.shown_text.rstrip("\r\n")
    if "\n" not in line and len(line) > width:
        text.append(visible(line[:400]) + ("…" if len(line) > 400 else ""))
    explanation = describe_entry(entry)
    if entry.kind == "tls" and entry.info:
        # The TLS view: every certificate, its fingerprints and DANE, for the selected TLS line.
        from smtpscope.security.report import chain_lines_from_dict

        explanation = "\n".join(chain_lines_from_dict(entry.info)) or None
    if explanation:
        if text:
            text.append("\n")
        text.append("\n".join(visible(part) for part in explanation.split("\n")),
                    style="italic")
    return text


def capabilities_from_entry(entry: Entry, last_command: str) -> Any:
    """Capabilities parsed from a recorded 250 reply when the last command was EHLO/LHLO."""
    if entry.code != 250 or last_command.split(" ", 1)[0].upper() not in ("EHLO", "LHLO"):
        return None
    reply = reply_from_entry(entry)
    if reply is None:
        return None
    from smtpscope.protocol import Capabilities

    return Capabilities.parse(reply)
