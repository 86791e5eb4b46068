"""Shell completion and the man page, both generated from the option parsers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from smtpscope.auth import MECHANISMS
from smtpscope.cli import common
from smtpscope.cli.introspect import all_commands

# The cases every shell must complete: the words typed, then what completion offers.
COMPLETE_AT = "complete_at() { COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1)); _smtpscope; " \
    "echo \"${COMPREPLY[*]}\"; }\n"
SHELL_CASE = "complete_at smtpscope completion ''\ncomplete_at smtpscope send --auth ''\n"


def _assert_values_completed(lines: list[str]) -> None:
    assert lines[0].split()[:3] == ["bash", "zsh", "fish"]  # a positional's choices
    assert lines[1].split() == [*MECHANISMS, "auto"]  # a known list argparse cannot hold


def _bash(script: str) -> str:
    env = {**os.environ, "PYTHON": sys.executable}
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_bash_completion_loads_and_completes() -> None:
    out = _bash('source <("$PYTHON" -m smtpscope completion bash) && complete -p smtpscope\n'
                'complete_at() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _smtpscope; '
                'echo "${COMPREPLY[*]}"; }\n'
                'complete_at smtpscope pro\n'
                'complete_at smtpscope send --tls ""\n'
                'complete_at smtpscope probe --sha\n'
                'complete_at smtpscope send --suppress\n'
                'complete_at smtpscope --tl\n'
                'complete_at smtpscope auth decode -m SC\n'
                'complete_at smtpscope serve --auth-mechanisms ""\n' + SHELL_CASE)
    lines = out.splitlines()
    assert lines[0] == "complete -o default -F _smtpscope smtpscope"
    assert lines[1] == "probe"
    assert lines[2] == "none starttls implicit auto"
    assert lines[3] == "--shard"
    assert lines[4] == "--suppress-data"
    assert "--tls" in lines[5].split()  # the TUI's options at the top level
    assert lines[6] == "SCRAM-SHA-1 SCRAM-SHA-256"
    assert lines[7] == "PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256"  # what serve can offer
    _assert_values_completed(lines[8:])


@pytest.mark.skipif(shutil.which("zsh") is None, reason="no zsh")
def test_zsh_completion_completes_values(cli, tmp_path: Path) -> None:
    script = tmp_path / "c.zsh"
    script.write_text(cli("completion", "zsh").out)
    # bashcompinit runs the function with ksharrays set (0-based arrays, as in bash).
    run = f"autoload -U compinit && compinit -u -D; source {script}; setopt ksharrays\n"
    result = subprocess.run(["zsh", "-f", "-c", run + COMPLETE_AT + SHELL_CASE],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    _assert_values_completed(result.stdout.splitlines())


@pytest.mark.skipif(shutil.which("fish") is None, reason="no fish")
def test_fish_completion_completes_values(cli, tmp_path: Path) -> None:
    script = tmp_path / "c.fish"
    script.write_text(cli("completion", "fish").out)
    run = (f"source {script}; complete -C 'smtpscope completion '; echo ==; "
           "complete -C 'smtpscope send --auth '")
    result = subprocess.run(["fish", "--no-config", "-c", run], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    shells, mechanisms = result.stdout.split("==\n")
    assert sorted(shells.split()) == ["bash", "fish", "zsh"]
    assert {line.split("\t")[0] for line in mechanisms.splitlines()} == {*MECHANISMS, "auto"}


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_parse(cli, shell: str, tmp_path: Path) -> None:
    result = cli("completion", shell)
    assert result.code == 0
    if shell == "fish":
        assert "complete -c smtpscope -n '__fish_seen_subcommand_from send' -l tls -x -a " \
               "'none starttls implicit auto'" in result.out
    else:
        assert result.out.startswith("#compdef smtpscope\n")
    binary = shutil.which(shell)
    if binary is None:
        pytest.skip(f"{shell} is not installed")
    script = tmp_path / f"c.{shell}"
    script.write_text(result.out)
    check = [binary, "-n", str(script)]
    assert subprocess.run(check, capture_output=True, timeout=30, check=False).returncode == 0


def test_man_page_lists_every_option_of_every_command(cli) -> None:
    result = cli("man")
    assert result.code == 0
    page = result.out
    assert page.startswith(".TH SMTPSCOPE 1 ")
    for cmd in all_commands()[1:]:
        assert f".SS smtpscope {' '.join(cmd.path)}".replace("-", "\\-") in page
        for opt in cmd.options:
            assert f"\\fB{opt.flags[0].replace('-', chr(92) + '-')}\\fR" in page


def test_send_help_and_man_page_list_every_exit_code(cli) -> None:
    codes = {v for k, v in vars(common).items() if k.startswith("EXIT_") and isinstance(v, int)}
    assert set(common.EXIT_MEANINGS) == codes
    listed = common.exit_codes()
    send = next(cmd for cmd in all_commands() if cmd.path == ("send",))
    assert listed in " ".join((send.description or "").split())
    assert f"As swaks: {listed}." in " ".join(cli("man").out.split())
    probe = next(cmd for cmd in all_commands() if cmd.path == ("probe",))
    for code in (common.EXIT_USAGE, common.EXIT_CLOSED, common.EXIT_TLS):
        assert common.exit_codes(code) in (probe.description or "")


@pytest.mark.skipif(shutil.which("groff") is None, reason="no groff")
def test_man_page_renders_without_warnings(cli) -> None:
    page = cli("man").out
    result = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z"], input=page,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0 and result.stderr == ""


def test_man_install_writes_man1(cli, tmp_path: Path) -> None:
    result = cli("man", "--install", str(tmp_path))
    assert result.code == 0
    assert (tmp_path / "man1" / "smtpscope.1").read_text().startswith(".TH SMTPSCOPE 1")
