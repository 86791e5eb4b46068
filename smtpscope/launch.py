"""The ``smtpscope`` command's entry point.

For a ``probe`` or a ``send`` that may use TLS it starts the certificate helper
(``smtpscope.security.checker``) before anything else is loaded, so that the helper's imports
run beside the command's own from the first millisecond; then it runs the command line.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # nothing is loaded before the helper starts, typing included
if TYPE_CHECKING:
    from collections.abc import Sequence

# Options after which the command never reads a certificate (or never runs at all).
_PLAIN = frozenset({"--no-tls", "--tls=none", "--tls-level=none", "-h", "--help"})


def wants_helper(argv: Sequence[str]) -> bool:
    """A command that may read a certificate: ``probe`` or ``send``, with nothing on the line
    that rules TLS out."""
    # The first word that is no option names the command, as smtpscope.cli reads it (that
    # module loads argparse, which is what the helper must not wait for).
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    if command not in ("probe", "send"):
        return False
    for option, value in zip(argv, [*argv[1:], ""], strict=True):
        if option in _PLAIN or (option in ("--tls", "--tls-level") and value == "none"):
            return False
    return True


def main() -> int:
    if not wants_helper(sys.argv[1:]):
        from smtpscope.cli import main as command_line

        return command_line()
    from smtpscope.security import checker

    checker.start()
    try:
        from smtpscope.cli import main as command_line

        return command_line()
    finally:  # (a command that ends with os._exit collects it there)
        checker.finish()
