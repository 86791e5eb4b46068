"""The in-process demo server: threaded for synchronous callers, on the loop for async ones."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
import threading

from smtpscope.config import data_dir
from smtpscope.record import Entry
from smtpscope.server import DEMO_PASSWORD, DEMO_USER, start_demo_server
from smtpscope.server.context import StoredMessage
from smtpscope.server.demo import open_demo_server


def test_threaded_demo_server() -> None:
    entries: list[tuple[int, Entry, str]] = []
    stored: list[StoredMessage] = []
    demo = start_demo_server(
        on_entry=lambda sid, e: entries.append((sid, e, threading.current_thread().name)),
        on_message=stored.append,
    )
    try:
        assert (demo.user, demo.password) == (DEMO_USER, DEMO_PASSWORD) == ("demo", "demo-password")
        assert demo.host == "127.0.0.1" and demo.port != demo.tls_port
        assert demo.maildir == data_dir() / "demo" / "maildir"
        context = ssl.create_default_context(cafile=str(demo.cafile))
        with smtplib.SMTP(demo.host, demo.port, timeout=10) as client:
            client.starttls(context=context)
            client.login(demo.user, demo.password)
            client.sendmail("me@example.test", ["you@example.test"], b"Subject: demo\r\n\r\nhi\r\n")
        with smtplib.SMTP_SSL(demo.host, demo.tls_port, context=context, timeout=10) as client:
            client.login(demo.user, demo.password)
    finally:
        demo.stop()
    assert [m.rcpt_tos for m in stored] == [("you@example.test",)]
    data = stored[0].path.read_bytes()
    assert data.startswith(b"Return-Path: <me@example.test>\r\n")
    assert f" with ESMTPSA id {stored[0].queue_id}\r\n".encode() in data
    assert data.endswith(b"\r\nSubject: demo\r\n\r\nhi\r\n")
    assert stored[0].size == len(b"Subject: demo\r\n\r\nhi\r\n")  # what the client sent
    assert {name for _, _, name in entries} == {"smtpscope-server"}  # the documented thread
    assert {sid for sid, _, _ in entries} == {1, 2}


async def test_demo_on_the_running_loop() -> None:
    seen: list[str] = []
    loop_thread = threading.current_thread().name
    demo = await open_demo_server(
        on_entry=lambda sid, e: seen.append(threading.current_thread().name)
    )
    try:
        context = ssl.create_default_context(cafile=str(demo.cafile))

        def talk() -> int:
            with smtplib.SMTP_SSL(demo.host, demo.tls_port, context=context, timeout=10) as c:
                return c.login(demo.user, demo.password)[0]

        assert await asyncio.to_thread(talk) == 235
    finally:
        await demo.aclose()
    assert seen and set(seen) == {loop_thread}
