"""Why the client cancelled an AUTH exchange with ``*`` is in the transcript and the recording
of a TUI session, in the words ``smtpscope send`` records for the same server."""

from __future__ import annotations

import asyncio
import base64
import re
from pathlib import Path

import pytest

from smtpscope.conversation.auth import authenticate, make_mechanism
from smtpscope.record import Entry, read_recording
from smtpscope.session import Session, SessionOptions
from smtpscope.tui.app import create_app
from smtpscope.tui.screens.auth_exchange import Phase
from tests.conversation.test_flows import tcp_peer
from tests.tui.test_auth_helper import DIGEST_CHALLENGE, fill, home, open_helper, wait_for

__all__ = ["home"]  # the fixture, used by name

FORGED_SIGNATURE = b"v=" + base64.b64encode(bytes(20))


def _b64(data: bytes) -> bytes:
    return base64.b64encode(data)


# What each hostile server answers to the client's lines after its AUTH line, by mechanism.
# SCRAM's server-first is made from the client's nonce (extended, or not), the rest is fixed.
SCENARIOS = {
    "scram-signature": ("SCRAM-SHA-1", [b"server-first", b"334 " + _b64(FORGED_SIGNATURE)]),
    "scram-nonce": ("SCRAM-SHA-1", [b"foreign-nonce"]),
    "digest-rspauth": ("DIGEST-MD5", [b"334 " + _b64(DIGEST_CHALLENGE),
                                      b"334 " + _b64(b"rspauth=" + b"0" * 32)]),
    "not-base64": ("CRAM-MD5", [b"334 <not base64!>"]),
}


def hostile(name: str, answers: list[bytes],  # type: ignore[no-untyped-def]
            to_star: bytes = b"501 5.7.0 Authentication aborted"):
    """A server offering ``name`` that answers the AUTH line and each client line with the
    next of ``answers``, then ``to_star`` to the client's ``*``; it keeps what the client
    sent."""
    got: list[bytes] = []

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 hostile.test ESMTP\r\n")
        assert (await reader.readline()).upper().startswith(b"EHLO")
        writer.write(b"250-hostile.test\r\n250 AUTH " + name.encode() + b"\r\n")
        line = await reader.readline()
        nonce = base64.b64decode(line.split()[2]).rpartition(b"r=")[2] \
            if name.startswith("SCRAM") else b""
        for answer in answers:
            if answer in (b"server-first", b"foreign-nonce"):
                mine = nonce + b"srv" if answer == b"server-first" else b"someone-elses"
                answer = b"334 " + _b64(b"r=" + mine + b",s=QSXCR+Q6sek8bf92,i=4096")
            writer.write(answer + b"\r\n")
            line = await reader.readline()
            got.append(line)
            if line == b"*\r\n":
                writer.write(to_star + b"\r\n")
                break
        while line := await reader.readline():  # QUIT
            writer.write(b"221 bye\r\n")
    return script, got


def _before_the_cancel(entries: list[Entry]) -> list[str]:
    """The notes between the last server challenge and the client's ``*``."""
    star = next(i for i, e in enumerate(entries) if e.direction == "client" and e.text == "*\r\n")
    challenge = max(i for i, e in enumerate(entries[:star]) if e.direction == "server")
    return [e.text for e in entries[challenge + 1:star] if e.direction == "local"]


async def _send_notes(name: str, answers: list[bytes]) -> list[str]:
    """What the command line's AUTH records before its ``*`` for the same server."""
    script, got = hostile(name, answers)
    async with tcp_peer(script) as port:
        session = Session(SessionOptions("127.0.0.1", port, security="plain"))
        await session.connect()
        await session.command(session.greeting_command())
        await authenticate(session, make_mechanism(name, session, user="alice",
                                                   secret="pencil-pw"))
        await session.quit()
    assert got[-1] == b"*\r\n"
    return _before_the_cancel(list(session.transcript))


@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_the_helper_records_why_it_cancelled(home: Path, scenario: str) -> None:
    name, answers = SCENARIOS[scenario]
    expected = await _send_notes(name, answers)
    assert expected, "the command line says why it cancels"
    shown, recorded_entries = await _helper_run(name, answers)
    notes = _before_the_cancel(shown)
    recorded = _before_the_cancel(recorded_entries)
    assert notes == recorded
    # The helper reads challenges strictly (its decoder names the bad character): that reason
    # may be worded otherwise, the notes are the same.
    assert [_reason_hidden(n) for n in notes] == [_reason_hidden(n) for n in expected]


