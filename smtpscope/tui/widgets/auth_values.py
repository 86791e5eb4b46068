"""Building blocks of the AUTH helper that do no I/O: choices, typed lines, the step view."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.reactive import reactive
from textual.widgets import Static

from smtpscope import auth as _auth
from smtpscope.auth import HIDDEN, MECHANISMS, Step, b64, show_bytes
from smtpscope.conversation.auth import STEP_LIMIT
from smtpscope.protocol import Reply, explain
from smtpscope.sanitize import visible

# Shown instead of a password-equivalent value until the user reveals it.
MASKED = f"{HIDDEN} (Ctrl+R reveals)"

# Values of a secret-bearing step that are safe to show come from each mechanism's
# ``public_labels`` (an allow-list, so a value added later is hidden by default).
PUBLIC_LABELS = _auth.PUBLIC_LABELS

# What to do next after the final reply to AUTH, by reply code; the catalogue says what the
# code means in general, this says what it means for the exchange that just ended.
AUTH_ADVICE: dict[int, str] = {
    235: "Authenticated. MAIL FROM now runs as this user.",
    334: "The server sent another challenge.",
    432: "A password transition is needed: log in once through the provider's own client.",
    454: "Temporary failure on the server side (auth backend down, or TLS needed first): "
         "retry later; do not change the password.",
    500: "The server does not understand AUTH here (not advertised, or the line was too long).",
    501: "The exchange was cancelled ('*') or a line was not valid base64.",
    503: "AUTH is not allowed now: already authenticated, no EHLO yet, or inside a transaction.",
    504: "The server does not implement this mechanism: pick one it advertises.",
    530: "Authentication is required (often: STARTTLS first).",
    534: "The mechanism is too weak for this server's policy: pick a stronger one.",
    535: "Wrong user name or password, or the account may not use this mechanism. The server "
         "does not say which, on purpose.",
    538: "This mechanism needs an encrypted connection: STARTTLS first, then EHLO again.",
}


def is_binary(data: bytes) -> bool:
    """True when ``data`` does not read as text: invalid UTF-8 or control bytes in it."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return any((ord(c) < 0x20 and c not in "\t\r\n") or ord(c) == 0x7F for c in text)


def hex_dump(data: bytes, limit: int = 256) -> str:
    """Space-separated hex of ``data``, cut at ``limit`` bytes."""
    more = f" … (+{len(data) - limit} bytes)" if len(data) > limit else ""
    return data[:limit].hex(" ") + more


def value_is_public(label: str, step_secret: bool) -> bool:
    """May this computed value be shown without the reveal toggle?"""
    return not step_secret or label in PUBLIC_LABELS or label.startswith("directive ")


# Preferred default, strongest first, among what the server advertises.
PREFERENCE = _auth.preferred()
TOKEN_MECHANISMS = _auth.TOKEN_MECHANISMS
# A hostile or broken server can send 334 forever; Auto mode stops and hands over after this.
AUTO_STEP_LIMIT = STEP_LIMIT

MODES = (("Step: confirm each line", "step"), ("Auto: whole exchange", "auto"))
IR_CHOICES = (
    ("initial response on the AUTH line", "ir"),
    ("no initial response (wait for 334)", "none"),
    ("empty initial response (=)", "empty"),
)


def mechanism_options(advertised: tuple[str, ...]) -> list[tuple[str, str]]:
    """Select options: advertised supported mechanisms first, then the others, labelled."""
    offered = [m for m in advertised if m in MECHANISMS]
    others = [m for m in MECHANISMS if m not in offered]
    return [(f"{m}  (advertised)", m) for m in offered] + \
        [(f"{m}  (not advertised)", m) for m in others]


def default_mechanism(advertised: tuple[str, ...]) -> str:
    """The strongest advertised mechanism we support (SCRAM-SHA-256 when nothing is known)."""
    for name in PREFERENCE:
        if name in advertised:
            return name
    return "SCRAM-SHA-256"


def parse_response_line(line: str) -> bytes | None:
    """The bytes a typed base64 line stands for, or None when it is not exactly base64.

    Only a line that re-encodes to itself counts (the strict base64 policy): anything else
    (missing padding, spaces, stray characters) is sent byte for byte as typed, off-script.
    """
    try:
        return b64.decode_strict(line, canonical=True)
    except ValueError:
        return None


def render_plain(renderable: RenderableType, width: int = 200) -> str:
    """A Rich renderable as the plain text a terminal would show (for tests and copying)."""
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


@dataclass
class StepInfo:
    """Everything one block of the exchange panel shows."""

    title: str
    reply: Reply | None = None  # the 334 challenge or the final reply
    challenge: bytes | None = None  # the decoded challenge
    challenge_error: str | None = None  # why the 334 text did not decode
    challenge_kind: str | None = None  # what decode_blob recognised
    step: Step | None = None  # what the mechanism computed
    proposed: str | None = None  # the line we propose to send
    proposed_prefix: str = ""  # "AUTH MECH " for the first step
    sent: str | None = None  # what the transcript recorded (masked when secret)
    sent_real: str | None = None  # the real line, for the reveal toggle
    notes: list[str] = field(default_factory=list)
    final: bool = False


