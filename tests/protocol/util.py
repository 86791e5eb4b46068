"""Helpers for driving a Connection in tests."""

from __future__ import annotations

from smtpscope.protocol import (
    NEED_DATA,
    Closed,
    Connection,
    Data,
    Ehlo,
    Lhlo,
    MailFrom,
    RcptTo,
    Reply,
    State,
)

from .servers import POSTFIX_EHLO, POSTFIX_GREETING


def feed(conn: Connection, data: bytes) -> list[Reply | Closed]:
    """Feed ``data`` and return every event it completes."""
    conn.receive_data(data)
    out: list[Reply | Closed] = []
    while (event := conn.next_event()) is not NEED_DATA:
        assert isinstance(event, Reply | Closed)
        out.append(event)
        if isinstance(event, Closed):
            break
    return out


def one(conn: Connection, data: bytes) -> Reply:
    events = feed(conn, data)
    assert len(events) == 1, events
    reply = events[0]
    assert isinstance(reply, Reply)
    return reply


def at(state: str, ehlo: bytes = POSTFIX_EHLO, *, lmtp: bool = False) -> Connection:
    """A connection walked to ``state`` (READY, IDENT, MAIL, RCPT, DATA) with real replies."""
    conn = Connection(lmtp=lmtp)
    one(conn, POSTFIX_GREETING)
    steps: list[tuple[str, object, bytes]] = [
        ("IDENT", None, ehlo),
        ("MAIL", MailFrom("alice@client.example"), b"250 2.1.0 Ok\r\n"),
        ("RCPT", RcptTo("bob@example.test"), b"250 2.1.5 Ok\r\n"),
        ("DATA", Data(), b"354 End data with <CR><LF>.<CR><LF>\r\n"),
    ]
    for name, command, reply in steps:
        if conn.state.name == state:
            break
        if command is None:
            command = Lhlo("client.example") if lmtp else Ehlo("client.example")
        conn.send(command)  # type: ignore[arg-type]
        one(conn, reply)
        assert conn.state is State[name]
    assert conn.state.name == state
    return conn
