"""Message options of ``smtpscope send`` with swaks' meanings, on loopback aiosmtpd and Postfix."""

from __future__ import annotations

import email
import email.policy
import uuid
from pathlib import Path

import pytest

from smtpscope.cli.send_message import MessageUsage, rewrite_argv


def _parsed(content: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(content, policy=email.policy.default)  # type: ignore[return-value]


def _text(part: email.message.EmailMessage) -> str:
    return str(part.get_content()).replace("\r\n", "\n")


def test_named_header_options_become_header_edits() -> None:
    assert rewrite_argv(["send", "--h-Subject", "x", "--header-X-Y=1 2", "--to", "a"]) == [
        "send", "--header", "Subject: x", "--header", "X-Y: 1 2", "--to", "a"]
    with pytest.raises(MessageUsage):
        rewrite_argv(["send", "--h-Subject"])


def test_header_replaces_the_default_subject_and_add_header_adds(make_server, cli) -> None:
    server = make_server()
    result = cli("send", server.target, "--from", "a@x.test", "--to", "b@y.test",
                 "--header", "Subject: replaced", "--h-X-Mailer", "test 1",
                 "--add-header", "X-Tag: one\\nX-Tag: two")
    assert result.code == 0, result.err
    msg = _parsed(server.handler.messages[0][2])
    assert msg.get_all("Subject") == ["replaced"]
    assert msg.get_all("X-Mailer") == ["test 1"]
    assert msg.get_all("X-Tag") == ["one", "two"]


def test_comma_separated_repeated_to_cc_and_bcc(make_server, cli) -> None:
    server = make_server()
    result = cli("send", server.target, "--from", "a@x.test", "--to", "b@y.test,c@y.test",
                 "--to", "d@y.test", "--cc", "e@y.test", "--bcc", "hidden@y.test")
    assert result.code == 0, result.err
    _sender, rcpts, content = server.handler.messages[0]
    assert rcpts == ["b@y.test", "c@y.test", "d@y.test", "e@y.test", "hidden@y.test"]
    msg = _parsed(content)
    assert msg["To"] == "b@y.test, c@y.test, d@y.test"
    assert msg["Cc"] == "e@y.test"
    assert b"hidden@y.test" not in content and msg["Bcc"] is None


def test_body_from_file_and_from_stdin(make_server, cli, tmp_path: Path, monkeypatch) -> None:
    import io

    server = make_server()
    body = tmp_path / "body.txt"
    body.write_text("from the file\n")
    assert cli("send", server.target, "--from", "a@x.test", "--to", "b@y.test",
               "--body", f"@{body}").code == 0
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"from stdin\n")))
    assert cli("send", server.target, "--from", "a@x.test", "--to", "b@y.test",
               "--body", "-").code == 0
    first, second = (_parsed(m[2]) for m in server.handler.messages)
    assert _text(first) == "from the file\n"
    assert _text(second) == "from stdin\n"
    assert b"@" + str(body).encode() not in server.handler.messages[0][2]


def test_attachments_types_names_and_html_alternative(make_server, cli, tmp_path: Path) -> None:
    server = make_server()
    blob = tmp_path / "data.bin"
    blob.write_bytes(bytes(range(256)) * 80)  # 20 KB
    result = cli("send", server.target, "--from", "a@x.test", "--to", "b@y.test",
                 "--body", "plain text", "--html", "<p>html</p>",
                 "--attach-type", "image/png", "--attach-name", "picture.png",
                 "--attach", f"@{blob}", "--attach-type", "text/csv", "--attach", "a,b\\n1,2")
    assert result.code == 0, result.err
    msg = _parsed(server.handler.messages[0][2])
    assert msg.get_content_type() == "multipart/mixed"
    alternative, picture, csv = msg.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain",
                                                                         "text/html"]
    assert picture.get_content_type() == "image/png"
    assert picture.get_filename() == "picture.png"
    assert picture.get_content() == blob.read_bytes()
    assert csv.get_content_type() == "text/csv" and csv.get_filename() is None
    assert csv.get_payload(decode=True) == b"a,b\n1,2"  # a file arrives as given


