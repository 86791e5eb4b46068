"""Which words a handshake answered with plaintext gets: after STARTTLS or with implicit TLS."""

from __future__ import annotations

import ssl

from smtpscope.transport.errors import ANSWER_KEPT
from smtpscope.transport.tls import handshake_error, not_tls_reason, plaintext_answer


def _wrong_version() -> ssl.SSLError:
    error = ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number")
    error.reason = "WRONG_VERSION_NUMBER"
    error.library = "SSL"
    return error


def test_the_hint_fits_starttls_or_implicit_tls() -> None:
    after_starttls, hint = not_tls_reason(starttls=True)
    assert "plaintext" in after_starttls and "implicit-TLS port" not in after_starttls
    assert "STARTTLS" in after_starttls and "--tls none" in hint
    implicit, hint = not_tls_reason(starttls=False)
    assert "is this a STARTTLS port, not an implicit-TLS port?" in implicit
    assert "without implicit TLS" in hint


def test_a_plaintext_answer_is_kept_and_shown_escaped() -> None:
    answer = b"454 4.7.0 TLS not available\x1b[2J\r\n"
    error = handshake_error(_wrong_version(), "mx.test:25", "mx.test", starttls=True,
                            received=answer)
    assert error.answer == answer and error.kind == "protocol"
    assert error.hint == not_tls_reason(starttls=True)[1]
    assert str(error) == ("TLS handshake with mx.test:25 failed: " + not_tls_reason(
        starttls=True)[0] + ': "454 4.7.0 TLS not available\\x1b[2J"')
    implicit = handshake_error(_wrong_version(), "mx.test:465", "mx.test", received=answer)
    assert "implicit-TLS port?): \"454" in str(implicit)


def test_only_plaintext_counts_and_it_is_bounded() -> None:
    assert plaintext_answer(b"\x16\x03\x03\x00\x10") == b""  # a TLS record: OpenSSL's words
    assert plaintext_answer(b"\x15") == b""  # maybe the start of an alert
    assert plaintext_answer(b"") == b""
    assert len(plaintext_answer(b"5" * 1000)) == ANSWER_KEPT
    error = handshake_error(_wrong_version(), "mx.test:25", None, starttls=True)
    assert error.answer == b"" and "plaintext" in str(error) and error.hint is None
