"""The embedded SMTP debugging server (aiosmtpd): ``serve``, ``demo`` and the test suite."""

from smtpscope.server.certs import CertificateError, CertPaths
from smtpscope.server.config import ConfigError, ServerConfig, load_users, parse_user
from smtpscope.server.context import StoredMessage
from smtpscope.server.demo import DEMO_PASSWORD, DEMO_USER, DemoServer, start_demo_server
from smtpscope.server.faults import Fault, FaultSpecError, parse_fault
from smtpscope.server.runner import DebugServer, PortInUseError, ServerError, ServerThread

__all__ = [
    "DEMO_PASSWORD",
    "DEMO_USER",
    "CertPaths",
    "CertificateError",
    "ConfigError",
    "DebugServer",
    "DemoServer",
    "Fault",
    "FaultSpecError",
    "PortInUseError",
    "ServerConfig",
    "ServerError",
    "ServerThread",
    "StoredMessage",
    "load_users",
    "parse_fault",
    "parse_user",
    "start_demo_server",
]