def test_mime_version_is_in_the_message_header_only(make_server, cli, tmp_path: Path) -> None:
    """RFC 2045 §4: MIME-Version heads the message, not each part (the email package puts it
    on every part it makes); an attached message keeps its own."""
    inner = tmp_path / "inner.eml"
    inner.write_bytes(b"From: x@y.test\nMIME-Version: 1.0\nSubject: inner\n\nhi\n")
    server = make_server()
    result = cli("send", server.target, "--from", "a@x.test", "--to", "b@y.test",
                 "--body", "plain", "--html", "<p>html</p>", "--attach", f"@{inner}",
                 "--attach-type", "image/png", "--attach", "@" + str(inner))
    assert result.code == 0, result.err
    data = server.handler.messages[0][2]
    assert data.count(b"MIME-Version: 1.0") == 2  # the message's and the attached one's
    msg = _parsed(data)
    assert msg["MIME-Version"] == "1.0"
    def parts(entity: email.message.EmailMessage) -> list[email.message.EmailMessage]:
        return [q for p in entity.iter_parts()  # not into the attached message's parts
                for q in (p, *(parts(p) if p.get_content_maintype() == "multipart" else ()))]

    types = [p.get_content_type() for p in parts(msg)]
    assert types == [
        "multipart/alternative", "text/plain", "text/html", "message/rfc822", "image/png"], types
    assert [p["MIME-Version"] for p in parts(msg)] == [None] * 5
    attached = next(p for p in msg.walk() if p.get_content_type() == "message/rfc822")
    assert attached["Content-Transfer-Encoding"] == "7bit"
    assert attached.get_content()["MIME-Version"] == "1.0"


@pytest.mark.parametrize("content", [
    "From: x@y.test\nSubject: Gr\u00fc\u00dfe\n\nh\u00e9\n".encode(),
    b"From: x@y.test\n\nNUL \x00\n",
    b"From: x@y.test\n\n" + b"x" * 1200 + b"\n",
])
def test_a_message_that_is_not_7bit_is_attached_as_bytes(make_server, cli, tmp_path: Path,
                                                         content: bytes) -> None:
    """RFC 2046 §5.2.1 allows message/rfc822 no base64: one that 7bit cannot carry as it is
    goes as application/octet-stream (base64), whole."""
    inner = tmp_path / "inner.eml"
    inner.write_bytes(content)
    server = make_server()
    result = cli("send", server.target, "--from", "a@x.test", "--to", "b@y.test",
                 "--attach", f"@{inner}")
    assert result.code == 0, result.err
    [part] = _parsed(server.handler.messages[0][2]).iter_attachments()
    assert part.get_content_type() == "application/octet-stream"
    assert part.get_filename() == "inner.eml" and part.get_content() == content


def test_attach_body_stack_makes_an_alternative(make_server, cli) -> None:
    server = make_server()
    result = cli("send", server.target, "--from", "a@x.test", "--to", "b@y.test",
                 "--attach-type", "text/plain", "--attach-body", "plain",
                 "--attach-type", "text/html", "--attach-body", "<b>html</b>")
    assert result.code == 0, result.err
    msg = _parsed(server.handler.messages[0][2])
    assert msg.get_content_type() == "multipart/alternative"
    assert [_text(p) for p in msg.iter_parts()] == ["plain\n", "<b>html</b>\n"]


def test_dump_mail_prints_the_message_and_connects_nowhere(cli) -> None:
    result = cli("send", "--dump-mail", "--from", "a@x.test", "--to", "b@y.test",
                 "--bcc", "c@y.test", "--h-Subject", "dumped", "--body", "hello")
    assert result.code == 0, result.err
    msg = _parsed(result.out.encode())
    assert msg["Subject"] == "dumped" and _text(msg) == "hello\n"
    assert "c@y.test" not in result.out and "Connecting" not in result.out


@pytest.mark.parametrize(("args", "text"), [
    (("--header", "no colon"), "is not 'Name: value'"),
    (("--body", "@/nonexistent/file"), "cannot read --body file"),
    (("--data", "x", "--body", "y"), "--data is the whole message"),
    (("--header", "Cc: j\u00f6e@y.test"),
     "'j\u00f6e@y.test' is not ASCII; it needs SMTPUTF8 (a display name may be non-ASCII): "
     "add --smtputf8 (the server must advertise it)"),
])
def test_message_usage_errors_exit_1(cli, args: tuple[str, ...], text: str) -> None:
    result = cli("send", "127.0.0.1:9", "--from", "a@x.test", "--to", "b@y.test", *args)
    assert result.code == 1
    assert text in result.err


