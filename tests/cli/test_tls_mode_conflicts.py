"""A TLS mode and a level (or two modes) that contradict each other are a usage error: the
session never goes out in cleartext that one of the options asked to refuse."""

from __future__ import annotations

import argparse

import pytest

from smtpscope.cli import tls_options, tui, tui_flags
from smtpscope.security.policy import PolicyError

PIN = "SHA256:" + "ab" * 32
# Port 1 refuses: had a contradiction gone through, the run would fail later, and otherwise.
TARGET = "127.0.0.1:1"

CONFLICTS = [
    (["--tls", "starttls", "--tls-level", "none"],
     "--tls-level none sends without TLS, and --tls starttls requires TLS"),
    (["-tlsc", "--tls-level", "none"], "--tls-level none sends without TLS, and -tlsc requires"),
    (["--tls", "none", "--tls-level", "secure"],
     "--tls-level secure requires TLS, and --tls none sends without it"),
    (["--no-tls", "--tls-level", "encrypt"], "--tls-level encrypt requires TLS, and --no-tls"),
    (["--no-tls", "--tls-fingerprint", PIN], "--tls-fingerprint requires TLS, and --no-tls"),
    (["--no-tls", "--tls", "implicit"], "--no-tls and --tls implicit contradict each other"),
    (["--tls", "--no-tls"], "--tls starttls and --no-tls contradict each other"),
    (["-tlso", "--tls-on-connect"], "-tlso and --tls-on-connect contradict each other"),
]


@pytest.mark.parametrize("command", ["send", "probe"])
@pytest.mark.parametrize(("flags", "message"), CONFLICTS)
def test_a_contradiction_is_a_usage_error(cli, command: str, flags: list[str],
                                          message: str) -> None:
    extra = ["--to", "bob@example.test"] if command == "send" else []
    result = cli(command, TARGET, *extra, *flags)
    assert result.code == 1, result
    assert message in result.err
    assert "refused" not in result.err.lower()  # nothing was tried


@pytest.mark.parametrize(("flags", "message"), CONFLICTS)
def test_the_tui_refuses_them_before_it_starts(flags: list[str], message: str) -> None:
    args = tui.build_parser().parse_args([TARGET, *flags])
    with pytest.raises(PolicyError) as caught:
        tui_flags.flags_from_args(args)
    assert message in str(caught.value)


@pytest.mark.parametrize("flags", [
    ["--tls", "auto", "--tls-level", "encrypt"],  # the level makes STARTTLS required
    ["--tls", "none", "--tls-level", "may"],
    ["--tls", "none", "--tls-level", "none"],
    ["--tls", "implicit", "--tls-level", "verify"],
    ["--tls", "starttls", "--tls", "starttls"],  # the same mode twice says one thing
    ["--no-tls", "--tls", "none"],
    ["--tls-level", "none"],
    ["--no-tls"],
])
def test_options_that_agree_pass(flags: list[str]) -> None:
    args = tui.build_parser().parse_args([TARGET, *flags])
    policy = tls_options.policy_from_args(argparse.Namespace(**{**vars(args), "cafile": None}),
                                          default_level="may")
    assert policy.level == (args.tls_level or "may")


@pytest.mark.parametrize("default_level", ["may", "verify"])  # probe's and the TUI's; send's
@pytest.mark.parametrize("mode", ["none", "starttls", "implicit", "auto"])
def test_a_default_level_never_contradicts_a_mode(default_level: str, mode: str) -> None:
    """The default level verifies TLS when there is TLS; it does not ask for TLS."""
    args = tui.build_parser().parse_args([TARGET, "--tls", mode])
    policy = tls_options.policy_from_args(argparse.Namespace(**{**vars(args), "cafile": None}),
                                          default_level=default_level)
    assert policy.level == default_level


@pytest.mark.parametrize(("flags", "target", "named"), [
    (["--tls", "starttls"], "{host}:{port}", "--tls starttls requires TLS"),
    (["--tls-level", "encrypt"], "{host}:{port}", "--tls-level encrypt requires TLS"),
    ([], "submission://{host}:{port}", "the target (submission://) requires TLS"),
])
def test_starttls_not_offered_names_what_required_it(cli, make_server, flags: list[str],
                                                     target: str, named: str) -> None:
    server = make_server()  # no STARTTLS
    result = cli("send", target.format(host=server.host, port=server.port), "--from",
                 "a@x.test", "--to", "b@y.test", *flags)
    assert result.code == 29  # TLS failed: swaks' code
    assert "does not advertise STARTTLS, and TLS is required" in result.err
    assert named in result.err
    if "--tls" not in flags:
        assert "--tls starttls" not in result.err  # an option the user never gave
    assert server.handler.messages == []


@pytest.mark.parametrize(("flags", "named"), [
    (["--tls", "starttls"], "--tls starttls"),
    (["--tls-level", "encrypt"], "--tls-level encrypt"),
])
def test_probe_names_what_required_tls_as_send_does(cli, make_server, flags: list[str],
                                                    named: str) -> None:
    server = make_server()  # no STARTTLS
    result = cli("probe", f"{server.host}:{server.port}", "--no-progress", *flags)
    assert result.code != 0
    assert f"STARTTLS not offered, and {named} requires TLS" in result.out
