"""TLS levels, pins, client certificates and DANE against the real Postfix harness."""

from __future__ import annotations

import json
import ssl
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.peers.fixtures import peers_required

pytestmark = pytest.mark.peer


def _port(mta: Any, name: str) -> int:
    if name not in mta.ports:
        why = f"the harness has no {name!r} listener: restart it (tests/peers/mta.py start)"
        if peers_required():
            pytest.fail(why)
        pytest.skip(why)
    return int(mta.ports[name])


def _tls_file(mta: Any, name: str) -> str:
    return str(dict(mta.state["tls"])[name])


def _probe(cli: Any, *args: str) -> tuple[int, dict[str, Any]]:
    result = cli("probe", *args, "--json")
    [data] = [json.loads(line) for line in result.out.splitlines()]
    return result.code, data


def test_unknown_ca_is_reported_and_the_probe_goes_on(mta, cli) -> None:
    code, data = _probe(cli, f"{mta.host}:{_port(mta, 'unknownca')}", "--cafile",
                        str(mta.ca_file))
    assert code == 0 and data["status"] == "success"
    tls = data["tls"]
    assert tls["trust"] == "untrusted" and tls["trust_reason_code"] == "unknown-ca"
    assert tls["accepted"] and tls["level"] == "may"
    assert tls["peer_chain"][0]["issuer"] == "CN=an unknown CA,O=somebody else"
    # The conversation went on: EHLO after TLS is there, with AUTH that only TLS unlocks.
    after = {k["keyword"] for k in data["ehlo"]["tls"]["keywords"]}
    assert "AUTH" in after and "STARTTLS" not in after
    assert "lookups" not in data["timings"]  # an address, no DANE: nothing looked up first


def test_send_refuses_the_unknown_ca_with_exit_29(mta, cli) -> None:
    result = cli("send", f"{mta.host}:{_port(mta, 'unknownca')}", "--cafile", str(mta.ca_file),
                 "--from", mta.address("alice"), "--to", mta.address("bob"))
    assert result.code == 29
    assert "Untrusted TLS connection" in result.err and "an unknown CA" in result.err
    assert "C: MAIL FROM" not in result.out


def test_a_refusal_hint_names_the_remedies_for_its_own_reason_once(mta, cli) -> None:
    unknown = f"{mta.host}:{_port(mta, 'unknownca')}"
    code, data = _probe(cli, unknown, "--cafile", str(mta.ca_file), "--tls-level", "verify")
    assert code == 29 and data["status"] == "tls-error"
    hint = data["hint"]
    assert hint.count("--cafile") == 1 and "--insecure" in hint
    wrong = f"{mta.host}:{_port(mta, 'wrongname')}"
    code, data = _probe(cli, wrong, "--cafile", str(mta.ca_file), "--tls-level", "verify")
    assert code == 29 and data["tls"]["trust_reason_code"] == "name-mismatch"
    # Trusting another CA cannot cure a name mismatch: the hint points at the name.
    assert "--verify-name" in data["hint"] and "--cafile" not in data["hint"]


def test_verify_name_fixes_a_name_mismatch(mta, cli) -> None:
    target = f"{mta.host}:{_port(mta, 'wrongname')}"
    base = ("send", target, "--cafile", str(mta.ca_file), "--from", mta.address("alice"),
            "--to", mta.address("bob"))
    refused = cli(*base)
    assert refused.code == 29 and "does not name the host (127.0.0.1)" in refused.err
    token = uuid.uuid4().hex
    fixed = cli(*base, "--verify-name", str(dict(mta.state["tls_names"])["wrongname"]),
                "--subject", token)
    assert fixed.code == 0, fixed.err
    assert "Verified TLS connection: certificate verified for elsewhere.example.net" in fixed.out
    assert any(token.encode() in m for m in mta.read_delivered("bob", match=token.encode()))


