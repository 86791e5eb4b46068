"""DANE and DNSSEC end to end: unbound validating the signed tls.test zone in front of NSD, and
the Postfix harness whose live key that zone's TLSA records name (tests/peers/dnssec.py).

test_tls_peers.py asks NSD itself, which never sets the AD bit; here the resolver does, as a
user's validating resolver would, so DANE applies and its verdict decides.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.cli.test_tls_peers import _probe, tls_zone_or_skip

pytestmark = [pytest.mark.peer, pytest.mark.dns]

EXIT_TLS = 29  # a TLS level refused the session (smtpscope's exit status table)


@pytest.fixture
def dane_args(mta: Any, dns_server: Any, validating_resolver: str) -> tuple[str, ...]:
    tls_zone_or_skip(mta, dns_server)
    return (f"{mta.host}:{mta.smtp}", "--resolver", validating_resolver, "--cafile",
            str(mta.ca_file))


def _mx(cli: Any, *args: str) -> tuple[int, dict[str, Any]]:
    result = cli("mx", *args, "--json")
    return result.code, json.loads(result.out)


def test_validated_tlsa_that_matches_the_live_key_passes(mta, dane_args, cli) -> None:
    code, data = _probe(cli, *dane_args, "--dane", "--verify-name", "mx.tls.test")
    assert code == 0 and data["status"] == "success"
    tls = data["tls"]
    dane = tls["dane"]
    assert dane["name"] == f"_{mta.smtp}._tcp.mx.tls.test" and dane["lookup"] == "ok"
    assert dane["authenticated"] and dane["applies"] and dane["would_match"] and dane["matched"]
    assert dane["summary"] == "DANE verified: DANE-EE SPKI SHA2-256 matched"
    by_usage = {c["usage"]: c for c in dane["checks"]}
    assert len(dane["checks"]) == 2 and all(c["usable"] for c in dane["checks"])
    assert (by_usage[3]["selector"], by_usage[3]["matched"], by_usage[3]["cert_index"]) == (
        1, True, 0)
    # Postfix sends its own certificate only, so the DANE-TA record has no CA to match.
    assert not by_usage[2]["matched"] and "only its own certificate" in by_usage[2]["why"]
    assert tls["trust"] == "dane" and tls["accepted"] and tls["level"] == "may"
    assert tls["refusal"] is None and tls["verified"]  # PKIX agrees, though it is not asked


@pytest.mark.parametrize("level", ["dane", "dane-only"])
def test_dane_levels_accept_the_matching_server(dane_args, cli, level) -> None:
    code, data = _probe(cli, *dane_args, "--tls-level", level, "--verify-name", "mx.tls.test")
    assert code == 0 and data["status"] == "success" and data["error"] is None
    tls = data["tls"]
    assert (tls["level"], tls["trust"], tls["accepted"]) == (level, "dane", True)
    assert tls["dane"]["matched"]
    after = {k["keyword"] for k in data["ehlo"]["tls"]["keywords"]}
    assert "AUTH" in after  # the session went on over TLS


def test_the_text_report_names_the_dane_verdict(mta, dane_args, cli) -> None:
    result = cli("probe", *dane_args, "--dane", "--verify-name", "mx.tls.test")
    assert result.code == 0
    assert "DANE-verified at level may" in result.out
    assert (f"DANE _{mta.smtp}._tcp.mx.tls.test: DANE verified: DANE-EE SPKI SHA2-256 matched"
            in result.out)


def test_validated_tlsa_that_matches_nothing_fails_dane(mta, dane_args, cli) -> None:
    # Opportunistic: the failure is reported and the probe goes on (level may enforces nothing).
    code, data = _probe(cli, *dane_args, "--dane", "--verify-name", "bad.tls.test")
    assert code == 0 and data["status"] == "success"
    tls = data["tls"]
    dane = tls["dane"]
    assert dane["name"] == f"_{mta.smtp}._tcp.bad.tls.test"
    assert dane["authenticated"] and dane["applies"]
    assert not dane["would_match"] and not dane["matched"]
    assert [c["matched"] for c in dane["checks"]] == [False, False]
    assert dane["summary"] == ("DANE failed: validated TLSA records exist and none matches the "
                               "server")
    # PKIX: the harness CA signed it, but for other names than bad.tls.test.
    assert tls["trust"] == "trusted" and tls["trust_reason_code"] == "name-mismatch"
    assert tls["accepted"]


@pytest.mark.parametrize(("level", "refusal"), [
    ("dane", "DANE: validated TLSA records exist and none matches the server's chain"),
    ("dane-only", "DANE: no TLSA record matches the server's chain"),
])
def test_dane_levels_refuse_the_server_that_matches_nothing(dane_args, cli, level,
                                                            refusal) -> None:
    code, data = _probe(cli, *dane_args, "--tls-level", level, "--verify-name", "bad.tls.test")
    assert code == EXIT_TLS and data["status"] == "tls-error"
    tls = data["tls"]
    assert (tls["level"], tls["accepted"], tls["refusal"]) == (level, False, refusal)
    assert tls["dane"]["applies"] and not tls["dane"]["matched"]
    assert data["error"].endswith(refusal)
    # The remedy is about the TLSA records, not the name the certificate lacks.
    assert "TLSA" in data["hint"] and "--verify-name" not in data["hint"]
    assert data["ehlo"].get("tls") is None  # nothing was said over the refused TLS


def test_mx_answer_is_validated_through_the_validating_resolver(mta, dns_server,
                                                                validating_resolver,
                                                                cli) -> None:
    tls_zone_or_skip(mta, dns_server)
    code, data = _mx(cli, "tls.test", "--resolver", validating_resolver, "--port",
                     str(mta.smtp), "--no-fetch")
    assert code == 0 and data["ok"]
    assert data["mx"]["status"] == "ok" and data["mx"]["authenticated"] is True
    assert [h["host"] for h in data["mx"]["hosts"]] == ["mx.tls.test"]
    assert data["dnssec"].startswith("validated:")
    [tlsa] = data["tlsa"]
    assert (tlsa["name"], tlsa["status"], tlsa["authenticated"]) == (
        f"_{mta.smtp}._tcp.mx.tls.test", "ok", True)
    assert sorted(r["usage"] for r in tlsa["records"]) == [2, 3]
    # An unsigned zone through the same resolver: answered, and honestly not validated.
    code, data = _mx(cli, "example.test", "--resolver", validating_resolver, "--no-fetch")
    assert code == 0 and data["mx"]["status"] == "ok"
    assert data["mx"]["authenticated"] is False and data["dnssec"].startswith("not validated")


def test_mx_answer_from_nsd_itself_is_not_validated(mta, dns_server, cli) -> None:
    tls_zone_or_skip(mta, dns_server)
    code, data = _mx(cli, "tls.test", "--resolver", dns_server.resolver_address, "--no-fetch")
    assert code == 0 and data["ok"] and data["mx"]["status"] == "ok"
    assert data["mx"]["authenticated"] is False
    assert data["dnssec"].startswith("not validated:")


def test_mx_check_tls_matches_the_validated_tlsa(mta, dns_server, validating_resolver,
                                                 cli) -> None:
    tls_zone_or_skip(mta, dns_server)
    code, data = _mx(cli, "tls.test", "--resolver", validating_resolver, "--port",
                     str(mta.smtp), "--check-tls", "--cafile", str(mta.ca_file), "--no-fetch")
    assert code == 0
    [check] = data["tls_check"]
    assert check["host"] == "mx.tls.test" and check["error"] is None
    assert check["pkix"]["status"] == "verified"
    dane = check["dane"]
    assert dane["authenticated"] and dane["applies"] and dane["matched"]


@pytest.mark.parametrize("level", ["dane", "dane-only"])
def test_a_bogus_tlsa_signature_stops_the_dane_levels(dane_args, cli, level) -> None:
    # bogus.tls.test's TLSA names the live key, but its signature does not verify: the
    # validating resolver answers SERVFAIL, and DANE may not read that as "no TLSA".
    code, data = _probe(cli, *dane_args, "--tls-level", level, "--verify-name",
                        "bogus.tls.test")
    assert code == EXIT_TLS and data["status"] == "tls-error"
    tls = data["tls"]
    assert tls["dane"]["lookup"] == "servfail" and not tls["dane"]["applies"]
    assert not tls["accepted"] and "TLSA lookup failed (servfail)" in tls["refusal"]
    assert "SERVFAIL" in data["hint"] and "--verify-name" not in data["hint"]


def test_a_bogus_tlsa_signature_is_reported_at_level_may(dane_args, cli) -> None:
    code, data = _probe(cli, *dane_args, "--dane", "--verify-name", "bogus.tls.test")
    assert code == 0 and data["status"] == "success"
    dane = data["tls"]["dane"]
    assert dane["lookup"] == "servfail" and not dane["authenticated"] and not dane["checks"]
    assert data["tls"]["accepted"]


# The silent resolver never answers: each lookup waits for --timeout (a lookup's own limit is
# capped by it), and Postfix answers well within it.
SHORT_WAIT = ("--timeout", "3")


@pytest.mark.parametrize("level", ["dane", "dane-only"])
def test_a_tlsa_lookup_with_no_answer_stops_the_dane_levels(mta, cli, silent_resolver,
                                                            level) -> None:
    # RFC 7672 §2.2: no answer is not "no TLSA" (an attacker dropping it would otherwise turn
    # DANE off), so the server is not used, though its certificate verifies with --cafile.
    code, data = _probe(cli, f"{mta.host}:{mta.smtp}", "--resolver", silent_resolver,
                        "--cafile", str(mta.ca_file), "--tls-level", level,
                        "--verify-name", "mx.tls.test", *SHORT_WAIT)
    assert code == EXIT_TLS and data["status"] == "tls-error"
    tls = data["tls"]
    assert tls["dane"]["lookup"] == "timeout" and not tls["dane"]["applies"]
    assert tls["verified"] and not tls["accepted"]
    assert tls["refusal"] == ("DANE: the TLSA lookup failed (timeout), so the server cannot be "
                              "used (RFC 7672 §2.2)")
    assert "--resolver" in data["hint"] and "--cafile" not in data["hint"]


def test_a_tlsa_lookup_with_no_answer_is_reported_at_level_may(mta, cli,
                                                               silent_resolver) -> None:
    code, data = _probe(cli, f"{mta.host}:{mta.smtp}", "--resolver", silent_resolver,
                        "--cafile", str(mta.ca_file), "--dane", "--verify-name", "mx.tls.test",
                        *SHORT_WAIT)
    assert code == 0 and data["status"] == "success"
    tls = data["tls"]
    assert tls["dane"]["lookup"] == "timeout" and tls["accepted"] and tls["refusal"] is None
    # The wait for the silent resolver is a step of its own, not a gap in the total.
    timings = data["timings"]
    assert timings["lookups"] >= 3000 and timings["total"] >= timings["lookups"]
    assert timings["connect"] < 3000
