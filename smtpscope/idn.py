"""Internationalized host names as the DNS, TLS and certificates spell them (A-labels).

One rule everywhere a name leaves smtpscope: IDNA 2008 (RFC 5891) after the UTS #46 mapping,
non-transitional, as registries, browsers and current MTAs use it. Python's own ``idna`` codec
and dnspython's default follow IDNA 2003 instead, which maps ``ß`` to ``ss``: ``straße.de``
would then be looked up, greeted in SNI and checked in a certificate as ``strasse.de``, another
domain. ASCII labels pass unchanged (``_25._tcp`` keeps its underscores), so only a name with
non-ASCII text pays for the ``idna`` package's import.
"""

from __future__ import annotations


def to_ascii(name: str) -> str:
    """``name`` with each non-ASCII label as its A-label (``xn--``); a trailing dot is kept.

    Raises ``UnicodeError`` (the ``idna`` package's ``IDNAError`` is one) when a label has no
    A-label: a disallowed character, an empty or overlong label.
    """
    if name.isascii():
        return name
    import idna

    # The mapping folds case and turns other full stops (U+3002 ...) into dots: map, then split.
    mapped = idna.uts46_remap(name, std3_rules=False, transitional=False)
    return ".".join(label if label.isascii() else idna.alabel(label).decode("ascii")
                    for label in mapped.split("."))


def to_ascii_or_same(name: str) -> str:
    """:func:`to_ascii`, or ``name`` unchanged when it has no A-label (a view, a comparison
    that then simply fails to match)."""
    try:
        return to_ascii(name)
    except UnicodeError:
        return name
