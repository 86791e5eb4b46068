"""The protocol a recording was made with: in its header, its label and its swaks command."""

from __future__ import annotations

from pathlib import Path

import pytest

from smtpscope.record import Transcript
from smtpscope.record.store import Recorder, make_header, read_header, session_label
from smtpscope.record.swaks import swaks_command
from smtpscope.record.validate import LineError, check_header
from smtpscope.session import Session, SessionOptions
from smtpscope.tui.screens.history import list_sessions


def test_a_client_recording_says_its_protocol(tmp_path: Path) -> None:
    for lmtp, protocol in ((True, "lmtp"), (False, "smtp")):
        path = tmp_path / f"{protocol}.jsonl"
        session = Session(SessionOptions("127.0.0.1", 2528, security="plain", lmtp=lmtp),
                          record_to=str(path))
        for recorder in session.recorders:
            recorder.close()
        assert read_header(path)["protocol"] == protocol


def test_the_label_names_lmtp_when_the_address_does_not() -> None:
    assert session_label({"target": "127.0.0.1:2528", "protocol": "lmtp"}) == "LMTP 127.0.0.1:2528"
    assert session_label({"target": "lmtp:/run/lmtp", "protocol": "lmtp"}) == "lmtp:/run/lmtp"
    assert session_label({"target": "127.0.0.1:25", "protocol": "smtp"}) == "127.0.0.1:25"
    assert session_label({"target": "127.0.0.1:25"}) == "127.0.0.1:25"  # older recordings


def test_a_protocol_that_is_not_text_is_refused() -> None:
    with pytest.raises(LineError, match="'protocol' must be a string"):
        check_header({"schema": "smtpscope-recording", "version": 1, "protocol": 1}, 1)


def test_history_lists_an_lmtp_session_as_lmtp(tmp_path: Path) -> None:
    Recorder(tmp_path / "a.jsonl", make_header("127.0.0.1:2528", role="client",
                                                protocol="lmtp")).close()
    assert [s.target for s in list_sessions(tmp_path)] == ["LMTP 127.0.0.1:2528"]


def test_swaks_speaks_lmtp_even_without_lhlo() -> None:
    header = {"target": "127.0.0.1:2528", "protocol": "lmtp", "security": "plain"}
    assert swaks_command(header, [])[0][:5] == ["swaks", "--server", "127.0.0.1:2528",
                                               "--protocol", "LMTP"]
    t = Transcript()
    t.add("client", "command", b"LHLO me.test\r\n")
    for known in (header, {"target": "127.0.0.1:2528"}):  # from the header, or from LHLO
        argv = swaks_command(known, t)[0]
        assert argv.count("--protocol") == 1 and argv[argv.index("--protocol") + 1] == "LMTP"
        assert argv[argv.index("--helo") + 1] == "me.test"
    assert "--protocol" not in swaks_command({**header, "protocol": "smtp"}, [])[0]
