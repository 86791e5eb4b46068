"""``smtpscope TARGET`` and ``demo`` without a terminal, ``--history``, and a crash's exit."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import time

import pytest

from smtpscope.cli.common import EXIT_USAGE
from smtpscope.cli.crash import EXIT_CRASH
from smtpscope.cli.tui import EXIT_NO_TERMINAL
from smtpscope.tui.app import run_app

ROOT = pathlib.Path(__file__).resolve().parents[2]


def smtpscope(*args: str, **env_extra: str) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **env_extra}
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "smtpscope", *args], capture_output=True,
                            text=True, env=env, stdin=subprocess.DEVNULL, timeout=60)
    return result, time.monotonic() - started


def test_target_without_a_terminal_exits_at_once_with_a_clear_message() -> None:
    # Port 1 on loopback: were a connection attempted, it would be refused, not hang.
    result, elapsed = smtpscope("127.0.0.1:1")
    assert result.returncode == EXIT_NO_TERMINAL
    assert "needs a terminal" in result.stderr and "stdin and stdout are not" in result.stderr
    assert "smtpscope probe" in result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr
    assert elapsed < 30  # no connection attempt or wait: only start-up, slow on a busy machine


def test_demo_without_a_terminal_starts_nothing_and_points_at_no_maildir(tmp_path) -> None:
    result, _ = smtpscope("demo", SMTPSCOPE_HOME=str(tmp_path))
    assert result.returncode == EXIT_NO_TERMINAL and "needs a terminal" in result.stderr
    assert result.stdout == ""  # no "Messages sent during the demo are in ..."
    assert not (tmp_path / "demo").exists()  # the server never started


def test_record_into_a_missing_directory_is_refused_before_the_tui(tmp_path) -> None:
    missing = tmp_path / "no-such-dir" / "x.jsonl"
    result, _ = smtpscope("127.0.0.1:1", "--record", str(missing))
    assert result.returncode == 1
    assert f"the directory {missing.parent} does not exist" in result.stderr
    assert "needs a terminal" not in result.stderr
    assert not missing.parent.exists()


@pytest.mark.parametrize("command", ["", "  \t"], ids=["empty", "blank"])
def test_an_empty_pipe_command_is_a_usage_error_for_the_tui_send_and_probe(command: str) -> None:
    # Not the connect screen: nothing there sets a command, and a target typed there would
    # go over TCP instead.
    tui, _ = smtpscope("--pipe", command)
    send, _ = smtpscope("send", "--pipe", command, "--from", "a@example.test",
                        "--to", "b@example.test")
    probe, _ = smtpscope("probe", "--pipe", command)
    probe_json, _ = smtpscope("probe", "127.0.0.1:1", "--pipe", command, "--json")
    said = "--pipe needs a command, for example 'sendmail -bs'."
    assert (tui.returncode, tui.stderr, tui.stdout) == (EXIT_USAGE, f"smtpscope: {said}\n", "")
    assert (send.returncode, send.stderr) == (EXIT_USAGE, f"smtpscope send: {said}\n")
    for run in (probe, probe_json):  # no result for a target that is not there
        assert (run.returncode, run.stderr, run.stdout) == \
            (EXIT_USAGE, f"smtpscope probe: {said}\n", "")


def test_history_flag_is_the_tuis_not_a_usage_error() -> None:
    result, _ = smtpscope("--history")
    assert "unrecognized arguments" not in result.stderr
    assert result.returncode == EXIT_NO_TERMINAL and "needs a terminal" in result.stderr
    assert smtpscope("--version")[0].returncode == 0


def test_unexpected_error_exits_non_zero_and_names_the_traceback_file(capsys) -> None:
    from smtpscope.tui.app import SmtpScopeApp

    def first_screen():  # a bug in start-up, with a secret in a local variable
        password = "hunter2-secret"  # noqa: F841 - must reach neither the report nor stderr
        raise RuntimeError("boom in on_mount")

    app = SmtpScopeApp(first_screen)
    code = run_app(app, headless=True)
    assert code == EXIT_CRASH
    err = capsys.readouterr().err
    assert "smtpscope crashed: RuntimeError: boom in on_mount" in err
    assert app.crash_report is not None and str(app.crash_report) in err
    report = app.crash_report.read_text(encoding="utf-8")
    assert "RuntimeError: boom in on_mount" in report and "first_screen" in report
    assert "hunter2-secret" not in report and "hunter2-secret" not in err


def test_a_subcommand_bug_is_reported_the_same_way(monkeypatch, capsys) -> None:
    from smtpscope import cli
    from smtpscope.cli import keys

    def broken(args: object) -> int:
        raise ValueError("a bug")

    monkeypatch.setattr(keys, "run", broken)
    assert cli.main(["keys"]) == EXIT_CRASH
    err = capsys.readouterr().err
    assert "smtpscope crashed: ValueError: a bug" in err and "crash-" in err


def test_show_certs_help_says_where_the_tui_shows_them() -> None:
    from smtpscope.cli import tui as tui_cli

    [action] = [a for a in tui_cli.build_parser()._actions if "--show-certs" in a.option_strings]
    assert "in the transcript" in str(action.help) and "print" not in str(action.help)
