"""RFC 7208 syntax of SPF records: each §12 rule a receiver turns into a permerror, and the
warnings on records that are valid but do not do what their author likely meant."""

from __future__ import annotations

import pytest

from smtpscope.dns.spf_check import check_spf, parse_term
from smtpscope.mx import StaticResolver, lookup_spf


def spf(record: str) -> tuple[str, tuple[str, ...]]:
    res = StaticResolver({("d.test", "TXT"): [(record.encode("utf-8", "surrogateescape"),)]})
    found = lookup_spf("d.test", res)
    return found.status, found.warnings


@pytest.mark.parametrize(
    ("record", "warning"),
    [
        ("v=spf1 inlcude:_spf.google.com -all",
         "term 'inlcude:_spf.google.com' is no SPF mechanism or modifier (did you mean "
         "'include'?): the record is a permerror (RFC 7208 §4.6.1)"),
        ("v=spf1 -al", "term '-al' is no SPF mechanism or modifier (did you mean 'all'?)"),
        ("v=spf1 ip4:192.0.2.1/33 -all", "term 'ip4:192.0.2.1/33' has the prefix length '/33', "
         "not 0-32: the record is a permerror (RFC 7208 §5.6)"),
        ("v=spf1 ip4:192.0.2.0/024 -all", "prefix length '/024', not 0-32"),  # no leading 0
        ("v=spf1 ip6:2001:db8::/129 -all", "prefix length '/129', not 0-128"),
        ("v=spf1 mx//129 -all", "term 'mx//129' has the prefix length '/129', not 0-128"),
        ("v=spf1 a/33 -all", "term 'a/33' has the prefix length '/33'"),
        ("v=spf1 a: -all", "term 'a:' names no domain: the record is a permerror (RFC 7208 §7.1)"),
        ("v=spf1 include -all", "term 'include' needs a domain (include:<domain>)"),
        ("v=spf1 ip4 -all", "term 'ip4' needs an address"),
        ("v=spf1 ip4:2001:db8::1 -all", "term 'ip4:2001:db8::1' has an IPv6 address (did you "
         "mean 'ip6'?)"),
        ("v=spf1 ip6:192.0.2.1 -all", "has an IPv4 address (did you mean 'ip4'?)"),
        ("v=spf1 ip4:192.0.2.256 -all", "has '192.0.2.256', which is no IPv4 address"),
        ("v=spf1 ip4:192.0.02.1 -all", "has '192.0.02.1', which is no IPv4 address"),
        ("v=spf1 ip6:fe80::1%eth0 -all", "which is no IPv6 address"),  # no zone index
        ("v=spf1 a:mail -all", "term 'a:mail' has 'mail', which is no fully qualified domain"),
        ("v=spf1 a:192.0.2.1 -all", "ends in '1', which is no top-level label (an address is "
         "written ip4: or ip6:)"),
        ("v=spf1 include:x.test- -all", "ends in 'test-', which is no top-level label"),
        ("v=spf1 all:x.test", "term 'all:x.test' takes no argument"),
        ("v=spf1 redirect=a.example redirect=b.example",
         "redirect= appears 2 times, at most once is allowed: the record is a permerror "
         "(RFC 7208 §6)"),
        ("v=spf1 exp=a.example exp=b.example -all", "exp= appears 2 times"),
        ("v=spf1 exists:%{x}.d.test -all", "has the unknown macro letter 'x'"),
        ("v=spf1 exists:%{c}.d.test -all", "uses the macro letter 'c', allowed only in exp text"),
        ("v=spf1 exists:%{d0}.d.test -all", "keeps 0 labels of a macro"),
        ("v=spf1 a:50%.d.test -all", "has a '%' that starts no macro"),
        ("v=spf1 foo=%x -all", "term 'foo=%x' has a '%' that starts no macro"),  # unknown-modifier
        ("v=spf1 \x1b[2J\x1b]0;pwned\x07 -all",
         "term '\x1b[2J\x1b]0;pwned\x07' holds a control character or a space other than SP"),
        ("v=spf1 a:d.test\t-all", "holds a control character or a space other than SP"),
        ("v=spf1 a:ü.test -all", "holds non-ASCII text (a name is written as its A-label"),
        ("v=spf1 a:x\udcff.test -all", "holds non-ASCII text"),
    ],
)
def test_a_syntax_error_anywhere_makes_the_record_invalid(record: str, warning: str) -> None:
    status, warnings = spf(record)
    assert status == "invalid"
    assert any(warning in w for w in warnings), warnings


@pytest.mark.parametrize("record", ["v=spf1\t-all", "V=SPF1\t\tmx -all", "v=spf1\r\n-all"])
def test_a_version_followed_by_other_white_space_is_no_spf_record(record: str) -> None:
    # RFC 7208 §4.5: the version ends at SP or the end; receivers discard the rest, so the
    # domain has no SPF record (none, not invalid), and the near miss is pointed out.
    status, warnings = spf(record)
    assert status == "none"
    assert any("is not an SPF record, and receivers discard it (RFC 7208 §4.5)" in w
               for w in warnings), warnings


