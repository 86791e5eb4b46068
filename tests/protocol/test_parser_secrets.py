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


@pytest.mark.parametrize("note", ["raw: correct horse!battery",
                                  "the response is not valid base64: 'correct horse!battery'"])
def test_a_note_quoting_a_hidden_auth_line_is_hidden_too(note: str) -> None:
    from smtpscope.record import Redactor, Transcript

    transcript = Transcript(redactor=Redactor())
    transcript.add("client", "command", b"AUTH LOGIN\r\n")
    transcript.add("server", "reply", b"334 VXNlcm5hbWU6\r\n", reply={"code": 334})
    transcript.add("client", "raw", b"YWxpY2U=\r\n")
    transcript.add("server", "reply", b"334 UGFzc3dvcmQ6\r\n", reply={"code": 334})
    entry = transcript.add("client", "raw", f"{PASSWORD}\r\n".encode(), notes=(note,))
    assert entry.redacted
    assert PASSWORD not in entry.text and all(PASSWORD not in n for n in entry.notes)
    assert len(entry.notes) == 1  # the note is replaced, not silently dropped
