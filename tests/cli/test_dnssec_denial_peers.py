"""DANE's "secure, no TLSA" (RFC 7672 §2.2) through unbound validating real NSEC and NSEC3 proofs.

tests/peers/dns.py signs tls.test with NSEC and nsec3.test with NSEC3 (RFC 5155: no opt-out, no
salt, no extra iterations, as RFC 9276 says), with the same records: mx has TLSA for the
Postfix harness's live key, other (the only MX of notlsa) has addresses and no TLSA. Whichever
chain proves the absence, smtpscope must report the same: a validated denial, not a failed
lookup and not an unsigned zone, so the dane level goes on as 'may' and dane-only refuses.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.cli.test_dnssec_peers import EXIT_TLS
from tests.cli.test_tls_peers import _probe, tls_zone_or_skip
from tests.peers.fixtures import peers_required

pytestmark = [pytest.mark.peer, pytest.mark.dns]

PROVED = "no TLSA records (DNSSEC-validated denial): DANE does not apply to this MX"


@pytest.fixture(params=["tls.test", "nsec3.test"], ids=["nsec", "nsec3"])
def zone(request: pytest.FixtureRequest, mta: Any, dns_server: Any) -> str:
    tls_zone_or_skip(mta, dns_server)
    # A harness started by an older dns.py has no nsec3.test, nor notlsa in tls.test.
    if not dns_server.resolver().lookup(f"notlsa.{request.param}", "MX").ok:
        why = f"the DNS harness has no notlsa.{request.param}: restart tests/peers/dns.py"
        if peers_required():
            pytest.fail(why)
        pytest.skip(why)
    return str(request.param)


@pytest.fixture
def via(mta: Any, validating_resolver: str) -> tuple[str, ...]:
    return ("--resolver", validating_resolver, "--port", str(mta.smtp))


def _mx(cli: Any, *args: str) -> dict[str, Any]:
    result = cli("mx", *args, "--no-fetch", "--json")
    assert result.code == 0, result.err
    data: dict[str, Any] = json.loads(result.out)
    assert data["mx"]["status"] == "ok" and data["mx"]["authenticated"] is True
    return data


def test_mx_reports_the_validated_tlsa(mta, zone, via, cli) -> None:
    [tlsa] = _mx(cli, zone, *via)["tlsa"]
    assert (tlsa["name"], tlsa["status"], tlsa["authenticated"]) == (
        f"_{mta.smtp}._tcp.mx.{zone}", "ok", True)
    assert sorted(r["usage"] for r in tlsa["records"]) == [2, 3]


def test_mx_reports_the_validated_absence_of_tlsa(mta, zone, via, cli) -> None:
    # _<port>._tcp.other does not exist: NXDOMAIN, proved by the closest encloser "other".
    [tlsa] = _mx(cli, f"notlsa.{zone}", *via)["tlsa"]
    assert (tlsa["name"], tlsa["status"], tlsa["authenticated"], tlsa["records"]) == (
        f"_{mta.smtp}._tcp.other.{zone}", "none", True, [])
    assert tlsa["explanation"] == PROVED


def test_mx_summary_names_the_proved_absence_as_it_names_records(mta, zone, via, cli) -> None:
    ad = "validated: the resolver set the AD bit on the MX answer"
    assert _mx(cli, f"notlsa.{zone}", *via)["dnssec"] == (
        f"{ad}; no TLSA records (DNSSEC-validated denial) for other.{zone}")
    assert _mx(cli, zone, *via)["dnssec"] == f"{ad}; TLSA validated for mx.{zone}"


def test_mx_reports_a_proved_absence_below_an_empty_non_terminal(zone, via, cli) -> None:
    # _25._tcp.mx: its closest encloser _tcp.mx exists only as the parent of the TLSA owner
    # (an NSEC3 record with no types, or a gap in the NSEC chain).
    [tlsa] = _mx(cli, zone, *via[:2], "--port", "25")["tlsa"]
    assert (tlsa["name"], tlsa["status"], tlsa["authenticated"]) == (
        f"_25._tcp.mx.{zone}", "none", True)
    assert tlsa["explanation"] == PROVED


def test_an_unsigned_zone_is_no_proof(via, cli) -> None:
    # The same resolver, an unsigned zone: no TLSA either, but nothing proved it.
    result = cli("mx", "example.test", *via, "--no-fetch", "--json")
    for tlsa in json.loads(result.out)["tlsa"]:
        assert (tlsa["status"], tlsa["authenticated"]) == ("none", False)
        assert tlsa["explanation"] == ("no TLSA records (denial not DNSSEC-validated): DANE "
                                       "does not apply to this MX")


def test_dane_matches_the_validated_tlsa(mta, zone, via, cli) -> None:
    code, data = _probe(cli, f"@{zone}", *via, "--cafile", str(mta.ca_file),
                        "--tls-level", "dane")
    assert code == 0 and data["status"] == "success"
    tls = data["tls"]
    assert (tls["trust"], tls["accepted"]) == ("dane", True)
    assert tls["dane"]["name"] == f"_{mta.smtp}._tcp.mx.{zone}" and tls["dane"]["matched"]


def test_dane_goes_on_as_may_after_a_proved_absence(mta, zone, via, cli) -> None:
    code, data = _probe(cli, f"@notlsa.{zone}", *via, "--cafile", str(mta.ca_file),
                        "--tls-level", "dane")
    assert code == 0 and data["status"] == "success" and data["error"] is None
    tls = data["tls"]
    dane = tls["dane"]
    assert (dane["name"], dane["lookup"], dane["authenticated"]) == (
        f"_{mta.smtp}._tcp.other.{zone}", "none", True)
    assert not dane["applies"] and not dane["checks"] and dane["summary"] == PROVED
    # PKIX is reported, not enforced: the certificate does not name other.<zone>.
    assert (tls["trust"], tls["accepted"], tls["refusal"]) == ("trusted", True, None)


def test_dane_only_refuses_after_a_proved_absence(mta, zone, via, cli) -> None:
    code, data = _probe(cli, f"@notlsa.{zone}", *via, "--cafile", str(mta.ca_file),
                        "--tls-level", "dane-only")
    assert code == EXIT_TLS and data["status"] == "tls-error"
    tls = data["tls"]
    assert tls["refusal"] == "dane-only: no DNSSEC-validated, usable TLSA records for this server"
    assert tls["dane"]["lookup"] == "none" and tls["dane"]["authenticated"]
    # The resolver validated: sending the user to another one would not help.
    assert "proved this server has no usable TLSA records" in data["hint"]
    assert "--resolver" not in data["hint"]
