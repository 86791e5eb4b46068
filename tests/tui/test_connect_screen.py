"""The connect screen: each field takes a burst of keys exactly, is checked as the command line
checks it, and a problem is said in the dialog with everything typed kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Checkbox, Input, Label

from smtpscope.tui.app import SmtpScopeApp, create_app
from smtpscope.tui.screens.connect import ConnectScreen
from smtpscope.tui.screens.session import SessionScreen
from tests.tui.test_key_order import burst
from tests.tui.waiting import until
from tests.tui.wire_server import WireServer

SIZE = (120, 40)
INPUTS = ("target", "port", "timeout", "helo", "cafile")


# A CA file is checked for a PEM certificate as the session is set up; its certificates are
# read only when TLS is used, and these sessions use none.
UNREAD_CA = "-----BEGIN CERTIFICATE-----\nnot read unless TLS is used\n-----END CERTIFICATE-----\n"


def typed(app: SmtpScopeApp) -> dict[str, str]:
    return {name: app.screen.query_one(f"#{name}", Input).value for name in INPUTS}


def error_text(app: SmtpScopeApp) -> str:
    return str(app.screen.query_one("#connect-error", Label).render())


def form_keys(port: int, cafile: Path) -> list[str]:
    """Every field in Tab order, with corrections inside the burst: target, port, timeout,
    security (left as it is), HELO (replaced), CA file, then Enter."""
    return [*"127.0.0.2", "backspace", "1", "tab", *f"{port}", "tab", *"12.5", "tab", "tab",
            "ctrl+a", "ctrl+k", *"burst.exampel", "backspace", "backspace", *"le", "tab",
            *str(cafile), "enter"]


async def _connects_with_every_field(app: SmtpScopeApp, wire: WireServer, tmp_path: Path,
                                     pilot: object, *, at_once: bool) -> None:
    cafile = tmp_path / "ca.pem"
    cafile.write_text(UNREAD_CA)
    keys = form_keys(wire.port, cafile)
    if at_once:
        burst(app, *keys)
    else:
        await pilot.press(*keys)  # type: ignore[attr-defined]
    await until(pilot, lambda: isinstance(app.screen, SessionScreen)
                and app.screen.session is not None
                and any(e.code == 220 for e in app.screen.session.transcript))
    await pilot.press("f2")  # type: ignore[attr-defined]
    await until(pilot, lambda: wire.lines() == [b"EHLO burst.example\r\n"])
    options = app.screen.options  # type: ignore[attr-defined]
    assert (options.host, options.port, options.helo_name) == ("127.0.0.1", wire.port,
                                                               "burst.example")
    assert (options.reply_timeout, options.connect_timeout) == (12.5, 12.5)
    assert options.cafile == str(cafile)


async def test_every_field_typed_in_one_burst_is_taken_exactly(wire, tmp_path) -> None:
    app = create_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.screen.query_one("#target", Input).has_focus)
        await _connects_with_every_field(app, wire, tmp_path, pilot, at_once=True)


async def test_every_field_typed_by_pilot_press_is_taken_exactly(wire, tmp_path) -> None:
    app = create_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.screen.query_one("#target", Input).has_focus)
        await _connects_with_every_field(app, wire, tmp_path, pilot, at_once=False)


async def test_tab_goes_through_the_fields_in_the_order_shown() -> None:
    app = create_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.focused is not None)
        seen = []
        for _ in range(10):
            seen.append(app.focused.id if app.focused is not None else None)
            await pilot.press("tab")
        assert seen[:9] == ["target", "port", "timeout", "security", "helo", "cafile",
                            "verify", "connect", "open-history"]


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_the_whole_form_fits_without_scrolling(size: tuple[int, int]) -> None:
    app = create_app()
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.focused is not None)
        screen = app.screen
        for name in (*INPUTS, "security", "verify", "connect", "connect-error"):
            region = screen.query_one(f"#{name}").region
            assert region.height >= 1 and screen.region.contains_region(region), name
        assert screen.query_one("#connect-box").scroll_y == 0
        assert screen.query_one("#session-control").region.bottom <= size[1] - 1  # the footer


@pytest.mark.parametrize(("field", "text", "problem"), [
    ("target", "mail example", "contains a space"),
    ("target", "smpt://mx.example.test", "did you mean smtp"),
    ("port", "0", "port 0 is out of range (1-65535)"),
    ("port", "99999", "port 99999 is out of range (1-65535)"),
    ("port", "25ab", "port '25ab' is not a number"),
    ("timeout", "0", "Timeout: '0': give a number of seconds above 0 and at most 3600"),
    ("timeout", "-5", "above 0 and at most 3600"),
    ("timeout", "nan", "above 0 and at most 3600"),
    ("timeout", "3601", "above 0 and at most 3600"),
    ("timeout", "soon", "Timeout: 'soon' is not a number of seconds"),
    ("helo", "", "HELO name: a domain (or address literal) is required"),
    ("helo", "two words", "HELO name: the domain 'two words' contains white space"),
    ("cafile", "/nonexistent/ca.pem", "CA file '/nonexistent/ca.pem' does not exist"),
])
async def test_bad_input_is_explained_and_what_was_typed_kept(field: str, text: str,
                                                              problem: str) -> None:
    app = create_app(initial_target="127.0.0.1:1")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.focused is not None)
        app.screen.query_one(f"#{field}", Input).focus()
        before = typed(app)
        burst(app, "ctrl+a", "ctrl+k", *text, "enter")
        await until(pilot, lambda: problem in error_text(app), what=problem)
        await pilot.pause(0.2)
        assert isinstance(app.screen, ConnectScreen)
        assert typed(app) == {**before, field: text}
        # Put right, Enter connects (to a port where nothing listens: the session says so).
        app.screen.query_one(f"#{field}", Input).value = before[field]
        app.screen.query_one(f"#{field}", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SessionScreen))


async def test_the_timeout_bounds_the_wait_for_each_reply(wire) -> None:
    # Each reply after the banner comes 8 s late; the typed 2 s (also the connection's and the
    # banner's limit, so not shorter: a loaded machine must still get the banner in time) ends
    # the wait for the NOOP's well before.
    wire.delay = 8.0
    app = create_app(initial_target=f"127.0.0.1:{wire.port}")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.focused is not None)
        await pilot.press("tab", "tab", *"2", "enter")
        await until(pilot, lambda: isinstance(app.screen, SessionScreen)
                    and app.screen.session is not None
                    and any(e.code == 220 for e in app.screen.session.transcript))
        session = app.screen.session
        assert session is not None and session.options.reply_timeout == 2.0
        await pilot.press(*"NOOP", "enter")
        await until(pilot, lambda: any(e.kind == "error" and "within 2 s" in e.text
                                       for e in session.transcript),
                    timeout=6.5, what="NOOP given up after 2 s, not after 8 s")


async def test_command_line_flags_without_a_target_fill_the_form(monkeypatch, tmp_path) -> None:
    from smtpscope.cli import tui as tui_cli
    from smtpscope.tui import app as app_module

    made: list[SmtpScopeApp] = []
    monkeypatch.setattr(app_module, "run_app", lambda app: made.append(app) or 0)
    cafile = tmp_path / "ca.pem"
    cafile.write_text(UNREAD_CA)
    flags = ["--port", "2525", "--timeout", "20", "--helo", "flags.example", "--cafile",
             str(cafile), "--insecure", "--tls", "starttls"]
    assert tui_cli.run_target(flags) == 0
    assert tui_cli.run_target(["smpt://mx.example.test", *flags]) == 0
    for app, target in zip(made, ("", "smpt://mx.example.test"), strict=True):
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.focused is not None)  # noqa: B023
            assert typed(app) == {"target": target, "port": "2525", "timeout": "20",
                                  "helo": "flags.example", "cafile": str(cafile)}
            assert app.screen.query_one("#security").value == "starttls"
            assert app.screen.query_one("#verify", Checkbox).value is False
            assert ("did you mean smtp" in error_text(app)) == bool(target)


def app_from_command_line(monkeypatch, argv: list[str]) -> SmtpScopeApp:
    """What ``smtpscope ARGV`` would run, taken before it takes over the terminal."""
    from smtpscope.cli import tui as tui_cli
    from smtpscope.tui import app as app_module

    made: list[SmtpScopeApp] = []
    monkeypatch.setattr(app_module, "run_app", lambda app: made.append(app) or 0)
    assert tui_cli.run_target(argv) == 0
    [app] = made
    return app


async def _session_of(app: SmtpScopeApp, pilot: object, typed_target: str = "") -> SessionScreen:
    """The session screen once the server greeted; ``typed_target`` typed first, if any."""
    if typed_target:
        await until(pilot, lambda: app.focused is not None)
        burst(app, *typed_target, "enter")
    await until(pilot, lambda: isinstance(app.screen, SessionScreen)
                and app.screen.session is not None
                and any(e.code == 220 for e in app.screen.session.transcript))
    assert isinstance(app.screen, SessionScreen)
    return app.screen


def _asked(screen: SessionScreen) -> dict[str, object]:
    """What the connection was told to do, beyond the target (TLSA reports by key only)."""
    policy = screen.options.tls
    return {"policy": {**policy._asdict(), "tlsa": sorted(policy.tlsa)},
            "family": screen.options.family, "local_addr": screen.options.local_addr,
            "record_secrets": screen.record_secrets}


EXAMPLE_ZONE = "$ORIGIN example.\n@ 60 SOA ns h 1 60 60 60 60\n"


async def test_every_flag_applies_to_a_typed_target_as_to_one_on_the_command_line(
        wire, monkeypatch, tmp_path) -> None:
    import socket

    from tests.dns.responder import Zone, serve

    with serve(Zone(EXAMPLE_ZONE)) as resolver:
        flags = ["--tls-fingerprint", "SHA256:" + "ab" * 32, "--tls-min", "1.2",
                 "--tls-max", "1.3", "--tls-ciphers", "HIGH", "--sni", "sni.example",
                 "--verify-name", "mx.example", "--capath", str(tmp_path), "--dane",
                 "--resolver", resolver, "-4", "--local-interface", "127.0.0.1",
                 "--record-secrets", "--timeout", "5"]
        target = f"127.0.0.1:{wire.port}"
        given = app_from_command_line(monkeypatch, [target, *flags])
        async with given.run_test(size=SIZE) as pilot:
            expected = _asked(await _session_of(given, pilot))
        typed = app_from_command_line(monkeypatch, flags)
        async with typed.run_test(size=SIZE) as pilot:
            asked = _asked(await _session_of(typed, pilot, target))
    assert asked == expected
    policy = asked["policy"]
    assert isinstance(policy, dict)
    assert (policy["level"], policy["fingerprints"]) == ("fingerprint", (("SHA256", "ab" * 32),))
    assert (policy["min_version"], policy["max_version"], policy["ciphers"]) == \
        ("1.2", "1.3", "HIGH")
    assert (policy["sni"], policy["verify_names"], policy["capath"]) == \
        ("sni.example", ("mx.example",), str(tmp_path))
    # --dane with --verify-name: TLSA of the name verified, asked of --resolver.
    assert policy["dane_check"] and policy["tlsa"] == [("mx.example", wire.port)]
    assert (asked["family"], asked["local_addr"]) == (socket.AF_INET, ("127.0.0.1", 0))
    assert asked["record_secrets"] is True


@pytest.mark.parametrize("target, level, expected", [
    ("127.0.0.1:{port}", "verify", "starttls"),
    ("smtps://127.0.0.1:{port}", "verify", "implicit"),
    ("127.0.0.1:{port}", "may", "plain"),
])
async def test_a_mandatory_level_asks_for_starttls_on_either_path(
        wire, monkeypatch, target: str, level: str, expected: str) -> None:
    # As in probe and send: a level that requires TLS starts it; the TUI's own default (may)
    # leaves STARTTLS to F3, and implicit TLS stays implicit.
    target = target.format(port=wire.port)
    flags = ["--tls-level", level, "--timeout", "2"]
    modes = []
    for argv, typed in (([target, *flags], ""), (flags, target)):
        app = app_from_command_line(monkeypatch, argv)
        async with app.run_test(size=SIZE) as pilot:
            if typed:
                await until(pilot, lambda: app.focused is not None)  # noqa: B023
                burst(app, *typed, "enter")
            # Until the server greeted (or the TLS handshake with this plain server failed):
            # the app is not closed while the screen starts up.
            await until(pilot, lambda: isinstance(app.screen, SessionScreen)  # noqa: B023
                        and app.screen.session is not None  # noqa: B023
                        and any(e.code == 220 or e.kind == "error"
                                for e in app.screen.session.transcript))  # noqa: B023
            modes.append(app.screen.options.security)
    assert modes == [expected, expected]


async def test_the_fields_win_over_the_flags_they_show(wire, monkeypatch, tmp_path) -> None:
    flag_ca, typed_ca = tmp_path / "flag.pem", tmp_path / "typed.pem"
    for path in (flag_ca, typed_ca):
        path.write_text(UNREAD_CA)
    app = app_from_command_line(monkeypatch, ["--tls-level", "verify", "--cafile", str(flag_ca)])
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.focused is not None)
        app.screen.query_one("#cafile", Input).focus()
        burst(app, "ctrl+a", "ctrl+k", *str(typed_ca), "tab", "space")  # and verification off
        await until(pilot, lambda: app.screen.query_one("#verify", Checkbox).value is False)
        app.screen.query_one("#target", Input).focus()
        screen = await _session_of(app, pilot, f"127.0.0.1:{wire.port}")
    policy = screen.options.tls
    assert (policy.level, policy.cafile, policy.insecure) == ("verify", str(typed_ca), True)
    assert (screen.options.cafile, screen.options.verify) == (str(typed_ca), False)


MX_ZONE = ("$ORIGIN d.test.\n@ 60 SOA ns h 1 60 60 60 60\n@ 60 MX 10 mx.d.test.\n"
           "mx 60 A 127.0.0.1\n")


async def test_resolver_flag_routes_an_at_domain_target_typed_there(wire, monkeypatch) -> None:
    from tests.dns.responder import Zone, serve

    with serve(Zone(MX_ZONE)) as resolver:
        app = app_from_command_line(monkeypatch, ["--resolver", resolver, "--port", str(wire.port),
                                               "--timeout", "3"])
        async with app.run_test(size=SIZE) as pilot:
            screen = await _session_of(app, pilot, "@d.test")
    [candidate] = screen.options.route
    assert (candidate.host, candidate.address, candidate.port) == \
        ("mx.d.test", "127.0.0.1", wire.port)


async def test_the_connect_screen_says_which_flags_apply(monkeypatch, tmp_path) -> None:
    from textual.widgets import Label

    odd = tmp_path / "cas\x1b[31m"
    odd.mkdir()
    app = app_from_command_line(monkeypatch, ["--tls-level", "dane", "--resolver",
                                           "127.0.0.1:5353", "--capath", str(odd), "-6",
                                           "--show-certs"])
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.focused is not None)
        said = str(app.screen.query_one("#connect-flags", Label).render())
        assert said.startswith("TLS level dane · CA directory ")
        assert "\x1b" not in said and "cas\\x1b[31m" in said
        assert said.endswith("· resolver 127.0.0.1:5353 · certificates noted in full · IPv6 only "
                             "(from the command line)")
        region = app.screen.query_one("#connect-flags").region
        assert app.screen.region.contains_region(region)
    plain = app_from_command_line(monkeypatch, ["--port", "2525"])  # a field shows that one
    async with plain.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: plain.focused is not None)
        assert not plain.screen.query("#connect-flags")


def test_flags_no_field_shows_are_checked_before_the_connect_screen(capsys) -> None:
    from smtpscope.cli import tui as tui_cli

    assert tui_cli.run_target(["--tls-level", "fingerprint"]) == 1
    assert "--tls-level fingerprint needs --tls-fingerprint" in capsys.readouterr().err
    assert tui_cli.run_target(["--local-interface", "127.0.0.1:x"]) == 1
    assert "--local-interface: bad port in '127.0.0.1:x'" in capsys.readouterr().err
