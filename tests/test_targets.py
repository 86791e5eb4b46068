"""Target parsing: every accepted form, and a clear message for each typo."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from smtpscope.targets import Target, TargetError, check_domain, parse_target
from tests.value_pins import assert_frozen_value

ROOT = Path(__file__).resolve().parents[1]

VALID = [
    # text, host, port, security, mx_domain
    ("mail.example.com", "mail.example.com", 25, "auto", None),
    ("mail.example.com.", "mail.example.com.", 25, "auto", None),
    ("mail.example.com:2525", "mail.example.com", 2525, "auto", None),
    ("localhost", "localhost", 25, "auto", None),
    ("mx_1.example.com", "mx_1.example.com", 25, "auto", None),
    ("127.0.0.1", "127.0.0.1", 25, "auto", None),
    ("127.0.0.1:2525", "127.0.0.1", 2525, "auto", None),
    ("host:465", "host", 465, "implicit", None),
    ("[2001:db8::1]:2525", "2001:db8::1", 2525, "auto", None),
    ("[2001:db8::1]", "2001:db8::1", 25, "auto", None),
    ("[IPv6:::1]:26", "::1", 26, "auto", None),
    ("2001:db8::1", "2001:db8::1", 25, "auto", None),
    ("::1", "::1", 25, "auto", None),
    ("  mail.example.com  ", "mail.example.com", 25, "auto", None),
    ("smtp://mail.example.com", "mail.example.com", 25, "auto", None),
    ("smtp://mail.example.com:2525/", "mail.example.com", 2525, "auto", None),
    ("SMTP://Mail.Example.com", "Mail.Example.com", 25, "auto", None),
    ("smtps://mail.example.com", "mail.example.com", 465, "implicit", None),
    ("smtps://[::1]:2465", "::1", 2465, "implicit", None),
    ("submission://mail.example.com", "mail.example.com", 587, "starttls", None),
    ("submissions://mail.example.com", "mail.example.com", 465, "implicit", None),
    ("lmtp://127.0.0.1", "127.0.0.1", 24, "auto", None),
    ("alice@example.test", None, 25, "auto", "example.test"),
    ("@example.test", None, 25, "auto", "example.test"),
    ("@example.test.", None, 25, "auto", "example.test"),
    ("bob@[127.0.0.1]", "127.0.0.1", 25, "auto", None),
    ("bob@[IPv6:::1]", "::1", 25, "auto", None),
    ("bücher.example", "bücher.example", 25, "auto", None),
]


@pytest.mark.parametrize(("text", "host", "port", "security", "mx_domain"), VALID)
def test_valid_targets(
    text: str, host: str | None, port: int, security: str, mx_domain: str | None
) -> None:
    target = parse_target(text)
    assert (target.host, target.port, target.security, target.mx_domain) == (
        host,
        port,
        security,
        mx_domain,
    )
    assert target.original == text


def test_lmtp_and_mailbox_fields() -> None:
    assert parse_target("lmtp://h").lmtp is True
    assert parse_target("smtp://h").lmtp is False
    assert parse_target("alice@example.test").mailbox == "alice@example.test"
    assert parse_target("@example.test").mailbox is None


INVALID = [
    ("", "empty target"),
    ("   ", "empty target"),
    ("host:", "missing port after ':'"),
    ("host:abc", "port 'abc' in 'host:abc' is not a number"),
    ("host:0", "port 0 in 'host:0' is out of range (1-65535)"),
    ("host:65536", "port 65536 in 'host:65536' is out of range"),
    ("host:-1", "port '-1' in 'host:-1' is not a number"),
    ("[2001:db8::1", "unbalanced brackets in '[2001:db8::1': missing ']'"),
    ("2001:db8::1]:25", "unbalanced brackets"),
    ("[2001:db8::1]25", "unexpected '25' after ']'"),
    ("[not-an-ip]:25", "'not-an-ip' inside brackets is not an IP address"),
    ("2001:db8::zz", "looks like an IPv6 address but is not one"),
    ("smpt://mail.example.com", "unknown scheme 'smpt'; did you mean smtp?"),
    ("smtsp://mail.example.com", "unknown scheme 'smtsp'; did you mean smtps?"),
    ("submision://h", "unknown scheme 'submision'; did you mean submission?"),
    ("http://mail.example.com", "unknown scheme 'http'; known schemes: smtp://"),
    ("smtp:mail.example.com", "missing '//': did you mean smtp://mail.example.com?"),
    ("smtp://", "missing host after 'smtp://'"),
    ("smtp://host/path", "unexpected path"),
    ("smtp://user@host", "has a user part"),
    ("mail example.com", "contains a space"),
    ("mail.example.com :25", "contains a space"),
    ("mail..example.com", "empty label"),
    ("-bad.example.com", "starting or ending with '-'"),
    ("bad!.example.com", "contains '!'"),
    (":25", "missing host before ':25'"),
    ("alice@", "missing domain after '@'"),
    ("@example.test:2525", "use @example.test with --port 2525"),
    ("bob@127.0.0.1", "names an IP address, not a mail domain: write bob@[127.0.0.1] (an"),
    ("@::1", "not a mail domain: write @[IPv6:::1] (an address literal, RFC 5321 §4.1.3)"),
    ("bob@2001:db8::1", "write bob@[IPv6:2001:db8::1] (an address literal"),
    ("bob@127.0.0.1:2525", "write bob@[127.0.0.1] (an address literal, RFC 5321 §4.1.3) and give "
     "the port with --port"),
    ("a" * 64 + ".example", "label longer than 63"),
]


@pytest.mark.parametrize(("text", "message"), INVALID)
def test_invalid_targets(text: str, message: str) -> None:
    with pytest.raises(TargetError) as info:
        parse_target(text)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("text", "port", "security"),
    [
        ("mail.example.com", 2525, "auto"),
        ("mail.example.com:26", 2525, "auto"),
        ("smtps://mail.example.com", 2465, "implicit"),
        ("submission://mail.example.com:587", 2587, "starttls"),
        ("@example.test", 2525, "auto"),
        ("[::1]:25", 2525, "auto"),
        ("mail.example.com", 465, "implicit"),
    ],
)
def test_port_override_applies_to_every_form(text: str, port: int, security: str) -> None:
    target = parse_target(text, port_override=port)
    assert (target.port, target.security) == (port, security)


@pytest.mark.parametrize("port", [0, 65536, -5])
def test_port_override_out_of_range(port: int) -> None:
    with pytest.raises(TargetError, match="out of range"):
        parse_target("h", port_override=port)


def test_target_is_frozen_and_displays() -> None:
    target = parse_target("[::1]:2525")
    with pytest.raises(AttributeError):
        target.port = 1  # type: ignore[misc]
    assert target.display == "[::1]:2525"
    assert target.is_ip
    assert not parse_target("mx.example.com").is_ip
    mx = parse_target("@example.test")
    assert mx.routes_by_mx and mx.display == "MX of example.test:25"
    assert isinstance(mx, Target)


def test_target_is_a_value() -> None:
    target = Target("mx", 25, "auto", None, "mx")
    assert (target.lmtp, target.mailbox, target.unix_path) == (False, None, None)
    assert repr(target) == ("Target(host='mx', port=25, security='auto', mx_domain=None, "
                            "original='mx', lmtp=False, mailbox=None, unix_path=None)")
    assert target == parse_target("mx") and target != parse_target("mx:26")
    assert_frozen_value(parse_target("user@example.test"), (
        "host", "port", "security", "mx_domain", "original", "lmtp", "mailbox", "unix_path"))


def test_check_domain() -> None:
    assert check_domain("example.test.") == "example.test"
    assert check_domain("alice@example.test") == "example.test"
    with pytest.raises(TargetError):
        check_domain("exa mple.test")
    with pytest.raises(TargetError):
        check_domain("")
    with pytest.raises(TargetError, match="is an IP address, not a mail domain"):
        check_domain("192.0.2.1")


def test_importing_targets_and_mx_does_not_import_dnspython() -> None:
    code = (
        "import sys, smtpscope.targets, smtpscope.mx, smtpscope.cli.mx\n"
        "from smtpscope.mx import route\n"
        "from smtpscope.targets import parse_target\n"
        "route(parse_target('127.0.0.1:2525'))\n"
        "route(parse_target('[::1]'))\n"
        "assert 'dns' not in sys.modules, 'dnspython was imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


# -- UNIX sockets ---------------------------------------------------------------------------


def test_unix_and_lmtp_socket_targets() -> None:
    from smtpscope.target_options import options_for

    smtp = parse_target("unix:/var/spool/smtp.sock")
    assert (smtp.unix_path, smtp.lmtp, smtp.host) == ("/var/spool/smtp.sock", False, None)
    lmtp = parse_target("lmtp:/run/dovecot/lmtp")
    assert (lmtp.unix_path, lmtp.lmtp) == ("/run/dovecot/lmtp", True)
    assert lmtp.display == "lmtp:/run/dovecot/lmtp"
    # Two slashes stay a TCP URL; a number after the colon stays a port.
    assert parse_target("lmtp://mail.test").unix_path is None
    assert parse_target("lmtp:24").unix_path is None
    options, label = options_for("lmtp:/run/dovecot/lmtp")
    assert options.unix_path == "/run/dovecot/lmtp" and options.lmtp
    assert options.endpoint == label == "lmtp:/run/dovecot/lmtp"


def test_mx_routing_lookups_wait_no_longer_than_the_run_timeout() -> None:
    import socket
    import time

    from smtpscope.target_options import TargetProblem, options_for

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))  # bound, never answers
        resolver = f"127.0.0.1:{silent.getsockname()[1]}"
        start = time.monotonic()
        with pytest.raises(TargetProblem, match="before the timeout"):
            options_for("a@mx.test", resolver=resolver, timeout=0.3)
        assert time.monotonic() - start < 2  # the lookup's own default would be 5 s


def test_a_route_error_quotes_dns_names_escaped_once() -> None:
    from smtpscope.target_options import TargetProblem, options_for
    from tests.dns.responder import Zone, serve

    zone = "$ORIGIN d.test.\n@ 60 SOA ns h 1 60 60 60 60\n@ 60 MX 10 a\\027b\\\\c.d.test.\n"
    with serve(Zone(zone)) as resolver, pytest.raises(TargetProblem) as caught:
        options_for("@d.test", resolver=resolver, timeout=3)
    message = str(caught.value)  # no address for the MX: its name is in the message
    assert "\x1b" not in message and "a\\x1bb\\\\c.d.test" in message


def test_pipe_options() -> None:
    from smtpscope.target_options import TargetProblem, options_for

    options, label = options_for("", pipe="sendmail -bs")
    assert options.pipe_command == "sendmail -bs" and label == "pipe:sendmail -bs"
    with pytest.raises(TargetProblem):
        options_for("", pipe="  ")


def test_the_run_timeout_bounds_each_reply_and_each_connection_attempt() -> None:
    from smtpscope.target_options import options_for

    default, _ = options_for("127.0.0.1:2525")
    assert (default.reply_timeout, default.connect_timeout) == (None, 30.0)
    short, _ = options_for("127.0.0.1:2525", timeout=7.5)
    assert (short.reply_timeout, short.connect_timeout) == (7.5, 7.5)
    long, _ = options_for("127.0.0.1:2525", timeout=600)
    assert (long.reply_timeout, long.connect_timeout) == (600, 30.0)  # connecting stays short
    piped, _ = options_for("", pipe="sendmail -bs", timeout=9)
    assert piped.reply_timeout == 9


@pytest.mark.parametrize(("text", "problem"), [
    ("0", "port 0 is out of range (1-65535)"),
    ("99999", "port 99999 is out of range (1-65535)"),
    ("25x", "port '25x' is not a number"),
    ("\x1b[2J", "port '\\x1b[2J' is not a number"),
])
def test_a_typed_port_is_checked_as_the_command_line_checks_it(text: str, problem: str) -> None:
    import argparse

    from smtpscope.cli.common import port_from, port_number

    with pytest.raises(ValueError) as caught:
        port_from(text)
    assert str(caught.value) == problem
    with pytest.raises(argparse.ArgumentTypeError, match=re.escape(problem)):
        port_number(text)
    assert port_from("2525") == 2525