def test_fingerprint_match_and_mismatch(mta, cli) -> None:
    _, data = _probe(cli, f"{mta.host}:{mta.smtp}")
    leaf = data["tls"]["peer_chain"][0]
    target = (f"{mta.host}:{mta.smtp}", "--quit-after", "starttls", "--from", mta.address("alice"),
              "--to", mta.address("bob"))
    pinned = cli("send", *target, "--tls-fingerprint", f"SHA256:{leaf['spki_sha256']}")
    assert pinned.code == 0, pinned.err
    assert "Fingerprint-matched TLS connection: public key SHA256 pinned" in pinned.out
    colons = ":".join(leaf["fingerprint_sha256"][i:i + 2] for i in range(0, 64, 2)).upper()
    assert cli("send", *target, "--tls-fingerprint", f"SHA256:{colons}").code == 0
    wrong = cli("send", *target, "--tls-fingerprint", "SHA256:" + "ab" * 32)
    assert wrong.code == 29 and "no --tls-fingerprint matches" in wrong.err


@pytest.mark.parametrize("level", ["encrypt", "verify"])
def test_a_mandatory_level_keeps_the_implicit_tls_of_smtps(mta, cli, level: str) -> None:
    # A level that requires TLS means STARTTLS for a plain target; smtps:// already has TLS
    # from the first byte, and speaking plain text there only waits for a banner that never
    # comes.
    result = cli("send", f"smtps://{mta.host}:{mta.smtps}", "--tls-level", level, "--cafile",
                 str(mta.ca_file), "--quit-after", "ehlo", "--timeout", "10")
    assert result.code == 0, result.err
    assert "with implicit TLS" in result.out and "C: STARTTLS" not in result.out
    plain = cli("send", f"{mta.host}:{mta.smtp}", "--tls-level", level, "--cafile",
                str(mta.ca_file), "--quit-after", "ehlo", "--timeout", "10")
    assert plain.code == 0, plain.err
    assert "C: STARTTLS" in plain.out


def test_tls_max_12_gives_tls_12(mta, cli) -> None:
    code, data = _probe(cli, f"{mta.host}:{mta.smtp}", "--cafile", str(mta.ca_file),
                        "--tls-max", "1.2")
    assert code == 0 and data["tls"]["version"] == "TLSv1.2"
    assert data["tls"]["trust"] == "verified"


def test_client_certificate_accepted(mta, cli) -> None:
    token = uuid.uuid4().hex
    result = cli("send", f"{mta.host}:{_port(mta, 'ccert')}", "--cafile", str(mta.ca_file),
                 "--tls-cert", _tls_file(mta, "client.pem"),
                 "--tls-key", _tls_file(mta, "client.key"),
                 "--from", mta.address("alice"), "--to", mta.address("bob"), "--subject", token)
    assert result.code == 0, result.err
    [message] = mta.read_delivered("bob", match=token.encode())
    headers = message.split(b"\n\n", 1)[0].replace(b"\n\t", b" ").replace(b"\n ", b" ")
    # Postfix names a client certificate it verified against its CA file in Received:.
    assert b'Client CN "smtpscope test client"' in headers and b"verified OK" in headers


def tls_zone_or_skip(mta: Any, dns_server: Any) -> None:
    """Skip (fail under CI) unless DNS serves tls.test made from this very Postfix harness."""
    from smtpscope.transport.x509 import cert_info_from_der

    why = None
    if "tls.test" not in dns_server.zones:
        why = "DNS harness started without the Postfix harness: no tls.test zone"
    else:
        pem = Path(mta.cert_file).read_text()
        names = cert_info_from_der(ssl.PEM_cert_to_DER_cert(pem)).san
        answer = dns_server.resolver().lookup(f"_{mta.smtp}._tcp.mx.tls.test", "TLSA")
        if "DNS:mx.tls.test" not in names:
            why = "the harness certificate predates tls.test: restart tests/peers/mta.py"
        elif not answer.ok:
            why = "tls.test was generated for another harness: restart tests/peers/dns.py"
    if why is not None:
        if peers_required():
            pytest.fail(why)
        pytest.skip(why)


def test_tlsa_match_for_mx_target(mta, dns_server, cli) -> None:
    tls_zone_or_skip(mta, dns_server)
    code, data = _probe(cli, "@tls.test", "--resolver", dns_server.resolver_address,
                        "--port", str(mta.smtp), "--cafile", str(mta.ca_file))
    assert code == 0, data
    dane = data["tls"]["dane"]
    assert dane["name"] == f"_{mta.smtp}._tcp.mx.tls.test"
    assert not dane["authenticated"] and not dane["applies"] and dane["would_match"]
    assert dane["summary"].startswith("TLSA present but not DNSSEC-validated: DANE would not "
                                      "apply")
    by_usage = {c["usage"]: c for c in dane["checks"]}
    assert by_usage[3]["matched"] and by_usage[3]["cert_index"] == 0
    assert not by_usage[2]["matched"] and "only its own certificate" in by_usage[2]["why"]
    assert data["tls"]["trust"] == "verified"  # PKIX still decides: DANE did not apply


