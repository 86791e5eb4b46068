"""Redaction at the record boundary: credential lines are masked, challenges stay."""

from __future__ import annotations

import base64

from smtpscope.record import Recorder, Redactor, Transcript, make_header


def _exchange(t: Transcript, lines: list[tuple[str, bytes]]) -> None:
    for direction, raw in lines:
        if direction == "S":
            t.add("server", "reply", raw, reply={"code": int(raw[:3])})
        else:
            t.add("client", "command", raw)


def test_plain_initial_response_is_masked_on_screen_and_disk(tmp_path):
    blob = base64.b64encode(b"\0alice\0s3cret-pw").decode()
    path = tmp_path / "r.jsonl"
    t = Transcript(redactor=Redactor())
    recorder = Recorder(path, make_header("h:25"))
    t.subscribe(recorder)
    seen = []
    t.subscribe(seen.append)
    _exchange(t, [("C", f"AUTH PLAIN {blob}\r\n".encode()), ("S", b"235 2.7.0 ok\r\n")])
    recorder.close()
    assert seen[0].redacted and seen[0].text.startswith("AUTH PLAIN [")
    disk = path.read_text()
    assert blob not in disk and base64.b64encode(blob.encode()).decode() not in disk
    assert "s3cret-pw" not in disk


def test_login_username_visible_password_masked():
    t = Transcript(redactor=Redactor())
    user = base64.b64encode(b"alice")
    pw = base64.b64encode(b"hunter2")
    _exchange(t, [
        ("C", b"AUTH LOGIN\r\n"),
        ("S", b"334 VXNlcm5hbWU6\r\n"),
        ("C", user + b"\r\n"),
        ("S", b"334 UGFzc3dvcmQ6\r\n"),
        ("C", pw + b"\r\n"),
        ("S", b"535 5.7.8 no\r\n"),
        ("C", b"NOOP\r\n"),
    ])
    texts = [e.text for e in t.entries]
    assert any(user.decode() in x for x in texts)
    assert not any(pw.decode() in x for x in texts)
    assert t.entries[-1].text.startswith("NOOP") and not t.entries[-1].redacted
    # Challenges stay visible.
    assert "VXNlcm5hbWU6" in t.entries[1].text


def test_hidden_bytes_kept_in_memory_only_for_reveal():
    red = Redactor()
    t = Transcript(redactor=red)
    _exchange(t, [("C", b"AUTH PLAIN AGEAYg==\r\n")])
    assert red.hidden[0] == b"AUTH PLAIN AGEAYg==\r\n"
    assert b"AGEAYg" not in t.entries[0].raw


def test_record_secrets_keeps_line_but_says_so():
    t = Transcript(redactor=Redactor(record_secrets=True))
    _exchange(t, [("C", b"AUTH PLAIN AGEAYg==\r\n")])
    entry = t.entries[0]
    assert b"AGEAYg==" in entry.raw and not entry.redacted
    assert any("secret recorded" in n for n in entry.notes)


def test_explicit_mask_from_the_caller_wins():
    t = Transcript(redactor=Redactor())
    t.add("client", "command", b"AUTH CRAM-MD5\r\n")
    t.add("server", "reply", b"334 PDEyMz4=\r\n", reply={"code": 334})
    mask = "[CRAM-MD5 response for tim hidden]"
    t.add("client", "command", b"dGltIGI5MTM=\r\n", secret_mask=mask)
    assert t.entries[-1].text == "[CRAM-MD5 response for tim hidden]"
    # The line's ending is kept, as a mask the rules make keeps it: one recording, one form.
    assert t.entries[-1].raw == b"[CRAM-MD5 response for tim hidden]\r\n"
    t.add("client", "command", b"AUTH PLAIN AHRpbQB0YW5zdGFhZg==\r\n",
          secret_mask="[PLAIN credentials for tim hidden]")
    assert t.entries[-1].raw == b"AUTH PLAIN [PLAIN credentials for tim hidden]\r\n"


def test_the_reply_to_a_cancel_ends_the_exchange_even_a_334():
    """RFC 4954 §4: "*" is answered with 501. A hostile 334 instead must not make the next
    command (QUIT) look like a credential line."""
    t = Transcript(redactor=Redactor())
    _exchange(t, [
        ("C", b"AUTH PLAIN AGFsaWNlAHB3\r\n"),
        ("S", b"334 \r\n"),
        ("C", b"*\r\n"),
        ("S", b"334 \r\n"),
        ("C", b"QUIT\r\n"),
    ])
    assert t.entries[0].redacted and b"AGFsaWNlAHB3" not in t.entries[0].raw
    assert t.entries[2].text == "*\r\n" and not t.entries[2].redacted
    assert t.entries[-1].text == "QUIT\r\n" and not t.entries[-1].redacted


def test_a_line_the_caller_knows_is_public_is_shown():
    """LOGIN after an initial response: the position rule would mask every answer as the
    password; the caller's typed knowledge shows a repeated user name and masks the password."""
    t = Transcript(redactor=Redactor())
    user, pw = base64.b64encode(b"alice"), base64.b64encode(b"hunter2")
    t.add("client", "command", b"AUTH LOGIN " + user + b"\r\n", public=True)
    t.add("server", "reply", b"334 VXNlcm5hbWU6\r\n", reply={"code": 334})
    t.add("client", "command", user + b"\r\n", public=True)
    t.add("server", "reply", b"334 UGFzc3dvcmQ6\r\n", reply={"code": 334})
    t.add("client", "command", pw + b"\r\n", secret_mask="[LOGIN password hidden]")
    assert [e.redacted for e in t.entries] == [False, False, False, False, True]
    assert t.entries[2].text == user.decode() + "\r\n"
    assert t.entries[-1].text == "[LOGIN password hidden]" and pw not in t.entries[-1].raw
    # Without that knowledge the rule stays on the safe side: every answer masked.
    blind = Transcript(redactor=Redactor())
    _exchange(blind, [("C", b"AUTH LOGIN " + user + b"\r\n"), ("S", b"334 x\r\n"),
                      ("C", user + b"\r\n")])
    assert blind.entries[-1].redacted
