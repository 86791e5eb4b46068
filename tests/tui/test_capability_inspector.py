"""The capability inspector in a narrow side pane: wrapped parts stay indented under their own
line, so a continuation never reads as another keyword."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.geometry import Region

from smtpscope.tui.widgets.capabilities import CapabilityInspector
from tests.tui.test_data_editor import caps

WIDTH = 36  # the side pane's narrowest (its min-width in app.tcss is 34, plus room)


class Host(App[None]):
    CSS = f"CapabilityInspector {{ width: {WIDTH}; }}"

    def compose(self) -> ComposeResult:
        yield CapabilityInspector()


def painted(widget: CapabilityInspector) -> list[str]:
    size = widget.size
    return [strip.text.rstrip() for strip in
            widget.render_lines(Region(0, 0, size.width, size.height))]


async def test_wrapped_mechanisms_and_meanings_hang_under_their_line() -> None:
    app = Host()
    async with app.run_test(size=(80, 40)) as pilot:
        inspector = app.query_one(CapabilityInspector)
        inspector.previous = caps(b"PIPELINING", b"STARTTLS")
        inspector.capabilities = caps(
            b"PIPELINING", b"AUTH PLAIN LOGIN CRAM-MD5 DIGEST-MD5 SCRAM-SHA-1 SCRAM-SHA-256")
        inspector.stage = "after STARTTLS"
        await pilot.pause()
        lines = painted(inspector)
        assert lines[:2] == [" EHLO capabilities  (after", " STARTTLS)"]
        legend = next(i for i, line in enumerate(lines) if "+ appeared" in line)
        body = lines[3:legend]  # between "server: ..." and the legend
        # A keyword line has its mark in column 1 and the keyword from column 3; all else
        # (a wrapped mechanism list, a meaning and its wrapped part) hangs deeper.
        starts = [(line[:3], line[3:].split()[0]) for line in body if not line.startswith(" " * 4)]
        assert starts == [("   ", "PIPELINING"), (" + ", "AUTH"), (" - ", "STARTTLS")]
        auth = body.index(" + AUTH PLAIN LOGIN CRAM-MD5")
        assert body[auth + 1:auth + 3] == [" " * 8 + "DIGEST-MD5 SCRAM-SHA-1",
                                           " " * 8 + "SCRAM-SHA-256"]
        assert " " * 5 + "MAIL/RCPT/DATA in a batch) ·" in body


async def test_size_reads_as_the_message_editor_says_it() -> None:
    """One way to write sizes: the editor's "of 2 KB allowed" and the inspector agree."""
    from smtpscope.message import format_size

    app = Host()
    async with app.run_test(size=(80, 40)) as pilot:
        inspector = app.query_one(CapabilityInspector)
        inspector.capabilities = caps(b"SIZE 2000")
        await pilot.pause()
        assert f"   SIZE 2000 ({format_size(2000)})" in painted(inspector)
