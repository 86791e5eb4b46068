"""Make untrusted text (server replies, recorded bytes) safe to show on a terminal.

Server text is data, never instructions: every control character that a terminal would act on
(C0 controls, DEL, C1 controls, and so ESC/CSI/OSC sequences) is shown as a visible escape such
as ``\\x1b``. Rich markup is a separate concern: views must put this text into ``rich.text.Text``
objects (never format it into markup strings), and :func:`escape_markup` exists for the rare place
that has to build a markup string.

The surfaces and the function each uses (``tests/test_surfaces.py`` walks one hostile string
through all of them, ``tests/test_sanitize_lint.py`` fails on a new unguarded call):

- transcript, notes, inspector, status bar, helper, decoder, dialogs: :func:`visible` inside a
  ``rich.text.Text`` (:func:`safe_text`);
- toasts and notifications: :func:`notify` (escaped, ``markup=False``);
- CLI stdout and stderr: :func:`visible` on each foreign value, :func:`terminal_safe` on
  whole lines at the point they are printed (replay formats, export notes, error lines);
- shell command lines (``export``): :func:`shell_quote`, quoted for the shell and control-free;
- editable fields (the composer, the message editor, dialog inputs) holding pasted control
  characters: :func:`pictured`, one visible character for each, the value left as it is.

Server text reaches them as ``Reply.shown_lines`` / ``Entry.shown_text`` (never ``text_lines``,
whose U+FFFD hides the bytes): an undecodable byte rides along as a surrogate and is shown as
``\\xe9``, the byte the server sent.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from smtpscope.protocol.errors import UNSAFE_CHARS, escape_char, shown_text

if TYPE_CHECKING:
    from rich.text import Text

# C0 (except TAB), DEL, C1, the Unicode line/paragraph separators and bidi overrides that can
# reorder or hide text, undecodable bytes, and the backslash (so a server that sends the four
# characters "\x1b" cannot pass them off as an escaped ESC byte). The rule lives beside the
# engine's own quoting of server bytes, so there is one.
_UNSAFE = UNSAFE_CHARS
_escape_char = escape_char

# The patterns below are compiled by ``re`` on first use (and kept in its cache): most runs
# print a few lines, or none, through them.
_UNSAFE_KEEP_BACKSLASH = _UNSAFE.pattern.replace("\\\\", "", 1)


_LONG = 256  # characters: a text longer than this takes the ASCII path of _plain if it can
_PRINTABLE_ASCII = bytes(range(0x20, 0x7F))


def _plain(text: str, kept: str, backslashes: bool) -> bool:
    """Whether no character of ``text`` needs an escape, told without a pattern: each pattern
    here escapes only unprintable characters and the backslash, so a text whose characters
    are printable (``kept``'s aside) and hold no backslash (unless ``backslashes``) is shown
    as it is. False means only that the pattern must look. A message body of 8 MB is told
    so in milliseconds, where a pattern takes a third of a second."""
    if len(text) > _LONG and text.isascii():
        # In ASCII only C0 and DEL are unprintable: nothing may be left once the printable
        # bytes and ``kept`` are taken away (in C, at a few times the speed of isprintable).
        if text.encode("ascii").translate(None, _PRINTABLE_ASCII + kept.encode("ascii")):
            return False
        return backslashes or "\\" not in text
    for char in kept:
        if char in text:
            text = text.replace(char, "")
    return text.isprintable() and (backslashes or "\\" not in text)


def shown_as_is(text: str) -> bool:
    """Whether :func:`visible` returns ``text`` unchanged, with no tab to expand either: told
    without a pattern, for a caller that lays out many lines and skips their processing."""
    return _plain(text, "", False)


def visible(text: str, *, keep_backslashes: bool = False) -> str:
    """Return ``text`` with terminal-active characters replaced by visible escapes.

    ``keep_backslashes`` is for text that smtpscope itself already escaped (decoded SASL
    values, for example): control characters are still escaped, backslashes are left alone.
    """
    if _plain(text, "\t", keep_backslashes):
        return text
    if keep_backslashes:
        return re.sub(_UNSAFE_KEEP_BACKSLASH, _escape_char, text)
    return _UNSAFE.sub(_escape_char, text)


# visible() with LF left alone: the same rule for every other character, so a text's lines
# joined by LF come out as each line would through visible(), still LF-joined.
_UNSAFE_BUT_LF = _UNSAFE.pattern.replace("\n-", "\x0b-", 1)
_UNSAFE_BUT_LF_KEEP_BACKSLASH = _UNSAFE_KEEP_BACKSLASH.replace("\n-", "\x0b-", 1)
_BUT_LF_COMPILED: dict[bool, re.Pattern[str]] = {}


def visible_lines(text: str, *, keep_backslashes: bool = False) -> str:
    """:func:`visible` of each LF-separated line of ``text`` at once, the LFs kept.

    ``visible_lines("\\n".join(lines)).split("\\n")`` is ``[visible(line) for line in lines]``:
    for laying out many lines without one call per line.
    """
    if _plain(text, "\t\n", keep_backslashes):
        return text
    pattern = _BUT_LF_COMPILED.get(keep_backslashes)
    if pattern is None:  # compiled on first use, then without re's cache look-up per call
        pattern = _BUT_LF_COMPILED[keep_backslashes] = re.compile(
            _UNSAFE_BUT_LF_KEEP_BACKSLASH if keep_backslashes else _UNSAFE_BUT_LF)
    return pattern.sub(_escape_char, text)


# What an editable field (the composer, the message editor, a dialog's input) shows in place of
# a character a terminal would act on, pasted into it: one character for one, so the cursor and
# the selection stay on the text (the field's value keeps the real one). C0 controls and DEL
# show as their Unicode Control Pictures (ESC as U+241B), any other (C1, separators, bidi
# overrides, undecodable bytes) as U+FFFD. TAB is the field's to expand. Which characters: the
# one rule, less the backslash (typed, it is only itself).
FIELD_PICTURES = "[\u2400-\u2421\ufffd]"  # what pictured() shows them as (a pattern)


def _picture(found: re.Match[str]) -> str:
    code = ord(found[0])
    if code < 0x20:
        return chr(0x2400 + code)
    return "\u2421" if code == 0x7F else "\ufffd"


def pictured(text: str) -> str:
    """``text`` with each character a terminal would act on shown as one visible character:
    for an editable field, whose value keeps the real one (``text`` itself when it has none)."""
    if _plain(text, "\t", True):
        return text
    return re.sub(_UNSAFE_KEEP_BACKSLASH, _picture, text)


def quoted(text: str) -> str:
    """``'text'`` escaped by :func:`visible`, for a message that quotes foreign text: escaped
    once where it is made, the message is shown with :func:`terminal_safe`, which leaves those
    escapes alone (``repr`` escaped it by other rules, and views escaped that again)."""
    return f"'{visible(text)}'"


def visible_bytes(data: bytes) -> str:
    """Decode ``data`` as UTF-8 (invalid bytes as ``\\xNN``) and make the result visible."""
    return visible(shown_text(data))


def escape_markup(text: str) -> str:
    """Escape Rich markup in ``text`` (square brackets) for use inside a markup string."""
    return text.replace("\\", "\\\\").replace("[", "\\[")


# What terminal_safe escapes: like visible() but LF and TAB stay (line structure is ours) and
# backslashes stay (the text may already hold escapes made by visible()).
_UNSAFE_LINES = "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\udc80-\udcff]"


def terminal_safe(text: str) -> str:
    """Escape what a terminal would act on, keeping newlines and tabs; safe to apply twice.

    For whole lines about to be printed (a report, a transcript export): foreign values inside
    should already have been through :func:`visible`; this is the last guard at the boundary.
    """
    if _plain(text, "\t\n", True):
        return text
    return re.sub(_UNSAFE_LINES, _escape_char, text)


def safe_text(text: str, style: str = "") -> Text:
    """A Rich ``Text`` (never markup) holding ``text`` with control characters escaped."""
    from rich.text import Text

    return Text(visible(text), style=style)


def notify(target: Any, message: str, *, title: str = "", severity: str = "information",
           timeout: float | None = None) -> None:
    """``target.notify`` (an App, Screen or Widget) with the text escaped and markup off.

    A notification shows exception texts that quote server replies: as markup, ``[/]`` in a
    banner crashed the app and ``[@click=app.quit]`` made a working button.
    """
    target.notify(terminal_safe(message), title=visible(title), severity=severity,
                  timeout=timeout, markup=False)


_C_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _ansi_c_quote(arg: str) -> str:
    out = []
    for ch in arg:
        code = ord(ch)
        if ch in "\\'":
            out.append("\\" + ch)
        elif ch in _C_ESCAPES:
            out.append(_C_ESCAPES[ch])
        elif 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif re.match(_UNSAFE_KEEP_BACKSLASH, ch):
            # The character's UTF-8 bytes one by one: bash turns \u0085 into them only in a
            # UTF-8 locale (in the C locale it stays six characters), and \x85 alone is one byte.
            out.append("".join(f"\\x{byte:02x}" for byte in ch.encode("utf-8")))
        else:
            out.append(ch)
    return "$'" + "".join(out) + "'"


def shell_quote(arg: str) -> str:
    """Quote ``arg`` for a POSIX shell; with control characters, bash's ``$'...'`` form.

    ``shlex.quote`` keeps an ESC inside single quotes, so printing the command line would send
    it to the terminal; ``$'\\x1b'`` gives the shell the same byte and the screen only text.
    """
    if re.search(_UNSAFE_KEEP_BACKSLASH, arg) or "\t" in arg:
        return _ansi_c_quote(arg)
    import shlex  # export's command lines only

    return shlex.quote(arg)


def shell_join(argv: list[str]) -> str:
    """:func:`shell_quote` each argument and join them with spaces."""
    return " ".join(shell_quote(arg) for arg in argv)
