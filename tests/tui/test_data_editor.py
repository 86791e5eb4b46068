"""Tests for the DATA editor: prefilled draft, size against SIZE, encodings, BDAT, verbatim."""

from __future__ import annotations

from email import message_from_bytes, policy

from textual.app import App
from textual.widgets import Checkbox, Static, TextArea

from smtpscope.protocol import Capabilities, MailFrom, Reply
from smtpscope.tui.widgets.data_editor import DataEditor, OpenEnvelope
from smtpscope.tui.widgets.open_end_dialog import OpenEndDialog
from tests.tui.waiting import until


def caps(*lines: bytes) -> Capabilities:
    all_lines = (b"mx.example.test", *lines)
    raw = b"".join(
        b"250" + (b" " if i == len(all_lines) - 1 else b"-") + line + b"\r\n"
        for i, line in enumerate(all_lines)
    )
    return Capabilities.parse(Reply(code=250, lines=all_lines, raw=raw))


class Host(App[None]):
    """Pushes one editor and keeps what it returns."""

    def __init__(self, editor: DataEditor) -> None:
        super().__init__()
        self.editor = editor
        self.results: list[DataEditor.Result | None] = []

    def on_mount(self) -> None:
        self.push_screen(self.editor, self.results.append)


def status(editor: DataEditor) -> str:
    return str(editor.query_one("#data-status", Static).render())


async def test_prefilled_draft_and_result() -> None:
    editor = DataEditor(capabilities=caps(b"SIZE 10000000", b"8BITMIME"),
                        from_addr="alice@example.test", to_addrs=["bob@example.test"],
                        subject="안녕하세요 테스트", body="한국어 본문\n")
    app = Host(editor)
    async with app.run_test() as pilot:
        await pilot.pause()
        text = editor.query_one("#data-text", TextArea).text
        headers = [line.split(":")[0] for line in text.split("\n\n")[0].split("\n")]
        assert headers == ["Date", "From", "To", "Subject", "Message-ID"]
        assert "Subject: 안녕하세요 테스트\n" in text  # readable, encoded only on send
        assert "of 10 MB allowed" in status(editor)
        assert "8bit (8BITMIME)" in status(editor)
        assert "headers RFC 2047 encoded" in status(editor)
        await pilot.press("ctrl+s")
        await pilot.pause()
    [result] = app.results
    assert result is not None
    assert not result.verbatim and not result.use_bdat and result.eightbit
    assert result.content.count(b"\n") == result.content.count(b"\r\n")
    parsed = message_from_bytes(result.content, policy=policy.default)
    assert parsed["Subject"] == "안녕하세요 테스트"
    assert b"=?utf-8?" in result.content.lower()
    assert parsed["Content-Transfer-Encoding"] == "8bit"


async def test_size_over_the_advertised_limit_is_flagged() -> None:
    editor = DataEditor(capabilities=caps(b"SIZE 100"), body="x" * 200 + "\n")
    app = Host(editor)
    async with app.run_test() as pilot:
        await pilot.pause()
        line = editor.query_one("#data-status", Static)
        assert "of 100 B allowed" in status(editor)
        assert "over the advertised SIZE" in status(editor)
        assert line.has_class("-over")
        assert "7-bit clean" in status(editor)


async def test_status_follows_edits_after_the_debounce() -> None:
    editor = DataEditor(capabilities=caps(b"SIZE 100000"), text="Subject: a\n\nb\n")
    app = Host(editor)
    async with app.run_test() as pilot:
        await pilot.pause()
        before = status(editor)
        editor.query_one("#data-text", TextArea).load_text("Subject: a\n\n" + "b" * 5000 + "\n")
        await until(pilot, lambda: status(editor) != before, what="the debounced status")
        assert "5." in status(editor) and "KB" in status(editor)


async def test_encoding_error_keeps_the_editor_open() -> None:
    editor = DataEditor(capabilities=caps(), text="From: 사용자@example.test\n\nhi\n")
    app = Host(editor)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert "SMTPUTF8" in status(editor)
        assert editor.query_one("#data-status", Static).has_class("-error")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.results == []
        assert app.screen is editor


