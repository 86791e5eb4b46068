"""Capabilities: EHLO parsing against several real servers, registry meanings, diff."""

from __future__ import annotations

from smtpscope.protocol import Capabilities, parse_reply
from smtpscope.protocol.registry import KEYWORDS, explain_limits

from .servers import (
    EXCHANGE_EHLO,
    EXIM_EHLO,
    MOX_EHLO,
    POSTFIX_EHLO,
    POSTFIX_EHLO_TLS,
    SENDMAIL_EHLO,
    SWAKS_EHLO,
)


def caps(data: bytes) -> Capabilities:
    return Capabilities.parse(parse_reply(data))


def test_postfix() -> None:
    c = caps(POSTFIX_EHLO)
    assert c.domain == "mx.example.test" and c.greeting == ""
    assert [k.keyword for k in c.keywords][:3] == ["PIPELINING", "SIZE", "VRFY"]
    assert c.size == 10240000
    assert c.has("starttls") and c.has("CHUNKING") and not c.has("AUTH")
    size = c.get("SIZE")
    assert size is not None and size.rfc == "RFC 1870" and size.params == ("10240000",)
    assert size.raw == "SIZE 10240000"
    assert c.auth_mechanisms == ()


def test_exim_limits_and_greeting() -> None:
    c = caps(EXIM_EHLO)
    assert c.domain == "mail.example.org"
    assert c.greeting == "Hello client.example [192.0.2.10]"
    assert c.limits == {"MAILMAX": 1000, "RCPTMAX": 50000}
    assert c.auth_mechanisms == ("PLAIN", "LOGIN")
    prdr = c.get("PRDR")
    assert prdr is not None and prdr.rfc == "draft-hall-prdr-00"
    pipeconnect = c.get("PIPECONNECT")
    assert pipeconnect is not None and pipeconnect.meaning == "not in the registry"


def test_exchange_legacy_auth_and_vendor_keywords() -> None:
    c = caps(EXCHANGE_EHLO)
    assert c.auth_mechanisms == ("NTLM", "LOGIN")
    legacy = [k for k in c.keywords if k.legacy]
    assert len(legacy) == 1 and legacy[0].raw == "AUTH=LOGIN" and legacy[0].keyword == "AUTH"
    for vendor in ("X-ANONYMOUSTLS", "X-EXPS", "XRDST", "XSHADOWREQUEST"):
        cap = c.get(vendor)
        assert cap is not None and cap.meaning == "vendor extension", vendor
    assert c.size == 37748736


def test_swaks_lowercase_legacy_auth() -> None:
    c = caps(SWAKS_EHLO)
    assert c.auth_mechanisms == ("CRAM-MD5", "LOGIN")


def test_sendmail_size_without_limit() -> None:
    c = caps(SENDMAIL_EHLO)
    assert c.has("SIZE") and c.size is None
    verb = c.get("VERB")
    assert verb is not None and verb.rfc == "Sendmail"
    assert c.get("DELIVERBY") is not None
    assert caps(b"250-x\r\n250 SIZE 0\r\n").size is None
    assert caps(b"250-x\r\n250 SIZE lots\r\n").size is None


def test_mox_keywords() -> None:
    c = caps(MOX_EHLO)
    assert c.limits == {"RCPTMAX": 1000}
    fr = c.get("FUTURERELEASE")
    assert fr is not None and fr.params == ("5184000", "2025-05-08T11:28:17Z")
    assert fr.rfc == "RFC 4865"
    requiretls = c.get("REQUIRETLS")
    assert requiretls is not None and requiretls.rfc == "RFC 8689"


def test_malformed_and_empty_lines_kept() -> None:
    c = caps(b"250-host\r\n250-\r\n250-B@D KEYWORD\r\n250-LIMITS RCPTMAX=x FOO\r\n250 OK\r\n")
    assert len(c.keywords) == 4
    assert c.keywords[0].malformed and c.keywords[1].malformed
    assert c.limits == {}


def test_non_success_reply_gives_nothing() -> None:
    c = caps(b"502 5.5.2 Error: command not recognized\r\n")
    assert c.keywords == () and c.domain == ""


def test_diff_before_after_starttls() -> None:
    before, after = caps(POSTFIX_EHLO), caps(POSTFIX_EHLO_TLS)
    d = before.diff(after)
    assert [k.keyword for k in d.added] == ["AUTH"]
    assert [k.keyword for k in d.removed] == ["STARTTLS"]
    assert d.changed == ()
    assert d
    assert not before.diff(before)
    changed = caps(b"250-x\r\n250 SIZE 1000\r\n").diff(caps(b"250-x\r\n250 SIZE 2000\r\n"))
    assert [(a.params, b.params) for a, b in changed.changed] == [(("1000",), ("2000",))]


def test_registry_has_every_row() -> None:
    expected = {
        "SIZE", "PIPELINING", "8BITMIME", "SMTPUTF8", "CHUNKING", "BINARYMIME", "DSN",
        "ENHANCEDSTATUSCODES", "STARTTLS", "AUTH", "REQUIRETLS", "LIMITS", "MT-PRIORITY",
        "DELIVERBY", "ETRN", "FUTURERELEASE", "BURL", "CHECKPOINT", "CONNEG", "CONPERM",
        "NO-SOLICITING", "MTRK", "ATRN", "RRVS", "SUBMITTER", "SEND", "SOML", "SAML", "TURN",
        "EXPN", "HELP", "VERB", "ONEX", "PRDR", "XCLIENT", "XFORWARD",
    }
    assert expected <= set(KEYWORDS)
    assert KEYWORDS["LIMITS"].rfc == "RFC 9422"
    assert KEYWORDS["XCLIENT"].meaning != "vendor extension"


def test_limits_parameters_are_explained() -> None:
    c = caps(EXIM_EHLO)
    limits = c.get("LIMITS")
    assert limits is not None
    assert explain_limits(limits.params) == (
        "at most 1000 transactions per session; at most 50000 recipients per transaction")
    # RFC 9422: unknown names are ignored by clients, values are digits only.
    assert explain_limits(("RCPTDOMAINMAX=3", "FOO=1", "RCPTMAX=x")) == (
        "at most 3 recipient domains per transaction; FOO: not in the registry; "
        "RCPTMAX: no readable number")
