"""Pilot tests for the AUTH decoder screen: labels, classic PLAIN mistakes, hidden secrets."""

from __future__ import annotations

import base64

from textual.app import App, ComposeResult
from textual.widgets import Input, Select, Static

from smtpscope.auth import decode_blob
from smtpscope.tui.screens.decoder import DecoderScreen, masked_view

PASSWORD = "s3cr3t-Pw"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("host")




async def test_plain_blob_is_labelled_and_the_password_hidden_until_revealed() -> None:
    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = DecoderScreen(b64(f"\0alice\0{PASSWORD}".encode()))
        await app.push_screen(screen)
        await pilot.pause()
        out = screen.output_text()
        assert "PLAIN credentials" in out
        assert "authcid" in out and "alice" in out
        assert PASSWORD not in out
        # The pasted base64 carries the password too: masked while secrets are hidden.
        assert screen.query_one("#decoder-input", Input).password
        assert PASSWORD not in app.export_screenshot()
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert PASSWORD in screen.output_text()
        assert not screen.query_one("#decoder-input", Input).password
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert PASSWORD not in screen.output_text()


async def test_literal_backslash_zero_is_flagged() -> None:
    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = DecoderScreen()
        await app.push_screen(screen)
        await pilot.pause()
        assert "Paste base64" in str(screen.query_one("#decoder-output", Static).render())
        # What `echo '\0alice\0pw' | base64` produces: backslash-zero, plus a newline.
        screen.query_one("#decoder-input", Input).value = b64(b"\\0alice\\0" + b"pw\n")
        await pilot.pause()
        out = screen.output_text()
        assert "PLAIN credentials" in out
        assert "the blob holds the characters \\0 where NUL bytes belong" in out
        assert out.count("ends with a newline") == 1 and out.count("printf") == 1
        assert "pw" not in out.replace("password", "")


async def test_typing_updates_the_output_and_context_changes_the_reading() -> None:
    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = DecoderScreen()
        await app.push_screen(screen)
        await pilot.pause()
        await pilot.click("#decoder-input")
        await pilot.press(*"334 UGFzc3dvcmQ6")  # "Password:"
        await pilot.pause()
        out = screen.output_text()
        assert "LOGIN prompt" in out and "password" in out
        screen.query_one("#decoder-input", Input).value = "not*base64"
        await pilot.pause()
        assert "not base64" in screen.output_text()
        screen.query_one("#decoder-input", Input).value = b64(b"alice\0pw")
        screen.query_one("#decoder-mech", Select).value = "PLAIN"
        await pilot.pause()
        assert "only one NUL" in screen.output_text()


async def test_recognises_each_kind_of_sasl_message() -> None:
    app = Host()
    cases = {
        b64(b"<1896.697170952@postoffice.example.net>"): "CRAM-MD5 challenge",
        b64(b'realm="",nonce="abc",qop="auth",charset=utf-8,algorithm=md5-sess'):
            "DIGEST-MD5 challenge",
        b64(b"r=abcdefXYZ,s=QSXCR+Q6sek8bf92,i=4096"): "SCRAM server-first",
        b64(b"n,,n=alice,r=abcdef"): "SCRAM client-first",
        b64(b"user=alice\x01auth=Bearer tok-123\x01\x01"): "XOAUTH2",
        b64(b'{"status":"invalid_token","scope":"mail"}'): "OAuth JSON error",
    }
    async with app.run_test(size=(120, 40)) as pilot:
        screen = DecoderScreen()
        await app.push_screen(screen)
        for blob, label in cases.items():
            screen.query_one("#decoder-input", Input).value = blob
            await pilot.pause()
            out = screen.output_text()
            assert label in out, (label, out)
            assert "tok-123" not in out


async def test_offline_guess_values_are_masked() -> None:
    digest = "b913a602c7eda7a495b4e6e7334d3890"
    decoded = decode_blob(b64(f"alice {digest}".encode()))
    text, fields = masked_view(decoded, reveal=False)
    assert digest not in text and all(digest not in v for _, v in fields)
    text, fields = masked_view(decoded, reveal=True)
    assert digest in text
    proof = "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    final = decode_blob(b64(f"c=biws,r=abcdefXYZ,p={proof}".encode()))
    text, fields = masked_view(final, reveal=False)
    assert proof not in text and all(proof not in v for _, v in fields)
    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = DecoderScreen(b64(f"alice {digest}".encode()), "CRAM-MD5")
        await app.push_screen(screen)
        await pilot.pause()
        assert "CRAM-MD5 response" in screen.output_text()
        assert digest not in app.export_screenshot()
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, DecoderScreen)


async def test_backslashes_are_shown_once() -> None:
    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        for blob, shown in ((b"\\0alice\\0pw", "\\0alice\\0"), (b"\0alice\0pw", "\\0alice\\0")):
            screen = DecoderScreen(b64(blob))
            await app.push_screen(screen)
            await pilot.pause()
            out = screen.output_text()
            assert shown in out and "\\\\" not in out, out
            app.pop_screen()
            await pilot.pause()


async def test_a_control_character_in_a_field_name_is_escaped_once() -> None:
    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = DecoderScreen(b64(b"user=tim\x01k\x07ey=v\x01auth=Bearer t0k\x01\x01"))
        await app.push_screen(screen)
        await pilot.pause()
        out = screen.output_text()
        assert "k\\x07ey" in out and "\\\\x07" not in out and "\x07" not in out, out


async def test_a_control_character_in_the_blob_is_named_with_one_backslash() -> None:
    # The error quotes the character escaped (repr); the screen must not escape it again, and
    # says it as the command line does.
    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = DecoderScreen("AAA\x1bBBB")
        await app.push_screen(screen)
        await pilot.pause()
        out = screen.output_text()
        assert "character '\\x1b' at position 4" in out
        assert "\\\\x1b" not in out and "\x1b" not in out