def test_tlsa_mismatch_for_host_target(mta, dns_server, cli) -> None:
    tls_zone_or_skip(mta, dns_server)
    code, data = _probe(cli, f"{mta.host}:{mta.smtp}", "--dane", "--verify-name", "bad.tls.test",
                        "--resolver", dns_server.resolver_address)
    assert code == 0
    dane = data["tls"]["dane"]
    assert dane["name"] == f"_{mta.smtp}._tcp.bad.tls.test" and not dane["would_match"]
    assert all(not c["matched"] for c in dane["checks"]) and len(dane["checks"]) == 2
    assert "no record would match" in dane["summary"]
    # The dane-only level needs validated TLSA; this resolver gives none, so TLS is refused.
    code, data = _probe(cli, f"{mta.host}:{mta.smtp}", "--tls-level", "dane-only",
                        "--verify-name", "mx.tls.test", "--resolver", dns_server.resolver_address)
    assert code == 29 and "no DNSSEC-validated" in data["error"]


def test_show_certs_prints_pem(mta, cli) -> None:
    result = cli("probe", f"{mta.host}:{_port(mta, 'unknownca')}", "--show-certs")
    assert result.code == 0
    assert result.out.count("-----BEGIN CERTIFICATE-----") >= 1
    pem = result.out[result.out.index("-----BEGIN"):].split("-----END CERTIFICATE-----")[0]
    assert Path(_tls_file(mta, "stranger.pem")).read_text().startswith(
        pem.replace("    ", "").splitlines()[0])


def test_client_certificate_and_version_reach_the_swaks_export(mta, cli, tmp_path) -> None:
    recording = tmp_path / "s.jsonl"
    result = cli("send", f"{mta.host}:{_port(mta, 'ccert')}", "--cafile", str(mta.ca_file),
                 "--tls-cert", _tls_file(mta, "client.pem"),
                 "--tls-key", _tls_file(mta, "client.key"), "--tls-max", "1.2",
                 "--quit-after", "starttls", "--record", str(recording),
                 "--from", mta.address("alice"), "--to", mta.address("bob"))
    assert result.code == 0, result.err
    exported = cli("export", str(recording), "--as", "swaks")
    assert exported.code == 0
    line = exported.out
    assert "--tls-verify" in line and f"--tls-ca-path {mta.ca_file}" in line
    assert f"--tls-cert {_tls_file(mta, 'client.pem')}" in line
    assert "--tls-protocol tlsv1,tlsv1_1,tlsv1_2" in line


@pytest.mark.parametrize("scheme", ["starttls", "implicit"])
def test_reconnect_resumes_the_session(mta, cli, scheme) -> None:
    target = f"{mta.host}:{mta.smtp}" if scheme == "starttls" else \
        f"smtps://{mta.host}:{mta.smtps}"
    code, data = _probe(cli, target, "--cafile", str(mta.ca_file), "--reconnect")
    assert code == 0
    again = data["tls"]["resumption"]
    assert again["attempted"] and again["error"] is None
    assert again["resumed"] is True and again["version"] == data["tls"]["version"]
    text = cli("probe", target, "--cafile", str(mta.ca_file), "--reconnect")
    assert "resumption (--reconnect): resumed" in text.out


def test_secure_level_wants_the_next_hop_domain(mta, dns_server, cli) -> None:
    tls_zone_or_skip(mta, dns_server)
    base = ("--resolver", dns_server.resolver_address, "--port", str(mta.smtp), "--cafile",
            str(mta.ca_file), "--tls-level", "secure")
    # mx.tls.test is a subdomain of tls.test (Postfix's dot-nexthop): accepted.
    code, data = _probe(cli, "@tls.test", *base)
    assert code == 0 and data["tls"]["verified_name"] == "mx.tls.test"
    assert data["tls"]["names_checked"] == ["tls.test", ".tls.test"]
    # For enforce.tls.test the same certificate names no host of that domain: refused.
    code, data = _probe(cli, "@enforce.tls.test", *base)
    assert code == 29 and data["tls"]["trust"] == "trusted" and not data["tls"]["accepted"]


