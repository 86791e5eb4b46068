"""Where the trust anchors of a ``--cafile``/``--capath`` pair come from, read as far as
``ssl`` reads them.

The rest (parsing each certificate) is ``smtpscope.security.pkix``'s, with ``cryptography``.
Kept apart so that a process which already has ``ssl`` can do this part and hand the result to
one that judges chains without loading ``ssl`` (``smtpscope.security.checker``).
"""

from __future__ import annotations

from smtpscope.values import Frozen


class AnchorSource(Frozen):
    """``bundle``: the system CA file, to parse as PEM (None: not the system's store, or no
    such file). ``ders``: the certificates OpenSSL loaded from ``--cafile``/``--capath``.
    ``dirs``: directories whose files are read as PEM too. ``system``: neither option was
    given (should the bundle not parse, the system store is read the slow way)."""

    __slots__ = ("bundle", "ders", "dirs", "system")
    bundle: str | None
    ders: tuple[bytes, ...]
    dirs: tuple[str, ...]
    system: bool

    def __init__(self, bundle: str | None, ders: tuple[bytes, ...], dirs: tuple[str, ...],
                 system: bool) -> None:
        self._set(bundle=bundle, ders=ders, dirs=dirs, system=system)


def anchor_source(cafile: str | None, capath: str | None) -> AnchorSource:
    """The system CA file when neither option is given, else what OpenSSL loads from them.

    Raises what ``ssl.create_default_context`` raises for a file it cannot read.
    """
    import ssl

    if not cafile and not capath:
        bundle = ssl.get_default_verify_paths().cafile  # None when the file does not exist
        if bundle:
            return AnchorSource(bundle, (), (), True)
        return system_store()
    context = ssl.create_default_context(cafile=cafile, capath=capath)
    ders = tuple(context.get_ca_certs(binary_form=True))
    return AnchorSource(None, ders, (capath,) if capath else (), False)


def system_store() -> AnchorSource:
    """The system's store as OpenSSL loads it (the slow way: tens of milliseconds), and its
    directory when that gave nothing."""
    import ssl

    ders = tuple(ssl.create_default_context().get_ca_certs(binary_form=True))
    directory = ssl.get_default_verify_paths().capath
    return AnchorSource(None, ders, (directory,) if directory and not ders else (), True)
