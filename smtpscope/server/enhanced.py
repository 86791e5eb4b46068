"""RFC 3463 enhanced status codes for serve's replies, as data, and the rule that adds them.

RFC 2034 3 (4): once ENHANCEDSTATUSCODES is offered, every 2xx, 4xx and 5xx reply other than
the greeting and the replies to HELO and EHLO carries one, on each of its lines. aiosmtpd's own
replies have none ("250 OK", "503 Error: need MAIL command"), serve's have: the code is chosen
here from the verb being answered and the reply code, as Postfix answers (250 2.1.0 to MAIL,
250 2.1.5 to RCPT, 221 2.0.0, 500 5.5.2 ...). 3xx replies (354, 334) carry none (RFC 2034 4).
The few basic codes aiosmtpd gets wrong are put right here as well, by the same two values.
"""

from __future__ import annotations

from smtpscope.protocol.replies import parse_enhanced

# A code that fits a basic reply code whatever the command; anything not listed gets X.0.0.
BY_CODE: dict[int, str] = {
    421: "4.3.2",
    450: "4.2.0",
    451: "4.3.0",
    452: "4.3.1",
    454: "4.7.0",
    500: "5.5.2",
    501: "5.5.4",
    502: "5.5.1",
    503: "5.5.1",
    504: "5.5.4",
    530: "5.7.0",
    535: "5.7.8",
    538: "5.7.11",
    550: "5.7.1",
    552: "5.3.4",
    554: "5.7.1",
    555: "5.5.4",
}
# A reply to MAIL or RCPT is about an address: the sender's (X.1.0, X.1.7 bad syntax) or the
# recipient's (X.1.5 valid, X.1.1 no such mailbox, X.1.3 bad syntax, X.1.6 moved).
BY_VERB: dict[str, dict[int, str]] = {
    "MAIL": {250: "2.1.0", 550: "5.1.0", 551: "5.1.0", 553: "5.1.7"},
    "RCPT": {250: "2.1.5", 251: "2.1.5", 550: "5.1.1", 551: "5.1.6", 553: "5.1.3"},
}
# RFC 5321 4.2 and 4.3.2: HELP is answered 211 or 214 ("help message"); aiosmtpd says 250.
RECODED: dict[tuple[str, int], int] = {("HELP", 250): 214}
# RFC 2034 3 (4) leaves out "any response to HELO or EHLO" (Postfix: "501 Syntax: EHLO hostname").
WITHOUT = frozenset({"HELO", "EHLO"})


def enhanced_code(verb: str | None, code: int) -> str:
    """The enhanced code a reply ``code`` to ``verb`` (None: no command was read) carries."""
    return BY_VERB.get(verb or "", {}).get(code) or BY_CODE.get(code, f"{code // 100}.0.0")


def _carried(line: str) -> str | None:
    """The enhanced code at the start of a reply line's text, if it has one."""
    code = parse_enhanced(line[4:].encode("utf-8", "surrogateescape"))
    return None if code is None else str(code)


def with_enhanced(reply: str, verb: str | None) -> str:
    """``reply`` (lines joined by CRLF) with an enhanced code on each line that has none.

    A reply that already carries one keeps it, and its other lines get the same (RFC 2034 4).
    """
    if verb in WITHOUT or reply[:1] not in ("2", "4", "5") or not reply[:3].isdigit():
        return reply
    lines = reply.split("\r\n")
    carried = [_carried(line) for line in lines]
    code = next((c for c in carried if c is not None), None) or enhanced_code(
        verb, int(reply[:3]))
    return "\r\n".join(
        line if has else f"{line[:3]}{line[3:4] or ' '}{code} {line[4:]}".rstrip(" ")
        for line, has in zip(lines, carried, strict=True))


def as_sent(reply: str, verb: str | None) -> str:
    """aiosmtpd's ``reply`` to ``verb`` with the basic code RFC 5321 gives and an enhanced code."""
    code = RECODED.get((verb or "", int(reply[:3]) if reply[:3].isdigit() else 0))
    if code is not None:
        reply = "\r\n".join(f"{code}{line[3:]}" for line in reply.split("\r\n"))
    return with_enhanced(reply, verb)
