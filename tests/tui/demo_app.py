"""The app on the demo server, its certificate verified against the demo's own CA."""

from __future__ import annotations

from smtpscope.server.demo import DemoServer
from smtpscope.session import SessionOptions
from smtpscope.tui.app import SmtpScopeApp, create_app


def verified_app(demo: DemoServer) -> SmtpScopeApp:
    """Plain SMTP to start with (F3 or a typed STARTTLS upgrades it), the CA given."""
    options = SessionOptions(host=demo.host, port=demo.port, security="plain",
                             cafile=str(demo.cafile))
    return create_app(options=options, target_label="demo")
