"""Server bytes that are not UTF-8 walked through every surface that shows reply text.

A Latin-1 server (``caf\\xe9``) or a lone ``\\xff`` must be shown as the sanitizer's ``\\xNN``
escape, the bytes as they came, never as U+FFFD; valid UTF-8 (an SMTPUTF8 server) stays the
characters. JSON text carries U+FFFD (UTF-8 JSON cannot hold an undecodable byte) and the exact
bytes beside it in ``raw_base64``; recordings keep the exact bytes, and replaying them shows the
escapes again.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from smtpscope.cli import main
from smtpscope.cli.common import dumps
from smtpscope.protocol import Reply
from smtpscope.record import Transcript, read_recording

BANNER = b"220 caf\xe9 \xff ready\r\n"
EHLO = (b"250-mx.test Gr\xc3\xbc\xc3\x9fe \xe9t\xe9\r\n250-X\xffY\r\n"
        b"250-AUTH PLAIN L\xffGIN\r\n250 8BITMIME\r\n")
MAIL = b"550 5.7.1 refus\xe9 \xff\r\n"

# How each must look once shown.
SHOWN_BANNER = "220 caf\\xe9 \\xff ready"
SHOWN_EHLO = "mx.test Grüße \\xe9t\\xe9"
SHOWN_KEYWORD = "X\\xffY"
SHOWN_MAIL = "550 5.7.1 refus\\xe9 \\xff"


def assert_no_replacement(*outputs: str) -> None:
    for output in outputs:
        assert "\ufffd" not in output, output


@contextlib.contextmanager
def latin1_server() -> Iterator[int]:
    """An asyncio SMTP server (in its own thread) that answers in Latin-1 and stray bytes."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    port: list[int] = []
    stop = loop.create_future()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(BANNER)
        while line := await reader.readline():
            verb = line.split(b" ")[0].strip().upper()
            writer.write({b"EHLO": EHLO, b"MAIL": MAIL, b"QUIT": b"221 bye\r\n"}.get(
                verb, b"250 ok\r\n"))
            await writer.drain()
            if verb == b"QUIT":
                break
        writer.close()

    async def serve() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port.append(server.sockets[0].getsockname()[1])
        started.set()
        async with server:
            await stop

    thread = threading.Thread(target=lambda: loop.run_until_complete(serve()), daemon=True)
    thread.start()
    started.wait(5)
    try:
        yield port[0]
    finally:
        loop.call_soon_threadsafe(stop.set_result, None)
        thread.join(5)
        loop.close()


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- the one rule -------------------------------------------------------------------------------


def test_reply_and_entry_keep_undecodable_bytes_for_display() -> None:
    reply = Reply(550, (b"refus\xe9 \xff", b"Gr\xc3\xbc\xc3\x9fe"), b"")
    assert reply.text_lines == ("refus\ufffd \ufffd", "Grüße")  # unchanged for parsers, JSON
    assert reply.shown_lines == ("refus\udce9 \udcff", "Grüße")
    transcript = Transcript()
    entry = transcript.add("server", "reply", MAIL)
    assert entry.shown_text == "550 5.7.1 refus\udce9 \udcff\r\n"
    assert entry.text == "550 5.7.1 refus\ufffd \ufffd\r\n"
    # A note quoting such text keeps the server's bytes, and its text stays valid for JSON.
    note = transcript.note(f"Not sent: {reply.shown_lines[0]}")
    assert note.raw == b"Not sent: refus\xe9 \xff"
    json.dumps(note.to_json(), ensure_ascii=False).encode("utf-8")


def test_json_carries_replacement_characters() -> None:
    assert json.loads(dumps({"lines": ["caf\udce9"]})) == {"lines": ["caf\ufffd"]}


# -- CLI ----------------------------------------------------------------------------------------


def test_probe_report_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    with latin1_server() as port:
        code, out, err = _run(capsys, "probe", f"127.0.0.1:{port}", "--no-progress")
        assert code == 0, err
        assert f"banner: {SHOWN_BANNER}" in out
        assert f"EHLO: 250 {SHOWN_EHLO.split()[0]}" in out
        assert SHOWN_KEYWORD in out
        assert_no_replacement(out, err)
        code, out, _err = _run(capsys, "probe", f"127.0.0.1:{port}", "--json", "--no-progress")
    result = json.loads(out)
    assert result["banner"]["lines"] == ["caf\ufffd \ufffd ready"]
    assert result["ehlo"]["plain"]["lines"][0] == "mx.test Grüße \ufffdt\ufffd"
    assert result["ehlo"]["plain"]["keywords"][0]["keyword"] == "X\ufffdY"
    # The exact bytes come back from raw_base64; raw stays the text it was.
    assert base64.b64decode(result["banner"]["raw_base64"], validate=True) == BANNER
    assert base64.b64decode(result["ehlo"]["plain"]["raw_base64"], validate=True) == EHLO
    assert result["banner"]["raw"] == "220 caf\ufffd \ufffd ready\r\n"


