"""Entry text made safe and bounded for the transcript's rows: each line through the sanitizer,
tabs expanded, over-long lines cut."""

from __future__ import annotations

from smtpscope.sanitize import visible, visible_lines

# A line longer than this is cut when it is added, so that painting a frame never walks a
# 100 KB line: the rest is summarised as "… (N more chars)". Horizontal scrolling still reaches
# everything that is kept.
MAX_LINE_CHARS = 2000
TAB_SIZE = 4


def display(line: str, own: bool = False) -> str:
    """Make one line safe and bounded for display: controls escaped, tabs expanded, cut.

    ``own``: smtpscope's own words (a note, a warning, a local entry), whose foreign parts were
    escaped where the text was made; its backslashes are not escaped a second time.
    """
    extra = len(line) - MAX_LINE_CHARS
    if extra > 0:
        return (visible(line[:MAX_LINE_CHARS], keep_backslashes=own).expandtabs(TAB_SIZE)
                + f" … ({extra:,} more chars)")
    shown = visible(line, keep_backslashes=own)
    return shown.expandtabs(TAB_SIZE) if "\t" in shown else shown


def body_end(text: str) -> int:
    """Index where the text ends without its final line ending (one CRLF or LF)."""
    end = len(text)
    if text.endswith("\n", 0, end):
        end -= 1
    if text.endswith("\r", 0, end):
        end -= 1
    return end


def lines_of(text: str, end: int, limit: int | None = None) -> list[str]:
    """Split text[:end] on LF (dropping one CR before it); at most ``limit`` lines."""
    out: list[str] = []
    pos = 0
    find = text.find
    while limit is None or len(out) < limit:
        j = find("\n", pos, end)
        line = text[pos:end] if j < 0 else text[pos:j]
        out.append(line[:-1] if line.endswith("\r") else line)
        if j < 0:
            break
        pos = j + 1
    return out


def display_block(text: str, end: int) -> str:
    """``display()`` of each line of ``lines_of(text, end)``, LF-joined, in one pass: for lines
    no longer than MAX_LINE_CHARS (nothing to cut). One CR goes before each LF and at the
    end, as ``lines_of`` drops it; tabs expand per line, since columns restart at each LF."""
    body = text[:end]
    if "\r" in body:
        body = body.replace("\r\n", "\n")
        if body.endswith("\r"):
            body = body[:-1]
    body = visible_lines(body)
    return body.expandtabs(TAB_SIZE) if "\t" in body else body
