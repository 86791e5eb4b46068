"""SPF, DMARC, MTA-STS, TLS-RPT, TLSA, PTR/FCrDNS and the whole report, with a table resolver."""

from __future__ import annotations

import hashlib
import json

import pytest

from smtpscope.mx import (
    MXRecord,
    StaticResolver,
    TLSARecord,
    check_reverse,
    explain_tlsa,
    join_txt,
    lookup_dmarc,
    lookup_mta_sts,
    lookup_spf,
    lookup_tls_rpt,
    lookup_tlsa,
    mail_dns_report,
    parse_tags,
)

SHA256 = hashlib.sha256(b"key").digest()


def txt(*strings: str | bytes) -> tuple[bytes, ...]:
    return tuple(s.encode() if isinstance(s, str) else s for s in strings)


def test_join_txt_concatenates_character_strings_without_separator() -> None:
    assert join_txt((b"v=spf1 ip4:192.0.2.0/24 ", b"-all")) == "v=spf1 ip4:192.0.2.0/24 -all"
    assert join_txt((b"a" * 255, b"b")) == "a" * 255 + "b"
    # Invalid UTF-8 is kept as server replies keep it (a surrogate the sanitizer shows as \xff).
    assert join_txt((b"bad\xff",)) == "bad\udcff"


def test_txt_bytes_that_are_not_utf8_are_shown_once_and_parsed_alike() -> None:
    from smtpscope.dns.resolver import DnsPythonResolver
    from smtpscope.sanitize import visible
    from tests.dns.test_dns_resolver import FakeDnspython, rrset

    # Zone syntax, as NSD serves it: \255 is the byte 0xff, \\ a backslash, \027 an ESC.
    record = rrset("d.test.", "TXT", '"v=TLSRPTv1; rua=ftp://a\\\\b\\255\\027"')
    res = DnsPythonResolver(resolver=FakeDnspython(record))
    rpt = lookup_tls_rpt("d.test", res)
    assert rpt.tag("rua") == "ftp://a\\b\udcff\x1b"
    assert visible(rpt.records[0]) == "v=TLSRPTv1; rua=ftp://a\\\\b\\xff\\x1b"
    assert visible(rpt.warnings[0]) == (
        "report URI 'ftp://a\\\\b\\xff\\x1b' is neither mailto: nor https:")
    assert dict(rpt.details)["reports to"] == "ftp://a\\b\udcff\x1b"
    # Valid UTF-8 reads as before: the same tags for the parsers.
    spf = lookup_spf("d.test", StaticResolver({("d.test", "TXT"): [txt("v=spf1 a:ü.test -all")]}))
    assert spf.tags == (("a", "ü.test"), ("-all", ""))
    sts = lookup_mta_sts("d.test", StaticResolver(
        {("_mta-sts.d.test", "TXT"): [txt(b"v=STSv1; id=ab\xff")]}))
    assert (sts.status, sts.tag("id")) == ("invalid", "ab\udcff")


def test_spf_split_record_is_joined_and_parsed() -> None:
    res = StaticResolver(
        {
            ("d.test", "TXT"): [
                txt("v=spf1 ip4:192.0.2.0/24 ", "include:_spf.d.test -all"),
                txt("other=thing"),
            ]
        }
    )
    spf = lookup_spf("d.test", res)
    assert spf.status == "ok"
    assert spf.records == ("v=spf1 ip4:192.0.2.0/24 include:_spf.d.test -all",)
    assert spf.tags == (("ip4", "192.0.2.0/24"), ("include", "_spf.d.test"), ("-all", ""))
    assert dict(spf.details)["default"].startswith("-all = fail")
    assert "1 at top level" in dict(spf.details)["DNS lookups"]


def test_record_split_without_its_space_is_explained() -> None:
    res = StaticResolver({
        ("d.test", "TXT"): [txt("v=spf1", "ip4:192.0.2.1 -all"), txt("v=spf", "2 -all")],
        ("_dmarc.d.test", "TXT"): [txt("v=DMARC1;", "p=reject")],  # joins fine: a record
    })
    spf = lookup_spf("d.test", res)
    assert spf.status == "none"
    # Only the first was meant as one: "v=spf" "2 -all" joined with a space is no record.
    (warning,) = spf.warnings
    assert "reads 'v=spf1ip4:192.0.2.1 -all', so it is not SPF" in warning
    assert "joined with nothing in between" in warning
    assert lookup_dmarc("d.test", res).status == "ok"


