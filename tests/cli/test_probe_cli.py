"""``smtpscope probe`` against aiosmtpd: report, JSON, statuses, many targets, lean imports."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from smtpscope.protocol import INJECTION_WARNING
from tests.cli.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines()]


def test_probe_json_before_and_after_starttls(make_server, cli) -> None:
    server = make_server("starttls")
    result = cli("probe", server.target, "--cafile", server.cafile, "--json")
    assert result.code == 0, result.err
    [data] = lines(result.out)
    assert data["status"] == "success"
    assert data["banner"]["code"] == 220
    before = {k["keyword"] for k in data["ehlo"]["plain"]["keywords"]}
    after = {k["keyword"] for k in data["ehlo"]["tls"]["keywords"]}
    assert "STARTTLS" in before and "AUTH" not in before
    assert "AUTH" in after and "STARTTLS" not in after
    assert data["ehlo"]["plain"]["raw"].startswith("250-localhost\r\n")
    assert data["capability_changes"]["added"] == ["AUTH LOGIN PLAIN"]
    assert data["capability_changes"]["removed"] == ["STARTTLS"]
    assert data["starttls"] == {"offered": True, "attempted": True,
                                "reply": data["starttls"]["reply"]}
    assert data["starttls"]["reply"]["code"] == 220
    tls = data["tls"]
    assert tls["version"].startswith("TLSv1.") and tls["verified"] is True
    assert tls["peer_chain"][0]["subject"].startswith("CN=localhost")
    assert set(data["timings"]) >= {"connect", "banner", "ehlo", "starttls", "ehlo_tls", "quit",
                                    "total"}


def test_probe_plain_report(make_server, cli) -> None:
    server = make_server("starttls")
    result = cli("probe", server.target, "--cafile", server.cafile)
    assert result.code == 0
    out = result.out
    assert out.startswith(f"{server.target}: success\n")
    assert "  banner: 220 localhost Python SMTP 1.4.6" in out
    assert "STARTTLS" in out and "RFC 3207" in out
    assert "after STARTTLS: +AUTH LOGIN PLAIN; -STARTTLS" in out
    assert "verification: Verified (chain and name 127.0.0.1) at level may" in out
    assert "timings: connect" in out


def test_probe_no_tls(make_server, cli) -> None:
    server = make_server("starttls")
    [data] = lines(cli("probe", server.target, "--no-tls", "--json").out)
    assert data["status"] == "success"
    assert data["starttls"]["offered"] is True and data["starttls"]["attempted"] is False
    assert data["tls"] is None and data["ehlo"]["tls"] is None


def test_probe_untrusted_ca_reports_and_continues(make_server, cli) -> None:
    server = make_server("starttls")
    result = cli("probe", server.target, "--json")
    assert result.code == 0
    [data] = lines(result.out)
    assert data["status"] == "success"
    tls = data["tls"]
    assert tls["trust"] == "untrusted" and tls["level"] == "may" and tls["accepted"]
    assert tls["trust_reason_code"] == "unknown-ca"
    assert tls["peer_chain"][0]["spki_sha256"] and tls["peer_chain"][0]["pem"]
    assert data["ehlo"]["tls"] is not None  # the conversation went on over TLS


def test_probe_verify_level_refuses_but_shows_the_certificate(make_server, cli) -> None:
    server = make_server("starttls")
    result = cli("probe", server.target, "--json", "--tls-level", "verify")
    assert result.code == 29
    [data] = lines(result.out)
    assert data["status"] == "tls-error" and "not accepted" in data["error"]
    assert data["tls"]["trust"] == "untrusted" and not data["tls"]["accepted"]
    assert data["tls"]["peer_chain"][0]["subject"]
    assert data["ehlo"]["plain"] is not None and data["ehlo"]["tls"] is None


def test_many_targets_keep_input_order(make_server, cli, tmp_path: Path) -> None:
    servers = [make_server() for _ in range(3)]
    refused = f"127.0.0.1:{free_port()}"
    listing = tmp_path / "targets.txt"
    listing.write_text(f"# probe list\n{servers[2].target}\n\n{refused}  # down\n")
    result = cli("probe", servers[0].target, servers[1].target, "--targets-file", str(listing),
                 "--concurrency", "2", "--json")
    assert result.code == 2
    data = lines(result.out)
    assert [d["target"] for d in data] == [s.target for s in servers] + [refused]
    assert [d["status"] for d in data] == ["success"] * 3 + ["connection-refused"]
    assert data[3]["hint"]
    assert result.err.count("\n") == 1 and "connection-refused" in result.err
    # Success or not, each target's server block has the same fields.
    assert {tuple(d["server"]) for d in data} == {("host", "port", "tls_mode", "peer")}
    assert data[3]["server"]["peer"] is None


@pytest.mark.parametrize("content, where", [
    (b"127.0.0.1:25\nh\xf6st.example:25\n", "line 2 is not UTF-8 text (byte 0xf6)"),
    (b"127.0.0.1:25\n\x7fELF\x00\x02\n", "line 2 holds a NUL byte"),
])
def test_targets_file_that_is_not_text_is_a_usage_error(cli, tmp_path: Path, content: bytes,
                                                        where: str) -> None:
    listing = tmp_path / "targets.bin"
    listing.write_bytes(content)
    result = cli("probe", "--targets-file", str(listing))
    assert result.code == 1 and result.out == ""
    assert f"--targets-file {listing}: {where}" in result.err
    assert "Traceback" not in result.err and "crashed" not in result.err


@pytest.mark.parametrize("option", ["nan", "inf", "0", "-3", "3601"])
def test_timeout_must_be_a_finite_positive_number(cli, option: str) -> None:
    for command in ("probe", "send"):
        result = cli(command, "127.0.0.1:25", f"--timeout={option}")
        assert result.code == 1, (command, result)
        assert "--timeout" in result.err and "above 0 and at most 3600" in result.err


def test_banner_timeout_is_reported(cli) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(silent.accept()[0]), daemon=True)
    thread.start()
    try:
        port = silent.getsockname()[1]
        result = cli("probe", f"127.0.0.1:{port}", "--timeout", "2", "--json")
    finally:
        for sock in accepted:
            sock.close()
        silent.close()
    assert result.code == 21
    [data] = lines(result.out)
    assert (data["status"], data["stage"]) == ("timeout", "banner")
    assert "smtps://" in data["hint"]
    # Connected, as a banner that came would show: the same fields either way.
    assert data["server"]["peer"] == f"127.0.0.1:{port}"
    # --timeout bounds the wait for the banner itself (it used to be connect + banner, 2x).
    assert 2000 <= data["timings"]["total"] < 3800


def test_probe_usage_errors(cli) -> None:
    assert cli("probe").code == 1
    result = cli("probe", "host:99999")
    assert result.code == 1
    assert "out of range" in result.out
    assert result.err.startswith("smtpscope probe: host:99999: bad-target at connect:")
    # Nothing was timed for a target refused before connecting: no empty "timings:" line.
    assert "timings" not in result.out


def test_refused_report_puts_the_hint_on_its_own_line(cli) -> None:
    port = free_port()
    result = cli("probe", f"127.0.0.1:{port}")
    assert result.code == 2
    report = result.out.splitlines()
    assert report[0] == f"127.0.0.1:{port}: connection-refused"
    assert report[1].startswith("  error at connect: connection refused by ")
    assert report[2].startswith("  try: check the port (--port 25, 587 or 465")
    assert "(try" not in result.out
    assert report[3].startswith("  timings: total ")


@pytest.mark.dns
def test_mx_route_with_port_override(make_server, cli, dns_server) -> None:
    server = make_server()
    result = cli("probe", "@deadmx.test", "--port", str(server.port), "--resolver",
                 dns_server.resolver_address, "--json")
    assert result.code == 0, result.out
    [data] = lines(result.out)
    route = data["route"]
    assert route["used"]["candidate"].startswith("up.deadmx.test [127.0.0.1]")
    assert "MX 20" in route["used"]["via"]
    [failed] = route["failed"]
    assert failed["candidate"].startswith("down.deadmx.test [127.0.0.9]")
    assert "refused" in failed["error"]


def _modules_after(*argv: str) -> set[str]:
    code = (
        "import sys\n"
        "from smtpscope.cli import main\n"
        f"main({list(argv)!r})\n"
        "print(' '.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=60, check=False)
    return set(done.stderr.split()[-1000:])


def test_probe_and_send_import_neither_textual_nor_dns(make_server) -> None:
    server = make_server()
    for argv in (("probe", server.target, "--no-tls"),
                 ("send", server.target, "--from", "a@x.test", "--to", "b@y.test")):
        modules = _modules_after(*argv)
        # the run really happened in that process (a lone probe needs no asyncio session)
        assert {"smtpscope.session", "smtpscope.session_blocking"} & modules
        assert not {m for m in modules if m == "textual" or m.startswith("textual.")}
        assert not {m for m in modules if m == "dns" or m.startswith("dns.")}
        assert "rich.console" not in modules  # stdout is a pipe: the plain report is enough


def test_rich_report_renders_escaped_server_text(make_server, cli) -> None:
    import io

    from rich.console import Console

    from smtpscope.cli.probe_report import render_rich

    server = make_server("starttls")
    [data] = lines(cli("probe", server.target, "--cafile", server.cafile, "--json").out)
    data["banner"]["lines"] = ["evil \x1b[2J [bold]markup[/bold]"]
    buffer = io.StringIO()
    render_rich(data, Console(file=buffer, width=120, color_system=None))
    out = buffer.getvalue()
    assert "\x1b" not in out
    assert "\\x1b[2J [bold]markup[/bold]" in out  # escaped, and not taken as Rich markup
    assert "RFC 3207" in out and "Verified (chain and name 127.0.0.1)" in out


@contextlib.contextmanager
def scripted_server(greeting: bytes, answers: dict[bytes, bytes]) -> Iterator[str]:
    """A one-connection server: ``greeting``, then the answer to each command's verb (else
    ``250 ok``); it hangs up after answering QUIT or STARTTLS (it speaks no TLS)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn, conn.makefile("rb") as lines:
            conn.sendall(greeting)
            for line in lines:
                verb = line.split(maxsplit=1)[0].upper() if line.strip() else b""
                conn.sendall(answers.get(verb, b"250 ok\r\n"))
                if verb in (b"QUIT", b"STARTTLS"):
                    return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()
        thread.join(5)


