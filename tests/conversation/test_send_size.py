"""The conversation layer declares SIZE= in MAIL FROM when the server advertises SIZE."""

from __future__ import annotations

import pytest

from smtpscope.conversation import Envelope, send_message
from smtpscope.session import Session, SessionOptions
from tests.tui.wire_server import WireServer

CONTENT = b"Subject: size\r\n\r\nfour hundred bytes or so\r\n"


@pytest.mark.parametrize("size", [10_000_000, None])
async def test_mail_from_declares_size_only_when_advertised(size: int | None) -> None:
    server = await WireServer(size=size).start()
    session = Session(SessionOptions(host="127.0.0.1", port=server.port, security="plain"))
    try:
        await session.connect()
        await session.ehlo()
        await send_message(session, Envelope("a@x.test", ("b@x.test",)), CONTENT)
        await session.quit()
    finally:
        await session.close()
        await server.stop()
    mail = server.commands()[1]
    if size is None:
        assert mail == "MAIL FROM:<a@x.test>"
    else:
        assert mail == f"MAIL FROM:<a@x.test> SIZE={len(CONTENT)}"
    assert server.messages == [CONTENT]


async def test_size_counts_the_crlf_that_ends_an_unterminated_message() -> None:
    server = await WireServer().start()
    session = Session(SessionOptions(host="127.0.0.1", port=server.port, security="plain"))
    content = b"Subject: size\n\nno final newline"
    try:
        await session.connect()
        await session.ehlo()
        await send_message(session, Envelope("a@x.test", ("b@x.test",)), content)
        await session.quit()
    finally:
        await session.close()
        await server.stop()
    received = b"Subject: size\r\n\r\nno final newline\r\n"
    assert server.messages == [received]
    assert server.commands()[1] == f"MAIL FROM:<a@x.test> SIZE={len(received)}"
