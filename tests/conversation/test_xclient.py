"""The XCLIENT step of the conversation layer: the line it builds and what it refuses."""

from __future__ import annotations

import pytest

from smtpscope.conversation import xclient


def test_line_keeps_the_attributes_in_order_single_spaced() -> None:
    raw = xclient.command_for("  NAME=a.example   ADDR=192.0.2.1 PORT=25 ")
    assert raw.to_bytes() == b"XCLIENT NAME=a.example ADDR=192.0.2.1 PORT=25\r\n"
    assert xclient.command_for("LOGIN=[UNAVAILABLE]").to_bytes() == \
        b"XCLIENT LOGIN=[UNAVAILABLE]\r\n"


@pytest.mark.parametrize("attributes", [
    "", "   ", "NAME", "=x", "ADDR=192.0.2.1 junk", "NAME=a\r\nMAIL FROM:<x@y>",
    "NAME=a\x1b[31m", "NAME=caf\u00e9", "HELO=a\x00b",
])
def test_refuses_what_cannot_be_one_xclient_line(attributes: str) -> None:
    with pytest.raises(xclient.XclientUsage):
        xclient.command_for(attributes)