def test_multiple_spf_records_are_a_permanent_error() -> None:
    res = StaticResolver({("d.test", "TXT"): [txt("v=spf1 -all"), txt("v=spf1 ~all")]})
    spf = lookup_spf("d.test", res)
    assert spf.status == "multiple"
    assert len(spf.records) == 2
    assert "RFC 7208 §4.5" in spf.explanation and "permerror" in spf.explanation


def test_spf_prefix_must_be_exact() -> None:
    res = StaticResolver({("d.test", "TXT"): [txt("v=spf10 -all"), txt("spf2.0/pra -all")]})
    assert lookup_spf("d.test", res).status == "none"


def test_spf_plus_all_warns() -> None:
    res = StaticResolver({("d.test", "TXT"): [txt("v=spf1 +all")]})
    assert any("whole Internet" in w for w in lookup_spf("d.test", res).warnings)


def test_spf_lookup_failure() -> None:
    res = StaticResolver(failures={("d.test", "TXT"): "servfail"})
    assert lookup_spf("d.test", res).status == "servfail"


def test_parse_tags() -> None:
    assert parse_tags("v=DMARC1;p=reject ; rua = mailto:a@b.test;;junk") == (
        ("v", "DMARC1"),
        ("p", "reject"),
        ("rua", "mailto:a@b.test"),
    )


def test_dmarc_parsed() -> None:
    res = StaticResolver(
        {
            ("_dmarc.d.test", "TXT"): [
                txt(
                    "v=DMARC1; p=quarantine; rua=mailto:agg@d.test; ", "ruf=mailto:f@d.test; aspf=s"
                )
            ]
        }
    )
    dmarc = lookup_dmarc("d.test", res)
    assert dmarc.status == "ok"
    assert dmarc.name == "_dmarc.d.test"
    assert dmarc.tag("p") == "quarantine"
    assert dmarc.tag("rua") == "mailto:agg@d.test"
    details = dict(dmarc.details)
    assert details["policy"].startswith("quarantine")
    assert details["aggregate reports to"] == "mailto:agg@d.test"
    assert details["SPF alignment"] == "strict"
    assert details["subdomain policy"] == "same as p="


def test_dmarc_without_policy_is_invalid_and_missing_is_none() -> None:
    res = StaticResolver({("_dmarc.d.test", "TXT"): [txt("v=DMARC1; rua=mailto:x@d.test")]})
    dmarc = lookup_dmarc("d.test", res)
    assert dmarc.status == "invalid"
    assert any("no p= tag" in w for w in dmarc.warnings)
    assert lookup_dmarc("none.test", StaticResolver()).status == "none"


def test_dmarc_multiple() -> None:
    res = StaticResolver(
        {("_dmarc.d.test", "TXT"): [txt("v=DMARC1; p=none"), txt("v=DMARC1; p=reject")]}
    )
    assert lookup_dmarc("d.test", res).status == "multiple"


def test_mta_sts_record_names_policy_url_and_id_only() -> None:
    res = StaticResolver({("_mta-sts.d.test", "TXT"): [txt("v=STSv1; id=20240101T010203")]})
    sts = lookup_mta_sts("d.test", res)
    assert sts.status == "ok"
    details = dict(sts.details)
    assert details["policy URL"] == "https://mta-sts.d.test/.well-known/mta-sts.txt"
    assert details["policy id"] == "20240101T010203"
    # The DNS layer says nothing of the fetch: 'mx' and 'probe' fetch the policy and report it.
    assert set(details) == {"policy URL", "policy id"}


def test_mta_sts_bad_id() -> None:
    res = StaticResolver({("_mta-sts.d.test", "TXT"): [txt("v=STSv1; id=has-dash")]})
    assert lookup_mta_sts("d.test", res).status == "invalid"


def test_tls_rpt() -> None:
    res = StaticResolver(
        {("_smtp._tls.d.test", "TXT"): [txt("v=TLSRPTv1; rua=mailto:r@d.test,https://r.d.test/")]}
    )
    rpt = lookup_tls_rpt("d.test", res)
    assert rpt.status == "ok"
    assert dict(rpt.details)["reports to"] == "mailto:r@d.test, https://r.d.test/"
    bad = StaticResolver({("_smtp._tls.d.test", "TXT"): [txt("v=TLSRPTv1; rua=ftp://x")]})
    assert lookup_tls_rpt("d.test", bad).status == "invalid"
    assert lookup_tls_rpt("d.test", StaticResolver()).status == "none"


