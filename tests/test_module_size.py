"""Every module of smtpscope stays small enough to read in one sitting."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "smtpscope"

# A module past this is usually doing two things: split it along a seam (as transcript_cursor
# and auth_exchange were split out) rather than raise the number. The engine keeps a tighter
# limit of its own (tests/protocol/test_imports.py).
MAX_LINES = 450


def test_modules_stay_under_the_limit() -> None:
    sizes = {str(p.relative_to(PACKAGE)): len(p.read_text(encoding="utf-8").splitlines())
             for p in PACKAGE.rglob("*.py")}
    assert len(sizes) > 100  # the walk found the package
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}
