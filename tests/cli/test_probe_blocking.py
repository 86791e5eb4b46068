"""A lone target is probed on a blocking socket, without asyncio: the same report as the
asyncio path gives, for every outcome, and asyncio never loaded."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from smtpscope.cli import probe as probe_module
from tests.cli.conftest import free_port
from tests.peers.fixtures import peers_required
from tests.protocol.servers import GMAIL_RATE_LIMITED

ROOT = Path(__file__).resolve().parents[2]


def _report(cli: Any, *args: str) -> tuple[int, dict[str, Any]]:
    result = cli("probe", *args, "--json", "--no-progress")
    [data] = [json.loads(line) for line in result.out.splitlines()]
    data.pop("timings")
    return result.code, data


def both_ways(cli: Any, monkeypatch: pytest.MonkeyPatch, *args: str) -> dict[str, Any]:
    """The report of the blocking run, checked equal (timings aside) to the asyncio run's."""
    used: list[bool] = []
    real = probe_module.probe

    async def spy(target: str, args_: Any, *, blocking: bool = False) -> dict[str, Any]:
        used.append(blocking)
        return await real(target, args_, blocking=blocking)

    monkeypatch.setattr(probe_module, "probe", spy)
    code, blocking = _report(cli, *args)
    assert used == [True]
    monkeypatch.setattr(probe_module, "_run_one", lambda targets, args_: None)
    again, looped = _report(cli, *args)
    assert used == [True, False]
    assert (code, blocking) == (again, looped)
    blocking["exit"] = code
    return blocking


def test_starttls_verified(cli, monkeypatch, make_server) -> None:
    server = make_server(tls="starttls")
    data = both_ways(cli, monkeypatch, server.target, "--cafile", server.cafile)
    assert data["status"] == "success" and data["exit"] == 0
    assert data["tls"]["trust"] == "verified" and data["tls"]["version"]
    assert data["ehlo"]["tls"]["code"] == 250 and data["starttls"]["reply"]["code"] == 220


def test_untrusted_certificate_is_reported_and_the_probe_goes_on(cli, monkeypatch,
                                                                  make_server) -> None:
    server = make_server(tls="starttls")
    data = both_ways(cli, monkeypatch, server.target)  # the system store lacks the test CA
    assert data["status"] == "success" and data["tls"]["trust"] == "untrusted"
    assert data["tls"]["peer_chain"][0]["spki_sha256"]


def test_verify_level_refuses_the_untrusted_certificate(cli, monkeypatch, make_server) -> None:
    server = make_server(tls="starttls")
    data = both_ways(cli, monkeypatch, server.target, "--tls-level", "verify")
    assert data["status"] == "tls-error" and data["stage"] == "tls" and data["exit"] == 29
    assert data["tls"]["trust"] == "untrusted"


def test_implicit_tls(cli, monkeypatch, make_server) -> None:
    server = make_server(tls="implicit")
    data = both_ways(cli, monkeypatch, f"smtps://{server.host}:{server.port}",
                     "--cafile", server.cafile)
    assert data["status"] == "success" and data["tls"]["trust"] == "verified"
    assert data["ehlo"]["tls"]["code"] == 250 and not data["starttls"]["attempted"]


def test_plain_server_without_starttls(cli, monkeypatch, make_server) -> None:
    server = make_server()
    data = both_ways(cli, monkeypatch, server.target)
    assert data["status"] == "success" and data["tls"] is None
    assert data["starttls"] == {"offered": False, "attempted": False, "reply": None}


def test_refused_connection(cli, monkeypatch) -> None:
    data = both_ways(cli, monkeypatch, f"127.0.0.1:{free_port()}", "--timeout", "2")
    assert data["status"] == "connection-refused" and data["exit"] == 2 and data["hint"]


def test_silent_server_times_out_at_the_banner(cli, monkeypatch, scripted_peer) -> None:
    port = scripted_peer(lambda stream: stream.read(1))  # says nothing until we hang up
    data = both_ways(cli, monkeypatch, f"127.0.0.1:{port}", "--timeout", "0.3")
    assert (data["status"], data["stage"]) == ("timeout", "banner")
    assert "smtps://" in data["hint"]  # a silent port may want TLS first


def _serve(*replies: bytes, after: bytes = b"") -> Callable[[Any], None]:
    """Banner, then one reply to each line read; ``after`` written once they are done."""
    def script(stream: Any) -> None:
        stream.write(replies[0])
        for reply in replies[1:]:
            if not stream.readline():
                return
            stream.write(reply)
        if after:
            stream.write(after)
        stream.readline()

    return script


