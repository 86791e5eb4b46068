"""The hint of a refused TLS session names a remedy for the reason the level refused it."""

from __future__ import annotations

import pytest

from smtpscope.security.dane import DaneResult
from smtpscope.security.report import refusal_error
from smtpscope.transport.tls import TLSInfo


def _refused(level: str, refusal: str, *, dane: DaneResult | None = None,
             reason_code: str = "name-mismatch") -> TLSInfo:
    # The certificate chains to a trusted CA but names another host: PKIX says "trusted".
    return TLSInfo("TLSv1.3", "TLS_AES_256_GCM_SHA384", 256, (), False, "name mismatch", False,
                   "mx.example.test", level=level, trust="trusted",
                   trust_reason_code=reason_code, dane=dane, accepted=False, refusal=refusal)


def _dane(*, authenticated: bool) -> DaneResult:
    return DaneResult("_25._tcp.mx.example.test", "ok", authenticated, (), False, authenticated,
                      False, "")


def test_the_name_hint_stays_for_the_levels_that_check_names() -> None:
    error = refusal_error(_refused("verify", "certificate not verified: name mismatch"), "mx:25")
    assert error.hint is not None and "--verify-name" in error.hint


@pytest.mark.parametrize("level", ["dane", "dane-only"])
def test_a_dane_mismatch_is_not_sent_to_the_certificate_name(level: str) -> None:
    # DANE-EE ignores names (RFC 7672 §3.1.1), and another --verify-name looks up other TLSA:
    # neither the name nor --cafile can cure a validated TLSA set that matches nothing.
    info = _refused(level, "DANE: no TLSA record matches the server's chain",
                    dane=_dane(authenticated=True))
    hint = refusal_error(info, "mx:25").hint
    assert hint is not None
    assert "--verify-name" not in hint and "--cafile" not in hint and "TLSA" in hint


def test_dane_only_without_validated_tlsa_points_at_the_resolver() -> None:
    info = _refused("dane-only", "dane-only: no DNSSEC-validated, usable TLSA records",
                    dane=_dane(authenticated=False), reason_code="unknown-ca")
    hint = refusal_error(info, "mx:25").hint
    assert hint is not None and "--resolver" in hint and "--cafile" not in hint



@pytest.mark.parametrize("level", ["dane", "dane-only"])
def test_a_proved_absence_of_tlsa_does_not_send_to_another_resolver(level: str) -> None:
    # The validating resolver proved (NSEC or NSEC3) there are no TLSA records: another
    # resolver would prove the same, so the hint says DANE cannot apply here.
    denied = DaneResult("_25._tcp.mx.example.test", "none", True, (), False, False, False, "")
    info = _refused(level, "dane-only: no DNSSEC-validated, usable TLSA records", dane=denied,
                    reason_code="unknown-ca")
    hint = refusal_error(info, "mx:25").hint
    assert hint is not None and "--resolver" not in hint and "--cafile" not in hint
    assert "proved this server has no usable TLSA records" in hint

def test_a_fingerprint_refusal_points_at_the_pin() -> None:
    info = _refused("fingerprint", "no --tls-fingerprint matches the certificate")
    hint = refusal_error(info, "mx:25").hint
    assert hint is not None and "--tls-fingerprint" in hint and "--verify-name" not in hint
