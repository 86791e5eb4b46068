"""TLSPolicy, Level and PkixResult as values: fields, defaults, checks, repr and copies."""

from __future__ import annotations

import pytest

from smtpscope.cli.tls_options import attach
from smtpscope.dns._json import jsonable
from smtpscope.security.levels import LEVELS, Level
from smtpscope.security.pkix import PkixResult
from smtpscope.security.policy import PolicyError, TLSPolicy
from smtpscope.session_types import SessionOptions
from smtpscope.transport.tls import TLSInfo
from tests.value_pins import assert_frozen_value, assert_mutable_value

POLICY_FIELDS = ("level", "cafile", "capath", "verify_names", "sni", "fingerprints",
                 "client_cert", "client_key", "min_version", "max_version", "ciphers",
                 "show_certs", "insecure", "nexthop", "tlsa", "dane_check")


def test_level_and_pkix_result_are_frozen_values() -> None:
    level = Level("may", False, "opportunistic")
    assert repr(level) == "Level(name='may', tls_required=False, meaning='opportunistic')"
    assert_frozen_value(level, ("name", "tls_required", "meaning"))
    assert LEVELS["verify"] == Level("verify", True, LEVELS["verify"].meaning)
    result = PkixResult("untrusted")
    assert repr(result) == ("PkixResult(status='untrusted', reason_code=None, reason=None, "
                            "matched_name=None, anchor=None)")
    assert_frozen_value(PkixResult("trusted", "name-mismatch", "no", None, "CN=ca"),
                        ("status", "reason_code", "reason", "matched_name", "anchor"))
    assert PkixResult("verified", matched_name="mx") != PkixResult("verified")
    assert jsonable(PkixResult("verified", matched_name="mx")) == {  # mx --check-tls's form
        "status": "verified", "reason_code": None, "reason": None, "matched_name": "mx",
        "anchor": None}


def test_policy_defaults_repr_and_checks() -> None:
    policy = TLSPolicy()
    assert repr(policy) == (
        "TLSPolicy(level='may', cafile=None, capath=None, verify_names=(), sni=None, "
        "fingerprints=(), client_cert=None, client_key=None, min_version=None, "
        "max_version=None, ciphers=None, show_certs=False, insecure=False, nexthop=None, "
        "tlsa={}, dane_check=False)")
    assert policy.tlsa is not TLSPolicy().tlsa  # each policy its own table
    assert_mutable_value(TLSPolicy("verify", "ca.pem", None, ("mx",), "mx", (), None, None,
                                   "1.2", "1.3", None, True, False, "example", {}, True),
                         POLICY_FIELDS)
    with pytest.raises(PolicyError, match="--tls-level 'paranoid'"):
        TLSPolicy("paranoid")
    with pytest.raises(PolicyError, match="--tls-max '9'"):
        TLSPolicy(max_version="9")
    with pytest.raises(TypeError):
        TLSPolicy(_context=None)  # type: ignore[call-arg]


def test_policy_equality_ignores_its_cached_context() -> None:
    policy = TLSPolicy(level="verify")
    context = policy.context()
    assert policy.context() is context  # kept...
    assert policy == TLSPolicy(level="verify")  # ...and not compared
    assert "context" not in repr(policy)


def test_attach_copies_the_policy_for_one_target() -> None:
    policy = TLSPolicy(level="secure", cafile="ca.pem")
    context = policy.context()
    options = SessionOptions("127.0.0.1")
    mine = attach(policy, options, "user@Example.ORG.", None)
    assert options.tls is mine and mine is not policy
    assert mine == TLSPolicy(level="secure", cafile="ca.pem", nexthop="example.org")
    assert mine.tlsa is not policy.tlsa and policy.nexthop is None
    assert mine.context() is not context  # a copy builds its own context


def test_evaluate_replaces_the_verdict_fields_only() -> None:
    info = TLSInfo("TLSv1.2", "ECDHE", 128, (), True, None, False, "mx", alpn="smtp")
    judged = TLSPolicy(level="may", insecure=True).evaluate(info, "mx", 25)
    assert (judged.version, judged.cipher, judged.bits, judged.alpn) == (
        "TLSv1.2", "ECDHE", 128, "smtp")
    assert (judged.verified, judged.trust, judged.trust_reason_code, judged.level) == (
        False, "untrusted", "no-certificate", "may")
    assert (judged.insecure, judged.accepted, judged.peer_host, judged.names_checked) == (
        True, True, "mx", ("mx",))
    assert judged.requested == (("--tls-level", "may"),)


def test_requested_names_files_by_absolute_path(tmp_path, monkeypatch) -> None:
    """A recording names the CA and client files so that its swaks command runs from anywhere
    (swaks refuses a --tls-ca-path it cannot find)."""
    from smtpscope.security.swaks_tls import swaks_tls_options

    monkeypatch.chdir(tmp_path)
    policy = TLSPolicy(level="verify", cafile="tls/ca.pem", capath=None,
                       client_cert="tls/me.pem", client_key=str(tmp_path / "me.key"))
    recorded = list(policy.requested())
    requested = dict(recorded)
    assert requested["--cafile"] == str(tmp_path / "tls" / "ca.pem")
    assert requested["--tls-cert"] == str(tmp_path / "tls" / "me.pem")
    assert requested["--tls-key"] == str(tmp_path / "me.key")
    monkeypatch.chdir("/")  # the recording exported from elsewhere
    argv, _ = swaks_tls_options({"requested": recorded})
    assert argv[argv.index("--tls-ca-path") + 1] == str(tmp_path / "tls" / "ca.pem")
