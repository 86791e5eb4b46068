"""Fuzz: the message builder and the typed-command parser raise only their own errors.

The recording reader has its fuzz tests in tests/record/test_reader_robust.py.
"""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from smtpscope.message import DraftError, build_message, encode_draft, envelope, parse_draft
from smtpscope.protocol import CommandSyntaxError, State, parse_command

_TEXT = st.text(st.characters(codec="utf-8"), max_size=120)


@settings(max_examples=300, deadline=None)
@given(_TEXT, st.booleans(), st.booleans())
def test_draft_text_parses_and_encodes_or_says_why(text: str, smtputf8: bool,
                                                   eightbit: bool) -> None:
    try:
        draft = parse_draft(text)
        data = encode_draft(draft, smtputf8=smtputf8, eightbit=eightbit)
    except DraftError as exc:
        assert str(exc)
        return
    assert b"\r\n" in data or not data
    assert b"\n" not in data.replace(b"\r\n", b"")  # CRLF only on the wire
    if not smtputf8 and not eightbit:
        assert data.isascii()
    envelope(draft)


@settings(max_examples=300, deadline=None)
@given(_TEXT, st.lists(_TEXT, max_size=3), _TEXT, _TEXT,
       st.lists(st.tuples(_TEXT, _TEXT), max_size=3), st.booleans())
# The stdlib's address parser raised AttributeError on this From value.
@example(".:", [], "", "", [], False)
def test_build_message_raises_only_draft_errors(
    from_addr: str, to_addrs: list[str], subject: str, body: str,
    extra: list[tuple[str, str]], smtputf8: bool,
) -> None:
    try:
        data = build_message(from_addr=from_addr, to_addrs=to_addrs, subject=subject,
                             body=body, extra_headers=extra, smtputf8=smtputf8,
                             date="Mon, 30 Nov 2026 15:00:00 +0000", message_id="<x@y.test>")
    except DraftError as exc:
        assert str(exc)
        return
    assert b"\n" not in data.replace(b"\r\n", b"")


@settings(max_examples=400)
@given(_TEXT, st.sampled_from([None, *State]))
def test_parser_in_any_state_raises_only_syntax_errors(text: str, state: State | None) -> None:
    try:
        parsed = parse_command(text, state=state)
    except CommandSyntaxError as exc:
        assert exc.message
        if state is State.AUTH and len(text.strip()) > 3:
            # A line typed during AUTH may be a password: the error never repeats it.
            assert text.strip() not in exc.message
        return
    wire = parsed.command.to_bytes()
    assert wire.endswith(b"\r\n") or not wire
