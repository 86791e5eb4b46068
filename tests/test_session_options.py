"""SessionOptions as a value: fields in order, defaults, repr, equality, and it can be changed."""

from __future__ import annotations

from smtpscope.session_types import DEFAULT_HELO, SessionOptions
from tests.value_pins import assert_mutable_value

FIELDS = ("host", "port", "security", "helo_name", "verify", "cafile", "server_hostname", "tls",
          "connect_timeout", "lmtp", "route", "reply_timeout", "unix_path", "pipe_command",
          "family", "local_addr", "preamble", "xclient", "data_timeout")


def test_defaults_and_repr() -> None:
    options = SessionOptions("mx")
    assert repr(options) == (
        f"SessionOptions(host='mx', port=25, security='starttls', helo_name='{DEFAULT_HELO}', "
        "verify=True, cafile=None, server_hostname=None, tls=None, connect_timeout=30.0, "
        "lmtp=False, route=(), reply_timeout=None, unix_path=None, pipe_command=None, "
        "family=0, local_addr=None, preamble=b'', xclient=(), data_timeout=None)")
    assert options == SessionOptions(host="mx") and options != SessionOptions("mx", 26)
    assert (options.tls_server_name, options.endpoint) == ("mx", "mx:25")


def test_fields_in_order_mutable_and_unhashable() -> None:
    options = SessionOptions("::1", 2525, "implicit", "me", False, "ca.pem", "mx", None, 5.0,
                             True, (), 9.0, None, None, 10, ("::1", 0), b"PROXY", ("A=1",),
                             600.0)
    assert options.endpoint == "[::1]:2525"
    assert_mutable_value(options, FIELDS)
    options.lmtp = False  # views and commands set fields as they learn more
    assert not options.lmtp


def test_reply_limits_by_what_is_owed() -> None:
    from smtpscope.protocol import Kind
    from smtpscope.session_types import reply_limit

    def limits(options: SessionOptions) -> list[float]:
        kinds = (None, Kind.MAIL, Kind.DATA, Kind.BDAT, Kind.RAW, Kind.CONTENT, Kind.BDAT_LAST)
        return [reply_limit(options, kind) for kind in kinds]

    # Unset: RFC 5321 §4.5.3.2's figure for each, 10 minutes for the reply to the message.
    assert limits(SessionOptions("mx")) == [300, 300, 120, 600, 300, 600, 600]
    # A reply limit governs every other reply, not the one to the message: RFC 5321 §4.5.3.2.6
    # waits 10 minutes for it (content filters), unless the limit is longer still.
    assert limits(SessionOptions("mx", reply_timeout=60)) == [60, 60, 60, 60, 60, 600, 600]
    assert limits(SessionOptions("mx", reply_timeout=900))[-2:] == [900, 900]
    # Its own limit, when set, is the one: shorter or longer.
    for data in (5.0, 1200.0):
        assert limits(SessionOptions("mx", reply_timeout=60, data_timeout=data)) == \
            [60, 60, 60, 60, 60, data, data]
