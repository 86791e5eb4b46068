"""``smtpscope mx``: JSON and text output, escaping of DNS text, exit codes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from smtpscope.cli.mx import render
from smtpscope.mx import MXRecord, StaticResolver, mail_dns_report

ROOT = Path(__file__).resolve().parents[2]


def smtpscope(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="120")
    return subprocess.run(
        [sys.executable, "-m", "smtpscope", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.dns
def test_mx_json(dns_server: Any) -> None:
    result = smtpscope("mx", "example.test", "--resolver", dns_server.resolver_address, "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    data = json.loads(result.stdout)
    assert data["domain"] == "example.test"
    assert data["resolver"] == dns_server.resolver_address
    assert [h["host"] for h in data["mx"]["hosts"]] == ["mx1.example.test", "mx2.example.test"]
    assert data["spf"]["status"] == "ok"
    assert data["dmarc"]["tags"][1] == ["p", "reject"]
    assert data["tlsa"][0]["records"][0]["usage"] == 3


@pytest.mark.dns
def test_mx_port_names_the_tlsa_records(dns_server: Any) -> None:
    result = smtpscope("mx", "example.test", "--resolver", dns_server.resolver_address,
                       "--port", "2525", "--json")
    assert result.returncode == 0, result.stderr
    names = [t["name"] for t in json.loads(result.stdout)["tlsa"]]
    assert names == ["_2525._tcp.mx1.example.test", "_2525._tcp.mx2.example.test"]


@pytest.mark.dns
def test_mx_text_report(dns_server: Any) -> None:
    result = smtpscope("mx", "user@example.test", "--resolver", dns_server.resolver_address)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for expected in (
        "mx1.example.test",
        "127.0.0.2",
        "other.example.test",
        "fail",
        "DMARC",
        "_25._tcp.mx1.example.test",
        "DANE-EE SPKI SHA2-256",
        "not validated",
        "MTA-STS example.test: TXT ok",
    ):
        assert expected in out, expected
    # The policy fetch is tried and reported, so nothing may claim it is not.
    assert "not fetched" not in out


@pytest.mark.dns
def test_mx_text_escapes_control_characters(dns_server: Any) -> None:
    result = smtpscope("mx", "hostile.test", "--resolver", dns_server.resolver_address)
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "\\x1b[2J\\x1b]0;pwned\\x07" in result.stdout
    as_json = smtpscope("mx", "hostile.test", "--resolver", dns_server.resolver_address, "--json")
    assert "\x1b" not in as_json.stdout
    assert json.loads(as_json.stdout)["spf"]["records"] == ["v=spf1 \x1b[2J\x1b]0;pwned\x07 -all"]
    # The control characters are also a syntax error (RFC 7208 §12): a permerror, named once.
    spf = json.loads(as_json.stdout)["spf"]
    assert spf["status"] == "invalid"
    assert spf["warnings"][0].startswith("term '\x1b[2J\x1b]0;pwned\x07' holds a control")
    assert "term '\\x1b[2J\\x1b]0;pwned\\x07' holds a control character" in result.stdout


@pytest.mark.dns
def test_mx_names_each_broken_term_of_a_published_policy(dns_server: Any) -> None:
    """A zone's SPF and DMARC typos, as served: each record is invalid, the bad terms named
    with the likely spelling, in the text and the JSON."""
    result = smtpscope("mx", "badspf.test", "--resolver", dns_server.resolver_address,
                       "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    spf, dmarc = report["spf"], report["dmarc"]
    assert spf["status"] == "invalid" and dmarc["status"] == "invalid"
    assert spf["warnings"][:2] == [
        "term 'inlcude:_spf.example.test' is no SPF mechanism or modifier (did you mean "
        "'include'?): the record is a permerror (RFC 7208 §4.6.1)",
        "term 'ip4:192.0.2.1/33' has the prefix length '/33', not 0-32: the record is a "
        "permerror (RFC 7208 §5.6)"]
    assert any("p=rejct" in w for w in dmarc["warnings"])
    assert any("tag 'rau' is no DMARC tag (did you mean 'rua'?)" in w for w in dmarc["warnings"])
    text = smtpscope("mx", "badspf.test", "--resolver", dns_server.resolver_address)
    words = " ".join(text.stdout.replace("│", " ").split())  # the table's cells wrap
    assert "'inlcude:_spf.example.test' is no SPF mechanism or modifier (did you mean " \
        "'include'?)" in words


@pytest.mark.dns
def test_mx_null_mx_is_a_successful_report(dns_server: Any) -> None:
    result = smtpscope("mx", "nullmx.test", "--resolver", dns_server.resolver_address)
    assert result.returncode == 0
    assert "Null MX" in result.stdout and "RFC 7505" in result.stdout


@pytest.mark.dns
def test_mx_nxdomain_exits_2_with_one_line(dns_server: Any) -> None:
    result = smtpscope("mx", "nosuch.example.test", "--resolver", dns_server.resolver_address)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("smtpscope mx: nosuch.example.test does not exist (NXDOMAIN)")
    assert "Traceback" not in result.stderr
    as_json = smtpscope(
        "mx", "nosuch.example.test", "--resolver", dns_server.resolver_address, "--json"
    )
    assert as_json.returncode == 2
    assert json.loads(as_json.stdout)["mx"]["status"] == "nxdomain"


def test_mx_silent_resolver_exits_2() -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        result = smtpscope(
            "mx", "example.test", "--resolver", f"127.0.0.1:{port}", "--timeout", "0.5"
        )
    assert result.returncode == 2
    assert "no answer for MX of example.test before the timeout" in result.stderr


def test_mx_refused_by_the_resolver_says_so() -> None:
    from tests.dns.responder import Zone, serve

    zone = "$ORIGIN d.test.\n@ 60 SOA ns hostmaster 1 60 60 60 60\n"
    with serve(Zone(zone)) as address:  # not a recursive resolver: refuses other zones
        text = smtpscope("mx", "other.test", "--resolver", address)
        as_json = smtpscope("mx", "other.test", "--resolver", address, "--json")
    assert text.returncode == as_json.returncode == 2
    assert "refused to answer" in text.stderr and "DNSSEC" not in text.stderr
    data = json.loads(as_json.stdout)
    assert (data["ok"], data["mx"]["status"]) == (False, "refused")


@pytest.mark.dns
def test_mx_of_an_idn_asks_for_and_shows_its_idna_2008_name() -> None:
    from tests.dns.responder import Zone, serve

    zone = ("$ORIGIN xn--strae-oqa.test.\n@ 60 SOA ns hostmaster 1 60 60 60 60\n"
            "@ 60 MX 10 mx.xn--strae-oqa.test.\nmx 60 A 192.0.2.8\n")
    with serve(Zone(zone)) as address:
        text = smtpscope("mx", "straße.test", "--resolver", address)
    assert text.returncode == 0, text.stderr
    assert "Mail DNS for straße.test = xn--strae-oqa.test" in text.stdout
    assert "192.0.2.8" in text.stdout


ALIASED_MX_ZONE = """\
$ORIGIN d.test.
@ 60 SOA ns hostmaster 1 60 60 60 60
@ 60 MX 10 mx.d.test.
mx 60 CNAME host.d.test.
host 60 A 192.0.2.7
_25._tcp.host 60 TLSA 3 1 1 """ + "ab" * 32 + "\n"


def test_mx_tlsa_of_an_aliased_mx_comes_from_the_validated_target() -> None:
    from tests.dns.responder import Zone, serve

    with serve(Zone(ALIASED_MX_ZONE, authenticated=True)) as address:
        text = smtpscope("mx", "d.test", "--resolver", address)
        as_json = smtpscope("mx", "d.test", "--resolver", address, "--json")
    assert text.returncode == as_json.returncode == 0, text.stderr
    (tlsa,) = json.loads(as_json.stdout)["tlsa"]
    assert (tlsa["host"], tlsa["name"], tlsa["base"]) == ("mx.d.test", "_25._tcp.host.d.test",
                                                          "host.d.test")
    assert tlsa["status"] == "ok" and tlsa["authenticated"]
    shown = " ".join(text.stdout.split())  # the terminal width wraps lines
    assert "_25._tcp.host.d.test" in shown and "alias of host.d.test" in shown


def test_mx_dns_names_are_escaped_exactly_once() -> None:
    from tests.dns.responder import Zone, serve
    from tests.dns.test_dns_resolver import HOSTILE_NAMES_ZONE

    with serve(Zone(HOSTILE_NAMES_ZONE)) as address:
        text = smtpscope("mx", "d.test", "--resolver", address)
        as_json = smtpscope("mx", "d.test", "--resolver", address, "--json")
    assert text.returncode == 0, text.stderr
    assert "\x1b" not in text.stdout  # no ESC reaches the terminal
    # visible() is the one escape: ESC as \x1b, a backslash as \\, an octet above 127 as \xNN;
    # not dnspython's \027 under it, nor an escape escaped again.
    assert "a\\x1b[2Jb.d.test" in text.stdout and "x\\\\y.d.test" in text.stdout
    assert "\\xc3\\xa9.d.test" in text.stdout
    assert "\\027" not in text.stdout and "\\\\x1b" not in text.stdout
    hosts = [h["host"] for h in json.loads(as_json.stdout)["mx"]["hosts"]]
    assert hosts == ["a\x1b[2Jb.d.test", "x\\y.d.test", "\ufffd\ufffd.d.test"]


@pytest.mark.parametrize(("domain", "shown"), [
    ("a\x1bb.t", "host name 'a\\x1bb.t' contains '\\x1b', which"),
    ("a\\b.t", "host name 'a\\\\b.t' contains '\\\\', which"),
])
def test_mx_target_error_quotes_the_name_escaped_once(domain: str, shown: str) -> None:
    result = smtpscope("mx", domain)
    assert result.returncode == 1 and shown in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["mx", "exa mple.test", "--resolver", "127.0.0.1"], "is not a domain name"),
        (["mx", "example.test", "--resolver", "dns.example"], "is not an IP address"),
        (["mx", "example.test", "--resolver", "127.0.0.1:0"], "bad port"),
        (["mx", "example.test", "--timeout", "-1"], "above 0 and at most 300"),
        (["mx", "example.test", "--timeout", "nan"], "above 0 and at most 300"),
        (["mx", "example.test", "--port", "70000"], "port 70000 is out of range (1-65535)"),
    ],
)
def test_mx_usage_errors_exit_1(args: list[str], message: str) -> None:
    result = smtpscope(*args)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_mx_help_documents_exit_codes() -> None:
    result = smtpscope("mx", "--help")
    assert result.returncode == 0
    assert "exit status" in result.stdout and "NXDOMAIN" in result.stdout


def test_render_escapes_and_shows_every_section() -> None:
    res = StaticResolver(
        {
            ("e.test", "MX"): [MXRecord(10, "mx.e.test")],
            ("mx.e.test", "A"): ["192.0.2.1"],
            ("e.test", "TXT"): [(b"v=spf1 \x1b[31m", b" -all")],
            ("_dmarc.e.test", "TXT"): [(b"v=DMARC1; p=none; rua=mailto:\x9b@e.test",)],
        }
    )
    report = mail_dns_report("e.test", res, description="table")
    out = io.StringIO()
    render(report, Console(file=out, width=200, force_terminal=True, color_system=None))
    text = out.getvalue()
    assert "\x1b[31m" not in text and "\x9b" not in text
    assert "\\x1b[31m" in text and "\\x9b" in text
    assert "no PTR record for 192.0.2.1" in text
    assert "no TLSA records" in text
    assert "MX hosts" in text and "Policies" in text


def test_mx_txt_bytes_that_are_not_utf8(monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    import smtpscope.mx
    from smtpscope.cli import main

    # A byte that is not UTF-8, a backslash and an ESC, as dnspython hands TXT strings over.
    res = StaticResolver({
        ("e.test", "MX"): [MXRecord(10, "mx.e.test")],
        ("e.test", "TXT"): [(b"v=spf1 a:x\xffy a:b\\c \x1b", b" -all")],
    })
    monkeypatch.setattr(smtpscope.mx, "resolver_for", lambda *_args, **_kw: res)
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["mx", "e.test", "--no-fetch"]) == 0
    out = capsys.readouterr().out
    assert "v=spf1 a:x\\xffy a:b\\\\c \\x1b -all" in out  # each byte escaped once
    out.encode("utf-8")  # printable: no byte left as a surrogate
    assert main(["mx", "e.test", "--no-fetch", "--json"]) == 0
    out = capsys.readouterr().out
    out.encode("utf-8")
    assert json.loads(out)["spf"]["records"] == ["v=spf1 a:x\ufffdy a:b\\c \x1b -all"]


def test_mx_shows_why_a_policy_record_is_invalid(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import smtpscope.mx
    from smtpscope.cli import main

    jsonschema = pytest.importorskip("jsonschema")
    res = StaticResolver({
        ("e.test", "MX"): [MXRecord(10, "mx.e.test")],
        ("e.test", "TXT"): [(b"v=spf1 inlcude:_spf.e.test a:\x1b[2J.e.test -all",)],
        ("_dmarc.e.test", "TXT"): [(b"v=DMARC1; p=rejct; rau=mailto:a@e.test",)],
    })
    monkeypatch.setattr(smtpscope.mx, "resolver_for", lambda *_args, **_kw: res)
    monkeypatch.setenv("COLUMNS", "300")
    assert main(["mx", "e.test", "--no-fetch"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out
    for line in (
        "term 'inlcude:_spf.e.test' is no SPF mechanism or modifier (did you mean 'include'?): "
        "the record is a permerror (RFC 7208 §4.6.1)",
        "term 'a:\\x1b[2J.e.test' holds a control character or a space other than SP",
        "p=rejct is not none, quarantine or reject (did you mean 'reject'?): with no valid rua= "
        "receivers apply no DMARC (RFC 7489 §6.6.3)",
        "tag 'rau' is no DMARC tag (did you mean 'rua'?): receivers ignore it (RFC 7489 §6.3)",
    ):
        assert line in out, line
    assert main(["mx", "e.test", "--no-fetch", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    schema = json.loads((ROOT / "smtpscope/schemas/mx.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(data)
    assert (data["spf"]["status"], data["dmarc"]["status"]) == ("invalid", "invalid")
    assert len(data["spf"]["warnings"]) == 2 and len(data["dmarc"]["warnings"]) == 2
    assert data["spf"]["warnings"][1].startswith("term 'a:\x1b[2J.e.test' holds a control")


def test_mx_cafile_that_is_a_directory_is_a_usage_error(tmp_path: Path) -> None:
    # Refused before any lookup: 192.0.2.1 (TEST-NET) would only time out.
    result = smtpscope("mx", "example.test", "--resolver", "192.0.2.1", "--cafile", str(tmp_path))
    assert result.returncode == 1
    assert f"--cafile {tmp_path} is a directory, not a file" in result.stderr


@pytest.mark.dns
@pytest.mark.peer
def test_mx_check_tls_tries_each_address_of_an_mx(dns_server: Any, mta: Any) -> None:
    # mx1.example.test is ::1 then 127.0.0.1; the harness may listen on the second only.
    args = ["mx", "example.test", "--resolver", dns_server.resolver_address, "--no-fetch",
            "--check-tls", "--port", str(mta.smtp), "--cafile", str(mta.ca_file)]
    result = smtpscope(*args, "--json")
    assert result.returncode == 0, result.stderr
    mx1 = {c["host"]: c for c in json.loads(result.stdout)["tls_check"]}["mx1.example.test"]
    assert mx1["error"] is None and mx1["version"].startswith("TLSv1")
    assert all(f["error_kind"] == "refused" for f in mx1["failed_before"])
    text = smtpscope(*args).stdout
    assert "Errno" not in text and f"mx1.example.test [{mx1['address']}]:" in text
