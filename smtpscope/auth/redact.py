"""Decide which client lines of an AUTH exchange carry secrets, without knowing the password.

The recorder uses this for lines the user typed by hand. Step 0 is the ``AUTH MECH [ir]`` command
line; step 1, 2, ... are the client's answers to successive 334 challenges. Unknown mechanisms get
every non-empty answer masked: a false mask costs readability, a missed one leaks a password.
Which answers are secret, and what their mask says, is each mechanism class's own rule
(``Mechanism.answer_is_secret`` and ``Mechanism.mask_label``).
"""

from __future__ import annotations

from collections.abc import Callable

from smtpscope.auth import b64
from smtpscope.auth.base import show_text

Redaction = tuple[bytes, str]


def _split_ending(line: bytes) -> tuple[bytes, bytes]:
    stripped = line.rstrip(b"\r\n")
    return stripped, line[len(stripped) :]


def _decode(payload: bytes) -> bytes | None:
    try:
        return b64.decode(payload, b64.Policy.LENIENT)[0]
    except ValueError:
        return None


def _is_keepable(payload: bytes) -> bool:
    """Cancel ``*``, empty responses and ``=`` never carry anything."""
    return payload.strip() in (b"", b"*", b"=")


def _rule(mech: str) -> tuple[Callable[[int, bytes | None, bool | None], bool],
                           Callable[[bytes | None, bool], str]]:
    """The mechanism class's own redaction rule; unknown mechanisms mask every answer."""
    from smtpscope.auth import MECHANISMS

    cls = MECHANISMS.get(mech)
    if cls is not None:
        return cls.answer_is_secret, cls.mask_label
    label = f"[{show_text(mech) or 'AUTH'} response hidden]"
    return (lambda _i, _d, _ir: True), (lambda _d, _k: label)


def _secret(mech: str, index: int, payload: bytes, initial: bool | None) -> bool:
    """Is the payload sent as answer number ``index`` (0 = initial response) secret?"""
    if _is_keepable(payload):
        return False
    return _rule(mech)[0](index, _decode(payload), initial)


def _label(mech: str, payload: bytes, known: bool = True) -> str:
    return _rule(mech)[1](_decode(payload), known)


def redact_client_line(
    mechanism: str, step_index: int, line: bytes, *, initial_response: bool | None = None
) -> Redaction | None:
    """Return ``(replacement_line, mask)`` when the line must be hidden, else None.

    ``step_index`` 0 is the AUTH command line; n >= 1 the n-th answer to a 334. Pass
    ``initial_response`` (did the AUTH line carry one?) for the answers: only LOGIN needs it,
    since there the initial response is the user name and answer 1 is then the password. When
    it is None (unknown) every LOGIN answer after the AUTH line is masked. Line endings are kept.
    """
    mech = mechanism.upper()
    body, ending = _split_ending(line)
    if step_index == 0:
        words = body.split(None, 2)
        if len(words) < 3:
            return None
        ir = words[2]
        if not _secret(mech, 0, ir, True):
            return None
        mask = _label(mech, ir)
        prefix = body[: len(body) - len(body.lstrip())] + words[0] + b" " + words[1] + b" "
        return prefix + mask.encode("utf-8") + ending, mask
    if not _secret(mech, step_index, body, initial_response):
        return None
    mask = _label(mech, body, known=initial_response is not None)
    return mask.encode("utf-8") + ending, mask