def test_sni_and_capath(mta, cli, tmp_path) -> None:
    cadir = tmp_path / "cas"
    cadir.mkdir()
    (cadir / "harness.pem").write_bytes(Path(mta.ca_file).read_bytes())
    (cadir / "README").write_text("not a certificate\n")
    code, data = _probe(cli, f"{mta.host}:{mta.smtp}", "--capath", str(cadir), "--sni",
                        "mx.tls.test")
    assert code == 0
    assert data["tls"]["sni"] == "mx.tls.test" and data["tls"]["trust"] == "verified"
    assert data["tls"]["verified_name"] == mta.host  # the name checked is still the host


_CLIENT = "CN=smtpscope test client,O=smtpscope test harness"


@pytest.mark.parametrize(("port", "with_cert", "typed", "said"), [
    ("ccert", False, (True, False, None), "client certificate: none, but the server asked "
     "for one"),
    ("ccert", True, (True, True, _CLIENT), f"client certificate: sent ({_CLIENT})"),
    ("smtp", True, (False, False, _CLIENT), "client certificate: not sent, the server asked "
     f"for none ({_CLIENT})"),
])
def test_probe_reports_what_became_of_the_client_certificate(
        mta, cli, port: str, with_cert: bool, typed: tuple[Any, ...], said: str) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from importlib import resources

    cert = ("--tls-cert", _tls_file(mta, "client.pem"), "--tls-key",
            _tls_file(mta, "client.key")) if with_cert else ()
    args = (f"{mta.host}:{_port(mta, port)}", "--cafile", str(mta.ca_file), *cert)
    code, data = _probe(cli, *args)
    assert code == 0 and data["status"] == "success"
    tls = data["tls"]
    assert (tls["cert_requested"], tls["cert_sent"], tls["client_cert"]) == typed
    schema = json.loads((resources.files("smtpscope") / "schemas" / "probe.schema.json")
                        .read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(data)
    text = cli("probe", *args)
    assert text.code == 0 and f"\n    {said}\n" in text.out


def test_probe_says_nothing_of_a_client_certificate_nobody_mentioned(mta, cli) -> None:
    text = cli("probe", f"{mta.host}:{mta.smtp}", "--cafile", str(mta.ca_file))
    assert text.code == 0 and "TLS: TLSv1" in text.out
    assert "client certificate" not in text.out


def test_send_reports_the_client_certificate_in_its_transcript_and_json(mta, cli) -> None:
    args = (f"{mta.host}:{_port(mta, 'ccert')}", "--cafile", str(mta.ca_file),
            "--tls-cert", _tls_file(mta, "client.pem"), "--tls-key",
            _tls_file(mta, "client.key"), "--from", mta.address("alice"),
            "--to", mta.address("bob"), "--quit-after", "rcpt")
    text = cli("send", *args)
    assert text.code == 0, text.err
    [started] = [line for line in text.out.splitlines() if "TLS started" in line]
    assert started.endswith(f" · client certificate: sent ({_CLIENT})")
    as_json = json.loads(cli("send", *args, "--json").out)
    assert (as_json["tls"]["cert_requested"], as_json["tls"]["cert_sent"]) == (True, True)


@pytest.mark.parametrize(("with_cert", "said"), [
    (False, "client certificate: none, but the server asked for one"),
    (True, f"client certificate: sent ({_CLIENT})"),
])
def test_send_tls_block_says_what_became_of_the_client_certificate(
        mta, cli, with_cert: bool, said: str) -> None:
    cert = ("--tls-cert", _tls_file(mta, "client.pem"), "--tls-key",
            _tls_file(mta, "client.key")) if with_cert else ()
    result = cli("send", f"{mta.host}:{_port(mta, 'ccert')}", "--cafile", str(mta.ca_file),
                 *cert, "--from", mta.address("alice"), "--to", mta.address("bob"),
                 "--quit-after", "rcpt", "--show-certs")
    assert result.code == 0, result.err
    block = result.err.splitlines()
    assert block[0].startswith("TLS TLSv1") and block[1] == said