def test_text_report_shows_a_starttls_injection_and_a_hint_that_fits(cli) -> None:
    answers = {b"EHLO": b"250-fake\r\n250 STARTTLS\r\n",
               b"STARTTLS": b"220 Ready to start TLS\r\n250-injected\r\n250 AUTH PLAIN\r\n"}
    with scripted_server(b"220 fake\r\n", answers) as target:
        result = cli("probe", target, "--timeout", "5")
    assert result.code == 29
    out = result.out
    assert "  STARTTLS: 220 Ready to start TLS\n" in out
    assert f"  warning: STARTTLS: {INJECTION_WARNING}\n" in out
    assert "  error at tls: " in out
    # The server hung up in the handshake: no CA file or --insecure would change that.
    assert "  try: the server may not speak TLS here: --tls none looks without it\n" in out
    assert "--cafile" not in out + result.err and "--insecure" not in out + result.err
    with scripted_server(b"220 fake\r\n", answers) as target:
        [data] = lines(cli("probe", target, "--timeout", "5", "--json").out)
    assert data["starttls"]["reply"]["warnings"] == [INJECTION_WARNING]


def test_text_report_shows_bare_lf_replies(cli) -> None:
    with scripted_server(b"220 fake\n", {b"EHLO": b"250-fake\n250 8BITMIME\n",
                                         b"QUIT": b"221 bye\n"}) as target:
        result = cli("probe", target, "--timeout", "5")
    assert result.code == 0, result
    assert "  warning: banner: bare LF line ending (RFC 5321 requires CRLF)\n" in result.out
    assert "  warning: EHLO: bare LF line ending (RFC 5321 requires CRLF)\n" in result.out


