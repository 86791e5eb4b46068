"""RFC 7489 §6.3/§6.4 DMARC tags: which faults void the policy (§6.6.3) and which are only
discarded for their default."""

from __future__ import annotations

import pytest

from smtpscope.mx import PolicyRecord, StaticResolver, lookup_dmarc


def dmarc(record: str) -> PolicyRecord:
    return lookup_dmarc("d.test", StaticResolver({("_dmarc.d.test", "TXT"): [(record.encode(),)]}))


@pytest.mark.parametrize(
    ("record", "warning", "policy"),
    [
        ("v=DMARC1; p=rejct; rua=mailto:a@d.test",
         "p=rejct is not none, quarantine or reject (did you mean 'reject'?): with a valid rua= "
         "receivers act as if p=none (RFC 7489 §6.6.3)",
         "none: monitor only, deliver as usual (RFC 7489 §6.6.3: no valid p= but a valid rua=)"),
        ("v=DMARC1; p=reject; sp=hold",
         "sp=hold is not none, quarantine or reject: with no valid rua= receivers apply no DMARC "
         "(RFC 7489 §6.6.3)",
         "no DMARC applies (RFC 7489 §6.6.3: invalid p= or sp= and no valid rua=)"),
        ("v=DMARC1; rua=mailto:x@d.test",
         "no p= tag: with a valid rua= receivers act as if p=none (RFC 7489 §6.6.3)",
         "none: monitor only, deliver as usual (RFC 7489 §6.6.3: no valid p= but a valid rua=)"),
        ("v=DMARC1; p=bogus; rua=dmarc@d.test",  # a rua that is no URI is no valid rua (§6.6.3)
         "p=bogus is not none, quarantine or reject: with no valid rua= receivers apply no DMARC",
         "no DMARC applies (RFC 7489 §6.6.3: invalid p= or sp= and no valid rua=)"),
        ("v=dmarc1; p=reject",
         "v=dmarc1: the version must be exactly 'DMARC1': receivers ignore the record "
         "(RFC 7489 §6.3)",
         "no DMARC applies: receivers ignore the record"),
        ("v=DMARC1; p=reject; p=none",
         "tag p= appears 2 times: the record is invalid (RFC 7489 §6.3 follows the DKIM "
         "tag-list, RFC 6376 §3.2)",
         "reject: refuse mail that fails DMARC"),
    ],
)
def test_faults_that_change_what_the_record_does_make_it_invalid(
    record: str, warning: str, policy: str
) -> None:
    found = dmarc(record)
    assert found.status == "invalid"
    assert any(warning in w for w in found.warnings), found.warnings
    assert dict(found.details)["policy"] == policy


@pytest.mark.parametrize(
    ("record", "warning"),
    [
        ("v=DMARC1; p=reject; adkim=x", "adkim=x is not r or s: receivers use the default "
         "adkim=r (RFC 7489 §6.3)"),
        ("v=DMARC1; p=reject; aspf=strict", "aspf=strict is not r or s"),
        ("v=DMARC1; p=reject; pct=150", "pct=150 is no integer 0-100: receivers use pct=100 "
         "(RFC 7489 §6.3)"),
        ("v=DMARC1; p=reject; pct=-1", "pct=-1 is no integer 0-100"),
        ("v=DMARC1; p=reject; pct=50.5", "pct=50.5 is no integer 0-100"),
        ("v=DMARC1; p=reject; ruf=mailto:f@d.test; fo=1:x", "fo=1:x holds a value other than "
         "0, 1, d or s: receivers use the default fo=0 (RFC 7489 §6.3)"),
        ("v=DMARC1; p=reject; rf=iodef", "rf=iodef holds a value other than afrf"),
        ("v=DMARC1; p=reject; ri=abc", "ri=abc is no 32-bit unsigned number of seconds"),
        ("v=DMARC1; p=reject; ri=4294967296", "ri=4294967296 is no 32-bit unsigned number"),
        ("v=DMARC1; p=reject; np=hold", "np=hold is not none, quarantine or reject: receivers "
         "ignore it (RFC 9091 §4.1)"),
        ("v=DMARC1; p=reject; rau=mailto:a@d.test", "tag 'rau' is no DMARC tag (did you mean "
         "'rua'?): receivers ignore it (RFC 7489 §6.3)"),
        ("v=DMARC1; p=reject; t=y", "tag 't' is no DMARC tag: receivers ignore it"),
        ("v=DMARC1; p=reject; rua=a@d.test", "'a@d.test' in rua= is no URI (did you mean "
         "'mailto:a@d.test'?): receivers skip it (RFC 7489 §6.2)"),
        ("v=DMARC1; p=reject; rua=https://r.d.test/", "'https://r.d.test/' in rua= is no mailto: "
         "URI; receivers need support only mailto: (RFC 7489 §6.2) and may skip it"),
        ("v=DMARC1; p=reject; ruf=mailto:f@d.test!10x", "'mailto:f@d.test!10x' in ruf= has the "
         "size limit '!10x', not digits with k, m, g or t"),
        ("v=DMARC1; p=reject; rua=mailto:d.test", "'mailto:d.test' in rua= names no mail "
         "address"),
        ("v=DMARC1; p=reject; rua=mailto:\x1b[31mred@d.test", "'mailto:\x1b[31mred@d.test' in "
         "rua= is no URI"),
        ("v=DMARC1; p=reject; junk", "'junk' is no tag=value: receivers skip it (RFC 7489 §6.3)"),
        ("v=DMARC1; p=reject; fo=1", "fo= has no effect without ruf= (RFC 7489 §6.3)"),
        ("v=DMARC1; rua=mailto:a@d.test; p=reject", "p= should directly follow v=DMARC1 "
         "(RFC 7489 §6.4); most receivers take it anywhere"),
    ],
)
def test_values_receivers_discard_are_warnings_on_a_record_that_applies(
    record: str, warning: str
) -> None:
    found = dmarc(record)
    assert found.status == "ok"
    assert any(warning in w for w in found.warnings), found.warnings


def test_a_good_record_has_no_warnings_and_shows_every_tag() -> None:
    found = dmarc("v=DMARC1; p=quarantine; sp=reject; np=reject; pct=50; adkim=s; aspf=r; "
                  "fo=0:1:d:s; rf=afrf; ri=3600; rua=mailto:a@d.test!10m, mailto:b@e.test; "
                  "ruf=mailto:f@d.test;")
    assert (found.status, found.warnings) == ("ok", ())
    assert dict(found.details) == {
        "policy": "quarantine: treat failing mail as suspicious (spam folder)",
        "subdomain policy": "reject: refuse mail that fails DMARC",
        "aggregate reports to": "mailto:a@d.test!10m, mailto:b@e.test",
        "failure reports to": "mailto:f@d.test",
        "applies to %": "50",
        "DKIM alignment": "strict",
        "SPF alignment": "relaxed",
        "non-existent subdomain policy": "reject: refuse mail that fails DMARC",
    }


def test_a_record_with_the_version_later_is_no_record_and_says_why() -> None:
    # §6.3: v=DMARC1 MUST be the first tag; a record where it is not is discarded like any text.
    found = dmarc("p=reject; v=DMARC1; rua=mailto:a@d.test")
    assert found.status == "none"
    assert found.warnings == (
        "a TXT record reads 'p=reject; v=DMARC1; rua=mailto:a@d.test': v=DMARC1 must be its "
        "first tag, so receivers ignore it (RFC 7489 §6.3)",)
    assert dmarc("p=reject; note=v").warnings == ()