def test_attach_of_a_path_that_is_not_a_file_is_an_error(cli, tmp_path: Path) -> None:
    # A bare value that names a file is the file; one that names nothing is text; one that
    # names a directory or a pipe is a mistake, never attached as the text of its name.
    import base64
    import os

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    base = ("send", "127.0.0.1:9", "--from", "a@x.test", "--to", "b@y.test", "--dump-mail")
    folder = cli(*base, "--attach", str(tmp_path))
    assert folder.code == 1 and "is a directory, not a file" in folder.err
    assert folder.out == ""
    pipe = cli(*base, "--attach", str(fifo))
    assert pipe.code == 1 and "is not a regular file" in pipe.err
    at_folder = cli(*base, "--attach", f"@{tmp_path}")
    assert at_folder.code == 1 and "cannot read --attach file" in at_folder.err
    text = cli(*base, "--attach", "no-such-name")
    assert text.code == 0 and base64.b64encode(b"no-such-name").decode() in text.out


def test_eightbit_body_and_size_when_offered(make_server, cli) -> None:
    server = make_server(decode_data=False, enable_SMTPUTF8=True)
    result = cli("send", server.target, "--from", "a@x.test", "--to", "b@y.test",
                 "--body", "caf\u00e9 cr\u00e8me")
    assert result.code == 0, result.err
    options = server.handler.mail_options[0]
    content = server.handler.messages[0][2]
    # aiosmtpd advertises 8BITMIME and SIZE: the body goes as 8bit text and SIZE= is exact.
    assert "BODY=8BITMIME" in options
    assert "SMTPUTF8" not in options  # offered, but ASCII headers do not need it (RFC 6531)
    assert "Content-Transfer-Encoding: 8bit" in content.decode("utf-8")
    assert "caf\u00e9 cr\u00e8me".encode() in content
    [size] = [o for o in options if o.startswith("SIZE=")]
    assert abs(int(size[5:]) - len(content)) <= 2  # the server strips the final CRLF


def test_data_beyond_rfc_limits_is_sent_as_is_with_a_warning(make_server, cli,
                                                              tmp_path: Path) -> None:
    # --data is the user's message: never folded or re-encoded, but never silently out of spec.
    server = make_server(decode_data=False)
    base = ("send", server.target, "--from", "a@x.test", "--to", "b@y.test", "-n")
    lone_cr = tmp_path / "cr.eml"
    lone_cr.write_bytes(b"Subject: cr\n\nlone\rcr\n")
    result = cli(*base, "--data", f"@{lone_cr}")
    assert result.code == 0, result.err
    assert server.handler.messages[0][2] == b"Subject: cr\r\n\r\nlone\r\ncr\r\n"
    assert "!! 1 lone CR byte(s) sent as line breaks" in result.out
    long = tmp_path / "long.eml"
    long.write_bytes(b"Subject: long\n\n" + b"y" * 2000 + b"\n")
    result = cli(*base, "--data", f"@{long}")
    # aiosmtpd enforces the limit (500 Line too long): the warning came first and says why.
    assert result.code == 26 and "Line too long" in result.err
    assert "!! line 3 is 2002 octets with its CRLF, over the 1000 of RFC 5321" in result.out
    dumped = cli("send", "--dump-mail", "--from", "a@x.test", "--to", "b@y.test",
                 "--data", f"@{long}")
    assert dumped.code == 0 and "line 3 is 2002 octets" in dumped.err
    assert dumped.out.endswith("y" * 2000 + "\n")


def test_eightbit_data_warns_when_the_server_has_no_8bitmime(tmp_path: Path) -> None:
    from smtpscope.cli.send_message import MessageSpec, content_warnings
    from smtpscope.protocol import Capabilities, Reply

    def caps(*keywords: str) -> Capabilities:
        lines = [b"peer.test", *(k.encode() for k in keywords)]
        return Capabilities.parse(Reply(code=250, lines=tuple(lines), raw=b""))

    spec = MessageSpec(from_addr="a@x.test", to=["b@y.test"], data=b"\n\ncaf\xe9\n")
    [warning] = content_warnings(spec, spec.render(), caps("SIZE 100"))
    assert "8BITMIME" in warning and "RFC 6152" in warning
    assert content_warnings(spec, spec.render(), caps("8BITMIME")) == []
    built = MessageSpec(from_addr="a@x.test", to=["b@y.test"], body="y" * 2000 + "\n")
    assert content_warnings(built, built.render(), caps()) == []  # encoded, never too long


