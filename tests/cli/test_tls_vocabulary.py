"""One --tls vocabulary on every command and the TUI, old spellings kept as aliases."""

from __future__ import annotations

import json

import pytest

from smtpscope.cli import build_parser
from smtpscope.cli import tui as tui_cli

SPELLINGS = [
    (["--tls", "none"], "none"), (["--tls", "starttls"], "starttls"),
    (["--tls", "implicit"], "implicit"), (["--tls", "auto"], "auto"),
    (["--tls", "plain"], "none"), (["--no-tls"], "none"), (["--tls"], "starttls"),
    (["--tls-on-connect"], "implicit"), (["-tlso"], "auto"), ([], None),
]


@pytest.mark.parametrize(("flags", "mode"), SPELLINGS)
def test_every_command_reads_the_same_tls_words(flags: list[str], mode: str | None) -> None:
    send = build_parser("send").parse_args(["send", "h", "--from", "a", "--to", "b", *flags])
    probe = build_parser("probe").parse_args(["probe", "h", *flags])
    tui = tui_cli.build_parser().parse_args(["h", *flags])
    assert send.tls == probe.tls == tui.tls == mode


def test_unknown_tls_word_is_a_usage_error(cli) -> None:
    result = cli("probe", "127.0.0.1:9", "--tls", "sometimes")
    assert result.code == 1 and "invalid TLS mode 'sometimes'" in result.err


@pytest.mark.peer
def test_probe_tls_starttls_required_on_a_port_without_it(mta, cli) -> None:
    result = cli("probe", f"{mta.host}:{mta.small}", "--tls", "starttls", "--json")
    data = json.loads(result.out)
    assert result.code == 29 and data["status"] == "tls-error"
    assert data["starttls"]["offered"] is False


@pytest.mark.peer
def test_probe_tls_none_stays_in_cleartext(mta, cli) -> None:
    result = cli("probe", f"{mta.host}:{mta.smtp}", "--tls", "none", "--json")
    data = json.loads(result.out)
    assert result.code == 0 and data["tls"] is None
    assert data["starttls"] == {"offered": True, "attempted": False, "reply": None}


@pytest.mark.peer
def test_send_tls_implicit_alias_against_postfix(mta, cli) -> None:
    result = cli("send", f"{mta.host}:{mta.smtps}", "--cafile", str(mta.ca_file), "-tlsc",
                 "--from", mta.address("bob"), "--to", mta.address("alice"),
                 "--quit-after", "ehlo")
    assert result.code == 0, result.err
    assert "with implicit TLS" in result.out
