"""The TLS line says what became of a client certificate, and no more than the handshake showed."""

from __future__ import annotations

import pytest

from smtpscope.security.report import client_cert_line
from smtpscope.transport.tls import TLSInfo

CN = "CN=smtpscope test client"


@pytest.mark.parametrize(("client_cert", "requested", "sent", "said"), [
    (CN, True, True, f"client certificate: sent ({CN})"),
    (CN, False, False, f"client certificate: not sent, the server asked for none ({CN})"),
    (CN, True, False, f"client certificate: asked for, not sent ({CN})"),
    # A Python without OpenSSL's message hook cannot tell: offered is all that is known.
    (CN, None, None, f"client certificate: offered ({CN}); whether the server asked is not known"),
    (None, True, False, "client certificate: none, but the server asked for one"),
    (None, False, False, None),
    (None, None, None, None),
])
def test_what_the_handshake_showed(client_cert: str | None, requested: bool | None,
                                   sent: bool | None, said: str | None) -> None:
    info = TLSInfo("TLSv1.3", "TLS_AES_256_GCM_SHA384", 256, (), True, None, False, "mx",
                   cert_requested=requested, cert_sent=sent, client_cert=client_cert)
    assert client_cert_line(info) == said


def test_the_client_certificates_are_recorded_without_their_key(tmp_path) -> None:
    """A --tls-cert file may hold the key too: only the certificates, written anew, are kept
    (swaks prints each; the key is the secret)."""
    import trustme
    from cryptography import x509

    from smtpscope.security.policy import TLSPolicy

    ca = trustme.CA()
    leaf = ca.issue_cert("client.test")
    both = tmp_path / "client.pem"
    both.write_bytes(leaf.private_key_pem.bytes() + b"".join(
        blob.bytes() for blob in leaf.cert_chain_pems) + ca.cert_pem.bytes())
    policy = TLSPolicy(level="verify", client_cert=str(both))
    chain = policy.client_certificates()
    assert [pem.encode() for pem in chain] == [
        *(blob.bytes() for blob in leaf.cert_chain_pems), ca.cert_pem.bytes()]
    assert not any("PRIVATE" in pem for pem in chain)
    own = x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes())
    assert policy.client_subject(chain) == own.subject.rfc4514_string()
    assert TLSPolicy(level="verify", client_cert=str(tmp_path / "absent.pem")) \
        .client_certificates() == ()
