"""Where the trust anchors of a ``--cafile``/``--capath`` pair come from, read as far as
``ssl`` reads them.

The rest (parsing each certificate) is ``smtpscope.security.pkix``'s, with ``cryptography``.
Kept apart so that a process which already has ``ssl`` can do this part and hand the result to
one that judges chains without loading ``ssl`` (``smtpscope.security.checker``).
"""

from __future__ import annotations

from smtpscope.values import Frozen


class AnchorSource(Frozen):
    """``system``: neither option was given, so the system's store: its CA file ``bundle`` (to
    parse as PEM; None when there is no such file), else, or when that file does not parse,
    the store as OpenSSL loads it (``system_store``). Otherwise ``ders``, the certificates
    OpenSSL loaded from ``--cafile``/``--capath``, and ``dirs``, directories whose files are
    read as PEM too."""

    __slots__ = ("bundle", "ders", "dirs", "system")
    bundle: str | None
    ders: tuple[bytes, ...]
    dirs: tuple[str, ...]
    system: bool

    def __init__(self, bundle: str | None, ders: tuple[bytes, ...], dirs: tuple[str, ...],
                 system: bool) -> None:
        self._set(bundle=bundle, ders=ders, dirs=dirs, system=system)


def anchor_source(cafile: str | None, capath: str | None) -> AnchorSource:
    """The system CA file when neither option is given (quick: its name only), else what
    OpenSSL loads from them. Raises what ``ssl.create_default_context`` raises for a file it
    cannot read."""
    import ssl

    if not cafile and not capath:
        # None when the file does not exist: the reader then takes the slow way.
        return AnchorSource(ssl.get_default_verify_paths().cafile, (), (), True)
    context = ssl.create_default_context(cafile=cafile, capath=capath)
    ders = tuple(context.get_ca_certs(binary_form=True))
    return AnchorSource(None, ders, (capath,) if capath else (), False)


def system_store() -> AnchorSource:
    """The system's store as OpenSSL loads it (the slow way: tens of milliseconds), and its
    directory when that gave nothing."""
    import ssl

    ders = tuple(ssl.create_default_context().get_ca_certs(binary_form=True))
    directory = ssl.get_default_verify_paths().capath
    return AnchorSource(None, ders, (directory,) if directory and not ders else (), False)
