"""A line typed in a credential context is never quoted back in a note or an error."""

from __future__ import annotations

import pytest

from smtpscope.protocol import CommandSyntaxError, State, parse_command

PASSWORD = "correct horse!battery"


@pytest.mark.parametrize("line, state, reason", [
    (PASSWORD, State.AUTH, "not valid base64"),  # typed at a "Password:" prompt of AUTH LOGIN
    ("Sup3r$ecret", State.AUTH, "not valid base64"),
    (f"AUTH PLAIN {PASSWORD}", None, "at most one initial response"),
    ("AUTH LOGIN hunter2!", None, "not valid base64"),  # an initial response, not base64
])
def test_bad_base64_error_does_not_echo_the_line(line: str, state: State | None,
                                                 reason: str) -> None:
    with pytest.raises(CommandSyntaxError) as info:
        parse_command(line, state=state)
    secret = line.split()[-1] if line.startswith("AUTH") else line
    assert reason in info.value.message
    assert secret not in str(info.value) and secret not in info.value.message
    assert secret not in (info.value.hint or "")
