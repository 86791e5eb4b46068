"""swaks' TLS lines from a recording's typed TLS details: its wording, and nothing guessed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from smtpscope.record.store import read_recording
from smtpscope.record.swaks import to_swaks
from smtpscope.record.swaks_tls import tls_lines

BASE: dict[str, Any] = {"version": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384", "bits": 256,
                        "verified": True, "insecure": False, "server_hostname": "mx.test"}
LEAF = {"subject": "CN=mx.test,O=Example\\, Inc.,C=US", "san": ["DNS:mx.test"],
        "not_after": "2030-01-01T00:00:00+00:00"}


def test_client_certificate_lines_in_swaks_wording() -> None:
    lines = tls_lines({**BASE, "cert_requested": True, "cert_sent": True,
                       "client_cert": "CN=client.test", "peer_chain": [LEAF]})
    assert lines[1:5] == [
        "TLS client certificate requested and sent",
        "TLS client[0] subject=[/CN=client.test]",  # swaks' %-9s label, then one space
        # No PEM recorded: OpenSSL's form of the RFC 4514 subject, in DER order.
        "TLS peer[0]   subject=[/C=US/O=Example, Inc./CN=mx.test]",
        "              commonName=[mx.test], subjectAltName=[DNS:mx.test] "
        "notAfter=[2030-01-01T00:00:00Z]",
    ]
    none = tls_lines({**BASE, "cert_requested": False, "cert_sent": False, "client_cert": None})
    assert none[1:3] == ["TLS client certificate not requested and not sent",
                         "TLS no client certificate set"]
    asked = tls_lines({**BASE, "cert_requested": True, "cert_sent": False, "client_cert": None})
    assert asked[1] == "TLS client certificate requested and not sent"


def test_what_the_recording_does_not_know_is_left_out() -> None:
    older = tls_lines({**BASE, "peer_chain": [LEAF]})  # before the client certificate fields
    assert not any("client" in line for line in older)
    unknown = tls_lines({**BASE, "cert_requested": None, "cert_sent": None, "client_cert": None})
    assert not any("requested" in line for line in unknown)
    assert "TLS no client certificate set" in unknown  # no --tls-cert was given: that is known
    broken = tls_lines({**BASE, "peer_chain": [{**LEAF, "subject": "", "parse_error": "bad"}]})
    assert broken[2].startswith("              subjectAltName=[")  # no commonName guessed


def test_common_name_is_the_subjects_first_and_shown_escaped() -> None:
    def common(subject: str) -> str:
        return tls_lines({**BASE, "peer_chain": [{**LEAF, "subject": subject}]})[2]

    assert "commonName=[], " in common("O=No Name,C=US")  # swaks prints an empty one
    # RFC 4514 lists the most specific first: OpenSSL's first commonName is the last written.
    assert "commonName=[outer], " in common("CN=inner,CN=outer")
    assert "commonName=[a\\x1b[2Jb], " in common("CN=a\\1B[2Jb")



def send_to_harness_as_swaks(mta: Any, tmp_path: Path, port: str, *options: str
                             ) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """``send`` over STARTTLS to a harness port up to RCPT, recorded; the process and the
    recording's swaks transcript, line by line. Skips when the harness lacks the port."""
    if port not in mta.ports:
        pytest.skip(f"this harness has no {port} port")
    record = tmp_path / "s.jsonl"
    sent = subprocess.run([sys.executable, "-m", "smtpscope", "send",
                           f"{mta.host}:{mta.ports[port]}", "--cafile", str(mta.ca_file),
                           "--tls", "starttls", *options, "--quit-after", "rcpt",
                           "--from", mta.address("bob"), "--to", mta.address("alice"),
                           "--record", str(record)],
                          capture_output=True, text=True, timeout=60, check=False)
    return sent, to_swaks(read_recording(record).entries).splitlines()

