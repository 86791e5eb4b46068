"""Load the certificate code on a side thread while a connection waits on the network.

Reading a certificate and judging its chain need the ``cryptography`` package (about 25 ms to
import) and the trust anchors (tens of milliseconds for the system store). Both happen on first
use anyway; started before connecting, they run while the main thread sits in the event loop
waiting for the banner, EHLO and the handshake, instead of after the handshake. Nothing here
changes a result: the first use still imports the same modules (waiting for this thread if it
is half way) and ``trust_anchors`` is cached either way.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_started: set[tuple[str | None, str | None]] = set()


def _load(cafile: str | None, capath: str | None) -> None:
    try:
        import smtpscope.transport.x509 as x509
        from smtpscope.security.pkix import trust_anchors

        x509.preload()
        trust_anchors(cafile, capath)
    except Exception:  # the main thread meets (and reports) the same error itself
        pass


def prefetch(cafile: str | None, capath: str | None) -> threading.Thread | None:
    """Start loading for these trust anchors (once per pair); returns the thread it started."""
    key = (cafile, capath)
    with _lock:
        if key in _started:
            return None
        _started.add(key)
    from smtpscope.security import checker

    if checker.load_anchors(cafile, capath):  # a helper process does it all, on another core
        return None
    # Not a daemon: the interpreter joins it before shutting down. A daemon thread still
    # inside an import or OpenSSL when a short run (no TLS, a refused connection) exits is
    # stopped mid-C-call, and that can abort or crash the process after its output is out.
    # (A probe ends with os._exit, which stops it with the process and runs no shutdown.)
    thread = threading.Thread(target=_load, args=key, name="smtpscope-prefetch", daemon=False)
    thread.start()
    return thread
