"""swaks' lines for a TLS start that failed, and for the client certificates, from the typed
facts of a recording (never from smtpscope's own words)."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest

from smtpscope.record import Transcript
from smtpscope.record.swaks import to_swaks
from smtpscope.record.swaks_tls import tls_lines
from smtpscope.session_types import tls_failure_info
from smtpscope.transport.errors import TLSError
from smtpscope.transport.tls import handshake_error
from tests.record.test_swaks import reply
from tests.record.test_swaks_tls import BASE, _chain, _name, send_to_harness_as_swaks

REFUSED = "TLS certificate not accepted from mx.test:25 at level verify: certificate not verified"


def _session(tls: dict[str, Any] | None, failed: dict[str, Any] | None) -> list[str]:
    """A STARTTLS session cut short by a TLS failure, as to_swaks renders it."""
    t = Transcript()
    t.note("Connecting to mx.test port 25",
           info={"connection": "connecting", "transport": "tcp", "to": "mx.test", "port": 25})
    t.note("Connected to mx.test", info={"connection": "connected", "to": "mx.test"})
    reply(t, b"220 mx.test ESMTP\r\n")
    t.add("client", "command", b"STARTTLS\r\n")
    reply(t, b"220 go ahead\r\n")
    if tls is not None:
        t.add("local", "tls", b"TLS started", info=tls)
    t.note(REFUSED, kind="error", info=failed)
    return to_swaks(t).splitlines()


def _judged(kind: str, code: str | None, names: list[str]) -> dict[str, Any]:
    return {**BASE, "server_hostname": None, "peer_chain": _chain(kind), "trust": "untrusted",
            "trust_reason_code": code, "names_checked": names, "accepted": False,
            "verify_error": "not verified"}


@pytest.mark.parametrize(("kind", "code", "names", "why"), [
    ("san", "unknown-ca", ["mx.test"],
     "certificate verification failed (unable to get local issuer certificate)"),
    ("san", "name-mismatch", ["other.test"],
     "server certificate did not match target host other.test"),
    ("self-signed", "self-signed", ["other.test"],
     "certificate verification failed (self-signed certificate), "
     "server certificate did not match target host other.test"),
    ("san", "expired", [], "certificate verification failed (certificate has expired), "
                           "no host available for host verification"),
])
def test_a_refused_certificate_ends_as_swaks_ends(kind: str, code: str, names: list[str],
                                                  why: str) -> None:
    tls = _judged(kind, code, names)
    shown = _session(tls, {"tls_failed": {"stage": "verification", "starttls": True,
                                          "reason_code": code}})
    at = shown.index("<-  220 go ahead")
    assert shown[at + 1].startswith("=== TLS started with cipher ")
    assert shown[-3].startswith("=== TLS peer certificate ")
    # swaks exits 29 there: no word of the connection's end.
    assert shown[-2:] == [f"*** TLS startup failed (connect(): {why})",
                          "*** STARTTLS attempted but failed"]


def test_a_refusal_swaks_would_not_make_keeps_smtpscopes_words() -> None:
    # OpenSSL takes the commonName of a certificate without DNS names: both of swaks' checks
    # pass, so the refusal (a pin, DANE, or this) is said in smtpscope's words.
    tls = {**_judged("cn-only", "name-mismatch", ["mx.test"]), "trust": "trusted"}
    shown = _session(tls, {"tls_failed": {"stage": "verification", "starttls": True,
                                          "reason_code": "name-mismatch"}})
    assert shown[-2:] == [f"*** {REFUSED}", "*** STARTTLS attempted but failed"]


def test_a_recording_older_than_the_facts_shows_its_own_error() -> None:
    shown = _session(_judged("san", "unknown-ca", ["mx.test"]), None)
    assert shown[-2:] == [f"*** {REFUSED}", "=== Connection closed with remote host."]


def test_hostile_text_in_the_facts_is_made_visible() -> None:
    tls = _judged("san", "name-mismatch", ["evil\x1b[2J.test"])
    shown = _session(tls, {"tls_failed": {"stage": "verification", "starttls": True}})
    assert "\x1b" not in "".join(shown)
    assert shown[-2] == ("*** TLS startup failed (connect(): server certificate did not match "
                         "target host evil\\x1b[2J.test)")
    odd = _session(None, {"tls_failed": {"stage": "handshake", "starttls": True,
                                         "openssl": ["SSL\x1b[31m", "X\x07"]}})
    assert "\x1b" not in "".join(odd) and "\x07" not in "".join(odd)


def _openssl_failure() -> TLSError:
    """What a handshake with a server answering in plain text raises, through ssl itself."""
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname, client.verify_mode = False, ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = client.wrap_bio(incoming, outgoing)
    with pytest.raises(ssl.SSLError):
        tls.do_handshake()
    incoming.write(b"554 no TLS here, only plain text\r\n" * 4)
    with pytest.raises(ssl.SSLError) as raised:
        tls.do_handshake()
    return handshake_error(raised.value, "mx.test:25", "mx.test")


def test_a_handshake_that_failed_is_worded_as_openssl_words_it() -> None:
    error = _openssl_failure()
    assert error.openssl == ("SSL", "WRONG_VERSION_NUMBER")
    shown = _session(None, tls_failure_info(True, error=error))
    assert shown[-2:] == ["*** TLS startup failed (connect(): error:0A00010B:SSL routines::"
                          "wrong version number)", "*** STARTTLS attempted but failed"]
    # Broken off without an OpenSSL error (a hang-up, a timeout): smtpscope's words stay.
    closed = TLSError("closed", kind="closed", reason="EOF")
    assert _session(None, tls_failure_info(True, error=closed))[-2:] == [
        f"*** {REFUSED}", "*** STARTTLS attempted but failed"]


def test_tls_from_the_first_byte_failed_after_connecting() -> None:
    t = Transcript()
    t.note("Connecting to mx.test port 465 with implicit TLS",
           info={"connection": "connecting", "transport": "tcp", "to": "mx.test", "port": 465})
    t.note("TLS handshake failed", kind="error",
           info=tls_failure_info(False, error=_openssl_failure()))
    assert to_swaks(t).splitlines() == [
        "=== Trying mx.test:465...", "=== Connected to mx.test.",
        "*** TLS startup failed (connect(): error:0A00010B:SSL routines::wrong version number)"]


def _pem(der: bytes) -> str:
    return ssl.DER_cert_to_PEM_cert(der)


def test_each_client_certificate_in_swaks_two_lines() -> None:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    from tests.transport.test_transport_x509 import _build

    own = _build(_name((NameOID.ORGANIZATION_NAME, "Example"), (NameOID.COMMON_NAME, "me")),
                 san=[x509.RFC822Name("me@example.test")], issuer=_name(
                     (NameOID.COMMON_NAME, "Client CA")))
    issuer = _build(_name((NameOID.COMMON_NAME, "Client CA")))
    lines = tls_lines({**BASE, "cert_requested": True, "cert_sent": True,
                       "client_cert": "CN=me", "client_chain": [_pem(own), _pem(issuer)]})
    assert lines[1:6] == [
        "TLS client certificate requested and sent",
        "TLS client[0] subject=[/O=Example/CN=me]",
        "              commonName=[me], subjectAltName=[email:me@example.test] "
        "notAfter=[2049-12-31T23:59:59Z]",
        "TLS client[1] subject=[/CN=Client CA]",
        "              commonName=[Client CA], subjectAltName=[] notAfter=[2049-12-31T23:59:59Z]",
    ]
    # A PEM that does not read: the recorded subject alone, as for an older recording.
    broken = tls_lines({**BASE, "client_cert": "CN=me", "client_chain": ["not a PEM"]})
    assert broken[1:3] == ["TLS client[0] subject=[/CN=me]",
                           "TLS peer certificate passed CA verification, passed host verification "
                           "(using host mx.test to verify)"]


@pytest.mark.peer
@pytest.mark.parametrize(("port", "verdict", "why"), [
    ("unknownca", "failed CA verification (unable to get local issuer certificate), passed host "
     "verification", "certificate verification failed (unable to get local issuer certificate)"),
    ("wrongname", "passed CA verification, failed host verification",
     "server certificate did not match target host {host}"),
])
def test_a_refused_harness_certificate_ends_as_swaks_tls_verify(mta, tmp_path: Path, port: str,
                                                                verdict: str, why: str) -> None:
    """What swaks 20240103 prints with --tls --tls-verify against the same ports."""
    sent, shown = send_to_harness_as_swaks(mta, tmp_path, port)
    assert sent.returncode == 29, sent.stdout + sent.stderr
    assert shown[-3:] == [
        f"=== TLS peer certificate {verdict} (using host {mta.host} to verify)",
        f"*** TLS startup failed (connect(): {why.format(host=mta.host)})",
        "*** STARTTLS attempted but failed"]


@pytest.mark.parametrize("failed", [
    {"stage": "verification", "starttls": True, "reason_code": ["unknown-ca"]},
    {"stage": "handshake", "starttls": 1, "openssl": "SSL"},
    {"stage": None, "openssl": [None, 3]},
    {},
])
def test_damaged_facts_show_what_they_can(failed: dict[str, Any]) -> None:
    tls = {**_judged("san", "unknown-ca", ["mx.test"]), "trust_reason_code": {"x": 1}}
    shown = _session(tls, {"tls_failed": failed})
    assert shown[-1].startswith("*** ")  # said, without a crash on the odd types


def test_the_facts_pass_the_recordings_validation() -> None:
    from smtpscope.record.validate import LineError, entry_from_json

    good = {"seq": 0, "mono": 0.0, "wall": 0.0, "dir": "local", "kind": "error", "text": "x",
            "raw": ""}
    facts = tls_failure_info(True, error=_openssl_failure())
    assert entry_from_json({**good, "info": facts}).info == facts
    chain = {"client_cert": "CN=me", "client_chain": ["-----BEGIN CERTIFICATE-----\n"]}
    assert entry_from_json({**good, "kind": "tls", "info": chain}).info == chain
    for bad in ({"tls_failed": ["handshake"]}, {"client_chain": "PEM"},
                {"client_chain": [{"pem": "x"}]}):
        with pytest.raises(LineError):
            entry_from_json({**good, "info": bad})
