"""SessionOptions as a value: fields in order, defaults, repr, equality, and it can be changed."""

from __future__ import annotations

from smtpscope.session_types import DEFAULT_HELO, SessionOptions
from tests.value_pins import assert_mutable_value

FIELDS = ("host", "port", "security", "helo_name", "verify", "cafile", "server_hostname", "tls",
          "connect_timeout", "lmtp", "route", "reply_timeout", "unix_path", "pipe_command",
          "family", "local_addr", "preamble", "xclient")


def test_defaults_and_repr() -> None:
    options = SessionOptions("mx")
    assert repr(options) == (
        f"SessionOptions(host='mx', port=25, security='starttls', helo_name='{DEFAULT_HELO}', "
        "verify=True, cafile=None, server_hostname=None, tls=None, connect_timeout=30.0, "
        "lmtp=False, route=(), reply_timeout=None, unix_path=None, pipe_command=None, "
        "family=0, local_addr=None, preamble=b'', xclient=())")
    assert options == SessionOptions(host="mx") and options != SessionOptions("mx", 26)
    assert (options.tls_server_name, options.endpoint) == ("mx", "mx:25")


def test_fields_in_order_mutable_and_unhashable() -> None:
    options = SessionOptions("::1", 2525, "implicit", "me", False, "ca.pem", "mx", None, 5.0,
                             True, (), 9.0, None, None, 10, ("::1", 0), b"PROXY", ("A=1",))
    assert options.endpoint == "[::1]:2525"
    assert_mutable_value(options, FIELDS)
    options.lmtp = False  # views and commands set fields as they learn more
    assert not options.lmtp
