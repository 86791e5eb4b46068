"""The session-control fields (a PROXY header before the banner, XCLIENT after EHLO) that the
connect screen and the F5 reconnect dialog both show, and how they apply to the options."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Collapsible, Input, Label, Select

from smtpscope.tui.keys import OrderedInput

PROXY_VERSIONS = [("no PROXY header", 0), ("PROXY v1 (text)", 1), ("PROXY v2 (binary)", 2)]


@dataclass(frozen=True)
class SessionControl:
    """The fields as the user gave them (the command line's --proxy*, --xclient, or typed):
    kept with the session so F5 shows them again, where the options only hold the header."""

    proxy: int = 0
    proxy_source: str = ""
    proxy_dest: str = ""
    xclient: str = ""


def fields(start: SessionControl) -> ComposeResult:
    """Folded unless something is set: most sessions need neither."""
    with Collapsible(title="Session control: PROXY header, XCLIENT", id="session-control",
                     collapsed=start == SessionControl()):
        yield Label("HAProxy PROXY header, sent before the banner")
        yield Select(PROXY_VERSIONS, value=start.proxy, allow_blank=False, id="proxy")
        yield Label("Claimed client IP[:PORT]")
        yield OrderedInput(start.proxy_source, placeholder="192.0.2.10:40000",
                           id="proxy-source")
        yield Label("Claimed server IP[:PORT] (empty: the target's)")
        yield OrderedInput(start.proxy_dest, placeholder="127.0.0.1:25", id="proxy-dest")
        yield Label("XCLIENT attributes, sent after EHLO (Postfix; EHLO follows again)")
        yield OrderedInput(start.xclient, placeholder="NAME=client.example ADDR=192.0.2.10",
                           id="xclient")


def read_fields(screen: Screen[Any]) -> SessionControl:
    """The fields as they stand now."""
    return SessionControl(
        int(screen.query_one("#proxy", Select).value or 0),  # type: ignore[arg-type]
        screen.query_one("#proxy-source", Input).value.strip(),
        screen.query_one("#proxy-dest", Input).value.strip(),
        screen.query_one("#xclient", Input).value.strip(),
    )


def apply_fields(screen: Screen[Any], options: Any) -> SessionControl:
    """The fields into ``options`` (see :func:`apply`) and the values applied."""
    control = read_fields(screen)
    apply(control, options)
    return control


def apply(control: SessionControl, options: Any) -> None:
    """``control`` into ``options``: empty values remove the header or XCLIENT; a
    ``ValueError`` says what is wrong with them."""
    from smtpscope.conversation import xclient as xclient_step
    from smtpscope.transport import proxy as proxy_header

    version, source, dest, attributes = (control.proxy, control.proxy_source,
                                         control.proxy_dest, control.xclient)
    options.preamble = b""
    if version:
        if not source:
            raise ValueError("PROXY header: give the claimed client IP[:PORT]")
        try:
            options.preamble = proxy_header.header_for(version, source, dest or None,
                                                       (options.host, options.port))
        except proxy_header.ProxyError as exc:
            raise ValueError(f"PROXY header: {exc}") from exc
    elif source or dest:
        raise ValueError("PROXY header: pick v1 or v2 for the claimed addresses")
    if attributes:
        xclient_step.command_for(attributes)  # XclientUsage is a ValueError
    options.xclient = (attributes,) if attributes else ()
