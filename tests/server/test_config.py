"""Settings of the debug server: --fail specs, users, listen checks, contradictions."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from smtpscope.server.config import (
    ConfigError,
    ServerConfig,
    check_listen_host,
    load_users,
    parse_user,
    resolve_listen_host,
)
from smtpscope.server.faults import Fault, FaultInjector, FaultSpecError, parse_fault


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("RCPT:451:0.3", Fault("RCPT", 451, 0.3)),
        ("auth:535", Fault("AUTH", 535, 1.0)),
        ("DATA:552", Fault("DATA", 552, 1.0)),
        ("MAIL:421:1", Fault("MAIL", 421, 1.0)),
        ("CONNECT:554:0", Fault("CONNECT", 554, 0.0)),
    ],
)
def test_parse_fault(spec: str, expected: Fault) -> None:
    assert parse_fault(spec) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("RCPT", "expected STAGE:CODE[:PROBABILITY]"),
        ("BOGUS:451", "unknown stage 'BOGUS'; stages are CONNECT"),
        ("RCPT:abc", "code 'abc' is not a number"),
        ("RCPT:250", "code 250 is not a failure"),
        ("RCPT:451:x", "probability 'x' is not a number"),
        ("RCPT:451:1.5", "must be between 0 and 1"),
        ("RCPT:451:0.1:9", "expected STAGE:CODE[:PROBABILITY]"),
    ],
)
def test_parse_fault_errors_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(FaultSpecError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_fault(spec)


def test_fault_reply_has_code_enhanced_code_and_spec() -> None:
    assert parse_fault("AUTH:535").reply() == (
        "535 5.7.8 Injected failure (smtpscope --fail AUTH:535)"
    )
    assert parse_fault("RCPT:451:0.3").reply().startswith("451 4.3.0 ")
    assert parse_fault("VRFY:599").reply().startswith("599 5.0.0 ")


def test_injector_probabilities() -> None:
    never = FaultInjector((Fault("RCPT", 451, 0.0),))
    always = FaultInjector((Fault("RCPT", 451, 1.0),))
    assert all(never.check("RCPT") is None for _ in range(200))
    assert all(always.check("RCPT") is not None for _ in range(200))
    assert always.check("MAIL") is None
    half = FaultInjector((Fault("RCPT", 451, 0.5),), random.Random(7))
    fired = sum(half.check("RCPT") is not None for _ in range(1000))
    assert 400 < fired < 600


def test_injector_first_matching_fault_wins() -> None:
    injector = FaultInjector((Fault("RCPT", 550, 0.0), Fault("RCPT", 452, 1.0)))
    assert injector.check("RCPT") == Fault("RCPT", 452, 1.0)


def test_parse_user() -> None:
    assert parse_user("bob:pa:ss") == ("bob", "pa:ss")
    for bad in ("bob", "bob:", ":pw", "b b:pw"):
        with pytest.raises(ConfigError):
            parse_user(bad)


def test_load_users_skips_comments_and_never_echoes_passwords(tmp_path: Path) -> None:
    good = tmp_path / "users"
    good.write_text("# test users\n\nalice:one\nbob:two:three\n", encoding="utf-8")
    assert load_users(good) == {"alice": "one", "bob": "two:three"}
    bad = tmp_path / "bad"
    bad.write_text("alice:one\nhunter2-without-colon\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="line 2") as info:
        load_users(bad)
    assert "hunter2" not in str(info.value)
    with pytest.raises(ConfigError, match="cannot read users file"):
        load_users(tmp_path / "missing")


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "[::1]", "localhost", "127.0.0.2"])
def test_loopback_hosts_are_allowed(host: str) -> None:
    check_listen_host(host, listen_any=False)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])
def test_non_loopback_host_needs_listen_any(host: str) -> None:
    with pytest.raises(ConfigError, match="--listen-any"):
        check_listen_host(host, listen_any=False)
    check_listen_host(host, listen_any=True)


def test_resolve_listen_host_gives_one_address() -> None:
    assert resolve_listen_host("localhost") == "127.0.0.1"
    assert resolve_listen_host("[::1]") == "::1"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"port": None, "tls_port": None}, "nothing to listen on"),
        ({"require_tls": True, "starttls": False}, "--require-tls needs TLS"),
        ({"require_auth": True}, "--require-auth needs at least one user"),
        ({"mechanisms": ("PLAIN", "NTLM")}, "unknown AUTH mechanism 'NTLM'"),
        ({"cert": Path("c.pem")}, "--cert and --key go together"),
        ({"port": 40125, "tls_port": 40125}, "--port and --tls-port are both 40125"),
        ({"host": "0.0.0.0"}, "--listen-any"),
        # The greeting's domain and the Received line's "by": one that would break them.
        ({"hostname": "mx.test\r\nX-Evil: 1"}, r"--hostname mx.test\\x0d\\x0aX-Evil: 1 is not"),
        ({"hostname": "mx test"}, "is not a domain name or address literal"),
        ({"hostname": "bücher.example"}, "xn-- form"),
    ],
)
def test_contradictory_settings_are_refused(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ServerConfig(**settings).validate()  # type: ignore[arg-type]
