"""Byte transport for the session: TCP (IPv4/IPv6), UNIX sockets, pipes; timeouts and TLS."""

from .errors import (
    ConnectError,
    ConnectionLost,
    ReadTimeout,
    TLSError,
    TransportError,
    WriteTimeout,
)
from .local import PipeStream, open_pipe, open_unix_connection
from .tcp import Stream, open_connection
from .timeouts import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    DEFAULT_TLS_TIMEOUT,
    RFC5321_TIMEOUTS,
)
from .tls import INSECURE_REASON, TLSInfo, make_tls_context
from .x509 import CertInfo, cert_info_from_der

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_READ_TIMEOUT",
    "DEFAULT_TLS_TIMEOUT",
    "INSECURE_REASON",
    "RFC5321_TIMEOUTS",
    "CertInfo",
    "ConnectError",
    "ConnectionLost",
    "PipeStream",
    "ReadTimeout",
    "Stream",
    "TLSError",
    "TLSInfo",
    "TransportError",
    "WriteTimeout",
    "cert_info_from_der",
    "make_tls_context",
    "open_connection",
    "open_pipe",
    "open_unix_connection",
]
