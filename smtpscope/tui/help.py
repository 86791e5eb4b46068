"""Per-widget help as data: F1 shows the entry for the focused widget."""

from __future__ import annotations

HELP: dict[str, str] = {
    "composer": """\
# Composer
Type any SMTP command and press **Enter**: it is sent with CRLF.

- `ehlo client.example`, `mail from:<a@example.test> size=1000`, `rcpt to:<b@example.test>`,
  `data`, `rset`, `noop`, `quit`. Verbs are case-insensitive; missing angle brackets are added.
- **Up/Down** recall earlier lines (kept per target). **Tab/Right** accepts a completion taken
  from what the server advertised.
- A command that is not advertised, or not valid now, is held with a warning: press **Enter**
  again to send it anyway, marked off-script.
- **Ctrl+R** toggles raw mode: exact bytes, with `\\r`, `\\n`, `\\x00` escapes and no CRLF added.
- During AUTH, a line you type is sent as the base64 response; `*` cancels. **Ctrl+G**
  base64-encodes what you typed (`\\0` for NUL). A blob with a classic mistake (`\\0` typed
  literally, a trailing newline, a missing NUL) is held: **Ctrl+G** takes the corrected blob,
  **Enter** sends yours as typed. The line is masked while it answers a 334 (the user name
  too); **Ctrl+L** shows it in clear until the exchange ends, on screen only.
- **Tab** with nothing to complete stays here; **Esc** moves to the transcript.
- Type ahead freely: lines typed before a reply wait in the queue above the input and go as
  soon as the server may take them (at once in a PIPELINING group). **Ctrl+Z** takes back the
  newest into the input when it is empty; a blocked line (`⛔`) goes anyway with
  **Ctrl+O** on an empty input (**Ctrl+Enter** too, where the terminal tells it from Enter).
- Paste several lines and each becomes one command, in order (message lines after `DATA`).
- After `354` to `DATA`: data mode. Each Enter sends the line as typed, empty lines too; `.`
  alone ends the message (after a whole line: verbatim content or an end-of-data variant
  that stopped mid-line leaves the message open until `<CRLF>.<CRLF>`, and the hint says
  so); **Tab** types a tab; **Ctrl+N** opens the editor with the envelope sent. A line
  with a leading dot, over 1000 octets, or with non-ASCII (8-bit) text the `MAIL FROM` did
  not declare (`BODY=8BITMIME` or `SMTPUTF8`) is warned about, then sent as
  typed.
""",
    "transcript": """\
# Transcript
Every line on the wire. `C:` is what smtpscope sent, `S:` what the server answered, `--`
smtpscope's own notes, `!!` warnings. `C!` marks off-script sends.

- Colours follow the reply class: 2xx green, 3xx blue, 4xx yellow, 5xx red.
- **Esc** moves here from the composer (and back); **Up/Down** select a line; the
  explanation of a selected reply, and the whole of a line too wide for the pane, appear below.
  **Enter** opens a line marked `…` (wider than the pane) whole.
- The pane follows new output unless you scroll up or pick a line; `↓ N new lines (End)` counts
  what arrived. **End** (or going back to the composer) follows again.
- Notes, warnings and the TLS line wrap; protocol lines stay one row each, as on the wire.
- Server text is shown with control characters escaped (e.g. `\\x1b`), never interpreted.
- Lines that carried credentials are shown masked; recordings hold only the mask.
""",
    "capabilities": """\
# Capability inspector
The keywords from the last EHLO reply, with their parameters, meaning and RFC.
After STARTTLS (or AUTH) and a new EHLO, `+` marks what appeared, `-` what disappeared,
`~` what changed. AUTH mechanisms in green can be walked through with the auth helper.
""",
    "connect": """\
# Connect
Targets: `host`, `host:port`, `[2001:db8::1]:2525`, `smtp://host` (25), `smtps://host` (465,
implicit TLS), `submission://host` (587, STARTTLS), `lmtp://host` (24), `unix:/path` or
`lmtp:/path` (a UNIX socket), `user@domain` or `@domain` (route by MX).
**Timeout**: seconds each reply may take (as `--timeout`); empty: RFC 5321's limits, 2 to
10 minutes by command. The reply to a message waits 10 minutes, or Timeout when longer: a
server may filter it first. TLS certificates are verified by default; switching verification
off is recorded and shown. **Tab** moves between the fields, **Enter** connects.
Command-line flags no field shows (TLS level, pins, `--resolver`...) apply too: the line
above Connect names them.
""",
    "data-dialog": """\
# Message editor
Headers, an empty line, the body, written as you want them read. **Ctrl+S** sends,
**Esc** closes and keeps the text as a draft for the next **Ctrl+N**.

- From, To, Cc and Bcc name the envelope (MAIL FROM, RCPT TO); Bcc is never sent. With a
  transaction open the message goes on in it when they match, else after RSET.
- On send the email package encodes it: RFC 2047 or SMTPUTF8 headers, an 8bit, QP or base64
  body, CRLF line ends. The status line says which and the size against SIZE. After a `354`
  only what the MAIL FROM sent declared (BODY=8BITMIME, SMTPUTF8) is used.
- Dot-stuffing is done for you: a body line `.x` goes on the wire as `..x` and is stored as
  `.x`; the transcript shows the wire bytes. **use BDAT** (with CHUNKING) sends it unstuffed.
- **verbatim** sends the text's UTF-8 bytes exactly: LF line ends, no encoding, no
  dot-stuffing, no terminator added. Text that does not end with `<CRLF>.<CRLF>` (typed text
  never does: its line ends are LF) is said so in the status line, and **Ctrl+S** asks: back
  to editing (Enter), add the missing end and send, or send as is. As is, the message stays
  open: the composer sends each line as more of it and `.` alone ends it; a reply before that
  is marked as the server taking another end of data (SMTP smuggling).
- **Tab** moves to the options; paste a tab character if the body needs one.
""",
    "auth-dialog": """\
# Auth helper
Pick a mechanism (advertised ones first), enter the user and password (or token), choose
**Step** or **Auto** and whether to send an initial response, then **Ctrl+S**.

- Step mode shows each 334 challenge decoded, the values computed from it and the proposed
  line. **Ctrl+S** sends it; edit the line first to send something else; **F8** cancels (`*`).
- Secret lines, password-derived values and the password (or token) rows are masked on
  screen; **Ctrl+R** reveals all of them on screen only. Recordings and exports always hold
  the mask.
- **Ctrl+O** opens the decoder on the last challenge; **Esc** closes the helper.
""",
}

DEFAULT_HELP = """\
# smtpscope
**F1** help for the focused pane · **Ctrl+P** all commands · **F2** EHLO ·
**F3** (EHLO,) STARTTLS, EHLO · **F4** auth helper · **Ctrl+N** new message ·
**F5** reconnect (TLS mode, CA file, verification) ·
**F6** RSET · **F7** NOOP · **F8** QUIT · **F9** history · **F10** timestamps ·
**F12** AUTH decoder ·
**Ctrl+T** side panel · **Ctrl+S** where the recording is · **Ctrl+Y** copy the transcript ·
**Ctrl+Q** quit smtpscope.
"""


def help_for(widget_id: str | None) -> str:
    """Help text for a widget id, or the general help."""
    return HELP.get(widget_id or "", DEFAULT_HELP)