async def _helper_run(name: str, answers: list[bytes], to_star: bytes = b"501 5.7.0 aborted",
                      ) -> tuple[list[Entry], list[Entry]]:
    """The helper, run in auto mode against ``hostile(name, answers, to_star)`` until the
    exchange ends after the client's ``*``: the session's entries and the recording's."""
    script, got = hostile(name, answers, to_star=to_star)
    async with tcp_peer(script) as port:
        app = create_app(options=SessionOptions("127.0.0.1", port, security="plain"))
        async with app.run_test(size=(140, 45)) as pilot:
            screen, helper = await open_helper(pilot)
            await fill(pilot, helper, name, password="pencil-pw", mode="auto")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: helper.phase is Phase.DONE, "the answer to '*'")
            assert got[-1] == b"*\r\n"
            return (list(screen.session.transcript),
                    read_recording(screen.recording_path).entries)


def _reason_hidden(note: str) -> str:
    return re.sub(r"\(invalid base64: [^)]*\)", "(invalid base64: ...)", note)


async def test_a_star_typed_over_a_computed_answer_gets_no_reason(home: Path) -> None:
    """F8 on a line the mechanism computed: the user's choice, not the mechanism's finding."""
    script, got = hostile("CRAM-MD5", [b"334 " + _b64(b"<1.2@hostile.test>")])
    async with tcp_peer(script) as port:
        app = create_app(options=SessionOptions("127.0.0.1", port, security="plain"))
        async with app.run_test(size=(140, 45)) as pilot:
            screen, helper = await open_helper(pilot)
            await fill(pilot, helper, "CRAM-MD5", password="pencil-pw")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: helper.phase is Phase.WAITING, "the AUTH line")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: helper.phase is Phase.WAITING
                           and not helper._proposal.initial, "the computed answer")
            await pilot.press("f8")
            await wait_for(pilot, lambda: helper.phase is Phase.DONE, "the 501")
            assert got == [b"*\r\n"]
            assert _before_the_cancel(list(screen.session.transcript)) == []
            # The panel says the exchange was cancelled, not that a typed line replaced it.
            panel = helper.panel_text()
            assert "Edited" not in panel and "line you typed" not in panel
            assert "Cancelled: '*' was sent instead of the computed line" in panel


async def test_the_helper_records_what_the_mechanism_made_of_the_final_reply(
        home: Path) -> None:
    """A 235 straight after SCRAM's client-final: the server never proved itself, and the
    recording says so as the command line's does (tests/conversation/test_flows.py)."""
    script, _ = hostile("SCRAM-SHA-1", [b"server-first", b"235 2.7.0 ok"])
    async with tcp_peer(script) as port:
        app = create_app(options=SessionOptions("127.0.0.1", port, security="plain"))
        async with app.run_test(size=(140, 45)) as pilot:
            screen, helper = await open_helper(pilot)
            await fill(pilot, helper, "SCRAM-SHA-1", password="pencil-pw", mode="auto")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: helper.phase is Phase.DONE, "the 235")
            recorded = read_recording(screen.recording_path).entries
    assert [e.text for e in recorded if e.kind == "warning"] == [
        "SCRAM-SHA-1: The server never proved that it knows the password (no server signature)."]


@pytest.mark.parametrize("to_star", [b"235 2.7.0 ok", b"334 "])
async def test_a_violation_after_the_cancel_is_recorded_in_full(home: Path,
                                                                to_star: bytes) -> None:
    """The server answers the client's ``*`` with a success or another challenge (RFC 4954 §4
    wants 501): the recording says what it did, not only that something was wrong."""
    _, recorded = await _helper_run(*SCENARIOS["scram-signature"], to_star=to_star)
    errors = [e.text for e in recorded if e.kind == "error"]
    what = "accepted the exchange with 235" if to_star.startswith(b"235") \
        else "sent another 334 challenge"
    assert errors == [f"SCRAM-SHA-1: protocol violation: the server {what} after the client "
                      "cancelled the AUTH exchange with '*' (RFC 4954 §4: it must answer 501)"]
