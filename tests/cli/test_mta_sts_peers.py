"""MTA-STS against a loopback HTTPS policy server, the harness DNS zone and the Postfix harness."""

from __future__ import annotations

import http.server
import json
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from smtpscope.security.mtasts import TEST_PORT_ENV
from tests.cli.test_tls_peers import tls_zone_or_skip

pytestmark = pytest.mark.peer

POLICIES = {
    "enforce": "version: STSv1\nmode: enforce\nmx: mx.tls.test\nmax_age: 86400\n",
    "testing": "version: STSv1\r\nmode: testing\r\nmx: *.tls.test\r\nmax_age: 604800\r\n",
    "nomatch": "version: STSv1\nmode: enforce\nmx: *.elsewhere.test\nmax_age: 86400\n",
}


class _Policies(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        host = (self.headers.get("Host") or "").split(":")[0]
        sub = host.removeprefix("mta-sts.").removesuffix(".tls.test")
        body = POLICIES.get(sub, "").encode()
        if self.path != "/.well-known/mta-sts.txt" or not body:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def policy_server(mta: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Serve the policies over HTTPS on loopback; returns a CA file trusting it and the MTA."""
    ca = trustme.CA()
    cert = ca.issue_cert(*(f"mta-sts.{sub}.tls.test" for sub in POLICIES))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Policies)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv(TEST_PORT_ENV, str(server.server_address[1]))
    bundle = tmp_path / "cas.pem"
    bundle.write_bytes(ca.cert_pem.bytes() + Path(mta.ca_file).read_bytes())
    try:
        yield str(bundle)
    finally:
        server.shutdown()
        server.server_close()


def _sts(cli: Any, domain: str, mta: Any, dns_server: Any, cafile: str) -> dict[str, Any]:
    tls_zone_or_skip(mta, dns_server)
    result = cli("probe", f"@{domain}", "--resolver", dns_server.resolver_address, "--port",
                 str(mta.smtp), "--cafile", cafile, "--json")
    data = json.loads(result.out)
    assert result.code == 0, data
    return dict(data["mta_sts"])


def test_enforce_delivers_to_the_matching_mx_only(mta, dns_server, cli, policy_server) -> None:
    sts = _sts(cli, "enforce.tls.test", mta, dns_server, policy_server)
    assert sts["fetched"] and sts["http_status"] == 200 and sts["policy_id"] == "20261130T000000"
    policy = sts["policy"]
    assert (policy["mode"], policy["mx"], policy["max_age"]) == ("enforce", ["mx.tls.test"], 86400)
    assert sts["tls_rpt"] == ["mailto:tlsrpt@tls.test"]
    by_host = {v["host"]: v for v in sts["mx_verdicts"]}
    assert by_host["mx.tls.test"]["enforce_delivers"] is True
    assert by_host["mx.tls.test"]["certificate"] == "valid for mx.tls.test"
    assert by_host["other.tls.test"]["enforce_delivers"] is False
    assert "matches no mx: pattern" in by_host["other.tls.test"]["verdict"]


def test_testing_mode_delivers_anyway(mta, dns_server, cli, policy_server) -> None:
    sts = _sts(cli, "testing.tls.test", mta, dns_server, policy_server)
    assert sts["policy"]["mode"] == "testing" and sts["policy"]["mx"] == ["*.tls.test"]
    by_host = {v["host"]: v for v in sts["mx_verdicts"]}
    assert by_host["mx.tls.test"]["pattern"] == "*.tls.test"
    assert by_host["mx.tls.test"]["verdict"].startswith("mode testing: senders deliver anyway")
    # Not connected to: its certificate is unknown, so the enforce outcome is too.
    assert by_host["other.tls.test"]["enforce_delivers"] is None


def test_enforce_with_no_matching_pattern(mta, dns_server, cli, policy_server) -> None:
    sts = _sts(cli, "nomatch.tls.test", mta, dns_server, policy_server)
    verdicts = sts["mx_verdicts"]
    assert [v["enforce_delivers"] for v in verdicts] == [False, False]
    assert verdicts[0]["verdict"].startswith("an enforce sender does NOT deliver here")


def test_policy_certificate_must_verify(mta, dns_server, cli, policy_server) -> None:
    # Without the policy server's CA the fetch fails, as RFC 8461 §3.3 demands.
    sts = _sts(cli, "enforce.tls.test", mta, dns_server, str(mta.ca_file))
    assert not sts["fetched"] and "CERTIFICATE_VERIFY_FAILED" in sts["error"]


def test_mx_command_fetches_the_policy(mta, dns_server, cli, policy_server) -> None:
    tls_zone_or_skip(mta, dns_server)
    result = cli("mx", "enforce.tls.test", "--resolver", dns_server.resolver_address,
                 "--cafile", policy_server, "--json")
    assert result.code == 0
    sts = json.loads(result.out)["mta_sts_policy"]
    assert sts["policy"]["mode"] == "enforce"
    by_host = {v["host"]: v for v in sts["mx_verdicts"]}
    # DNS only: patterns are judged, certificates are left to probe.
    assert by_host["mx.tls.test"]["pattern"] == "mx.tls.test"
    assert by_host["mx.tls.test"]["enforce_delivers"] is None
    assert by_host["other.tls.test"]["enforce_delivers"] is False
    text = cli("mx", "enforce.tls.test", "--resolver", dns_server.resolver_address,
               "--cafile", policy_server)
    assert "mode enforce, max_age 86400, mx mx.tls.test" in text.out.replace("\n", " ")


def test_mx_check_tls_completes_every_verdict(mta, dns_server, cli, policy_server) -> None:
    tls_zone_or_skip(mta, dns_server)
    result = cli("mx", "enforce.tls.test", "--resolver", dns_server.resolver_address,
                 "--cafile", policy_server, "--check-tls", "--port", str(mta.smtp), "--json")
    assert result.code == 0
    data = json.loads(result.out)
    checks = {c["host"]: c for c in data["tls_check"]}
    good, other = checks["mx.tls.test"], checks["other.tls.test"]
    assert good["error"] is None and good["pkix"]["status"] == "verified"
    assert good["dane"]["would_match"] and not good["dane"]["applies"]
    assert other["pkix"]["status"] == "trusted"
    assert other["pkix"]["reason_code"] == "name-mismatch"
    verdicts = {v["host"]: v for v in data["mta_sts_policy"]["mx_verdicts"]}
    assert verdicts["mx.tls.test"]["enforce_delivers"] is True
    assert verdicts["other.tls.test"]["enforce_delivers"] is False