def test_tls_rpt_bad_uri_is_quoted_once_where_it_is_shown() -> None:
    # The report URI as the zone has it (ESC, backslash, quote); visible() is where it is shown.
    from smtpscope.sanitize import visible

    res = StaticResolver({("_smtp._tls.d.test", "TXT"): [txt("v=TLSRPTv1; rua=a\x1bb\\c'd")]})
    (warning,) = lookup_tls_rpt("d.test", res).warnings
    assert visible(warning) == "report URI 'a\\x1bb\\\\c'd' is neither mailto: nor https:"


@pytest.mark.parametrize(
    ("record", "names", "usable"),
    [
        (TLSARecord(3, 1, 1, SHA256), "DANE-EE SPKI SHA2-256", True),
        (TLSARecord(2, 0, 2, hashlib.sha512(b"ca").digest()), "DANE-TA Cert SHA2-512", True),
        (TLSARecord(3, 0, 0, b"\x30\x82"), "DANE-EE Cert Full", True),
        (TLSARecord(1, 1, 1, SHA256), "PKIX-EE SPKI SHA2-256", False),
        (TLSARecord(3, 1, 1, b"short"), "DANE-EE SPKI SHA2-256", False),
        (TLSARecord(7, 1, 1, SHA256), "usage 7", False),
    ],
)
def test_tlsa_explained(record: TLSARecord, names: str, usable: bool) -> None:
    info = explain_tlsa(record)
    assert names in info.meaning
    assert info.usable is usable
    assert (info.problem is None) is usable
    assert info.data == record.data.hex()


def test_tlsa_311_wording() -> None:
    meaning = explain_tlsa(TLSARecord(3, 1, 1, SHA256)).meaning
    assert meaning.startswith("3 1 1 = DANE-EE SPKI SHA2-256")
    assert "public key" in meaning and "SHA-256" in meaning


def test_tlsa_lookup_needs_dnssec_for_dane() -> None:
    records = {("_25._tcp.mx.d.test", "TLSA"): [TLSARecord(3, 1, 1, SHA256)]}
    unsigned = lookup_tlsa("mx.d.test", StaticResolver(records))
    assert unsigned.status == "ok" and not unsigned.authenticated
    assert "not DNSSEC-validated" in unsigned.explanation
    signed = lookup_tlsa(
        "mx.d.test", StaticResolver(records, authenticated=frozenset({"_25._tcp.mx.d.test"}))
    )
    assert signed.authenticated and "must use STARTTLS" in signed.explanation
    assert lookup_tlsa("none.d.test", StaticResolver()).status == "none"
    refused = StaticResolver(failures={("_25._tcp.mx.d.test", "TLSA"): "refused"})
    assert lookup_tlsa("mx.d.test", refused).status == "refused"


@pytest.mark.parametrize("records", [{}, {("_25._tcp.mx.d.test", "TXT"): [(b"x",)]}],
                         ids=["nxdomain", "nodata"])
def test_a_validated_denial_of_tlsa_is_told_from_an_unvalidated_one(records: dict) -> None:
    # RFC 7672 §2.2: no DANE either way, but only the AD bit on the NXDOMAIN or NODATA (an NSEC
    # or NSEC3 proof the resolver checked) says the absence is real.
    signed = frozenset({"_25._tcp.mx.d.test"})
    unsigned = lookup_tlsa("mx.d.test", StaticResolver(records))
    proved = lookup_tlsa("mx.d.test", StaticResolver(records, authenticated=signed))
    assert (unsigned.status, unsigned.authenticated) == ("none", False)
    assert (proved.status, proved.authenticated) == ("none", True)
    assert unsigned.explanation == ("no TLSA records (denial not DNSSEC-validated): DANE does "
                                    "not apply to this MX")
    assert proved.explanation == ("no TLSA records (DNSSEC-validated denial): DANE does not "
                                  "apply to this MX")


ALIAS = {("mx.d.test", "CNAME"): ["host.e.test"], ("host.e.test", "A"): ["192.0.2.7"]}
TLSA_AT_TARGET = {("_25._tcp.host.e.test", "TLSA"): [TLSARecord(3, 1, 1, SHA256)]}
TLSA_AT_ALIAS = {("_25._tcp.mx.d.test", "TLSA"): [TLSARecord(3, 1, 1, SHA256)]}
SIGNED = frozenset({"host.e.test", "_25._tcp.host.e.test", "_25._tcp.mx.d.test"})