@pytest.mark.peer
def test_a_client_certificate_session_replays_with_swaks_lines(mta, tmp_path: Path) -> None:
    if "ccert" not in mta.ports:
        pytest.skip("this harness has no client-certificate port")
    tls = Path(str(mta.state["tls"]["client.pem"])).parent  # type: ignore[index]
    record = tmp_path / "s.jsonl"
    sent = subprocess.run([sys.executable, "-m", "smtpscope", "send",
                           f"{mta.host}:{mta.ports['ccert']}", "--cafile", str(mta.ca_file),
                           "--tls-cert", str(tls / "client.pem"), "--tls-key",
                           str(tls / "client.key"), "--from", mta.address("bob"),
                           "--to", mta.address("alice"), "--record", str(record)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    shown = to_swaks(read_recording(record).entries).splitlines()
    at = shown.index("=== TLS client certificate requested and sent")
    from smtpscope.record.swaks_cert import load, not_after

    client = load((tls / "client.pem").read_text())
    assert client is not None
    assert shown[at + 1].startswith("=== TLS client[0] subject=[")
    # The second line, as for the peer's: read from the recorded client certificate.
    assert shown[at + 2] == (f"===               commonName=[smtpscope test client], "
                             f"subjectAltName=[] notAfter=[{not_after(client)}]")
    assert shown[at + 3].startswith("=== TLS peer[0]   subject=[")
    assert shown[at + 4].startswith("===               commonName=[localhost], subjectAltName=[")
    # The certificate is public and recorded; its key is not.
    text = record.read_text()
    assert "PRIVATE KEY" not in text
    assert (tls / "client.key").read_text().splitlines()[1] not in text


# -- from the recorded PEM, as OpenSSL (and so swaks) renders and checks it ---------------------

def _recorded(der: bytes) -> dict[str, Any]:
    """A certificate as a recording holds it (what tls_info_dict writes)."""
    from smtpscope.transport.x509 import cert_info_from_der

    return cert_info_from_der(der)._asdict()


def _name(*rdns: list[tuple[Any, str]] | tuple[Any, str]) -> Any:
    from cryptography import x509

    return x509.Name([x509.RelativeDistinguishedName(
        [x509.NameAttribute(*pair) for pair in (rdn if isinstance(rdn, list) else [rdn])])
        for rdn in rdns])


def test_subject_is_openssls_oneline_of_the_pem() -> None:
    from cryptography import x509
    from cryptography.x509.name import _ASN1Type
    from cryptography.x509.oid import NameOID

    from tests.transport.test_transport_x509 import _build

    subject = _name((NameOID.COUNTRY_NAME, "US"),
                    [(NameOID.ORGANIZATION_NAME, 'a/b+c=d, "e"\\f'),
                     (NameOID.ORGANIZATIONAL_UNIT_NAME, "Unit\x01")],  # one multi-valued RDN
                    (NameOID.LOCALITY_NAME, "Zürich", _ASN1Type.BMPString),
                    (NameOID.STATE_OR_PROVINCE_NAME, "Straße"),
                    (x509.ObjectIdentifier("1.2.3.4.5"), "odd"),
                    (NameOID.EMAIL_ADDRESS, "x@y.test"),
                    (NameOID.COMMON_NAME, "first"), (NameOID.COMMON_NAME, "second"))
    lines = tls_lines({**BASE, "peer_chain": [_recorded(_build(subject))]})
    # What Net::SSLeay's X509_NAME_oneline printed for this very certificate (OpenSSL 3.0):
    # DER order, "+" inside the RDN (whose members DER sorts), "\/" and "\+", and every byte
    # outside printable ASCII as \xHH, the BMPString's NULs included.
    assert lines[1] == ("TLS peer[0]   subject=[/C=US/OU=Unit\\x01+O=a\\/b\\+c=d, \"e\"\\f"
                        "/L=\\x00Z\\x00\\xFC\\x00r\\x00i\\x00c\\x00h/ST=Stra\\xC3\\x9Fe"
                        "/1.2.3.4.5=odd/emailAddress=x@y.test/CN=first/CN=second]")
    assert lines[2] == ("              commonName=[first], subjectAltName=[] "
                        "notAfter=[2049-12-31T23:59:59Z]")


def test_alt_names_and_common_name_as_swaks_prints_them() -> None:
    import ipaddress

    from cryptography import x509
    from cryptography.x509.oid import NameOID

    from tests.transport.test_transport_x509 import _build

    san: list[x509.GeneralName] = [
        x509.DNSName("mx.test"), x509.IPAddress(ipaddress.ip_address("::ffff:192.0.2.1")),
        x509.DirectoryName(_name((NameOID.ORGANIZATION_NAME, "Dir"),
                                 (NameOID.COMMON_NAME, "x/y"))),
        x509.RFC822Name("postmaster@mx.test"),
        x509.RegisteredID(x509.ObjectIdentifier("1.3.6.1.5.5.7.3.1"))]  # dotted, as SSLeay's
    cert = _build(_name((NameOID.COMMON_NAME, "Zürich\x1b[2J")), san=san)
    second = tls_lines({**BASE, "peer_chain": [_recorded(cert)]})[2]
    assert second == ("              commonName=[Zürich\\x1b[2J], subjectAltName=[DNS:mx.test, "
                      "IP Address:::ffff:192.0.2.1, DirName:/O=Dir/CN=x\\/y, "
                      "email:postmaster@mx.test, Registered ID:1.3.6.1.5.5.7.3.1] "
                      "notAfter=[2049-12-31T23:59:59Z]")


def _chain(kind: str) -> list[dict[str, Any]]:
    """Real certificates for each shape: a CA-issued leaf with SAN, one with a commonName
    only, a self-signed leaf, a leaf sent with its (untrusted) root."""
    import ipaddress

    from cryptography import x509
    from cryptography.x509.oid import NameOID

    from tests.transport.test_transport_x509 import _build

    ca = _name((NameOID.COMMON_NAME, "Test CA"))
    leaf = _name((NameOID.COMMON_NAME, "mx.test"))
    dns = [x509.DNSName("mx.test"), x509.DNSName("*.mail.test"),
           x509.IPAddress(ipaddress.ip_address("192.0.2.7"))]
    if kind == "cn-only":
        return [_recorded(_build(leaf, issuer=ca))]
    if kind == "self-signed":
        return [_recorded(_build(leaf, san=dns))]
    issued = _recorded(_build(leaf, san=dns, issuer=ca))
    return [issued, _recorded(_build(ca))] if kind == "with-root" else [issued]


@pytest.mark.parametrize(("kind", "trust", "code", "names", "verdict"), [
    ("san", "verified", None, ["mx.test"],
     "passed CA verification, passed host verification (using host mx.test to verify)"),
    ("san", "trusted", "name-mismatch", ["other.test"],
     "passed CA verification, failed host verification (using host other.test to verify)"),
    ("san", "untrusted", "unknown-ca", ["192.0.2.7"],
     "failed CA verification (unable to get local issuer certificate), passed host "
     "verification (using host 192.0.2.7 to verify)"),
    ("san", "untrusted", "expired", ["a.mail.test"],
     "failed CA verification (certificate has expired), passed host verification "
     "(using host a.mail.test to verify)"),
    ("self-signed", "untrusted", "self-signed", ["b.a.mail.test"],
     "failed CA verification (self-signed certificate), failed host verification "
     "(using host b.a.mail.test to verify)"),
    ("with-root", "untrusted", "unknown-ca", ["MX.TEST"],
     "failed CA verification (self-signed certificate in certificate chain), passed host "
     "verification (using host MX.TEST to verify)"),
    # OpenSSL falls back to the commonName of a certificate without DNS names (the PKIX
    # check of smtpscope does not): swaks says the host passed.
    ("cn-only", "trusted", "name-mismatch", ["mx.test"],
     "passed CA verification, passed host verification (using host mx.test to verify)"),
    ("san", "untrusted", "invalid-chain", [],
     "failed CA verification (the chain does not verify), failed host verification "
     "(no host string available to verify)"),
])
def test_verification_line_in_swaks_words(kind: str, trust: str, code: str | None,
                                          names: list[str], verdict: str) -> None:
    info = {**BASE, "server_hostname": None, "peer_chain": _chain(kind), "trust": trust,
            "trust_reason_code": code, "names_checked": names,
            "verify_error": "the chain does not verify" if code else None}
    assert tls_lines(info)[-1] == f"TLS peer certificate {verdict}"


def test_a_verdict_the_recording_does_not_hold_is_left_out() -> None:
    unjudged = {**BASE, "peer_chain": _chain("san"), "trust": "unchecked"}
    assert tls_lines({**unjudged, "verified": False})[-1].startswith("              ")
    assert tls_lines({**unjudged, "insecure": True})[-1].startswith("              ")
    # No PEM to check the name against: the recorded verdict, when it is one of both checks.
    older = tls_lines({**unjudged, "peer_chain": [LEAF]})  # the handshake verified
    assert older[-1] == ("TLS peer certificate passed CA verification, passed host verification "
                         "(using host mx.test to verify)")
    unknown = {**BASE, "peer_chain": [LEAF], "trust": "untrusted", "names_checked": ["mx.test"],
               "trust_reason_code": "unknown-ca", "verify_error": "not trusted"}
    assert "verification" not in tls_lines(unknown)[-1]


@pytest.mark.peer
@pytest.mark.parametrize(("port", "subject", "verdict"), [
    ("smtp", "/O=smtpscope test harness/CN=localhost",
     "passed CA verification, passed host verification"),
    ("unknownca", "/O=somebody else/CN=localhost",
     "failed CA verification (unable to get local issuer certificate), passed host verification"),
    ("wrongname", "/O=smtpscope test harness/CN=elsewhere.example.net",
     "passed CA verification, failed host verification"),
])
def test_harness_certificates_replay_as_swaks_shows_them(mta, tmp_path: Path, port: str,
                                                         subject: str, verdict: str) -> None:
    sent, shown = send_to_harness_as_swaks(mta, tmp_path, port, "--tls-level", "may")
    assert sent.returncode == 0, sent.stdout + sent.stderr
    at = shown.index(f"=== TLS peer[0]   subject=[{subject}]")
    assert re.fullmatch(r"===               commonName=\[[^]]+\], subjectAltName=\[DNS:[^]]+\] "
                        r"notAfter=\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\]", shown[at + 1])
    assert shown[at + 2] == (f"=== TLS peer certificate {verdict} "
                             f"(using host {mta.host} to verify)")
