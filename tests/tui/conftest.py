"""Fixtures shared by the TUI tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from smtpscope.server.demo import DemoServer, open_demo_server
from tests.tui.wire_server import WireServer


@pytest.fixture
async def wire() -> AsyncIterator[WireServer]:
    """A scripted loopback server that keeps every byte it receives (defaults of WireServer)."""
    server = await WireServer().start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def demo() -> AsyncIterator[DemoServer]:
    """smtpscope's own demo server (plain and STARTTLS) on a free loopback port."""
    server = await open_demo_server()
    try:
        yield server
    finally:
        await server.aclose()
