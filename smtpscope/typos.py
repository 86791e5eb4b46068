"""Which known word a mistyped one was likely meant as: for "did you mean" hints everywhere."""

from __future__ import annotations

from collections.abc import Iterable

# difflib's own default: below it, two words share too little to call one a typo of the other.
_CUTOFF = 0.6


def close_match(word: str, candidates: Iterable[str]) -> str | None:
    """The one candidate ``word`` is a likely typo of (in any case), else None: None too when
    ``word`` is a candidate, or when two candidates are as close as each other.

    Swapped letters are the commonest typo ("smpt", "lmpt"): a candidate with the same letters
    comes first; otherwise the closest by difflib's ratio, if close enough.
    """
    import difflib  # only for a mistyped value: not loaded at start-up

    by_lower = {str(c).lower(): str(c) for c in candidates}
    typed = word.strip().lower()
    if not typed or typed in by_lower:
        return None

    def score(name: str) -> tuple[bool, float]:
        return sorted(name) == sorted(typed), difflib.SequenceMatcher(None, typed, name).ratio()

    ranked = sorted(((score(name), name) for name in by_lower), reverse=True)
    if not ranked:
        return None
    best, name = ranked[0]
    if len(ranked) > 1 and ranked[1][0] == best:
        return None  # two as likely: naming one would mislead
    return by_lower[name] if best[0] or best[1] >= _CUTOFF else None


def did_you_mean(word: str, candidates: Iterable[str], *, prefix: str = "") -> str:
    """`` (did you mean 'ehlo'?)`` for the one close candidate (after ``prefix``), else ""."""
    match = close_match(word, candidates)
    return f" (did you mean '{prefix}{match}'?)" if match else ""
