"""Every JSON output carries schema_version and validates against its packaged JSON Schema."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

jsonschema = pytest.importorskip("jsonschema")

SCHEMAS = ("probe", "send", "mx", "replay")


def _schema(name: str) -> dict[str, Any]:
    path = resources.files("smtpscope") / "schemas" / f"{name}.schema.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _valid(name: str, data: dict[str, Any]) -> None:
    assert data["schema_version"] == 1
    assert next(iter(data)) == "schema_version"  # the first key, easy to spot with head -c
    jsonschema.Draft202012Validator(_schema(name)).validate(data)


@pytest.mark.parametrize("name", SCHEMAS)
def test_schemas_are_valid_json_schema(name: str) -> None:
    jsonschema.Draft202012Validator.check_schema(_schema(name))


def test_a_wrong_object_fails_validation() -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"schema_version": 1, "target": "x", "status": "fine"},
                            _schema("probe"))


def test_raw_base64_is_padded_standard_base64_and_never_on_a_redacted_line() -> None:
    send, probe = _schema("send"), _schema("probe")
    entry = {"seq": 0, "dir": "client", "kind": "command", "text": "AUTH PLAIN [hidden]"}
    wrapper = {"schema_version": 1, "target": "x", "status": "success", "exit_code": 0,
               "stage": None, "error": None, "hint": None, "server": None, "tls": None,
               "recipients": {"accepted": [], "rejected": []}}

    def send_with(**fields: Any) -> dict[str, Any]:
        return {**wrapper, "transcript": [{**entry, **fields}]}

    jsonschema.validate(send_with(raw_base64="QVVUSA0K"), send)
    jsonschema.validate(send_with(redacted=True), send)
    for bad in (send_with(raw_base64="QVVUSA0K", redacted=True),  # the bytes of a secret
                send_with(raw_base64="QVVUSA0"),  # unpadded
                send_with(raw_base64="_-8=")):  # the URL-safe alphabet
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, send)
    banner = {"code": 220, "lines": ["hi"], "raw_base64": "MjIwIGhp/w0K"}
    result = {"schema_version": 1, "target": "x", "status": "success", "stage": None,
              "error": None, "hint": None, "server": None, "banner": banner,
              "ehlo": {"plain": None, "tls": None}, "tls": None, "capability_changes": None,
              "timings": {}, "starttls": {"offered": False, "attempted": False, "reply": None}}
    jsonschema.validate(result, probe)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**result, "banner": {**banner, "raw_base64": "220 hi"}}, probe)


@pytest.mark.parametrize("name", ["probe", "send"])
def test_the_client_certificate_fields_are_typed(name: str) -> None:
    tls = _schema(name)["properties"]["tls"]
    fine = {"version": "TLSv1.3", "cipher": "X", "cert_requested": True, "cert_sent": None,
            "client_cert": "CN=me"}
    jsonschema.validate(fine, tls)
    for bad in ({**fine, "cert_requested": "yes"}, {**fine, "cert_sent": 1},
                {**fine, "client_cert": ["CN=me"]}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, tls)


def test_send_json_success_and_failure(make_server, cli) -> None:
    server = make_server()
    ok = cli("send", server.target, "--from", "a@x.test", "--to", "b@y.test", "--json")
    bad = cli("send", server.target, "--from", "a@x.test", "--to", "x@reject.test", "--json")
    assert (ok.code, bad.code) == (0, 24)
    _valid("send", json.loads(ok.out))
    _valid("send", json.loads(bad.out))


def test_probe_json_success_and_refused(make_server, cli) -> None:
    server = make_server(tls="starttls")
    result = cli("probe", server.target, "127.0.0.1:9", "--cafile", server.cafile, "--json")
    first, second = (json.loads(line) for line in result.out.splitlines())
    assert (first["status"], second["status"]) == ("success", "connection-refused")
    _valid("probe", first)
    _valid("probe", second)


def test_replay_json(make_server, cli, tmp_path: Path) -> None:
    server = make_server()
    record = tmp_path / "r.jsonl"
    assert cli("send", server.target, "--from", "a@x.test", "--to", "b@y.test",
               "--record", str(record)).code == 0
    result = cli("replay", str(record), "--format", "json")
    _valid("replay", json.loads(result.out))


@pytest.mark.peer
def test_probe_and_send_json_from_postfix(mta, cli) -> None:
    probe = cli("probe", f"{mta.host}:{mta.smtp}", "--cafile", str(mta.ca_file), "--json")
    data = json.loads(probe.out)
    assert data["tls"] is not None and data["ehlo"]["tls"]["keywords"]
    _valid("probe", data)
    send = cli("send", f"{mta.host}:{mta.smtp}", "--cafile", str(mta.ca_file), "--json",
               "--from", mta.address("bob"), "--to", mta.address("alice"))
    _valid("send", json.loads(send.out))


@pytest.mark.dns
def test_mx_json(dns_server: Any, cli) -> None:
    result = cli("mx", "example.test", "--resolver", dns_server.resolver_address, "--json")
    _valid("mx", json.loads(result.out))


NULL_MX_ZONE = """\
$ORIGIN null.test.
@ 60 SOA ns hostmaster 1 60 60 60 60
@ 60 MX 0 .
"""


def test_send_json_when_no_connection_is_made(cli) -> None:
    """A Null MX or a bad target stops send before connecting: --json still prints the result."""
    from tests.dns.responder import Zone, serve

    with serve(Zone(NULL_MX_ZONE)) as address:
        routed = cli("send", "a@null.test", "--from", "a@x.test", "--to", "a@null.test",
                     "--resolver", address, "--json")
    bad = cli("send", "a@b..test", "--from", "a@x.test", "--to", "b@y.test", "--json")
    assert (routed.code, bad.code) == (2, 1)
    for result, status in ((routed, "no-route"), (bad, "usage")):
        data = json.loads(result.out)
        _valid("send", data)
        assert (data["status"], data["exit_code"], data["server"]) == (status, result.code, None)
        assert data["error"] in result.err  # the one error line is still there for a person
    assert "RFC 7505" in json.loads(routed.out)["error"]


def test_dns_status_enums_are_the_codes_own() -> None:
    from typing import get_args

    from smtpscope.dns.mxlookup import MXStatus
    from smtpscope.dns.records import PolicyStatus
    from smtpscope.dns.tlsa import TLSAStatus

    mx = _schema("mx")
    assert mx["properties"]["mx"]["properties"]["status"]["enum"] == list(get_args(MXStatus))
    assert mx["$defs"]["policy"]["properties"]["status"]["enum"] == list(get_args(PolicyStatus))
    tlsa_statuses = list(get_args(TLSAStatus))
    assert mx["properties"]["tlsa"]["items"]["properties"]["status"]["enum"] == tlsa_statuses
    for name in ("probe", "send"):
        dane = _schema(name)["properties"]["tls"]["properties"]["dane"]
        assert dane["properties"]["lookup"]["enum"] == tlsa_statuses
