"""The hostile-client benchmark still runs end to end against a real ``serve`` (tiny sizes)."""

from __future__ import annotations

import gc
import importlib.util
import sys
import warnings
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "serve_hostile.py"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("smtpscope_bench_serve_hostile", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


def test_serve_hostile_bench_runs(capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_bench()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        # A DATA line may run to the --size bound: 8 MB is past that of --size 4 MB.
        assert bench.main(["--data-mb", "8", "--clients", "3", "--line-mb", "4",
                           "--size-mb", "4"]) == 0
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    out = capsys.readouterr().out
    assert "8 MB DATA line, no CRLF" in out and "3 x 4 MB command lines" in out
    # Both floods refused: the message for its size, the command lines for their length.
    assert out.count(" 552 ") == 1 and out.count(" 500 ") == 1


def test_a_run_that_fails_still_stops_the_server_and_closes_its_pipe(tmp_path: Path) -> None:
    bench = load_bench()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        with pytest.raises(ConnectionResetError), bench.running_server(tmp_path, 4) as (pid, _):
            raise ConnectionResetError("a flood went wrong")
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    assert not Path(f"/proc/{pid}").exists()  # stopped and reaped, not left a zombie