def test_send_transcript_error_recording_and_replay(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    record = tmp_path / "r.jsonl"
    with latin1_server() as port:
        code, out, err = _run(capsys, "send", f"127.0.0.1:{port}", "--tls", "none",
                              "--from", "a@x.test", "--to", "b@x.test", "--record", str(record))
        assert code != 0
        for line in (SHOWN_BANNER, f"250-{SHOWN_EHLO}", f"250-{SHOWN_KEYWORD}", SHOWN_MAIL):
            assert f"S: {line}\n" in out
        assert SHOWN_MAIL in err  # the rejection on stderr
        assert_no_replacement(out, err)
        _code, out, _err = _run(capsys, "send", f"127.0.0.1:{port}", "--tls", "none",
                                "--from", "a@x.test", "--to", "b@x.test", "--json")
    result = json.loads(out)
    assert SHOWN_MAIL in result["error"]  # the message stderr shows, escaped where made
    texts = [item["text"] for item in result["transcript"]]
    assert "550 5.7.1 refus\ufffd \ufffd" in texts and "220 caf\ufffd \ufffd ready" in texts
    sent = [base64.b64decode(item["raw_base64"], validate=True) for item in result["transcript"]
            if item["dir"] == "server"]
    assert sent[:2] == [BANNER, EHLO] and MAIL in sent
    # The recording holds the bytes as they came; replaying shows the escapes again.
    raws = [entry.raw for entry in read_recording(record).entries]
    assert BANNER in raws and EHLO in raws and MAIL in raws
    for fmt in ("text", "swaks"):
        _code, out, err = _run(capsys, "replay", str(record), "--format", fmt)
        assert SHOWN_BANNER in out and SHOWN_MAIL in out and SHOWN_KEYWORD in out
        assert_no_replacement(out, err)
    _code, out, _err = _run(capsys, "replay", str(record), "--format", "json")
    entries = json.loads(out)["entries"]
    assert base64.b64decode(entries[2]["raw"]) == BANNER


# -- TUI ----------------------------------------------------------------------------------------


async def test_tui_transcript_inspector_viewer_composer_and_notes() -> None:
    from smtpscope.session import SessionOptions
    from smtpscope.tui.app import create_app
    from smtpscope.tui.explain import selection_text
    from smtpscope.tui.screens.line_viewer import whole_text
    from smtpscope.tui.widgets.auth_values import _reply_text
    from smtpscope.tui.widgets.capabilities import CapabilityInspector
    from smtpscope.tui.widgets.composer import Composer
    from smtpscope.tui.widgets.transcript import TranscriptView
    from tests.tui.test_session_screen import shown as shown_text

    with latin1_server() as port:
        app = create_app(options=SessionOptions("127.0.0.1", port, security="plain"))
        async with app.run_test(size=(160, 45)) as pilot:
            screen = app.screen
            await pilot.pause(0.3)
            await pilot.press("f2")
            await pilot.pause(0.4)
            composer = screen.query_one(Composer)
            composer.input.value = "MAIL FROM:<a@x.test>"
            await pilot.press("enter")
            await pilot.pause(0.4)
            shown = screen.query_one(TranscriptView).to_text()
            for line in (SHOWN_BANNER, SHOWN_EHLO, SHOWN_KEYWORD, SHOWN_MAIL):
                assert line in shown
            inspector = shown_text(screen.query_one(CapabilityInspector))
            assert SHOWN_KEYWORD in inspector and "mx.test" in inspector
            session = screen.session
            assert session is not None
            mail = next(e for e in session.transcript.entries if e.raw == MAIL)
            assert SHOWN_MAIL in str(whole_text(mail))
            assert "refus\\xe9" in str(selection_text(mail, 10))
            assert f"S: {SHOWN_MAIL}" in str(_reply_text(Reply(550, (MAIL[4:-2],), MAIL)))
            assert_no_replacement(shown, inspector)
            # A mechanism the server did not offer: the hint quotes the offer escaped, and so
            # does the off-script note of sending it anyway (recorded, so valid for JSON).
            composer.input.value = "AUTH CRAM-MD5"
            await pilot.press("enter")
            await pilot.pause(0.2)
            assert "(offers PLAIN L\\xffGIN)" in composer.hint
            await pilot.press("enter")
            await pilot.pause(0.4)
            assert app.is_running
            sent = [e for e in session.transcript.entries if e.raw == b"AUTH CRAM-MD5\r\n"]
            assert sent and "(offers PLAIN L\\xffGIN)" in sent[0].notes[0]
            assert "(offers PLAIN L\\xffGIN)" in screen.query_one(TranscriptView).to_text()
