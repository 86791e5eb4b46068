"""Byte transport for the session: TCP (IPv4/IPv6), UNIX sockets, pipes; timeouts and TLS.

Names load from their module on first use (PEP 562): the certificate and TLS helpers must
not load asyncio, which only the streams need (a blocking probe never does).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_WHERE: dict[str, str] = {
    **dict.fromkeys(("ConnectError", "ConnectionLost", "ReadTimeout", "TLSError",
                     "TransportError", "WriteTimeout"), "errors"),
    **dict.fromkeys(("PipeStream", "open_pipe", "open_unix_connection"), "local"),
    **dict.fromkeys(("Stream", "open_connection"), "tcp"),
    **dict.fromkeys(("DEFAULT_CONNECT_TIMEOUT", "DEFAULT_READ_TIMEOUT", "DEFAULT_TLS_TIMEOUT",
                     "RFC5321_TIMEOUTS"), "timeouts"),
    **dict.fromkeys(("INSECURE_REASON", "TLSInfo", "make_tls_context"), "tls"),
    **dict.fromkeys(("CertInfo", "cert_info_from_der"), "x509"),
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


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