def test_check_spf_alone_still_names_a_version_without_its_space() -> None:
    assert any("must be followed by a space" in e for e in check_spf("v=spf1\t-all").errors)


@pytest.mark.parametrize(
    "record",
    [
        "v=spf1",  # no terms: neutral (§4.7), but valid
        "v=spf1 -all ",
        "V=SPF1 IP4:192.0.2.0/24 MX//64 A:Mail.D.Test/24//64 -ALL",  # names are case-insensitive
        "v=spf1 ip6:::1 ip6:2001:db8::/32 ip6:::ffff:192.0.2.1 ip4:0.0.0.0/0 ?all",
        "v=spf1 a mx a/24 mx:d.test a:d.test. include:_spf.d.test ~all",
        "v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d2} a:%{d} include:%{D}.x.test -all",
        "v=spf1 a:x.%% a:x.%_ a:x.%- -all",  # a domain-spec may end in any macro-expand
        "v=spf1 -all exp=explain.%{d}",
        "v=spf1 redirect=_spf.d.test",
        "v=spf1 -all ra=postmaster rp=100 foo= bar=%{c}%%",  # unknown modifiers: ignored (§6)
    ],
)
def test_valid_records_pass(record: str) -> None:
    check = check_spf(record)
    assert check.errors == ()
    assert spf(record)[0] == "ok"


def test_valid_records_carry_the_warnings_an_expert_expects() -> None:
    status, warnings = spf("v=spf1 ptr redirect=_spf.d.test exp=x.d.test -all a:d.test")
    assert status == "ok"
    assert warnings == (
        "term 'ptr': RFC 7208 §5.5 says ptr SHOULD NOT be used (slow, unreliable; some "
        "receivers skip it)",
        "terms after 'all' are never tested: 'a:d.test' (RFC 7208 §5.1)",
        "'redirect=_spf.d.test' is never used: the record has 'all', which always matches "
        "(RFC 7208 §6.1)",
        "redirect=_spf.d.test, exp=x.d.test SHOULD come after all mechanisms (RFC 7208 §6)",
    )


def test_a_mechanism_written_as_a_modifier_is_ignored_not_an_error() -> None:
    # §6: "include=" is an unknown modifier, valid and ignored: the include never happens.
    status, warnings = spf("v=spf1 include=_spf.google.com ~all")
    assert status == "ok"
    assert warnings == (
        "term 'include=_spf.google.com' is an unknown modifier that receivers ignore (RFC 7208 "
        "§6): a mechanism takes ':' (did you mean 'include:_spf.google.com'?)",)
    assert spf("v=spf1 redirct=_spf.d.test")[1] == (
        "term 'redirct=_spf.d.test' is an unknown modifier (did you mean 'redirect'?): "
        "receivers ignore it (RFC 7208 §6)",)


def test_plus_all_and_lookup_count_still_warn() -> None:
    assert spf("v=spf1 +all")[1] == (
        "SPF '+all' authorises the whole Internet to send as this domain",)
    many = "v=spf1 " + " ".join(f"include:i{n}.d.test" for n in range(11)) + " -all"
    status, warnings = spf(many)
    assert status == "ok"
    assert warnings == ("11 lookup terms exceed RFC 7208's limit of 10 (permerror, §4.6.4)",)


def test_lookups_count_mechanisms_with_a_length_and_redirect_but_not_ip_or_unknown() -> None:
    check = check_spf("v=spf1 a/24 mx//64 ptr:d.test ip4:192.0.2.1 exists:%{i}.d.test "
                      "mx=x.test redirect=r.d.test")
    assert dict(check.details)["DNS lookups"] == "5 at top level (limit 10 including nested)"


def test_details_name_the_default_and_the_modifiers() -> None:
    details = dict(check_spf("v=spf1 ~all exp=why.d.test").details)
    assert details["default"] == "~all = softfail: mail from hosts not listed is suspicious"
    assert details["exp"] == "why.d.test"
    no_default = dict(check_spf("v=spf1 mx").details)
    assert no_default["default"] == "none: neutral when no term matches (RFC 7208 §4.7)"


def test_a_long_record_is_advised_against() -> None:
    record = "v=spf1 " + " ".join(f"ip4:192.0.2.{n}" for n in range(40)) + " -all"
    (warning,) = check_spf(record).warnings
    assert warning.startswith(f"the record is {len(record)} octets: RFC 7208 §3.4 advises")


def test_terms_keep_qualifier_name_and_value_for_the_tags() -> None:
    term = parse_term("-IP4:192.0.2.0/24")
    assert (term.key, term.name, term.value, term.modifier) == (
        "-ip4", "ip4", "192.0.2.0/24", False)
    assert (parse_term("a/24").key, parse_term("a/24").value) == ("a", "/24")
    modifier = parse_term("Redirect=_spf.d.test")
    assert (modifier.key, modifier.value, modifier.modifier) == ("redirect", "_spf.d.test", True)
    res = StaticResolver({("d.test", "TXT"): [(b"v=spf1  a/24  ~all",)]})
    assert lookup_spf("d.test", res).tags == (("a", "/24"), ("~all", ""))
