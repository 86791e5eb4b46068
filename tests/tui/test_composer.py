"""Tests for the composer: parsing on Enter, warnings, completion, history, raw bytes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual import on
from textual.app import App, ComposeResult
from textual.message import Message

from smtpscope.protocol import (
    AuthCancel,
    Capabilities,
    Ehlo,
    MailFrom,
    Raw,
    Reply,
    StartTLS,
    State,
)
from smtpscope.tui.completion import completions, decode_escapes, describe_line_endings
from smtpscope.tui.history_store import HISTORY_LIMIT, HistoryStore, safe_name, storable
from smtpscope.tui.widgets.composer import Composer

EHLO_LINES = (
    b"mx.example.test Hello client.example [127.0.0.1]",
    b"PIPELINING",
    b"SIZE 10240000",
    b"ETRN",
    b"AUTH PLAIN LOGIN SCRAM-SHA-256",
    b"ENHANCEDSTATUSCODES",
    b"8BITMIME",
    b"DSN",
    b"CHUNKING",
)


def ehlo_reply(lines: tuple[bytes, ...] = EHLO_LINES) -> Reply:
    raw = b"".join(
        b"250" + (b" " if i == len(lines) - 1 else b"-") + line + b"\r\n"
        for i, line in enumerate(lines)
    )
    return Reply(code=250, lines=lines, raw=raw)


CAPS = Capabilities.parse(ehlo_reply())
SECRET = "AGFsaWNlAHMzY3IzdA=="  # PLAIN for alice / s3cr3t


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SMTPSCOPE_HOME", str(tmp_path))
    return tmp_path


class Host(App[None]):
    """A composer alone on a screen, recording what it posts."""

    def __init__(self, composer: Composer) -> None:
        super().__init__()
        self.composer = composer
        self.posted: list[Message] = []

    def compose(self) -> ComposeResult:
        yield self.composer

    def on_mount(self) -> None:
        self.composer.focus()

    @on(Composer.Submitted)
    @on(Composer.RawSubmitted)
    def record(self, message: Message) -> None:
        self.posted.append(message)


def make(caps: Capabilities | None = CAPS, state: State | None = State.IDENT,
         target: str = "mx.example.test:25") -> Composer:
    composer = Composer(target_key=target, id="composer")
    composer.capabilities = caps
    composer.state = state
    return composer


async def type_line(pilot, composer: Composer, text: str, *, enter: bool = True) -> None:  # type: ignore[no-untyped-def]
    composer.input.value = text
    composer.input.cursor_position = len(text)
    await pilot.pause()
    if enter:
        await pilot.press("enter")
        await pilot.pause()


async def test_mail_from_with_size_posts_submitted() -> None:
    composer = make()
    app = Host(composer)
    async with app.run_test() as pilot:
        await pilot.press(*"mail from:<a@b.test> size=100")
        await pilot.press("enter")
        await pilot.pause()
        [message] = app.posted
        assert isinstance(message, Composer.Submitted)
        assert message.command == MailFrom("a@b.test", (("SIZE", "100"),))
        assert message.off_script is False
        assert message.text == "mail from:<a@b.test> size=100"
        assert composer.input.value == ""


async def test_syntax_error_shows_hint_and_sends_nothing() -> None:
    composer = make()
    app = Host(composer)
    async with app.run_test() as pilot:
        await type_line(pilot, composer, "MAIL FROM:<a b@c.test>")
        assert app.posted == []
        assert composer.input.value == "MAIL FROM:<a b@c.test>"
        assert composer.has_class("-error")
        assert "white space" in composer.hint
        assert "MAIL FROM:<address>" in composer.hint


async def test_unadvertised_starttls_warns_then_sends_off_script() -> None:
    composer = make()  # CAPS has no STARTTLS
    app = Host(composer)
    async with app.run_test() as pilot:
        await type_line(pilot, composer, "starttls")
        assert app.posted == []
        assert composer.has_class("-warning")
        assert "STARTTLS" in composer.hint and "send anyway" in composer.hint
        assert composer.input.value == "starttls"
        await pilot.press("enter")
        await pilot.pause()
        [message] = app.posted
        assert isinstance(message, Composer.Submitted)
        assert message.command == StartTLS()
        assert message.off_script is True


async def test_editing_withdraws_the_warning() -> None:
    composer = make()
    app = Host(composer)
    async with app.run_test() as pilot:
        await type_line(pilot, composer, "starttls")
        await type_line(pilot, composer, "starttl", enter=False)
        await type_line(pilot, composer, "starttls")
        assert app.posted == []  # changed text needs its own confirmation
        assert composer.has_class("-warning")


async def test_wrong_state_warns_with_the_engines_reason_and_send_anyway_binding() -> None:
    composer = make(state=State.IDENT)
    app = Host(composer)
    async with app.run_test() as pilot:
        await type_line(pilot, composer, "rcpt to:<b@c.test>")
        assert app.posted == []
        assert "MAIL FROM" in composer.hint  # why_invalid's advice
        await pilot.press("alt+enter")
        await pilot.pause()
        [message] = app.posted
        assert isinstance(message, Composer.Submitted) and message.off_script


async def test_valid_command_in_state_is_not_held() -> None:
    composer = make(state=State.READY)
    app = Host(composer)
    async with app.run_test() as pilot:
        await type_line(pilot, composer, "ehlo client.example")
        [message] = app.posted
        assert isinstance(message, Composer.Submitted)
        assert message.command == Ehlo("client.example") and not message.off_script


async def test_unadvertised_parameter_warns() -> None:
    composer = make()  # no SMTPUTF8 in CAPS
    app = Host(composer)
    async with app.run_test() as pilot:
        await type_line(pilot, composer, "mail from:<a@b.test> smtputf8")
        assert app.posted == []
        assert "SMTPUTF8" in composer.hint


async def test_hint_shows_syntax_of_current_verb() -> None:
    composer = make()
    app = Host(composer)
    async with app.run_test() as pilot:
        await pilot.press(*"mail ")
        await pilot.pause()
        assert composer.hint.startswith("MAIL FROM:<address> [SIZE=n]")
        await type_line(pilot, composer, "rc", enter=False)
        assert composer.hint.startswith("RCPT TO:<address>")


def test_completion_candidates_follow_the_advertisement() -> None:
    assert completions("AUTH ", CAPS) == ["AUTH PLAIN", "AUTH LOGIN", "AUTH SCRAM-SHA-256"]
    assert completions("auth s", CAPS) == ["auth SCRAM-SHA-256"]
    assert completions("st", CAPS) == []  # STARTTLS not advertised
    assert completions("st", Capabilities.parse(ehlo_reply((b"mx", b"STARTTLS")))) == [
        "STARTTLS"
    ]
    assert completions("ma", None) == ["MAIL FROM:<"]
    mail = completions("mail from:<a@b.test> ", CAPS)
    tails = [c.removeprefix("mail from:<a@b.test> ") for c in mail]
    assert tails == ["SIZE=", "BODY=8BITMIME", "RET=FULL", "RET=HDRS", "ENVID=", "AUTH=<>"]
    assert "SIZE=" not in [
        c.split()[-1] for c in completions("MAIL FROM:<a@b.test> SIZE=10 ", CAPS)
    ]
    rcpt = completions("RCPT TO:<b@c.test> no", CAPS)
    assert rcpt == [
        "RCPT TO:<b@c.test> NOTIFY=SUCCESS,FAILURE,DELAY",
        "RCPT TO:<b@c.test> NOTIFY=NEVER",
    ]
    assert completions("mail from:<a@b.test> ", None) == []


def test_xclient_completes_when_advertised_with_the_listed_attribute_names() -> None:
    caps = Capabilities.parse(ehlo_reply(
        (b"mx", b"XCLIENT NAME ADDR PORT PROTO HELO LOGIN DESTADDR DESTPORT")))
    assert completions("xc", CAPS) == []  # not advertised
    assert completions("xc", caps) == ["XCLIENT "]
    assert completions("XCLIENT ", caps) == [
        "XCLIENT NAME=", "XCLIENT ADDR=", "XCLIENT PORT=", "XCLIENT PROTO=", "XCLIENT HELO=",
        "XCLIENT LOGIN=", "XCLIENT DESTADDR=", "XCLIENT DESTPORT="]
    assert completions("xclient ADDR=192.0.2.9 de", caps) == [
        "xclient ADDR=192.0.2.9 DESTADDR=", "xclient ADDR=192.0.2.9 DESTPORT="]
    assert "XCLIENT ADDR=192.0.2.9 ADDR=" not in completions("XCLIENT ADDR=192.0.2.9 ", caps)
    assert completions("XCLIENT ", CAPS) == []


async def test_ghost_suggestion_and_tab_cycle_offer_auth_mechanisms() -> None:
    composer = make()
    app = Host(composer)
    async with app.run_test() as pilot:
        await pilot.press(*"auth ")
        await pilot.pause()
        await pilot.press("right")  # Input accepts the ghost suggestion
        assert composer.input.value == "auth PLAIN"
        await type_line(pilot, composer, "auth ", enter=False)
        await pilot.press("tab")
        await pilot.pause()
        assert composer.input.value == "auth PLAIN"
        await pilot.press("tab")
        await pilot.pause()
        assert composer.input.value == "auth LOGIN"
        await pilot.press("tab")
        await pilot.pause()
        assert composer.input.value == "auth SCRAM-SHA-256"


async def test_message_lines_get_no_completion_and_commands_get_it_back() -> None:
    composer = make()
    app = Host(composer)
    async with app.run_test() as pilot:
        suggester = composer.input.suggester
        assert suggester is not None
        composer.data_mode = True
        await pilot.pause()
        assert composer.input.suggester is None  # no suggestion worker for each key typed
        await pilot.press(*"auth ", "right")
        await pilot.pause()
        assert composer.input.value == "auth "  # no ghost text to take
        composer.input.value = ""
        composer.data_mode = False
        await pilot.pause()
        assert composer.input.suggester is suggester
        await pilot.press(*"auth ")
        await pilot.pause()
        await pilot.press("right")
        assert composer.input.value == "auth PLAIN"


async def test_history_up_down_keeps_the_draft_and_persists() -> None:
    composer = make(state=None)
    app = Host(composer)
    async with app.run_test() as pilot:
        for line in ("ehlo one.example", "noop", "rset"):
            await type_line(pilot, composer, line)
        await type_line(pilot, composer, "half typed", enter=False)
        await pilot.press("up")
        assert composer.input.value == "rset"
        await pilot.press("up", "up", "up")
        assert composer.input.value == "ehlo one.example"
        await pilot.press("down")
        assert composer.input.value == "noop"
        await pilot.press("down", "down")
        assert composer.input.value == "half typed"
    again = make(state=None)
    app2 = Host(again)
    async with app2.run_test() as pilot:
        assert again.history == ["ehlo one.example", "noop", "rset"]
        await pilot.press("up")
        assert again.input.value == "rset"
    other = make(target="other.example.test:587")
    assert other.history == []


async def test_auth_arguments_never_stored(_home: Path) -> None:
    composer = make()
    app = Host(composer)
    async with app.run_test() as pilot:
        await type_line(pilot, composer, f"AUTH PLAIN {SECRET}")
        composer.in_auth = True
        await type_line(pilot, composer, "c2VjcmV0")
        await type_line(pilot, composer, "*")
        composer.in_auth = False
        await type_line(pilot, composer, "noop")
    assert composer.history == ["AUTH PLAIN", "noop"]
    assert isinstance(app.posted[2], Composer.Submitted)
    assert app.posted[2].command == AuthCancel()
    files = list((_home / "history").iterdir())
    assert len(files) == 1
    stored = files[0].read_text(encoding="utf-8")
    assert SECRET not in stored and "c2VjcmV0" not in stored
    assert json.loads(stored)["lines"] == ["AUTH PLAIN", "noop"]


async def test_raw_mode_sends_exact_bytes() -> None:
    composer = make()
    app = Host(composer)
    async with app.run_test() as pilot:
        await pilot.press("ctrl+r")
        assert composer.raw and composer.has_class("-raw")
        assert "add \\r\\n yourself" in composer.hint
        await type_line(pilot, composer, "EHLO x\\n.\\x00\\\\\\r")
        [message] = app.posted
        assert isinstance(message, Composer.RawSubmitted)
        assert message.data == b"EHLO x\n.\x00\\\r"
        await type_line(pilot, composer, "bad \\q")
        assert len(app.posted) == 1
        assert composer.has_class("-error") and "\\q" in composer.hint
        await pilot.press("ctrl+r")
        assert not composer.raw


async def test_end_of_data_variants_are_labelled_actions() -> None:
    composer = make()
    app = Host(composer)
    async with app.run_test() as pilot:
        actions = {name: (label, data) for name, label, data in composer.end_of_data_actions()}
        assert actions["lflf"] == ("\\n.\\n  bare LF dot bare LF (lflf)", b"\n.\n")
        assert actions["standard"][1] == b"\r\n.\r\n"
        assert "CRLF NUL dot CRLF" in actions["nullbefore"][0]
        composer.send_end_of_data("crcr")
        await pilot.pause()
        [message] = app.posted
        assert isinstance(message, Composer.RawSubmitted) and message.data == b"\r.\r"


def test_decode_escapes() -> None:
    assert decode_escapes("a\\r\\n\\t\\0\\x7f\\\\") == b"a\r\n\t\x00\x7f\\"
    assert decode_escapes("안") == "안".encode()
    for bad in ("\\", "\\x1", "\\xZZ", "\\e"):
        with pytest.raises(ValueError):
            decode_escapes(bad)
    assert describe_line_endings(b"\r\n.\n") == "CRLF dot bare LF"


def test_history_store_rules(tmp_path: Path) -> None:
    assert storable(f"auth plain {SECRET}") == "auth plain"
    assert storable("AUTH LOGIN") == "AUTH LOGIN"
    assert storable("   ") is None
    store = HistoryStore("t", directory=tmp_path, limit=3)
    for line in ("a", "a", "b", "c", "d"):
        store.add(line)
    assert store.entries == ["b", "c", "d"]  # repeats collapsed, capped
    assert HistoryStore("t", directory=tmp_path, limit=3).entries == ["b", "c", "d"]
    (tmp_path / safe_name("t")).write_text("{not json", encoding="utf-8")
    assert HistoryStore("t", directory=tmp_path).entries == []
    assert safe_name("a/b:25") != safe_name("a_b_25")
    assert HISTORY_LIMIT == 500
    memory = HistoryStore("", directory=tmp_path)
    memory.add("noop")
    assert memory.path is None and memory.entries == ["noop"]


def test_composer_message_fields() -> None:
    composer = Composer()
    message = Composer.Submitted(composer, Raw(b"X\r\n"), "X")
    assert message.control is composer and message.off_script is False


async def test_tab_with_nothing_to_complete_stays_in_the_composer() -> None:
    from textual.widgets import Button

    class TwoWidgets(Host):
        def compose(self) -> ComposeResult:
            yield self.composer
            yield Button("other", id="other")

    composer = make()
    app = TwoWidgets(composer)
    async with app.run_test() as pilot:
        await type_line(pilot, composer, "noop", enter=False)
        await pilot.press("tab", "x", "tab")
        await pilot.pause()
        assert app.focused is composer.input
        assert composer.input.value == "noopx"


def test_the_queue_view_never_shows_a_queued_credential() -> None:
    from smtpscope.conversation.send_queue import SendQueue
    from smtpscope.protocol import Auth, AuthResponse
    from smtpscope.tui.widgets.queue_view import render_queue

    queue = SendQueue()
    queue.add_command(Auth("PLAIN", b"\0alice\0s3cr3t"), f"AUTH PLAIN {SECRET}", secret=True)
    queue.add_command(AuthResponse(b"s3cr3t"), "czNjcjN0", secret=True)
    queue.add_raw(b"s3cr3t\r\n", "raw: s3cr3t\\r\\n", secret=True)
    queue.add_command(MailFrom("a@example.test"), "MAIL FROM:<a@example.test>")
    shown = render_queue(list(queue), "keys").plain
    assert SECRET not in shown and "czNjcjN0" not in shown and "s3cr3t" not in shown
    assert "AUTH PLAIN ••••" in shown and "MAIL FROM:<a@example.test>" in shown
    assert [item.text for item in queue][1] == "czNjcjN0"  # Ctrl+Z still gets it back whole
