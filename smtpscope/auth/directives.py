"""Parse and build RFC 2831 directive lists (``key=value`` or ``key="quoted"``, comma-separated)."""

from __future__ import annotations


class DirectiveError(ValueError):
    """The text is not a valid directive list."""


def parse_directives(text: str) -> list[tuple[str, str]]:
    """Parse ``a=1, b="x,\\"y"`` into ``[("a", "1"), ("b", 'x,"y')]``; duplicates are kept.

    Keys are lower-cased (RFC 2831 tokens are case-insensitive). Empty list elements
    (``a=1,,b=2``) are allowed, as the RFC's ``#rule`` permits.
    """
    out: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t\r\n,":
            i += 1
        if i >= n:
            break
        eq = text.find("=", i)
        if eq < 0:
            raise DirectiveError(f"expected key=value at position {i}: '{text[i : i + 20]}'")
        key = text[i:eq].strip().lower()
        if not key or any(c in key for c in ' ,"\t'):
            raise DirectiveError(f"bad directive name '{text[i:eq]}' at position {i}")
        i = eq + 1
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == '"':
            i += 1
            chars: list[str] = []
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                chars.append(text[i])
                i += 1
            if i >= n:
                raise DirectiveError(f"unterminated quoted value for '{key}'")
            i += 1
            value = "".join(chars)
        else:
            end = text.find(",", i)
            end = n if end < 0 else end
            value = text[i:end].strip()
            i = end
        out.append((key, value))
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] != ",":
            raise DirectiveError(f"expected ',' after '{key}' at position {i}")
    return out


def quote(value: str) -> str:
    """Quote a value as an RFC 2831 quoted-string."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
