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
