"""One hostile string walked through every surface that shows foreign text.

Surfaces covered (each has a test below, named after it):

- CLI ``replay --format text``   (recorded server, client and note text)
- CLI ``replay --format swaks``  (plus certificate subject, SAN, cipher of a TLS entry)
- CLI ``replay --format json``
- CLI ``export --as swaks``      (stdout: shell-quoted and control-free; stderr notes)
- CLI ``replay``/``export`` warnings about damaged lines (stderr)
- CLI ``send`` "does not offer AUTH X (offers ...)" (stderr)
- CLI ``probe`` report, plain and ``--json`` (hostile banner, EHLO keywords, replies)
- CLI ``mx`` report, tables and ``--json`` (hostile MX names, SPF and DMARC text)
- ``serve`` console               (a client's EHLO name, printed live)
- TUI transcript, capability inspector, status bar (hostile banner and EHLO)
- TUI notifications               (a banner that is not an SMTP reply, with markup in it)
- TUI AUTH helper notes           (advertised mechanism names with OSC 52 / OSC 2 ended by ST)
- TUI history screen              (a recording's target) and replay damage notice
- TUI dialogs: AUTH decoder, whole-line viewer, reconnect, untrusted certificate
- TUI ``--show-certs`` note       (a hostile certificate's subject, issuer and SAN)

Each output must hold no ESC, C0 other than TAB/LF, C1 (``\\x9b`` included), BEL, NUL or bidi
override, and the markup must show as the literal text it is.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import html
import io
import json
import re
import socket
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from smtpscope.cli import main
from smtpscope.record import Recorder, Transcript, make_header

HOSTILE = (
    "evil\x1b[31mred\x1b]52;c;R05VQ0JB\x1b\\\x1b]2;PWNED\x1b\\\x1b]0;t\x07\x9b2J\x85\x00"
    "\u202eRTL\u2066iso\u2069[/][link=https://evil.test]l[/link][@click=app.quit]quit[/]"
)
MARKUP = "[@click=app.quit]quit[/]"
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def assert_inert(output: str, *, markup: bool = True) -> None:
    """No terminal-active character; the markup (when expected) is there as literal text."""
    found = FORBIDDEN.search(output)
    assert found is None, f"{found.group()!r} reached the output: {output[:400]!r}"
    if markup:  # (mechanism names and keywords are shown upper-cased)
        assert MARKUP.casefold() in output.casefold()


def _recording(path: Path) -> Path:
    transcript = Transcript()
    recorder = Recorder(path, make_header(f"{HOSTILE}:25", security="starttls"))
    transcript.subscribe(recorder)
    transcript.add("server", "reply", f"220 {HOSTILE}\r\n".encode(),
                   reply={"code": 220, "lines": [HOSTILE]})
    transcript.add("client", "command", f"EHLO {HOSTILE}\r\n".encode())
    transcript.add("server", "reply", f"250 {HOSTILE}\r\n".encode(),
                   reply={"code": 250, "lines": [HOSTILE]})
    transcript.add("client", "command", b"STARTTLS\r\n")
    transcript.add("server", "reply", b"220 go\r\n", reply={"code": 220, "lines": ["go"]})
    transcript.add("local", "tls", b"TLS", "TLS is up", info={
        "version": HOSTILE, "cipher": HOSTILE, "bits": 256, "verified": False,
        "verify_error": HOSTILE, "server_hostname": HOSTILE,
        "peer_chain": [{"subject": f"CN={HOSTILE}", "san": [HOSTILE, "ok.test"],
                        "not_after": HOSTILE}]})
    transcript.add("client", "command", f"XHOSTILE {HOSTILE}\r\n".encode(), off_script=True)
    transcript.add("client", "command", f"MAIL FROM:<{HOSTILE}@x.test>\r\n".encode())
    transcript.note(f"a note quoting {HOSTILE}")
    transcript.note(f"a warning quoting {HOSTILE}", kind="warning")
    recorder.close()
    return path


def _run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("fmt", ["text", "swaks", "json"])
def test_cli_replay_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    path = _recording(tmp_path / "r.jsonl")
    code, out, err = _run_cli(capsys, "replay", str(path), "--format", fmt)
    assert code == 0
    assert_inert(out, markup=fmt != "json")
    assert_inert(err, markup=False)
    if fmt == "swaks":
        assert "subject=[CN=evil\\x1b[31mred" in out
        assert "subjectAltName=[evil\\x1b" in out
    if fmt == "json":
        assert json.loads(out)["header"]["target"] == f"{HOSTILE}:25"  # exact, yet inert


def test_cli_export_is_shell_quoted_and_control_free(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _recording(tmp_path / "r.jsonl")
    code, out, err = _run_cli(capsys, "export", str(path))
    assert code == 0
    assert_inert(out)
    assert_inert(err)
    # The shell still gets the exact bytes: bash parses the line back into the arguments.
    line = out.strip()
    assert line.startswith("swaks ")
    script = f"set -- {line[len('swaks '):]}; for a in \"$@\"; do printf '%s\\0' \"$a\"; done"
    argv = subprocess.run(["bash", "-c", script], capture_output=True, check=True).stdout
    args = argv.decode("utf-8").split("\0")[:-1]
    # (a command-line argument cannot hold NUL: bash ends the word there, as execve would)
    before_nul = HOSTILE[: HOSTILE.index("\x00")]
    assert args[args.index("--helo") + 1] == HOSTILE.split()[0]  # (U+0085 is a space to str.split)
    assert args[args.index("--server") + 1] == before_nul


def test_cli_damaged_line_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _recording(tmp_path / "r.jsonl")
    with path.open("a", encoding="utf-8") as handle:
        bad = {"seq": 99, "mono": 0, "wall": 0, "dir": "server", "kind": HOSTILE, "raw": ""}
        handle.write(json.dumps(bad, ensure_ascii=False) + "\n")
    for command in ("replay", "export"):
        code, out, err = _run_cli(capsys, command, str(path), *(
            ["--format", "text"] if command == "replay" else []))
        assert code == 0
        assert "line 12" in err
        assert_inert(err, markup=False)
        assert_inert(out)


# -- a scripted server for send and the TUI -----------------------------------------------------


@contextlib.contextmanager
def threaded_server(banner: bytes, ehlo: bytes) -> Iterator[int]:
    """A loopback server in a thread: banner, then fixed answers by verb."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve_one(conn: socket.socket) -> None:
        with conn:
            conn.sendall(banner)
            buf = b""
            while not stop.is_set():
                try:
                    chunk = conn.recv(4096)
                except OSError:
                    return
                if not chunk:
                    return
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    verb = line.split(b" ")[0].strip().upper()
                    answer = {b"EHLO": ehlo, b"QUIT": b"221 bye\r\n"}.get(verb, b"250 ok\r\n")
                    conn.sendall(answer)
                    if verb == b"QUIT":
                        return

    def accept_loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(5)
            threading.Thread(target=serve_one, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept_loop, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        listener.close()


AUTH_EHLO = (
    b"250-evil.test\r\n"
    b"250-AUTH PLAIN \x1b]52;c;R05VQ0JB\x1b\\ \x1b]2;PWNED\x1b\\ "
    + HOSTILE.encode() + b" LOGIN\r\n"
    b"250 8BITMIME\r\n"
)


def test_cli_send_auth_offers_message(monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SMTPSCOPE_TEST_PW", "pw")
    with threaded_server(b"220 evil.test ESMTP\r\n", AUTH_EHLO) as port:
        code, out, err = _run_cli(
            capsys, "send", f"127.0.0.1:{port}", "--tls", "none", "--from", "a@x.test",
            "--to", "b@x.test", "--auth", "CRAM-MD5", "--user", "u", "--password-env",
            "SMTPSCOPE_TEST_PW")
    assert code != 0
    assert "does not offer AUTH CRAM-MD5 (offers PLAIN, \\x1b]52;C;" in err
    assert_inert(out, markup=False)
    assert_inert(err)


@pytest.mark.parametrize("fmt", [[], ["--json"]])
def test_cli_probe_report(capsys: pytest.CaptureFixture[str], fmt: list[str]) -> None:
    ehlo = (f"250-{HOSTILE}\r\n250-X{HOSTILE}\r\n250-STARTTLS\r\n250 SIZE 10\r\n").encode()
    with threaded_server(f"220 {HOSTILE}\r\n".encode(), ehlo) as port:
        # STARTTLS gets "250 ok" from this server: not a 220, so the probe reports it.
        _code, out, err = _run_cli(capsys, "probe", f"127.0.0.1:{port}", *fmt)
    assert "evil" in out + err
    assert_inert(out, markup=False)
    assert_inert(err, markup=False)
    assert MARKUP.casefold() in (out + err).casefold()  # shown as text, brackets and all


def test_cli_mx_report() -> None:
    from rich.console import Console

    from smtpscope.cli.mx import render
    from smtpscope.mx import MXRecord, StaticResolver, mail_dns_report

    res = StaticResolver({
        ("e.test", "MX"): [MXRecord(10, f"mx.{HOSTILE}")],
        ("e.test", "TXT"): [(f"v=spf1 {HOSTILE}".encode(), b" -all")],
        ("_dmarc.e.test", "TXT"): [(f"v=DMARC1; p=none; rua=mailto:{HOSTILE}".encode(),)],
    })
    report = mail_dns_report("e.test", res, description="table")
    out = io.StringIO()
    render(report, Console(file=out, width=400, force_terminal=True, color_system=None))
    assert_inert(out.getvalue(), markup=False)
    assert "evil\\x1b[31mred" in out.getvalue()
    from smtpscope.cli.common import dumps

    assert_inert(json.dumps(report.to_json(), indent=2, ensure_ascii=True), markup=False)
    assert_inert(dumps(report.to_json()), markup=False)


def test_serve_console_prints_client_text_inert() -> None:
    from rich.console import Console

    from smtpscope.cli.serve import LivePrinter

    transcript = Transcript()
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=400, highlight=False,
                      emoji=False, markup=False, soft_wrap=True)
    printer = LivePrinter(console)
    transcript.subscribe(lambda entry: printer(1, entry))
    transcript.add("client", "command", f"EHLO {HOSTILE}\r\n".encode())
    transcript.note(f"client said {HOSTILE}", kind="warning")
    painted = re.sub(r"\x1b\[[0-9;]*m", "", buffer.getvalue())  # Rich's own colours
    assert_inert(painted)


# -- TUI ----------------------------------------------------------------------------------------


@pytest.fixture
async def scripted() -> AsyncIterator[dict[str, bytes]]:
    script: dict[str, bytes] = {}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(script["banner"])
        await writer.drain()
        while line := await reader.readline():
            verb = line.split(b" ")[0].strip().upper()
            writer.write({b"EHLO": script["ehlo"], b"QUIT": b"221 bye\r\n"}.get(
                verb, b"250 ok\r\n"))
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    script["port"] = str(server.sockets[0].getsockname()[1]).encode()
    try:
        yield script
    finally:
        server.close()
        await server.wait_closed()


def _painted(app) -> str:  # type: ignore[no-untyped-def]
    svg = app.export_screenshot()
    assert "\x1b" not in svg and "\x07" not in svg and "\x9b" not in svg
    assert "href" not in svg and "<a " not in svg  # no [link] and no OSC 8 made a link
    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")


async def test_tui_notification_of_a_non_smtp_banner(scripted: dict[str, bytes]) -> None:
    from smtpscope.session import SessionOptions
    from smtpscope.tui.app import create_app

    scripted["banner"] = f"{HOSTILE}\r\n".encode()
    scripted["ehlo"] = b"250 ok\r\n"
    port = int(scripted["port"])
    app = create_app(options=SessionOptions("127.0.0.1", port, security="plain"))
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        await pilot.pause(0.5)
        notes = list(app._notifications)
        assert notes, "the failure was not shown"
        for note in notes:
            assert note.markup is False
            assert_inert(note.message + note.title, markup=False)
        await pilot.pause(0.3)
        _painted(app)
        from textual.widgets._toast import Toast

        shown = [str(toast.render()) for toast in app.screen.query(Toast)]
        assert any("[/][link=https://evil.test]" in text for text in shown)  # text, not obeyed
        for text in shown:
            assert_inert(text, markup=False)
        assert app.is_running
    assert app.return_code in (None, 0)


async def test_tui_transcript_inspector_status_and_helper(scripted: dict[str, bytes]) -> None:
    from smtpscope.session import SessionOptions
    from smtpscope.tui.app import create_app
    from smtpscope.tui.screens.auth_helper import AuthHelperScreen
    from smtpscope.tui.widgets.capabilities import CapabilityInspector
    from smtpscope.tui.widgets.status import StatusBar
    from smtpscope.tui.widgets.transcript import TranscriptView

    scripted["banner"] = f"220 {HOSTILE}\r\n".encode()
    scripted["ehlo"] = AUTH_EHLO
    port = int(scripted["port"])
    app = create_app(options=SessionOptions("127.0.0.1", port, security="plain"))
    async with app.run_test(size=(160, 45)) as pilot:
        screen = app.screen
        await pilot.pause(0.3)
        await pilot.press("f2")
        await pilot.pause(0.4)
        assert_inert(screen.query_one(TranscriptView).to_text())
        inspector = screen.query_one(CapabilityInspector)
        assert_inert(str(inspector.render()), markup=False)
        assert_inert(str(screen.query_one(StatusBar).render()), markup=False)
        _painted(app)
        await pilot.press("f4")
        await pilot.pause(0.4)
        helper = app.screen
        assert isinstance(helper, AuthHelperScreen)
        notes = str(helper.query_one("#auth-notes").render())
        assert "\\x1b]52;C;R05VQ0JB\\x1b\\\\" in notes  # shown escaped, ST included
        assert_inert(notes)
        painted = _painted(app)
        assert "PWNED" in painted and MARKUP.upper() in painted


async def test_tui_history_and_replay_notice(tmp_path: Path) -> None:
    from smtpscope.config import recordings_dir
    from smtpscope.tui.app import create_app
    from smtpscope.tui.screens.history import HistoryScreen

    folder = recordings_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = _recording(folder / "20260101-000000-evil-25.jsonl")
    with path.open("a", encoding="utf-8") as handle:
        bad = {"seq": 99, "mono": 0, "wall": 0, "dir": "server", "kind": HOSTILE,
               "raw": base64.b64encode(b"x").decode()}
        handle.write(json.dumps(bad, ensure_ascii=False) + "\n")
    app = create_app(history=True)
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        assert isinstance(app.screen, HistoryScreen)
        painted = _painted(app)
        assert "evil\\x1b[31mred" in painted
        await pilot.press("enter")
        await pilot.pause(0.3)
        for note in app._notifications:
            assert note.markup is False
            assert_inert(note.message + note.title, markup=False)
        _painted(app)
        assert app.is_running


def _hostile_tls():  # type: ignore[no-untyped-def]
    """A TLS handshake whose certificate (subject, issuer, SAN) and error text are hostile."""
    from smtpscope.transport.tls import TLSInfo
    from smtpscope.transport.x509 import CertInfo

    cert = CertInfo(subject=f"CN={HOSTILE}", issuer=f"CN={HOSTILE} CA", san=(f"DNS:{HOSTILE}",),
                    not_before="2026-01-01T00:00:00Z", not_after="2027-01-01T00:00:00Z",
                    serial="01", fingerprint_sha256="00" * 32)
    return TLSInfo("TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, (cert,), False, HOSTILE, False,
                   HOSTILE, trust="untrusted", trust_reason_code="unknown-ca")


def test_tui_show_certs_note() -> None:
    from smtpscope.tui.screens.tls_flow import certificates_note
    from smtpscope.tui.widgets.transcript_rows import TranscriptRows

    transcript = Transcript()
    rows = TranscriptRows()
    rows.add(transcript.note(certificates_note(_hostile_tls())))
    shown = "\n".join(rows.text)
    assert_inert(shown)
    assert "subject:   CN=evil\\x1b[31mred" in shown and "SAN:       DNS:evil\\x1b" in shown
    assert "R05VQ0JB\\x1b\\\\\\x1b]2;PWNED" in shown  # its backslash escaped too


async def test_tui_dialogs_decoder_line_viewer_reconnect(tmp_path: Path) -> None:
    from smtpscope.record import read_recording
    from smtpscope.session import SessionOptions
    from smtpscope.tui.app import create_app
    from smtpscope.tui.screens.certificate import UntrustedCertificateScreen
    from smtpscope.tui.screens.decoder import DecoderScreen
    from smtpscope.tui.screens.line_viewer import LineViewer
    from smtpscope.tui.screens.reconnect import ReconnectDialog

    path = _recording(tmp_path / "r.jsonl")
    entry = read_recording(path).entries[0]
    app = create_app(replay_path=str(path))
    async with app.run_test(size=(160, 45)) as pilot:
        blob = base64.b64encode(f"\0{HOSTILE}\0pw".encode()).decode()
        for screen in (DecoderScreen(blob, "PLAIN"), LineViewer(entry),
                       ReconnectDialog(SessionOptions(HOSTILE.replace(" ", ""), 25)),
                       UntrustedCertificateScreen(_hostile_tls())):
            app.push_screen(screen)
            await pilot.pause(0.2)
            painted = _painted(app)
            assert "evil\\x1b[31mred" in painted, type(screen).__name__
            assert "[/]" in painted or "[@click" in painted or "[link=" in painted
            app.pop_screen()
            await pilot.pause(0.05)
        assert app.is_running