@pytest.mark.peer
def test_postfix_takes_eightbit_cc_and_bcc(mta, cli) -> None:
    token = uuid.uuid4().hex
    result = cli("send", f"{mta.host}:{mta.smtp}", "--cafile", str(mta.ca_file),
                 "--from", mta.address("bob"), "--to", mta.address("alice"),
                 "--bcc", mta.address("bob"), "--h-Subject", token,
                 "--body", "gr\u00fc\u00dfe", "--attach-name", "n.txt", "--attach", "attached")
    assert result.code == 0, result.out + result.err
    [mail] = [line for line in result.out.splitlines() if line.startswith("C: MAIL FROM")]
    assert "BODY=8BITMIME" in mail and "SIZE=" in mail
    for user in ("alice", "bob"):
        [delivered] = mta.read_delivered(user, match=token.encode())
        msg = _parsed(delivered)
        assert msg["Subject"] == token and msg["Bcc"] is None
        text, attached = msg.iter_parts()
        assert text["Content-Transfer-Encoding"] == "8bit"
        assert _text(text) == "gr\u00fc\u00dfe\n"
        assert attached.get_filename() == "n.txt"


@pytest.mark.peer
@pytest.mark.parametrize("chunking", [False, True], ids=["data", "bdat"])
def test_postfix_stores_exactly_what_was_asked(mta, cli, tmp_path: Path, chunking: bool) -> None:
    # The same message by DATA and by BDAT: files byte for byte, NUL quoted, the last line of a
    # --data message ended once (DATA's terminator does it; BDAT must too).
    token = uuid.uuid4().hex
    empty, unended = tmp_path / "empty.txt", tmp_path / "unended.txt"
    empty.write_bytes(b"")
    unended.write_bytes(b"no final newline")
    base = ("send", f"{mta.host}:{mta.smtp}", "--cafile", str(mta.ca_file),
            "--from", mta.address("bob"), "--to", mta.address("alice"),
            *(("--bdat",) if chunking else ()))
    built = cli(*base, "--h-Subject", f"built {token}", "--body", "nul\x00byte\n",
                "--attach", f"@{empty}", "--attach", f"@{unended}")
    assert built.code == 0, built.out + built.err
    [delivered] = mta.read_delivered("alice", match=f"built {token}".encode())
    msg = _parsed(delivered)
    assert _text(msg.get_body()) == "nul\x00byte\n"
    assert [(p.get_filename(), p.get_payload(decode=True)) for p in msg.iter_attachments()] == [
        ("empty.txt", b""), ("unended.txt", b"no final newline")]
    raw = tmp_path / "raw.eml"
    raw.write_bytes(f"Subject: raw {token}\n\nfirst\n.\nlast".encode())
    sent = cli(*base, "--data", f"@{raw}")
    assert sent.code == 0, sent.out + sent.err
    [delivered] = mta.read_delivered("alice", match=f"raw {token}".encode())
    assert delivered.endswith(b"\n\nfirst\n.\nlast\n")
    octets = len(f"Subject: raw {token}\r\n\r\nfirst\r\n.\r\nlast\r\n")
    [mail] = [line for line in sent.out.splitlines() if line.startswith("C: MAIL FROM")]
    assert mail.endswith(f" SIZE={octets}")
    if chunking:  # Postfix ends the last line itself; the wire must not rely on it
        assert f"C: BDAT {octets} LAST" in sent.out.splitlines()


def test_dump_mail_escapes_control_bytes_on_a_terminal_only(tmp_path: Path) -> None:
    import os
    import pty
    import subprocess
    import sys

    data = tmp_path / "m.eml"
    data.write_bytes(b"Subject: x\n\nhi \x1b[31mred\n")
    argv = [sys.executable, "-m", "smtpscope", "send", "--dump-mail", "--from", "a@x.test",
            "--to", "b@y.test", "--data", f"@{data}"]
    piped = subprocess.run(argv, capture_output=True, timeout=60, check=True)
    assert b"hi \x1b[31mred" in piped.stdout  # exact bytes into a pipe
    leader, follower = pty.openpty()
    with subprocess.Popen(argv, stdout=follower, stderr=subprocess.DEVNULL) as proc:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.wait(timeout=60)
    os.close(leader)
    shown = b"".join(chunks)
    assert b"\x1b" not in shown and b"hi \\x1b[31mred" in shown


def test_a_comma_inside_quotes_or_an_address_literal_does_not_split(cli) -> None:
    result = cli("send", "--dump-mail", "--from", "x@example.test",
                 "--to", '"a,b"@example.test,user@[127.0.0.1]', "--cc", 'c@d.test,"e,f"@g.test')
    assert result.code == 0, result.err
    assert 'To: "a,b"@example.test, user@[127.0.0.1]' in result.out.splitlines()
    assert 'Cc: c@d.test, "e,f"@g.test' in result.out.splitlines()