class StepsPanel(VerticalScroll):
    """The exchange panel: follows the newest step to its last line until scrolled up.

    A deferred ``scroll_end`` reads the height the panel had at the next refresh, which in Auto
    mode can be before the steps mounted meanwhile are laid out; following every change of the
    panel's virtual size cannot miss one.
    """

    following = True

    def follow(self) -> None:
        """A new step: show its end, now and as it grows."""
        self.following = True
        self.call_after_refresh(self._to_end)

    def watch_virtual_size(self) -> None:
        if self.following:
            self.call_after_refresh(self._to_end)

    def _to_end(self) -> None:
        if self.following:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)

    def on_mouse_scroll_up(self) -> None:
        self.following = False  # the user reads back: stay there until the next step


class StepView(Static):
    """One block of the exchange: the server's words, the computation, the client line."""

    DEFAULT_CSS = """
    StepView { height: auto; margin-bottom: 1; padding: 0 1; border-left: wide $primary; }
    StepView.-final { border-left: wide $success; }
    StepView.-failed { border-left: wide $error; }
    """

    reveal: reactive[bool] = reactive(False)

    def __init__(self, info: StepInfo, *, reveal: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.info = info
        self.set_reactive(StepView.reveal, reveal)
        if info.final and info.reply is not None:
            self.add_class("-final" if info.reply.is_success else "-failed")
        # Its text from the start: laid out at its full height when it first appears, so the
        # panel scrolling to its end sees all of it.
        self.update(self.content_renderable())

    def refresh_info(self) -> None:
        """Re-render after :attr:`info` changed."""
        self.update(self.content_renderable())

    def watch_reveal(self) -> None:
        if self.is_mounted:
            self.update(self.content_renderable())

    def content_renderable(self) -> RenderableType:
        info = self.info
        parts: list[RenderableType] = [Text(info.title, style="bold")]
        if info.reply is not None:
            parts.append(_reply_text(info.reply))
        if info.challenge_error is not None:
            parts.append(Text(f"  not base64: {info.challenge_error}", style="bold red"))
        elif info.challenge is not None and not info.final:
            parts.extend(_challenge_lines(info.challenge, info.challenge_kind))
        if info.final and info.reply is not None:
            parts.extend(_final_lines(info.reply))
        step = info.step
        if step is not None:
            table = self._values_table(step)
            if table is not None:
                parts.append(table)
            if step.explanation:
                parts.append(Text(visible(step.explanation), style="italic"))
            for warning in step.warnings:
                parts.append(Text(f"⚠ {visible(warning)}", style="bold yellow"))
        for note in info.notes:
            parts.append(Text(f"• {visible(note)}", style="yellow"))
        client = self._client_line()
        if client is not None:
            parts.append(client)
        return Group(*parts)

    def _values_table(self, step: Step) -> Table | None:
        if not step.values:
            return None
        table = Table(box=None, show_header=False, padding=(0, 1), expand=False)
        table.add_column("label", style="cyan", no_wrap=True)
        table.add_column("value", overflow="fold")
        clear = dict(step.revealed) if self.reveal else {}
        for label, value in step.values:
            # Revealed: every masked value in clear, the ones the mechanism wrote as •••• too.
            shown = clear.get(label, value) if self.reveal \
                else (value if value_is_public(label, step.secret) else MASKED)
            style = "bold green" if label == "server verified" and value == "yes" else ""
            if label == "server verified" and value != "yes":
                style = "bold red"
            # Values come escaped once (show_bytes): backslashes are shown as they are.
            table.add_row(Text(visible(label)),
                          Text(visible(shown, keep_backslashes=True), style=style))
        return table

    def _client_line(self) -> Text | None:
        info = self.info
        secret = info.step is not None and info.step.secret
        if info.sent is not None:
            line = info.sent_real if self.reveal and info.sent_real is not None else info.sent
            return Text(f"C: {visible(line) or '(empty line)'}", style="bold")
        if info.proposed is None:
            return None
        line = info.proposed
        if secret and not self.reveal and line not in ("", "*", "="):
            line = info.step.mask if info.step is not None and info.step.mask else MASKED
        shown = f"{info.proposed_prefix}{line}" if info.proposed_prefix or line else "(empty line)"
        return Text(f"proposed: {visible(shown)}", style="dim")


def _reply_text(reply: Reply) -> Text:
    out = Text()
    lines = reply.shown_lines
    for i, line in enumerate(lines):
        sep = " " if i == len(lines) - 1 else "-"
        out.append(f"S: {reply.code}{sep}{visible(line)}", style="blue" if reply.code == 334
                   else ("green" if reply.is_success else "red"))
        if i < len(lines) - 1:
            out.append("\n")
    if not lines:
        out.append(f"S: {reply.code}")
    return out


def _challenge_lines(challenge: bytes, kind: str | None) -> list[Text]:
    label = f" ({kind})" if kind and kind not in ("text", "binary") else ""
    if not challenge:
        return [Text(f"  decoded: (empty){label}")]
    lines = [Text(f"  decoded{label}: ").append(show_bytes(challenge), style="bold")]
    if is_binary(challenge):
        lines.append(Text(f"  hex: {hex_dump(challenge)}"))
    return lines


def _final_lines(reply: Reply) -> list[Text]:
    meaning = explain(reply)
    lines = [Text(f"  {visible(meaning.summary)}", style="bold")]
    if meaning.enhanced and meaning.basic.split(" (")[0] not in meaning.enhanced:
        lines.append(Text(f"  {reply.code}: {visible(meaning.basic)}"))
    advice = AUTH_ADVICE.get(reply.code)
    if advice:
        lines.append(Text(f"  → {advice}"))
    return lines
