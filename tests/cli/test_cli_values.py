"""The CLI's small values: Failure (and its exit code), the introspected Option and Command."""

from __future__ import annotations

from smtpscope.cli.common import EXIT_CLOSED, EXIT_TLS, Failure, resolve_target
from smtpscope.cli.introspect import Command, Option
from tests.value_pins import assert_frozen_value, assert_mutable_value


def test_failure_fields_repr_and_exit_code() -> None:
    failure = Failure("closed", "mail", "bye")
    assert repr(failure) == \
        "Failure(status='closed', stage='mail', message='bye', hint='', partial=b'')"
    assert failure == Failure(status="closed", stage="mail", message="bye", hint="")
    assert failure.exit_code == EXIT_CLOSED and Failure("tls-error", "tls", "x").exit_code == 29
    assert Failure("tls-error", "ehlo", "x").exit_code == EXIT_TLS
    assert_mutable_value(Failure("timeout", "banner", "late", "wait"),
                         ("status", "stage", "message", "hint", "partial"))


def test_option_and_command_are_frozen_values() -> None:
    option = Option(("-p", "--port"), True, (), False, "PORT", "the port")
    assert repr(option) == ("Option(flags=('-p', '--port'), takes_value=True, choices=(), "
                            "is_file=False, metavar='PORT', help='the port')")
    assert_frozen_value(option, ("flags", "takes_value", "choices", "is_file", "metavar",
                                 "help"))
    command = Command(("probe",), "d", "u", (option,), ())
    assert command.arguments == ()
    assert repr(command) == (f"Command(path=('probe',), description='d', usage='u', "
                             f"options=({option!r},), children=(), arguments=())")
    assert_frozen_value(Command((), "d", "u", (), ("probe",), ("a",)),
                        ("path", "description", "usage", "options", "children", "arguments"))


def test_resolve_target_sets_the_mode_on_a_copy() -> None:
    options, mode = resolve_target("smtps://127.0.0.1", port=None, security=None, helo="me",
                                   verify=True, cafile=None, resolver=None)
    assert (mode, options.security, options.port, options.helo_name) == (
        "implicit", "implicit", 465, "me")
    options, mode = resolve_target("127.0.0.1:2525", port=None, security="starttls", helo="me",
                                   verify=False, cafile=None, resolver=None)
    assert (mode, options.security, options.verify) == ("starttls", "starttls", False)
