"""swaks' TLS lines from a recording's typed TLS details: its wording, and nothing guessed."""

from __future__ import annotations

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
        "TLS client[0] subject=[CN=client.test]",  # swaks' %-9s label, then one space
        "TLS peer[0]   subject=[CN=mx.test,O=Example\\\\, Inc.,C=US]",  # \\ made visible
        "              commonName=[mx.test], subjectAltName=[DNS:mx.test] "
        "notAfter=[2030-01-01T00:00:00+00:00]",
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
    assert shown[at + 1].startswith("=== TLS client[0] subject=[")
    assert shown[at + 2].startswith("=== TLS peer[0]   subject=[")
    assert shown[at + 3].startswith("===               commonName=[localhost], subjectAltName=[")
