"""Output whose reader went away (``smtpscope ... | head -1``): no crash report, no network error
made of it, and a command that talks to a server still finishes its work and says how it went."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from smtpscope.cli.output import EXIT_PIPE, reader_gone, write_or_discard

ROOT = Path(__file__).resolve().parents[2]


def run_into_a_closed_pipe(*argv: str, stderr_too: bool = False) -> tuple[int, str]:
    """Run smtpscope with stdout (and with ``stderr_too`` stderr) on a pipe nobody reads."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte, as after "head -c 0"
    try:
        done = subprocess.run([sys.executable, "-m", "smtpscope", *argv], stdout=write_end,
                              stderr=write_end if stderr_too else subprocess.PIPE, text=True,
                              env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=120)
    finally:
        os.close(write_end)
    return done.returncode, done.stderr or ""


def test_a_listing_into_a_closed_pipe_ends_quietly() -> None:
    code, err = run_into_a_closed_pipe("keys")
    assert code == EXIT_PIPE
    assert err == ""  # no "crashed", no traceback file named


def test_send_into_a_closed_pipe_still_sends_and_keeps_its_exit_code(make_server) -> None:
    server = make_server()
    code, err = run_into_a_closed_pipe("send", server.target, "--from", "a@x.test", "--to",
                                       "b@y.test", "--tls", "none")
    assert code == 0, err
    assert "Broken pipe" not in err and "connecting failed" not in err
    assert len(server.handler.messages) == 1
    refused = make_server()
    code, _ = run_into_a_closed_pipe("send", refused.target, "--from", "a@x.test", "--to",
                                     "x@reject.test", "--tls", "none", stderr_too=True)
    assert code == 24  # the transaction's own outcome, though nobody could read it


def test_reader_gone_tells_a_closed_pipe_from_an_open_one(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "w") as stream:
        assert not reader_gone(stream)
        os.close(read_end)
        assert reader_gone(stream)
        write_or_discard(stream, "x" * 100_000)  # no BrokenPipeError out of it
        write_or_discard(stream, "later lines go nowhere\n")
    with open(tmp_path / "file.txt", "w") as regular:
        assert not reader_gone(regular)


def test_probe_into_a_closed_pipe_ends_quietly(make_server) -> None:
    # A probe flushes its report as the process ends at once (no interpreter teardown): a
    # reader already gone is the closed-pipe exit, never an error message.
    server = make_server()
    code, err = run_into_a_closed_pipe("probe", server.target, "--tls", "none")
    assert (code, err) == (EXIT_PIPE, "")


def test_the_mx_report_into_a_closed_pipe_ends_quietly() -> None:
    """Rich's console ends a broken pipe with exit 1, which mx's help calls a usage error."""
    code, err = run_into_a_closed_pipe("mx", "example.test", "--resolver", "127.0.0.1:9",
                                       "--timeout", "0.2")
    assert code == EXIT_PIPE
    assert "Traceback" not in err and "crashed" not in err
