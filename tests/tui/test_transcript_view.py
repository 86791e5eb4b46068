"""Tests for the transcript pane: layout, colours, folding, selection and hostile server text."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import pytest
from rich.cells import cell_len
from rich.style import Style
from textual.app import App, ComposeResult
from textual.strip import Strip

from smtpscope.record.transcript import Entry, Transcript
from smtpscope.tui.widgets.transcript import TranscriptView
from smtpscope.tui.widgets.transcript_rows import (
    MAX_LINE_CHARS,
    TranscriptRows,
    format_timestamp,
)

WALL = 1_700_000_000.25  # a fixed clock: nothing below depends on the time of day
RAW_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def entry(seq: int, direction: str, kind: str, text: str, **extra: Any) -> Entry:
    return Entry(
        seq=seq,
        mono=seq * 0.01,
        wall=WALL + seq,
        direction=direction,  # type: ignore[arg-type]
        kind=kind,
        raw=text.encode("utf-8", "surrogateescape"),
        text=text,
        **extra,
    )


def reply(seq: int, text: str, code: int | None = None, **extra: Any) -> Entry:
    code = int(text[:3]) if code is None else code
    return entry(seq, "server", "reply", text, reply={"code": code}, **extra)


def command(seq: int, text: str, **extra: Any) -> Entry:
    return entry(seq, "client", "command", text, **extra)


class Host(App[None]):
    """The smallest app around the view, recording the messages it posts."""

    def __init__(self, **view_args: Any) -> None:
        super().__init__()
        self.view_args = view_args
        self.selected: list[TranscriptView.EntrySelected] = []

    def compose(self) -> ComposeResult:
        yield TranscriptView(**self.view_args)

    def on_transcript_view_entry_selected(self, message: TranscriptView.EntrySelected) -> None:
        self.selected.append(message)


def rows_text(view: TranscriptView) -> list[str]:
    return [view.render_line(y).text.rstrip() for y in range(view.scrollable_content_region.height)]


def text_style(strip: Strip, needle: str) -> Style:
    for segment in strip:
        if needle in segment.text:
            assert segment.style is not None
            return segment.style
    raise AssertionError(f"{needle!r} not in {strip.text!r}")


async def test_multiline_reply_is_grouped() -> None:
    app = Host()
    async with app.run_test(size=(80, 10)) as pilot:
        view = app.query_one(TranscriptView)
        view.add_entries([
            command(0, "EHLO client.test\r\n"),
            reply(1, "250-mx.test\r\n250-PIPELINING\r\n250 SIZE 1000\r\n"),
        ])
        await pilot.pause()
        assert view.row_count == 4
        assert rows_text(view)[:4] == [
            "C: EHLO client.test",
            "S: 250-mx.test",
            " │ 250-PIPELINING",
            " │ 250 SIZE 1000",
        ]
        # The continuation rows belong to the reply: selecting one selects the reply.
        view.select_row(3)
        assert view.selected_entry is not None and view.selected_entry.seq == 1


async def test_colour_by_reply_class() -> None:
    app = Host()
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(TranscriptView)
        view.add_entries([
            reply(0, "220 ready\r\n"),
            reply(1, "354 go ahead\r\n"),
            reply(2, "451 try later\r\n"),
            reply(3, "554 no\r\n"),
            command(4, "NOOP\r\n"),
        ])
        await pilot.pause()
        colours = []
        for y, (needle, klass) in enumerate([
            ("220 ready", "2xx"),
            ("354 go ahead", "3xx"),
            ("451 try later", "4xx"),
            ("554 no", "5xx"),
        ]):
            style = text_style(view.render_line(y), needle)
            expected = view.get_component_rich_style(f"transcript--reply-{klass}")
            assert style.color == expected.color
            colours.append(style.color)
        assert len(set(colours)) == 4
        client = text_style(view.render_line(4), "NOOP")
        assert client.color not in colours


async def test_tls_rule_spans_the_width() -> None:
    app = Host()
    async with app.run_test(size=(70, 5)) as pilot:
        view = app.query_one(TranscriptView)
        view.add_entry(entry(0, "local", "tls", "TLS 1.3 · TLS_AES_256_GCM_SHA384 · verified"))
        await pilot.pause()
        strip = view.render_line(0)
        assert strip.text.startswith("── TLS 1.3 · TLS_AES_256_GCM_SHA384 · verified ─")
        assert strip.text.endswith("──")
        assert strip.cell_length == view.scrollable_content_region.width
        tls_colour = view.get_component_rich_style("transcript--tls").color
        assert text_style(strip, "TLS 1.3").color == tls_colour
        assert "── TLS 1.3" in view.to_text()


async def test_unverified_tls_rule_looks_different() -> None:
    app = Host()
    async with app.run_test(size=(70, 5)) as pilot:
        view = app.query_one(TranscriptView)
        view.add_entries([
            entry(0, "local", "tls", "TLS started: TLSv1.3 · verified", info={"verified": True}),
            entry(1, "local", "tls", "TLS started: TLSv1.3 · NOT verified",
                  info={"verified": False, "verify_error": "self-signed"}),
            entry(2, "local", "tls", "TLS started: TLSv1.3 · verification OFF",
                  info={"verified": False, "insecure": True}),
        ])
        await pilot.pause()
        good = text_style(view.render_line(0), "TLS started")
        bad = text_style(view.render_line(1), "TLS started")
        off = text_style(view.render_line(2), "TLS started")
        expected = view.get_component_rich_style("transcript--tls-unverified").color
        assert bad.color == off.color == expected != good.color


async def test_long_body_is_folded_and_expands_on_enter() -> None:
    body = "".join(f"line {i}\r\n" for i in range(200))
    app = Host(fold_after=20, fold_keep=5)
    async with app.run_test(size=(60, 12)) as pilot:
        view = app.query_one(TranscriptView)
        view.add_entries([
            entry(0, "client", "content", body),
            reply(1, "250 queued\r\n"),
        ])
        await pilot.pause()
        assert view.row_count == 7
        lines = view.to_text().splitlines()
        assert lines[0] == "C: line 0"
        assert lines[4] == " │ line 4"
        assert "195 more lines" in lines[5] and "Enter" in lines[5]
        assert lines[6] == "S: 250 queued"

        view.focus()
        view.select_row(5)
        await pilot.press("enter")
        assert view.row_count == 202
        lines = view.to_text().splitlines()
        assert lines[199] == " │ line 199"
        assert "200 lines" in lines[200]
        assert lines[201] == "S: 250 queued"

        await pilot.press("enter")
        assert view.row_count == 7
        # A short body is never folded, and Enter elsewhere does nothing.
        view.add_entry(entry(2, "client", "content", "a\r\nb\r\n"))
        await pilot.pause()
        assert view.row_count == 9
        assert not view.toggle_fold(8)


async def test_off_script_and_server_oddities_are_marked() -> None:
    app = Host()
    async with app.run_test(size=(70, 10)) as pilot:
        view = app.query_one(TranscriptView)
        view.add_entries([
            command(0, "RCPT TO:<a@b.test>\r\n", off_script=True),
            entry(1, "client", "raw", "garbage\r\n"),
            command(2, "NOOP\r\n"),
            entry(3, "server", "reply", "250 late\r\n", reply={"code": 250, "unsolicited": True}),
            entry(4, "server", "raw", "injected after 220\r\n"),
            reply(5, "250 ok\r\n", notes=("bare LF in reply",)),
            entry(6, "local", "warning", "server sent bytes after the STARTTLS 220"),
            entry(7, "local", "note", "connected"),
        ])
        await pilot.pause()
        assert rows_text(view)[:9] == [
            "C! RCPT TO:<a@b.test>",
            "C! garbage",
            "C: NOOP",
            "S! 250 late",
            "S! injected after 220",
            "S: 250 ok",
            "!! bare LF in reply",
            "!! server sent bytes after the STARTTLS 220",
            "-- connected",
        ]
        off = text_style(view.render_line(0), "RCPT")
        normal = text_style(view.render_line(2), "NOOP")
        assert off != normal
        assert off.color == view.get_component_rich_style("transcript--client-off-script").color
        warning = text_style(view.render_line(6), "bare LF")
        assert warning.bold


HOSTILE = [
    ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
    ("\x1b]8;;https://evil.test/\x1b\\click\x1b]8;;\x1b\\", "\\x1b]8;;https://evil.test/\\x1b\\"),
    ("\x1b]52;c;aGVsbG8=\x07", "\\x1b]52;c;aGVsbG8=\\x07"),
    ("bell\x07", "bell\\x07"),
    ("nul\x00byte", "nul\\x00byte"),
    ("c1\u009b31m", "c1\\x9b31m"),
    ("[bold red]x[/]", "[bold red]x[/]"),
    ("[link=https://evil.test]click[/link]", "[link=https://evil.test]click[/link]"),
    ("rtl\u202eevil", "rtl\\u202eevil"),
    ("bare\rcr", "bare\\x0dcr"),
]


async def _hostile_server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"220-hostile.test ESMTP\r\n")
    for payload, _ in HOSTILE:
        writer.write(b"220-" + payload.encode("utf-8") + b"\r\n")
    writer.write(b"220 raw C1 byte \x9b[2J end\r\n")
    await writer.drain()
    writer.close()


class HostileClient(App[None]):
    """Reads a real socket the way the session does and feeds the pane through a Transcript."""

    def __init__(self, port: int) -> None:
        super().__init__()
        self.port = port
        self.transcript = Transcript(clock=lambda: 1.0, wall_clock=lambda: WALL)
        self.done = asyncio.Event()

    def compose(self) -> ComposeResult:
        yield TranscriptView()

    async def on_mount(self) -> None:
        view = self.query_one(TranscriptView)
        self.transcript.subscribe(view.add_entry)
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        data = await reader.read()
        writer.close()
        self.transcript.add("server", "reply", data, reply={"code": 220})
        self.done.set()


async def test_hostile_server_text_is_shown_escaped_and_inert() -> None:
    server = await asyncio.start_server(_hostile_server, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        app = HostileClient(port)
        async with app.run_test(size=(120, 20)) as pilot:
            await asyncio.wait_for(app.done.wait(), 30)
            await pilot.pause()
            view = app.query_one(TranscriptView)
            shown = [view.render_line(y) for y in range(view.row_count)]
            text = "\n".join(strip.text for strip in shown)
            for _, escaped in HOSTILE:
                assert escaped in text
            # The raw byte 0x9b is invalid UTF-8: shown as the byte it is, never as CSI.
            assert "raw C1 byte \\x9b[2J end" in text
            for strip in shown:
                for segment in strip:
                    assert not RAW_CONTROL.search(segment.text), segment.text
                    assert segment.control is None
                    # Square brackets stayed text: no markup became a style or a link.
                    assert segment.style is None or segment.style.link is None
            # The whole screen the terminal would receive carries no server control either.
            for strip in app.screen._compositor.render_strips():
                assert not any(RAW_CONTROL.search(s.text) for s in strip)
    finally:
        server.close()
        await server.wait_closed()


async def test_very_long_line_is_clipped_and_cheap() -> None:
    huge = "A" * 200_000
    wide = "界" * 100_000
    app = Host()
    async with app.run_test(size=(80, 6)) as pilot:
        view = app.query_one(TranscriptView)
        started = time.process_time()  # CPU time: the work done, whatever else runs
        view.add_entries([reply(0, "250 " + huge + "\r\n"), reply(1, "250 " + wide + "\r\n")])
        await pilot.pause()
        first, second = view.render_line(0), view.render_line(1)
        elapsed = time.process_time() - started
        width = view.scrollable_content_region.width
        assert first.cell_length == width and second.cell_length == width
        assert first.text.startswith("S: 250 AAAA")
        assert second.text.startswith("S: 250 界界")
        # Stored text is bounded, so a frame never walks the whole line.
        assert len(view._rows.text[0]) < MAX_LINE_CHARS + 40
        assert "more chars" in view._rows.text[0]
        assert elapsed < 2.0  # generous: quadratic work on 200 KB would take far longer
        # Scrolling sideways moves the text under a fixed C:/S: gutter.
        view.scroll_to(x=10, animate=False, immediate=True)
        await pilot.pause()
        assert view.render_line(0).text.startswith("S: " + "A" * 20)
        assert view.render_line(0).cell_length == width


async def test_ten_thousand_entries_then_scroll_to_end() -> None:
    app = Host()
    async with app.run_test(size=(60, 20)) as pilot:
        view = app.query_one(TranscriptView)
        view.add_entries(reply(i, f"250 ok {i}\r\n") for i in range(10_000))
        await pilot.pause()
        assert view.row_count == 10_000
        # Following: the newest line is on screen.
        assert view.scroll_offset.y == view.max_scroll_y > 0
        assert rows_text(view)[-1] == "S: 250 ok 9999"
        view.focus()
        await pilot.press("home")
        assert view.scroll_offset.y == 0 and view.cursor_row == 0
        await pilot.press("end")
        await pilot.pause()
        assert view.cursor_row == 9_999
        assert view.scroll_offset.y == view.max_scroll_y


async def test_follow_stops_when_the_user_scrolls_up() -> None:
    app = Host()
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(TranscriptView)
        view.add_entries(reply(i, f"250 ok {i}\r\n") for i in range(100))
        await pilot.pause()
        view.scroll_to(y=10, animate=False, immediate=True)
        await pilot.pause()
        view.add_entry(reply(100, "250 new\r\n"))
        await pilot.pause()
        assert view.scroll_offset.y == 10
        view.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        view.add_entry(reply(101, "250 newer\r\n"))
        await pilot.pause()
        assert view.scroll_offset.y == view.max_scroll_y
        assert rows_text(view)[-1] == "S: 250 newer"


async def test_selection_posts_entry_selected_once_per_entry() -> None:
    app = Host()
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(TranscriptView)
        entries = [
            command(0, "EHLO a\r\n"),
            reply(1, "250-mx\r\n250 OK\r\n"),
            reply(2, "550 5.1.1 unknown user\r\n"),
        ]
        view.add_entries(entries)
        view.focus()
        await pilot.pause()
        await pilot.press("home")
        await pilot.press("down")  # onto the reply
        await pilot.press("down")  # its continuation row: same entry, no new message
        await pilot.press("down")
        await pilot.pause()
        assert [m.entry for m in app.selected] == [entries[0], entries[1], entries[2]]
        assert view.selected_entry == entries[2]
        assert app.selected[-1].control is view
        # The cursor row is highlighted by background only; the reply colour is kept.
        style = text_style(view.render_line(3), "550")
        assert style.color == view.get_component_rich_style("transcript--reply-5xx").color
        assert style.bgcolor != text_style(view.render_line(0), "EHLO").bgcolor
        await pilot.press("escape")
        await pilot.pause()
        assert view.selected_entry is None and app.selected[-1].entry is None


async def test_error_replies_are_explained_inline() -> None:
    asked: list[int] = []

    def explain(e: Entry) -> str | None:
        asked.append(e.seq)
        return f"{e.code} 5.1.1 — Bad destination mailbox address (permanent failure)"

    app = Host(explain=explain)
    async with app.run_test(size=(90, 10)) as pilot:
        view = app.query_one(TranscriptView)
        view.add_entries([reply(0, "250 ok\r\n"), reply(1, "550 5.1.1 no such user\r\n")])
        await pilot.pause()
        assert asked == [1]  # only 4xx/5xx are explained inline
        assert rows_text(view)[:3] == [
            "S: 250 ok",
            "S: 550 5.1.1 no such user",
            "   ↳ 550 5.1.1 — Bad destination mailbox address (permanent failure)",
        ]
        view.select_row(2)
        assert view.selected_entry is not None and view.selected_entry.seq == 1


async def test_timestamps_and_latency_toggle() -> None:
    app = Host()
    async with app.run_test(size=(80, 6)) as pilot:
        view = app.query_one(TranscriptView)
        view.add_entries([
            command(0, "NOOP\r\n"),
            reply(1, "250-a\r\n250 b\r\n", latency=0.0123),
        ])
        view.focus()
        await pilot.pause()
        assert rows_text(view)[1] == "S: 250-a"
        await pilot.press("t")
        await pilot.pause()
        stamp = format_timestamp(WALL + 1)
        assert re.fullmatch(r"\d\d:\d\d:\d\d\.250", stamp)
        assert rows_text(view)[1] == f"{stamp} S: 250-a"
        assert rows_text(view)[2] == " " * 13 + " │ 250 b"
        await pilot.press("l")
        await pilot.pause()
        assert rows_text(view)[1] == f"{stamp}    +12ms S: 250-a"
        assert rows_text(view)[0] == f"{format_timestamp(WALL)}          C: NOOP"
        assert view.to_text().splitlines()[1] == f"{stamp}    +12ms S: 250-a"
        await pilot.press("t", "l")
        await pilot.pause()
        assert rows_text(view)[1] == "S: 250-a"


async def test_redacted_entries_have_their_own_style() -> None:
    app = Host()
    async with app.run_test(size=(80, 6)) as pilot:
        view = app.query_one(TranscriptView)
        view.add_entries([
            command(0, "AUTH PLAIN [PLAIN credentials for alice hidden]\r\n", redacted=True),
            command(1, "NOOP\r\n"),
        ])
        await pilot.pause()
        secret = text_style(view.render_line(0), "AUTH")
        assert secret.italic
        assert secret.color == view.get_component_rich_style("transcript--redacted").color
        assert secret != text_style(view.render_line(1), "NOOP")


async def test_lookup_mode_keeps_no_entries() -> None:
    source = {i: command(i, f"NOOP {i}\r\n") for i in range(5)}
    app = Host(lookup=source.get)
    async with app.run_test(size=(60, 8)) as pilot:
        view = app.query_one(TranscriptView)
        view.add_entries(source.values())
        await pilot.pause()
        assert view._entries is None
        view.select_row(3)
        await pilot.pause()
        assert view.selected_entry is source[3]
        assert app.selected[-1].entry is source[3]


async def test_clear_and_click_selects() -> None:
    app = Host()
    async with app.run_test(size=(60, 8)) as pilot:
        view = app.query_one(TranscriptView)
        view.add_entries([command(0, "NOOP\r\n"), reply(1, "250 ok\r\n")])
        await pilot.pause()
        await pilot.click(TranscriptView, offset=(2, 1))
        await pilot.pause()
        assert view.cursor_row == 1 and app.selected[-1].entry is not None
        view.clear()
        await pilot.pause()
        assert view.row_count == 0 and view.to_text() == "" and view.selected_entry is None
        assert rows_text(view)[0] == ""


def test_rows_without_an_app() -> None:
    rows = TranscriptRows()
    rows.add(entry(0, "server", "reply", "250 a\tb\r\n", reply={"code": 250}))
    rows.add(entry(1, "server", "reply", "no code at all"))
    rows.add(entry(2, "local", "error", "connection reset"))
    assert [rows.plain_line(i) for i in range(len(rows))] == [
        "S: 250 a   b",
        "S: no code at all",
        "!! connection reset",
    ]
    assert rows.entry_rows(1) == (1, 2)


def test_lmtp_replies_after_the_data_name_their_recipient() -> None:
    # LMTP servers need not name the recipient in the reply text (this one does not): the
    # row under each reply says whose it is. A recording's value is foreign: shown escaped.
    rows = TranscriptRows()
    rows.add(entry(0, "server", "reply", "250 2.0.0 Ok\r\n",
                   reply={"code": 250, "recipient": "bob@example.test"}))
    rows.add(entry(1, "server", "reply", "250 2.0.0 Ok\r\n",
                   reply={"code": 250, "recipient": "x\x1b[2J@example.test"}))
    rows.add(entry(2, "server", "reply", "250 2.0.0 Ok\r\n", reply={"code": 250}))
    shown = [rows.plain_line(i) for i in range(len(rows))]
    assert shown == [
        "S: 250 2.0.0 Ok",
        "   ↳ for <bob@example.test>",
        "S: 250 2.0.0 Ok",
        "   ↳ for <x\\x1b[2J@example.test>",
        "S: 250 2.0.0 Ok",
    ]
    assert rows.entry_rows(0) == (0, 2)


@pytest.mark.parametrize("ending", ["", "\n", "\r\n"])
def test_line_endings_do_not_add_empty_rows(ending: str) -> None:
    rows = TranscriptRows()
    rows.add(entry(0, "client", "command", "QUIT" + ending))
    assert [rows.plain_line(0)] == ["C: QUIT"] and len(rows) == 1


LONG_TLS_ERROR = (
    "TLS certificate verification failed for 127.0.0.1:2525: self-signed certificate in "
    "certificate chain (unable to get local issuer certificate); use --cafile or --insecure"
)


async def test_notes_warnings_errors_and_tls_rows_wrap_instead_of_clipping() -> None:
    app = Host()
    async with app.run_test(size=(50, 20)) as pilot:
        view = app.query_one(TranscriptView)
        view.add_entries([
            entry(0, "local", "error", LONG_TLS_ERROR + "\n"),
            entry(1, "local", "tls", "TLSv1.3 · certificate verified for mx.example.test "
                  "(issuer Example Root CA, expires 2031-01-01)\n", info={"verified": True}),
            reply(2, "250 " + "x" * 80 + "\r\n"),
        ])
        await pilot.pause()
        shown = rows_text(view)
        words = " ".join(line.strip(" ─!") for line in shown if line and not line.startswith("S:"))
        assert " ".join(LONG_TLS_ERROR.split()) in " ".join(words.split())
        assert "expires 2031-01-01)" in words
        assert all(view.render_line(y).cell_length == view.scrollable_content_region.width
                   for y in range(len(shown)))
        # The protocol line stays one row, with a continuation mark at the edge.
        server = [line for line in shown if line.startswith("S:")]
        assert len(server) == 1 and server[0].endswith("…")
        # Wrapping takes no horizontal room: only the long reply widens the content.
        assert view.virtual_size.width == 3 + 84
        # Selecting by keys walks rows, not display lines.
        view.focus()
        await pilot.press("home", "down")
        assert view.selected_entry is not None and view.selected_entry.kind == "tls"
        # Enter on the long protocol line shows it whole; Escape comes back.
        from smtpscope.tui.screens.line_viewer import LineViewer

        await pilot.press("down", "enter")
        assert isinstance(app.screen, LineViewer)
        whole = str(app.screen.query_one("#line-viewer-text").render())
        assert "x" * 80 in whole.replace("\n", "")
        await pilot.press("escape")
        assert not isinstance(app.screen, LineViewer)
        # A narrower pane wraps again; the last row is still reachable at the end.
        await pilot.resize_terminal(36, 20)
        await pilot.pause()
        narrow = rows_text(view)
        assert len([line for line in narrow if line]) > len([line for line in shown if line])
        assert "expires" in "".join(narrow)


EXPLAINED = "454 4.7.0 — Other or undefined security status (persistent transient failure)"


@pytest.mark.parametrize(("before", "after"), [(57, 50), (71, 55), (78, 65), (50, 71)])
async def test_a_wrapped_row_is_split_again_for_a_new_width(before: int, after: int) -> None:
    # What the screen shows (the lines the widget hands over), not what it would render anew:
    # a line split for the old width must not stay painted, clipped, above its repeated end.
    app = Host(explain=lambda _entry: EXPLAINED)
    async with app.run_test(size=(before, 12)) as pilot:
        view = app.query_one(TranscriptView)
        view.add_entries([command(0, "STARTTLS\r\n"), reply(1, "454 4.7.0 TLS not available\r\n")])
        await pilot.pause()
        await pilot.resize_terminal(after, 12)
        await pilot.pause()
        region = view.content_region.reset_offset
        shown = [strip.text.rstrip() for strip in view.render_lines(region)]
        explained = [line for line in shown[2:] if line.strip()]
        assert " ".join(line.strip() for line in explained) == "↳ " + EXPLAINED
        room = view.scrollable_content_region.width
        assert all(cell_len(line.rstrip()) < room for line in explained)


async def test_a_row_painted_before_its_batch_is_published_wraps_all_the_same() -> None:
    # Entries come one by one (add_entry) and are published once per batch; a paint may come
    # in between (the composer's queue changed height). A wrapped row painted then must be
    # split, or its strip stays cached cut at the edge, and the next row shows twice.
    app = Host(explain=lambda _entry: EXPLAINED)
    async with app.run_test(size=(60, 12)) as pilot:
        view = app.query_one(TranscriptView)
        view.add_entries([command(0, "NOOP\r\n")])
        await pilot.pause()
        view.add_entry(reply(1, "421 4.7.0 closing\r\n"))
        view.add_entry(entry(2, "local", "note", "Connection closed (server said 421)\n"))
        early = rows_text(view)  # painted now, ahead of the batch's publication
        await pilot.pause()
        region = view.content_region.reset_offset
        shown = [strip.text.rstrip() for strip in view.render_lines(region)]
        assert shown == early
        assert [line for line in shown if line.strip()] == [
            "C: NOOP", "S: 421 4.7.0 closing",
            "   ↳ 454 4.7.0 — Other or undefined security status",
            "   (persistent transient failure)", "-- Connection closed (server said 421)"]


def test_wrap_map_locates_rows_and_lines() -> None:
    from smtpscope.tui.widgets.transcript_wrap import WrapMap, wrap_starts

    assert wrap_starts("short", 20) == [0]
    assert wrap_starts("aaaa bbbb cccc dddd", 10) == [0, 10]
    assert wrap_starts("界" * 10, 8) == [0, 4, 8]
    rows = TranscriptRows()
    rows.add(command(0, "NOOP\r\n"))
    rows.add(entry(1, "local", "note", "word " * 10 + "\n"))  # 50 chars: 3 lines of 20
    rows.add(reply(2, "250 ok\r\n"))
    wrap = WrapMap()
    wrap.reset(20)
    wrap.extend(rows)
    assert wrap.display_count(len(rows)) == 5
    assert [wrap.locate(d) for d in range(5)] == [(0, 0), (1, 0), (1, 1), (1, 2), (2, 0)]
    assert [wrap.display_of(r) for r in range(3)] == [0, 1, 4]
    assert wrap.line(rows, 1, 1) == "word word word word"


async def test_new_lines_marker_counts_and_a_click_on_it_follows_again() -> None:
    app = Host()
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(TranscriptView)
        view.add_entries(reply(i, f"250 ok {i}\r\n") for i in range(100))
        await pilot.pause()
        view.scroll_to(y=10, animate=False, immediate=True)
        await pilot.pause()
        assert not view.follow
        view.add_entries([reply(100, "250 a\r\n"), reply(101, "250 b\r\n")])
        await pilot.pause()
        height = view.scrollable_content_region.height
        assert view.unseen == 2 and "2 new lines (End)" in rows_text(view)[height - 1]
        await pilot.click(TranscriptView, offset=(3, height - 1))
        await pilot.pause()
        assert view.follow and view.unseen == 0 and view.cursor_row == -1
        assert rows_text(view)[-1] == "S: 250 b"
