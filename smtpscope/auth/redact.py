"""Decide which client lines of an AUTH exchange carry secrets, without knowing the password.

The recorder uses this for lines the user typed by hand. Step 0 is the ``AUTH MECH [ir]`` command
line; step 1, 2, ... are the client's answers to successive 334 challenges. Unknown mechanisms get
every non-empty answer masked: a false mask costs readability, a missed one leaks a password.
"""

from __future__ import annotations

import base64
import binascii

from smtpscope.auth.base import show_text

Redaction = tuple[bytes, str]


def _split_ending(line: bytes) -> tuple[bytes, bytes]:
    stripped = line.rstrip(b"\r\n")
    return stripped, line[len(stripped) :]


def _decode(payload: bytes) -> bytes | None:
    try:
        return base64.b64decode(b"".join(payload.split()), validate=True)
    except (binascii.Error, ValueError):
        return None


def _is_keepable(payload: bytes) -> bool:
    """Cancel ``*``, empty responses and ``=`` never carry anything."""
    return payload.strip() in (b"", b"*", b"=")


def _label(mech: str, payload: bytes, known: bool = True) -> str:
    """Mask label; the user name is pulled out of the payload where the layout allows."""
    raw = _decode(payload) or b""
    user = ""
    if mech == "PLAIN":
        parts = raw.split(b"\0")
        user = parts[1].decode("utf-8", "replace") if len(parts) >= 3 else ""
        return (
            f"[PLAIN credentials for {show_text(user)} hidden]"
            if user
            else "[PLAIN credentials hidden]"
        )
    if mech == "LOGIN":
        return "[LOGIN password hidden]" if known else "[LOGIN response hidden]"
    if mech == "CRAM-MD5":
        user = raw.rpartition(b" ")[0].decode("utf-8", "replace")
        return (
            f"[CRAM-MD5 response for {show_text(user)} hidden]"
            if user
            else "[CRAM-MD5 response hidden]"
        )
    if mech == "DIGEST-MD5":
        return "[DIGEST-MD5 response hidden]"
    if mech.startswith("SCRAM-"):
        return f"[{mech} client proof hidden]"
    if mech in ("XOAUTH2", "OAUTHBEARER"):
        return f"[{mech} token hidden]"
    return f"[{show_text(mech) or 'AUTH'} response hidden]"


def _secret(mech: str, index: int, payload: bytes, initial: bool | None) -> bool:
    """Is the payload sent as answer number ``index`` (0 = initial response) secret?"""
    if _is_keepable(payload):
        return False
    if mech == "LOGIN":
        if index == 0:
            return False  # AUTH LOGIN <ir>: the initial response is the user name
        if initial is None:
            return True  # answer 1 is the user name or (after an ir) the password: mask
        # Without an initial response the answers are 1: user, 2: password.
        return index != (0 if initial else 1)
    if mech.startswith("SCRAM-"):
        raw = _decode(payload)
        # client-first (n,,n=user,r=...) is public; anything with a proof or undecodable is not.
        return raw is None or b",p=" in raw or raw[:2] not in (b"n,", b"y,", b"p=")
    if mech in ("XOAUTH2", "OAUTHBEARER"):
        return payload.strip() != b"AQ=="
    return True


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


class ClientLineRedactor:
    """Stateful wrapper: feed the AUTH line, then each client answer, in order."""

    def __init__(self) -> None:
        self.mechanism = ""
        self.initial_response = False
        self.index = 0

    def redact(self, line: bytes) -> Redaction | None:
        """Redact the next line of the exchange; the first line must be the AUTH command."""
        if self.index == 0:
            words = line.split(None, 2)
            self.mechanism = words[1].decode("ascii", "replace").upper() if len(words) > 1 else ""
            self.initial_response = len(words) > 2 and words[2].strip() not in (b"",)
        result = redact_client_line(
            self.mechanism, self.index, line, initial_response=self.initial_response
        )
        self.index += 1
        return result
