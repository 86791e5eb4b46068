"""SASLprep (RFC 4013 profile of stringprep, RFC 3454) built on the stdlib ``stringprep`` tables."""

from __future__ import annotations

import stringprep
import unicodedata
from collections.abc import Callable

# RFC 4013 §2.3: characters that must not appear after mapping and normalisation.
_PROHIBITED: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("non-ASCII space", stringprep.in_table_c12),
    ("ASCII control", stringprep.in_table_c21),
    ("non-ASCII control", stringprep.in_table_c22),
    ("private use", stringprep.in_table_c3),
    ("non-character", stringprep.in_table_c4),
    ("surrogate", stringprep.in_table_c5),
    ("inappropriate for plain text", stringprep.in_table_c6),
    ("inappropriate for canonical representation", stringprep.in_table_c7),
    ("change display / deprecated", stringprep.in_table_c8),
    ("tagging character", stringprep.in_table_c9),
)


class SASLprepError(ValueError):
    """The string contains a character SASLprep prohibits: ``why`` says which kind of
    character (or which bidi rule), ``code_point`` names it when one character is at fault."""

    def __init__(self, why: str, code_point: int | None = None) -> None:
        self.why = why
        self.code_point = code_point
        named = "" if code_point is None else f"U+{code_point:04X} "
        super().__init__(f"prohibited character {named}({why})" if code_point is not None
                         else why)

    def describe(self, *, secret: bool) -> str:
        """The reason in words; for a ``secret`` (a password) without the character itself."""
        if self.code_point is None:
            return str(self)
        return f"prohibited character ({self.why})" if secret else str(self)


def saslprep(text: str) -> str:
    """Prepare a user name or password as RFC 4013 says (as a query: unassigned allowed).

    Raises :class:`SASLprepError` naming the offending character.
    """
    mapped = "".join(
        " " if stringprep.in_table_c12(c) else c for c in text if not stringprep.in_table_b1(c)
    )
    out = unicodedata.normalize("NFKC", mapped)
    for c in out:
        for label, check in _PROHIBITED:
            if check(c):
                raise SASLprepError(label, ord(c))
    if any(stringprep.in_table_d1(c) for c in out):
        if any(stringprep.in_table_d2(c) for c in out):
            raise SASLprepError("mixes right-to-left and left-to-right characters")
        if not (stringprep.in_table_d1(out[0]) and stringprep.in_table_d1(out[-1])):
            raise SASLprepError("right-to-left text must start and end with an RTL character")
    return out


def saslprep_lenient(text: str, *, secret: bool = False) -> tuple[str, str | None]:
    """SASLprep, or NFKC plus a warning when the string is prohibited (a debugger still tries).

    For a ``secret`` the warning does not name the character: it would tell part of it.
    """
    try:
        return saslprep(text), None
    except SASLprepError as exc:
        return (unicodedata.normalize("NFKC", text),
                f"SASLprep refused the string: {exc.describe(secret=secret)}")
