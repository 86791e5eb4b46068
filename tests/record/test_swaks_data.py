"""The exported ``--data`` makes the real swaks send the recorded message bytes exactly."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator

import pytest

from smtpscope.record import Redactor, Transcript
from smtpscope.record.swaks import swaks_command, swaks_command_line

END = b"\r\n.\r\n"


class Capture:
    """A one-connection SMTP sink on loopback keeping what came after 354, as it came."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.data = b""
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn, conn.makefile("rb") as reader:
            conn.sendall(b"220 capture ESMTP\r\n")
            for line in reader:
                verb = line[:4].upper()
                if verb == b"DATA":
                    conn.sendall(b"354 go\r\n")
                    while not self.data.endswith(END):
                        self.data += reader.readline()
                    conn.sendall(b"250 kept\r\n")
                elif verb == b"QUIT":
                    conn.sendall(b"221 bye\r\n")
                    return
                else:
                    conn.sendall(b"250 ok\r\n")


@pytest.fixture
def capture() -> Iterator[Capture]:
    server = Capture()
    yield server
    server.listener.close()


def recording(*client: tuple[str, bytes]) -> Transcript:
    t = Transcript(redactor=Redactor())
    t.add("server", "reply", b"220 capture\r\n", reply={"code": 220, "lines": [], "warnings": []})
    for kind, raw in client:
        t.add("client", kind, raw)
    return t


def message(wire: bytes) -> Transcript:
    return recording(("command", b"EHLO client.test\r\n"), ("command", b"MAIL FROM:<a@x.test>\r\n"),
                     ("command", b"RCPT TO:<b@y.test>\r\n"), ("command", b"DATA\r\n"),
                     ("content", wire), ("command", b"QUIT\r\n"))


MESSAGES = {
    "backslashes": b"Subject: t\r\n\r\npath C:\\new\\table\\x41 and \\\\n\r\n" + END[2:],
    "tokens": b"Subject: %DATE%\r\n\r\n100%NEWLINE% %TO_ADDRESS% %MESSAGEID%\r\n.\r\n",
    "dots and bare line ends": b"..lead\r\nbare\nlf\rcr\r\n...two\r\n.\r\n",
    "not utf-8": b"Subject: latin1 \xe9\xff\r\n\r\nC1 \xc2\x85 bidi \xe2\x80\xae \x1b[31m\r\n.\r\n",
    "from line and quote": b"From someone Mon\r\nIt's '@' here\r\n.\r\n",
    "leading at": b"@file-like\r\nsecond\r\n.\r\n",
}


@pytest.mark.skipif(shutil.which("swaks") is None or shutil.which("bash") is None,
                    reason="needs swaks and bash")
@pytest.mark.parametrize("name", list(MESSAGES))
def test_swaks_sends_the_recorded_bytes(capture: Capture, name: str) -> None:
    wire = MESSAGES[name]
    line, notes = swaks_command_line({"target": f"127.0.0.1:{capture.port}"}, message(wire))
    assert notes == []
    # The line as a user would paste it, in the C locale where bash knows no \u escapes.
    ran = subprocess.run(["bash", "-c", line], capture_output=True, timeout=30, check=False,
                         env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"})
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert capture.data == wire


def test_data_is_one_message_from_lines_sent_one_by_one() -> None:
    t = recording(("command", b"DATA\r\n"), ("content", b"Subject: a\r\n"),
                  ("content", b"\r\n"), ("content", b"body\r\n"), ("content", b".\r\n"))
    argv, notes = swaks_command({"target": "mx.test:25"}, t)
    assert argv[argv.index("--data") + 1] == "Subject: a\r\n\r\nbody\r\n."
    assert "--no-data-fixup" in argv and notes == []


def test_bdat_chunks_become_one_dot_stuffed_message() -> None:
    t = recording(("command", b"BDAT 9\r\n.a\r\nb\r\n.c"), ("command", b"BDAT 2 LAST\r\n\r\n"))
    argv, notes = swaks_command({"target": "mx.test:25"}, t)
    assert argv[argv.index("--data") + 1] == "..a\r\nb\r\n..c\r\n."
    assert notes == ["swaks has no BDAT (CHUNKING): the message is sent with DATA instead"]


@pytest.mark.parametrize(("wire", "says"), [
    (b"one line\r\n\0after\r\n.\r\n", "NUL"),
    (b".\r\n", "file name"),
    (b"a\r\n.\n", "does not end with CRLF"),
    (b"x" * 200_000 + END, "200003 bytes"),
], ids=["nul", "empty", "lf-terminator", "too-long"])
def test_what_swaks_cannot_send_is_noted(wire: bytes, says: str) -> None:
    _argv, notes = swaks_command({"target": "mx.test:25"}, message(wire))
    assert any(says in note for note in notes), notes