def test_server_text_in_an_error_is_escaped_once(cli) -> None:
    with scripted_server(b"22X \x1b[2J \\x41 [bold]x[/]\r\n", {}) as target:
        result = cli("probe", target, "--timeout", "5")
    assert result.code == 21
    shown = '"22X \\x1b[2J \\\\x41 [bold]x[/]"'  # as send and every view show it
    assert "  error at banner: connection ended: protocol error: " in result.out
    assert result.out.count(shown) == 1 and result.err.count(shown) == 1
    assert "\x1b" not in result.out + result.err and "\\\\x1b" not in result.out + result.err


def test_route_names_from_dns_are_escaped_once_in_the_report() -> None:
    from smtpscope.cli.probe_report import render_plain
    from smtpscope.cli.probe_result import new_result

    name = "a\x1b[2Jb\\c.d.test"  # an MX name with an ESC and a backslash
    result = {**new_result("@d.test"), "status": "success", "route": {
        "used": {"candidate": f"{name} [192.0.2.1]:25", "via": f"MX 10 {name} for d.test",
                 "error": None},
        "failed": [{"candidate": f"{name} [192.0.2.2]:25", "via": "", "error": "refused"}]}}
    text = render_plain(result)
    assert "\x1b" not in text
    shown = "a\\x1b[2Jb\\\\c.d.test"
    assert f"used {shown} [192.0.2.1]:25 (MX 10 {shown} for d.test)" in text
    assert f"failed {shown} [192.0.2.2]:25: refused" in text


def test_a_bad_target_is_quoted_escaped_once(cli) -> None:
    result = cli("probe", "--json", "a\x1bb\\c.t")
    error = json.loads(result.out)["error"]
    assert error.startswith("host name 'a\\x1bb\\\\c.t' contains '\\x1b'")  # visible()'s
    assert "a\\x1bb\\\\c.t" in result.err and "\\\\x1b" not in result.err