async def test_smtputf8_used_when_advertised_and_needed() -> None:
    editor = DataEditor(capabilities=caps(b"8BITMIME", b"SMTPUTF8"),
                        text="From: 사용자@example.test\nSubject: 제목\n\n본문\n")
    app = Host(editor)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert "UTF-8 (SMTPUTF8)" in status(editor)
        await pilot.press("ctrl+s")
        await pilot.pause()
    [result] = app.results
    assert result is not None and result.smtputf8
    assert "Subject: 제목\r\n".encode() in result.content


async def test_an_8bit_body_with_ascii_headers_is_8bitmime_not_smtputf8() -> None:
    # RFC 6531 SMTPUTF8 is for addresses and header fields; an 8-bit body is RFC 6152's.
    editor = DataEditor(capabilities=caps(b"8BITMIME", b"SMTPUTF8"),
                        text="From: a@example.test\nTo: b@example.test\nSubject: hi\n\n본문\n")
    app = Host(editor)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert "body 8bit (8BITMIME) · headers ASCII" in status(editor)
        await pilot.press("ctrl+s")
        await pilot.pause()
    [result] = app.results
    assert result is not None and result.eightbit and not result.smtputf8
    assert "본문".encode() in result.content


async def test_bdat_switch_needs_chunking() -> None:
    without = DataEditor(capabilities=caps(b"8BITMIME"))
    app = Host(without)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert without.query_one("#data-bdat", Checkbox).disabled
    with_chunking = DataEditor(capabilities=caps(b"CHUNKING"))
    app = Host(with_chunking)
    async with app.run_test() as pilot:
        await pilot.pause()
        switch = with_chunking.query_one("#data-bdat", Checkbox)
        assert not switch.disabled
        switch.value = True
        await pilot.pause()
        assert "sent with BDAT" in status(with_chunking)
        await pilot.press("ctrl+s")
        await pilot.pause()
    [result] = app.results
    assert result is not None and result.use_bdat
    after_354 = DataEditor(capabilities=caps(b"CHUNKING"), after_354=True)
    app = Host(after_354)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert after_354.query_one("#data-bdat", Checkbox).disabled


async def test_verbatim_sends_typed_bytes_with_lf() -> None:
    text = "Subject: x\n\n.dot line\nend\n.\n"
    app, line, _ = await verbatim_send(text, ("tab", "tab", "enter"))
    assert "verbatim" in line and "LF" in line
    [result] = app.results
    assert result is not None and result.verbatim
    assert result.content == text.encode()


async def test_verbatim_ending_with_crlf_dot_crlf_is_not_asked_about() -> None:
    text = "Subject: x\r\n\r\nend\r\n.\r\n"  # pasted with CRLF: the editor keeps them
    app, line, asked = await verbatim_send(text, ())
    assert "stays open" not in line and asked == ""
    [result] = app.results
    assert result is not None and result.content == text.encode()


async def verbatim_send(text: str, keys: tuple[str, ...], *,
                        open_tail: bytes = b"\r\n") -> tuple[Host, str, str]:
    """Verbatim ``text``, Ctrl+S, then ``keys`` in the question that comes up; returns the
    app, the status line and the question's text."""
    editor = DataEditor(capabilities=caps(), text=text, open_tail=open_tail)
    app = Host(editor)
    async with app.run_test() as pilot:
        await pilot.pause()
        editor.query_one("#data-verbatim", Checkbox).value = True
        await pilot.pause()
        line = status(editor)
        await pilot.press("ctrl+s", *keys)  # no pause between: as fast as keys come
        await pilot.pause()
        asked = str(app.screen.query_one("#open-end-text", Static).render()) \
            if isinstance(app.screen, OpenEndDialog) else ""
        app.top = type(app.screen)  # type: ignore[attr-defined]
    return app, line, asked


async def test_verbatim_without_the_end_asks_and_enter_goes_back() -> None:
    app, line, asked = await verbatim_send("Subject: x\n\nhello\n.\n", ())
    assert "no <CRLF>.<CRLF> at the end: the message stays open" in line
    assert "lflf" in asked and "stays open" in asked  # the question is up
    app, _, _ = await verbatim_send("Subject: x\n\nhello\n.\n", ("enter",))
    assert app.results == []  # back in the editor: nothing sent
    assert app.top is DataEditor  # type: ignore[attr-defined]