def test_tlsa_base_is_the_validated_cname_target_first() -> None:
    both = StaticResolver({**ALIAS, **TLSA_AT_TARGET, **TLSA_AT_ALIAS}, authenticated=SIGNED)
    report = lookup_tlsa("mx.d.test", both)
    assert (report.status, report.name, report.base) == ("ok", "_25._tcp.host.e.test",
                                                         "host.e.test")
    assert report.authenticated and "alias of host.e.test" in report.explanation


def test_tlsa_base_falls_back_to_the_mx_name_without_records_at_the_target() -> None:
    res = StaticResolver({**ALIAS, **TLSA_AT_ALIAS}, authenticated=SIGNED)
    report = lookup_tlsa("mx.d.test", res)
    assert (report.status, report.name, report.base) == ("ok", "_25._tcp.mx.d.test",
                                                         "mx.d.test")
    assert ("_25._tcp.host.e.test", "TLSA") in res.queries  # asked there first


def test_tlsa_base_is_the_mx_name_when_the_cname_chain_is_not_validated() -> None:
    unsigned_chain = SIGNED - {"host.e.test"}
    res = StaticResolver({**ALIAS, **TLSA_AT_TARGET, **TLSA_AT_ALIAS},
                         authenticated=unsigned_chain)
    report = lookup_tlsa("mx.d.test", res)
    assert (report.name, report.base) == ("_25._tcp.mx.d.test", "mx.d.test")
    assert ("_25._tcp.host.e.test", "TLSA") not in res.queries
    assert "not DNSSEC-validated" in report.explanation


def test_tlsa_at_the_cname_target_that_fails_is_no_denial() -> None:
    res = StaticResolver({**ALIAS, **TLSA_AT_ALIAS}, authenticated=SIGNED,
                         failures={("_25._tcp.host.e.test", "TLSA"): "servfail"})
    report = lookup_tlsa("mx.d.test", res)
    assert (report.status, report.name) == ("servfail", "_25._tcp.host.e.test")


def test_fcrdns_pass_fail_and_missing() -> None:
    res = StaticResolver(
        {
            ("1.2.0.192.in-addr.arpa", "PTR"): ["mx.d.test"],
            ("mx.d.test", "A"): ["192.0.2.1"],
            ("2.2.0.192.in-addr.arpa", "PTR"): ["liar.d.test"],
            ("liar.d.test", "A"): ["192.0.2.99"],
            ("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", "PTR"): [
                "v6.d.test"
            ],
            ("v6.d.test", "AAAA"): ["2001:db8:0::1"],
        }
    )
    ok = check_reverse("192.0.2.1", res)
    assert (ok.status, ok.ptr, ok.confirmed) == ("pass", ("mx.d.test",), "mx.d.test")
    bad = check_reverse("192.0.2.2", res)
    assert bad.status == "fail" and bad.confirmed is None
    assert bad.forward == (("liar.d.test", ("192.0.2.99",)),)
    assert "FCrDNS fails" in bad.explanation and "X.7.25" in bad.explanation
    missing = check_reverse("192.0.2.3", res)
    assert missing.status == "no-ptr"
    v6 = check_reverse("2001:db8::1", res)
    assert v6.status == "pass"  # compared as addresses, not strings
    failing = check_reverse(
        "192.0.2.4", StaticResolver(failures={("4.2.0.192.in-addr.arpa", "PTR"): "timeout"})
    )
    assert failing.status == "error"


def full_zone() -> StaticResolver:
    return StaticResolver(
        {
            ("d.test", "MX"): [MXRecord(10, "mx.d.test")],
            ("mx.d.test", "A"): ["192.0.2.1"],
            ("1.2.0.192.in-addr.arpa", "PTR"): ["mx.d.test"],
            ("d.test", "TXT"): [txt("v=spf1 mx -all")],
            ("_dmarc.d.test", "TXT"): [txt("v=DMARC1; p=reject")],
            ("_mta-sts.d.test", "TXT"): [txt("v=STSv1; id=1")],
            ("_smtp._tls.d.test", "TXT"): [txt("v=TLSRPTv1; rua=mailto:t@d.test")],
            ("_25._tcp.mx.d.test", "TLSA"): [TLSARecord(3, 1, 1, SHA256)],
        },
        authenticated=frozenset({"d.test"}),
    )


