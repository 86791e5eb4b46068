"""probe's report says what became of the client certificate, from the typed JSON fields."""

from __future__ import annotations

import io
from typing import Any

import pytest

from smtpscope.cli.probe_report import render_plain, render_rich
from smtpscope.cli.probe_result import new_result


def _result(requested: bool | None, sent: bool | None, subject: str | None) -> dict[str, Any]:
    tls = {"version": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384", "bits": 256,
           "trust": "verified", "verified_name": "mx", "level": "may", "accepted": True,
           "peer_chain": [], "cert_requested": requested, "cert_sent": sent,
           "client_cert": subject}
    return {**new_result("mx"), "status": "success", "tls": tls}


def _rich(result: dict[str, Any]) -> str:
    from rich.console import Console

    buffer = io.StringIO()
    render_rich(result, Console(file=buffer, width=200, color_system=None))
    return buffer.getvalue()


@pytest.mark.parametrize(("typed", "said"), [
    ((True, False, None), "client certificate: none, but the server asked for one"),
    ((True, True, "CN=me"), "client certificate: sent (CN=me)"),
    ((False, False, "CN=me"), "client certificate: not sent, the server asked for none (CN=me)"),
    ((None, None, "CN=me"), "client certificate: offered (CN=me); whether the server asked "
     "is not known"),
])
def test_both_renderers_say_it_under_the_tls_line(typed: tuple[Any, ...], said: str) -> None:
    result = _result(*typed)
    assert f"\n    verification: Verified (chain and name mx) at level may\n    {said}\n" \
        in render_plain(result)
    assert f"    {said}\n" in _rich(result)


@pytest.mark.parametrize("typed", [(False, False, None), (None, None, None)])
def test_nothing_is_said_when_nobody_mentioned_one(typed: tuple[Any, ...]) -> None:
    result = _result(*typed)
    assert "client certificate" not in render_plain(result)
    assert "client certificate" not in _rich(result)


def test_the_subject_is_shown_escaped() -> None:
    # The subject comes from a file the user named; it still never reaches the terminal raw.
    result = _result(True, True, "CN=a\x1b[2J[bold]b[/bold]")
    for text in (render_plain(result), _rich(result)):
        assert "\x1b" not in text
        assert "client certificate: sent (CN=a\\x1b[2J[bold]b[/bold])" in text
