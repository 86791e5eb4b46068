"""Server text is data: nothing a terminal would act on survives ``visible``."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from smtpscope.sanitize import escape_markup, visible, visible_bytes


def test_escape_sequences_become_visible():
    assert visible("\x1b[31mred\x1b[0m") == "\\x1b[31mred\\x1b[0m"
    assert visible("\x1b]52;c;aGk=\x07") == "\\x1b]52;c;aGk=\\x07"
    assert visible("a\x00b\x9bc") == "a\\x00b\\x9bc"
    assert visible("bidi \u202e reversed") == "bidi \\u202e reversed"


def test_backslash_is_escaped_so_fakes_are_distinguishable():
    assert visible("\\x1b") == "\\\\x1b"
    assert visible("\x1b") != visible("\\x1b")


def test_tab_and_printable_text_untouched():
    assert visible("250 OK\tready 안녕") == "250 OK\tready 안녕"


def test_invalid_utf8_bytes_are_shown_as_hex():
    assert visible_bytes(b"ok \xff\xfe \\xff") == "ok \\xff\\xfe \\\\xff"


def test_markup_escaping():
    assert escape_markup("[bold]x[/]") == "\\[bold]x\\[/]"


@given(st.text())
def test_no_control_character_survives(text):
    out = visible(text)
    assert not re.search("[\x00-\x08\x0a-\x1f\x7f-\x9f]", out)


def test_own_notes_show_backslashes_once_and_server_text_keeps_its_escapes() -> None:
    # A note is smtpscope's words (here the raw-mode line as the user typed its escapes); a
    # server line is foreign. Both lose every control character; only the server's backslash
    # is doubled, so "\x1b" typed by a server cannot pass for an escaped byte.
    from smtpscope.cli.common import format_entry
    from smtpscope.record.export import entry_lines
    from smtpscope.record.transcript import Entry
    from smtpscope.tui.widgets.transcript_text import display

    note = "raw: NOOP\\r\\nRSET\\r\\n \x1b[2J"
    at = {"mono": 0.0, "wall": 0.0}
    client = Entry(seq=1, **at, direction="client", kind="command",
                   raw=b"NOOP\r\nRSET\r\n", notes=(note,))
    assert format_entry(client).split("\n")[-1] == "!! raw: NOOP\\r\\nRSET\\r\\n \\x1b[2J"
    assert display(note, own=True) == "raw: NOOP\\r\\nRSET\\r\\n \\x1b[2J"
    local = Entry(seq=2, **at, direction="local", kind="error", raw=b'bad line "\\x00" \x07')
    assert entry_lines(local) == ['bad line "\\x00" \\x07']
    server = Entry(seq=3, **at, direction="server", kind="reply", raw=b"550 C:\\x1b\x1b\r\n")
    assert entry_lines(server) == ["550 C:\\\\x1b\\x1b"]
    assert display("550 C:\\x1b\x1b") == "550 C:\\\\x1b\\x1b"
