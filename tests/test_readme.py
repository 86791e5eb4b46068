"""The README's promises: its engine example runs, and it names the set-up and test commands."""

from __future__ import annotations

import re
from pathlib import Path

from smtpscope.cli.common import exit_codes

README = Path(__file__).resolve().parent.parent / "README.md"


def test_engine_example_runs(capsys) -> None:
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks, "README has no python example"
    exec(compile(blocks[0], "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "10240000" in out and "MAIL FROM:<a@example.test> SIZE=1000" in out


def test_first_commands_are_demo_and_tests() -> None:
    first_block = re.search(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert first_block is not None
    lines = first_block.group(1).strip().splitlines()
    assert "smtpscope demo" in lines[0]
    assert "-m pytest" in lines[1]


def test_exit_code_table_is_the_one_send_uses() -> None:
    text = " ".join(README.read_text(encoding="utf-8").split())
    assert f"Exit codes follow swaks, so scripts port easily: {exit_codes()}." in text
