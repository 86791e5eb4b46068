"""Path checks for files the user names: inputs that must be regular files, outputs that must
not grow directories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from smtpscope.paths import input_problem, output_problem


def test_input_problem_names_each_kind_of_wrong_path(tmp_path: Path) -> None:
    regular = tmp_path / "ca.pem"
    regular.write_text("x")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert input_problem(regular) is None
    assert input_problem(tmp_path / "missing") == "does not exist"
    assert input_problem(tmp_path) == "is a directory, not a file"
    assert input_problem(fifo) == "is not a regular file"
    assert input_problem(regular / "below") is not None  # a parent that is a file


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_input_problem_names_an_unreadable_file(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.write_text("x")
    locked.chmod(0)
    assert input_problem(locked) == "cannot be read: permission denied"


def test_output_problem_creates_nothing(tmp_path: Path) -> None:
    assert output_problem(tmp_path / "new.jsonl") is None
    missing = tmp_path / "a" / "b" / "x.jsonl"
    assert output_problem(missing) == f"the directory {missing.parent} does not exist"
    assert not (tmp_path / "a").exists()
    assert output_problem(tmp_path) == "it is a directory, not a file"
    afile = tmp_path / "f"
    afile.write_text("")
    assert output_problem(afile / "x.jsonl") == f"{afile} is not a directory"