def test_full_report_and_json() -> None:
    res = full_zone()
    report = mail_dns_report("d.test", res, description="table")
    assert report.ok
    assert report.resolver == "table"
    assert [p.status for p in report.policies()] == ["ok", "ok", "ok", "ok"]
    assert report.reverse[0].status == "pass" and report.reverse[0].hosts == ("mx.d.test",)
    assert report.tlsa[0].records[0].usable
    assert report.dnssec.startswith("validated")
    data = json.loads(json.dumps(report.to_json()))
    assert data["mx"]["hosts"][0]["host"] == "mx.d.test"
    assert data["spf"]["tags"] == [["mx", ""], ["-all", ""]]
    assert data["mta_sts"]["details"]["policy URL"].startswith("https://mta-sts.d.test/")
    assert data["tlsa"][0]["records"][0]["data"] == SHA256.hex()
    # The report caches: the MX host's A record is asked once even though FCrDNS needs it again.
    assert res.queries.count(("mx.d.test", "A")) == 1


def test_report_looks_up_tlsa_at_the_port_given() -> None:
    # RFC 7672 §2.2.1: the TLSA name carries the port the MX is reached on.
    res = StaticResolver({**full_zone().records,
                          ("_2525._tcp.mx.d.test", "TLSA"): [TLSARecord(2, 0, 1, SHA256)]})
    report = mail_dns_report("d.test", res, tlsa_port=2525)
    assert [t.name for t in report.tlsa] == ["_2525._tcp.mx.d.test"]
    assert report.tlsa[0].records[0].usage == 2
    assert mail_dns_report("d.test", res).tlsa[0].name == "_25._tcp.mx.d.test"


def test_report_without_ad_bit_says_not_validated() -> None:
    res = full_zone()
    res.authenticated = frozenset()
    assert mail_dns_report("d.test", res).dnssec.startswith("not validated")


def test_report_stops_after_failed_mx_lookup() -> None:
    res = StaticResolver(failures={("gone.test", "*"): "timeout"})
    report = mail_dns_report("gone.test", res)
    assert not report.ok
    assert report.spf is None and report.policies() == ()
    assert len(res.queries) == 1  # no point asking eight more questions of a dead resolver
    assert report.to_json()["spf"] is None


def test_null_mx_report_still_shows_policies() -> None:
    res = StaticResolver(
        {("n.test", "MX"): [MXRecord(0, ".")], ("n.test", "TXT"): [txt("v=spf1 -all")]}
    )
    report = mail_dns_report("n.test", res)
    assert report.ok and report.mx.status == "null"
    assert report.spf is not None and report.spf.status == "ok"
    assert report.tlsa == () and report.reverse == ()


def test_control_characters_are_kept_as_data() -> None:
    res = StaticResolver({("e.test", "TXT"): [txt("v=spf1 \x1b[2J -all")]})
    spf = lookup_spf("e.test", res)
    assert spf.records == ("v=spf1 \x1b[2J -all",)  # views escape; the model keeps the bytes


def test_summary_names_a_proved_absence_of_tlsa_beside_validated_records() -> None:
    # RFC 7672 §2.2: a validated denial says DANE does not apply, as surely as records say it
    # does; a denial without the AD bit proves nothing and is not named.
    zone = full_zone()
    res = StaticResolver(
        {**zone.records,
         ("d.test", "MX"): [MXRecord(10, "mx.d.test"), MXRecord(20, "mx2.d.test"),
                            MXRecord(30, "mx3.d.test")],
         ("mx2.d.test", "A"): ["192.0.2.2"], ("mx3.d.test", "A"): ["192.0.2.3"]},
        authenticated=frozenset({"d.test", "_25._tcp.mx.d.test", "_25._tcp.mx2.d.test"}))
    report = mail_dns_report("d.test", res, reverse=False)
    assert [(t.host, t.status, t.authenticated) for t in report.tlsa] == [
        ("mx.d.test", "ok", True), ("mx2.d.test", "none", True), ("mx3.d.test", "none", False)]
    assert report.dnssec == ("validated: the resolver set the AD bit on the MX answer; TLSA "
                             "validated for mx.d.test; no TLSA records (DNSSEC-validated "
                             "denial) for mx2.d.test")
