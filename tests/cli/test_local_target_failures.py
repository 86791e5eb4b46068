"""A UNIX socket or a --pipe command that cannot serve says why in its own terms: no host name
to check the spelling of, no port to change, no server logs to read."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest


def _dead_socket(path: Path) -> Path:
    """A socket file nobody listens on (a server that died without removing it)."""
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.close()
    return path


@pytest.mark.parametrize(("make", "status", "why"), [
    (lambda tmp: tmp / "missing.sock", "unknown-host", "no such socket"),
    (lambda tmp: tmp, "connection-refused", "not a socket but a directory"),
    (lambda tmp: (tmp / "file").write_text("x") and tmp / "file", "connection-refused",
     "not a socket but a file"),
    (lambda tmp: _dead_socket(tmp / "dead.sock"), "connection-refused",
     "connection refused (nothing listening on it?)"),
])
@pytest.mark.parametrize("scheme", ["unix", "lmtp"])
def test_probe_of_a_socket_that_cannot_be_reached(cli, tmp_path: Path, make, status: str,
                                                  why: str, scheme: str) -> None:
    path = make(tmp_path)
    result = cli("probe", f"{scheme}:{path}", "--no-progress")
    assert result.code == 2  # could not connect
    assert f"{scheme}:{path}: {status}" in result.out
    assert f"cannot connect to UNIX socket {path}: {why}" in result.out
    assert "check the socket's path" in result.out
    assert "user@domain" not in result.out + result.err and "--port" not in result.out


def test_send_names_the_socket_too(cli, tmp_path: Path) -> None:
    result = cli("send", f"unix:{tmp_path / 'missing.sock'}", "--from", "a@x.test", "--to",
                 "b@y.test")
    assert result.code == 2
    assert "no such socket" in result.err and "check the socket's path" in result.err


def test_probe_of_a_pipe_command_that_ends_says_what_it_said(cli) -> None:
    """The command's error output and exit status are the server's logs here; its label is
    the command (there is no target)."""
    command = "echo oops >&2; exit 3"
    result = cli("probe", "--pipe", command, "--no-progress", "--json")
    assert result.code == 21  # closed at the banner
    report = json.loads(result.out)
    assert report["target"] == f"pipe:{command}"
    assert report["status"] == "closed" and report["stage"] == "banner"
    assert report["error"].endswith(f"; oops; {command!r} exited with status 3")
    assert report["hint"] == "the command ended: its error output and exit status say why"
    assert "blocklists" not in result.out + result.err


def test_send_through_a_pipe_that_ends_points_at_its_output(cli) -> None:
    result = cli("send", "--pipe", "exit 127", "--from", "a@x.test", "--to", "b@y.test")
    assert result.code == 21
    assert "'exit 127' exited with status 127" in result.out
    assert "its error output and exit status say why" in result.err
    assert "blocklists" not in result.err