@pytest.mark.parametrize(("replies", "status", "stage"), [
    ((b"554 5.7.1 no thanks\r\n",), "rejected", "banner"),
    ((b"220 hi\r\n", b"500 what\r\n"), "rejected", "ehlo"),
    ((b"220 hi\r\n", b"250-hi\r\n250 STARTTLS\r\n", b"454 4.7.0 TLS not available\r\n"),
     "tls-error", "starttls"),
    ((b"220 hi\r\n", b"421 4.3.2 going down\r\n"), "rejected", "ehlo"),
    ((b"220 hi\r\n", b"HTTP/1.1 400 Bad Request\r\n"), "protocol-error", "ehlo"),
    ((b"220 hi\r\n",), "closed", "ehlo"),
    ((b"220 hi\r\n", b"250-hi\r\n250 STARTTLS\r\n",
      b"220 go ahead\r\n250 injected before the handshake\r\n"), "tls-error", "tls"),
], ids=["banner-554", "ehlo-500", "starttls-454", "ehlo-421", "not-smtp", "hang-up",
        "injection"])
def test_refusals_and_hostile_servers(cli, monkeypatch, scripted_peer, replies, status,
                                      stage) -> None:
    port = scripted_peer(_serve(*replies))
    data = both_ways(cli, monkeypatch, f"127.0.0.1:{port}", "--timeout", "2")
    assert (data["status"], data["stage"]) == (status, stage), data["error"]
    if len(replies) == 3 and b"injected" in replies[2]:
        assert data["starttls"]["reply"]["warnings"]  # the injection is named on the 220


def test_a_rate_limit_421_to_ehlo_is_a_temporary_refusal_in_its_own_words(
        cli, monkeypatch, scripted_peer) -> None:
    """Gmail's multi-line 421 to EHLO: refused for now, not a protocol error; the report
    shows why (the lines), says it is temporary, and does not call STARTTLS unoffered."""
    port = scripted_peer(_serve(b"220 mx.google.com ESMTP - gsmtp\r\n", GMAIL_RATE_LIMITED))
    data = both_ways(cli, monkeypatch, f"127.0.0.1:{port}", "--timeout", "2")
    assert (data["status"], data["stage"]) == ("rejected", "ehlo")
    assert "temporary" in data["hint"]
    result = cli("probe", f"127.0.0.1:{port}", "--timeout", "2", "--no-progress")
    assert result.code == 22
    assert "  EHLO: 421 4.7.0 rate limited. Please visit\n" in result.out
    assert "  EHLO: 421 4.7.0 review our Bulk Email Senders Guidelines." in result.out
    assert "STARTTLS: not offered" not in result.out
    assert "try again later" in result.err
    # A permanent refusal of the greeting is no less a refusal, but not "try later".
    port = scripted_peer(_serve(b"554 5.7.1 no thanks\r\n"))
    data = json.loads(cli("probe", f"127.0.0.1:{port}", "--timeout", "2", "--json").out)
    assert (data["status"], data["hint"]) == ("rejected", None)


def test_a_success_other_than_220_to_starttls_is_no_refusal(cli, monkeypatch,
                                                              scripted_peer) -> None:
    """250 to STARTTLS: no answer RFC 3207 knows, and TLS is not started; not "refused"."""
    port = scripted_peer(_serve(b"220 hi\r\n", b"250-hi\r\n250 STARTTLS\r\n",
                                b"250 2.0.0 Ready to start TLS\r\n"))
    data = both_ways(cli, monkeypatch, f"127.0.0.1:{port}", "--timeout", "2")
    assert (data["status"], data["stage"]) == ("tls-error", "starttls")
    assert data["error"].startswith("STARTTLS answered 250, not RFC 3207's 220: TLS not started")
    port = scripted_peer(_serve(b"220 hi\r\n", b"250-hi\r\n250 STARTTLS\r\n",
                                b"454 4.7.0 TLS not available\r\n"))
    data = json.loads(cli("probe", f"127.0.0.1:{port}", "--timeout", "2", "--json").out)
    assert data["error"] == "STARTTLS refused with 454"


