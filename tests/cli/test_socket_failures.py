"""A UNIX socket target that cannot be reached says why in a socket's terms: no host name to
check the spelling of, no port to change."""

from __future__ import annotations

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
