"""The benchmark script still runs and parses what it claims to (tiny sizes, no timing)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[2] / "bench" / "engine.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("smtpscope_bench_engine", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_counts_match() -> None:
    bench = load()
    stream, replies, lines = bench.build_stream(2)
    assert lines > replies > 0
    bench.run_reader(stream, replies)  # asserts it saw every reply
    bench.run_smtplib(stream, replies)
    elapsed, count = bench.run_engine(2)
    assert count == replies and elapsed > 0
    elapsed, count = bench.run_engine(2, batch=True)
    assert count == replies and elapsed > 0