def test_refused_starttls_reply_keeps_its_exact_bytes(cli, monkeypatch, scripted_peer) -> None:
    refusal = b"454 4.7.0 TLS n\xe9 \xff\r\n"
    ehlo = b"250-h\xe9\r\n250 STARTTLS\r\n"
    port = scripted_peer(_serve(b"220 hi\r\n", ehlo, refusal))
    data = both_ways(cli, monkeypatch, f"127.0.0.1:{port}", "--timeout", "2")
    reply = data["starttls"]["reply"]
    assert reply["raw"] == "454 4.7.0 TLS n\ufffd \ufffd\r\n"  # the text, as before
    assert base64.b64decode(reply["raw_base64"], validate=True) == refusal
    assert base64.b64decode(data["ehlo"]["plain"]["raw_base64"], validate=True) == ehlo


def test_hang_up_after_the_starttls_reply(cli, monkeypatch, scripted_peer) -> None:
    def script(stream: Any) -> None:
        stream.write(b"220 hi\r\n")
        stream.readline()
        stream.write(b"250-hi\r\n250 STARTTLS\r\n")
        stream.readline()
        stream.write(b"220 go ahead\r\n")
        time.sleep(0.1)  # closed before the client's hello arrives

    data = both_ways(cli, monkeypatch, f"127.0.0.1:{scripted_peer(script)}", "--timeout", "2")
    assert (data["status"], data["stage"]) == ("tls-error", "tls")


def test_lone_probe_never_loads_asyncio_and_several_do(make_server) -> None:
    server = make_server(tls="starttls")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(ROOT)
    code = ("import sys\nfrom smtpscope.cli import main\n"
            "code = main(sys.argv[1:])\n"
            "print('asyncio' in sys.modules, code)\n")
    one = [sys.executable, "-c", code, "probe", server.target, "--cafile", server.cafile]
    out = subprocess.run(one, capture_output=True, text=True, env=env, check=False,
                         timeout=60)
    assert out.stdout.splitlines()[-1] == "False 0", out.stderr
    two = [*one[:4], server.target, *one[4:]]
    out = subprocess.run(two, capture_output=True, text=True, env=env, check=False,
                         timeout=60)
    assert out.stdout.splitlines()[-1] == "True 0", out.stderr


@pytest.mark.peer
@pytest.mark.parametrize("listener", ["smtp", "unknownca", "wrongname", "smtps"])
def test_real_postfix_gives_the_same_report_both_ways(cli, monkeypatch, mta,
                                                      listener: str) -> None:
    if listener not in mta.ports:
        why = f"the harness has no {listener!r} listener: restart it (tests/peers/mta.py start)"
        if peers_required():
            pytest.fail(why)
        pytest.skip(why)
    scheme = "smtps://" if listener == "smtps" else ""
    data = both_ways(cli, monkeypatch, f"{scheme}{mta.host}:{mta.ports[listener]}",
                     "--cafile", str(mta.ca_file))
    assert data["status"] == "success"
    trust = {"smtp": "verified", "unknownca": "untrusted", "wrongname": "trusted",
             "smtps": "verified"}[listener]
    assert data["tls"]["trust"] == trust


@pytest.mark.parametrize("blocking", [True, False], ids=["blocking", "asyncio"])
def test_our_certificate_check_is_timed_apart_from_the_server(cli, monkeypatch, make_server,
                                                              blocking: bool) -> None:
    # Reading and judging the chain is smtpscope's time: after STARTTLS the server waits for
    # our EHLO meanwhile, so neither step around it may count it; cert_check does.
    from smtpscope.security.policy import TLSPolicy

    real = TLSPolicy.evaluate

    def slow(self: TLSPolicy, *args: Any, **kwargs: Any) -> Any:
        time.sleep(0.4)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(TLSPolicy, "evaluate", slow)
    if not blocking:
        monkeypatch.setattr(probe_module, "_run_one", lambda targets, args_: None)
    server = make_server(tls="starttls")
    result = cli("probe", server.target, "--cafile", server.cafile, "--json")
    timings = json.loads(result.out)["timings"]
    assert timings["cert_check"] >= 400
    assert timings["starttls"] < 300 and timings["ehlo_tls"] < 300, timings
    assert timings["total"] >= 400
    implicit = make_server(tls="implicit")
    result = cli("probe", f"smtps://{implicit.host}:{implicit.port}", "--cafile",
                 implicit.cafile, "--json")
    timings = json.loads(result.out)["timings"]
    # With implicit TLS the server may send its banner during our check: the connection is
    # timed to the handshake, the banner from there (never less than the server took).
    assert timings["cert_check"] >= 400 and timings["connect"] < 300, timings
    assert timings["banner"] >= 400, timings