async def test_verbatim_without_the_end_add_it_or_send_as_is() -> None:
    app, _, _ = await verbatim_send("Subject: x\n\nhello\n", ("tab", "enter"))
    [added] = app.results
    assert added is not None and added.verbatim
    assert added.content == b"Subject: x\n\nhello\n\r\n.\r\n"  # the user's bytes, then the end
    app, _, _ = await verbatim_send("Subject: x\r\n\r\nhello\r\n", ("tab", "enter"))
    [added] = app.results
    assert added is not None and added.content == b"Subject: x\r\n\r\nhello\r\n.\r\n"
    app, _, _ = await verbatim_send("Subject: x\n\nhello\n.\n", ("tab", "tab", "enter"))
    [as_is] = app.results
    assert as_is is not None and as_is.content == b"Subject: x\n\nhello\n.\n"


async def test_verbatim_after_typed_lines_goes_on_from_them() -> None:
    """After a 354 and lines typed in the composer, "." alone ends the message."""
    app, line, asked = await verbatim_send(".\r\n", (), open_tail=b"hello\r\n")
    assert "stays open" not in line and asked == ""
    assert len(app.results) == 1


async def test_escape_cancels() -> None:
    editor = DataEditor()
    app = Host(editor)
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == [None]


async def test_after_354_only_what_the_mail_from_declared() -> None:
    # The server offers all of it, but the MAIL FROM sent declared none: a 7-bit body and
    # encoded-word headers. Its MAIL unknown (sent as raw bytes): the same, to be safe.
    text = "From: a@x.test\nTo: b@x.test\nSubject: ünï\n\nhéllo\n"
    offered = caps(b"8BITMIME", b"SMTPUTF8", b"CHUNKING")
    plain = OpenEnvelope(MailFrom("a@x.test"), ["b@x.test"])
    for accepted in (plain, None):
        editor = DataEditor(capabilities=offered, after_354=True, text=text, accepted=accepted)
        app = Host(editor)
        async with app.run_test() as pilot:
            await pilot.pause()
            assert "7-bit clean (the MAIL FROM sent declared no BODY=8BITMIME)" in status(editor)
            assert "headers RFC 2047 encoded" in status(editor)
            assert "not after 354" in str(editor.query_one("#data-bdat", Checkbox).label)
            await pilot.press("ctrl+s")
            await pilot.pause()
        [result] = app.results
        assert result is not None and result.content.isascii()
        assert not result.eightbit and not result.smtputf8
    declared = OpenEnvelope(MailFrom("a@x.test", (("BODY", "8BITMIME"), ("SMTPUTF8", None))))
    editor = DataEditor(capabilities=offered, after_354=True, text=text, accepted=declared)
    app = Host(editor)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert "body 8bit (8BITMIME) · headers UTF-8 (SMTPUTF8)" in status(editor)


async def test_a_form_feed_or_unicode_line_separator_stays_inside_its_line() -> None:
    # SMTP ends lines at CRLF only: a form feed (page break) or U+2028 in the text is a
    # character of its line, typed, pasted or undone, never a line break sent as CRLF.
    from textual import events

    editor = DataEditor(capabilities=caps(b"8BITMIME"), from_addr="alice@example.test",
                        to_addrs=["bob@example.test"], subject="pages",
                        body="page one\x0cpage two\n")
    app = Host(editor)
    async with app.run_test() as pilot:
        await pilot.pause()
        area = editor.query_one("#data-text", TextArea)
        assert "page one\x0cpage two" in area.document.lines
        area.focus()
        area.move_cursor(area.document.end)
        paste = events.Paste("a\u2028b\x85c\x0bd\r\nnext\n")
        paste.set_sender(app)
        app._driver.send_message(paste)  # type: ignore[union-attr]  # as a terminal's paste
        await until(pilot, lambda: "next" in area.document.lines)
        assert "a\u2028b\x85c\x0bd" in area.document.lines
        area.undo()
        await pilot.pause()
        assert "a\u2028b\x85c\x0bd" not in area.text and "page one\x0cpage two" in area.text
        area.redo()
        await pilot.pause()
        assert "a\u2028b\x85c\x0bd" in area.document.lines
        await pilot.press("ctrl+s")
        await until(pilot, lambda: len(app.results) == 1)
    [result] = app.results
    assert result is not None
    assert b"page one\x0cpage two\r\n" in result.content
    assert "a\u2028b\x85c\x0bd\r\nnext\r\n".encode() in result.content
