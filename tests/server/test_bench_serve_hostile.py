"""The hostile-client benchmark still runs end to end against a real ``serve`` (tiny sizes)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "serve_hostile.py"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_serve_hostile_bench_runs(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("smtpscope_bench_serve_hostile", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--data-mb", "8", "--clients", "3", "--line-mb", "4"]) == 0
    out = capsys.readouterr().out
    assert "8 MB DATA line, no CRLF" in out and "3 x 4 MB command lines" in out
    assert out.count(" 500 ") == 2  # both floods refused, as RFC 5321 4.5.3.1 allows