@pytest.mark.parametrize(("kind", "hint"), [
    ("verify", "--cafile FILE to trust its CA, --insecure to look anyway, or --tls none"),
    ("closed", "the server may not speak TLS here: --tls none looks without it"),
    ("protocol", "the server may not speak TLS here: --tls none looks without it"),
    ("timeout", "a longer --timeout, or --tls none to look without TLS"),
])
def test_tls_failure_hint_fits_its_kind(kind: str, hint: str) -> None:
    from smtpscope.cli.common import classify
    from smtpscope.session_types import Stage, TLSFailed
    from smtpscope.transport import TLSError

    failed = TLSFailed("handshake failed", Stage.TLS)
    failed.__cause__ = TLSError("handshake failed", kind=kind, reason="x")
    failure = classify(failed, "tls")
    assert (failure.status, failure.hint) == ("tls-error", hint)



def test_engine_refusal_reads_as_its_reason() -> None:
    # The engine refused to send MAIL with a parameter the server did not advertise: the user
    # reads why, not the name of a Python class.
    from smtpscope.cli.common import classify
    from smtpscope.protocol import LocalProtocolError

    failure = classify(LocalProtocolError("parameter SMTPUTF8 needs SMTPUTF8"), "mail")
    assert (failure.status, failure.stage) == ("error", "mail")
    assert failure.message == "not sent: parameter SMTPUTF8 needs SMTPUTF8"

def test_report_explains_limits_parameters() -> None:
    from smtpscope.cli.probe_report import _keyword_rows

    ehlo = {"keywords": [{"keyword": "LIMITS", "params": ["RCPTMAX=1000", "\x1b[2J=1"],
                          "meaning": "Server limits", "rfc": "RFC 9422"}]}
    [(text, rfc, meaning)] = _keyword_rows(ehlo)
    assert (text, rfc) == (r"LIMITS RCPTMAX=1000 \x1b[2J=1", "RFC 9422")
    assert meaning == (r"Server limits: at most 1000 recipients per transaction; "
                       r"\x1b[2J: not in the registry")


@pytest.mark.parametrize("command", [
    ("probe", "127.0.0.1:1", "--tls-level", "dane"),
    ("send", "--to", "bob@example.test", "127.0.0.1:1"),
    ("tui", "127.0.0.1:1"),
])
@pytest.mark.parametrize(("resolver", "why"), [
    ("dns.example", "resolver 'dns.example' is not an IP address"),
    ("127.0.0.1:0", "bad port '0' in resolver address '127.0.0.1:0'"),
])
def test_a_resolver_that_is_no_address_is_a_usage_error(cli, command, resolver, why) -> None:
    # Refused as the option is read, before any lookup: probe at level dane used to crash
    # looking up TLSA with it.
    result = cli(*command, "--resolver", resolver)
    assert result.code == 1 and result.out == ""
    assert f"error: argument --resolver: {why}" in result.err and "crashed" not in result.err


@pytest.mark.parametrize("command", [
    ("probe", "127.0.0.1:1"),
    ("send", "--to", "bob@example.test", "127.0.0.1:1"),
    ("tui", "127.0.0.1:1"),
])
@pytest.mark.parametrize(("option", "value", "why"), [
    ("--verify-name", "bad name", "contains ' '"),
    ("--verify-name", "", "empty name"),
    ("--verify-name", "mx..example", "empty label"),
    ("--verify-name", "*.example.test", "is a wildcard"),
    ("--verify-name", "mx.\x1b[2J.example", r"contains '\x1b'"),
    ("--sni", "a..b", "empty label"),
    ("--sni", "192.0.2.1", "is an IP address"),
    ("--sni", "", "empty name"),
])
def test_a_name_no_host_can_have_is_a_usage_error(cli, command, option, value, why) -> None:
    # Refused as the option is read: a bad --verify-name used to be looked for in the
    # certificate (and its TLSA records waited for), a bad --sni failed at STARTTLS.
    result = cli(*command, option, value)
    assert result.code == 1 and result.out == ""
    assert f"error: argument {option}: " in result.err and why in result.err
    assert "\x1b" not in result.err and "crashed" not in result.err


@pytest.mark.parametrize("command", [
    ("probe", "--json"),
    ("send", "--json", "--from", "a@x.test", "--to", "b@mx.test"),
])
def test_mx_lookups_of_a_domain_target_honour_timeout(cli, command) -> None:
    import time

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))  # bound, never answers
        resolver = f"127.0.0.1:{silent.getsockname()[1]}"
        start = time.monotonic()
        result = cli(*command, "@mx.test", "--resolver", resolver, "--timeout", "0.4")
        elapsed = time.monotonic() - start
    data = json.loads(result.out.splitlines()[0])
    assert data["status"] == "no-route" and "before the timeout" in data["error"]
    assert elapsed < 3  # the lookup's own default would be 5 s
