"""MTA-STS policy parsing, MX pattern matching and per-MX verdicts (RFC 8461)."""

from __future__ import annotations

import pytest

from smtpscope.mx import StaticResolver
from smtpscope.sanitize import visible
from smtpscope.security.mtasts import (
    STSFetch,
    fetch_policy,
    judge_mx,
    mx_matches,
    parse_policy,
    report_json,
    report_lines,
)
from smtpscope.security.pkix import PkixResult


def test_parse_valid_and_invalid_policies() -> None:
    good = parse_policy("version: STSv1\r\nmode: enforce\r\nmx: MX1.Example.com.\r\n"
                        "mx: *.example.net\r\nmax_age: 604800\r\nextension: ignored\r\n")
    assert good.valid and good.problems == ()
    assert good.mx == ("mx1.example.com", "*.example.net") and good.max_age == 604800
    bad = parse_policy("version: STSv2\nmode: strict\nmax_age: soon\ngarbage\n")
    assert not bad.valid
    text = " / ".join(bad.problems)
    for part in ("not 'key: value'", "not a number", "'STSv2'", "'strict'", "no mx:"):
        assert part in text
    assert "above" in parse_policy("version: STSv1\nmode: none\nmax_age: 99999999\n").problems[0]


def test_wildcards_cover_one_label() -> None:
    patterns = ("*.example.com", "mail.example.org")
    assert mx_matches("mx1.example.com", patterns) == "*.example.com"
    assert mx_matches("a.b.example.com", patterns) is None
    assert mx_matches("example.com", patterns) is None
    assert mx_matches("MAIL.example.org.", patterns) == "mail.example.org"


def test_verdicts_by_mode() -> None:
    def fetched(mode: str) -> STSFetch:
        policy = parse_policy(f"version: STSv1\nmode: {mode}\nmx: mx.example.com\nmax_age: 1\n")
        return STSFetch("example.com", "ok", "1", "https://x", True, None, policy=policy)

    valid = PkixResult("verified", matched_name="mx.example.com")
    expired = PkixResult("untrusted", "expired", "the server certificate has expired")
    assert judge_mx(fetched("enforce"), "mx.example.com", valid).enforce_delivers is True
    refused = judge_mx(fetched("enforce"), "mx.example.com", expired)
    assert refused.enforce_delivers is False and "has expired" in refused.verdict
    assert judge_mx(fetched("enforce"), "mx.example.com").enforce_delivers is None
    assert judge_mx(fetched("testing"), "other.example.com").verdict.startswith("mode testing")
    assert judge_mx(fetched("none"), "mx.example.com").verdict.startswith("mode none")


def test_policy_text_is_quoted_once_in_the_report(monkeypatch: pytest.MonkeyPatch) -> None:
    # What the policy host sends (Content-Type, version, mode, max_age), with ESC, a backslash
    # and a quote, reaches the report escaped once: by visible() where the line is printed.
    import smtpscope.dns.mxlookup as mxlookup
    import smtpscope.security.mtasts as mtasts

    tricky = "a\x1bb\\c'd"
    shown = "'a\\x1bb\\\\c'd'"
    body = f"version: {tricky}\nmode: {tricky}\nmax_age: {tricky}\nmx: mx.d.test\n".encode()
    monkeypatch.setattr(mxlookup, "resolve_addresses", lambda *_: (["192.0.2.1"], None, []))
    monkeypatch.setattr(mtasts, "_get", lambda *_: (200, tricky, body))
    resolver = StaticResolver({("_mta-sts.d.test", "TXT"): [(b"v=STSv1; id=1",)]})
    fetched = fetch_policy("d.test", resolver)
    lines = [visible(line) for line in report_lines(report_json(fetched, []))]
    text = "\n".join(lines)
    assert "\x1b" not in text
    assert f"    warning: Content-Type is {shown}, not text/plain (RFC 8461 §3.3)" in lines
    for problem in (f"version is {shown}, not 'STSv1'", f"mode is {shown}: enforce, testing "
                    "or none", f"max_age {shown} is not a number of seconds"):
        assert f"    problem: {problem}" in lines


def test_missing_version_and_mode_are_named() -> None:
    problems = parse_policy("mx: mx.d.test\nmax_age: 1\n").problems
    assert "version is missing" in problems
    assert "mode is missing: enforce, testing or none" in problems


def test_the_report_names_an_id_only_when_the_record_has_one() -> None:
    # No _mta-sts TXT record: no id to show ("id None" would read as a value).
    missing = fetch_policy("d.test", StaticResolver({}))
    assert report_lines(report_json(missing, []))[0] == "MTA-STS d.test: TXT none"
    found = StaticResolver({("_mta-sts.d.test", "TXT"): [(b"v=STSv1; id=20261201",)]})
    head = report_lines(report_json(fetch_policy("d.test", found), []))[0]
    assert head.startswith("MTA-STS d.test: TXT ok, id 20261201")
