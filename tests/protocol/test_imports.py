"""The engine stays sans-IO: no module of smtpscope.protocol imports an I/O or UI library."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import smtpscope.protocol

FORBIDDEN = {"socket", "ssl", "asyncio", "selectors", "textual", "rich", "dns", "trio", "anyio"}
PACKAGE = Path(smtpscope.protocol.__file__).parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_package_has_modules() -> None:
    assert len(list(PACKAGE.glob("*.py"))) >= 10


def test_no_io_imports() -> None:
    offenders = {}
    for path in PACKAGE.rglob("*.py"):
        bad = {m for m in imported_modules(path) if m.split(".")[0] in FORBIDDEN}
        # Other smtpscope layers (transport, tui, session) are above the engine, never below.
        bad |= {m for m in imported_modules(path)
                if m.startswith("smtpscope.") and not m.startswith("smtpscope.protocol")}
        if bad:
            offenders[path.name] = sorted(bad)
    assert offenders == {}


def test_checker_catches_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("import ssl\nfrom asyncio import sleep\nfrom . import y\n")
    assert imported_modules(sample) == {"ssl", "asyncio"}


def test_modules_stay_small() -> None:
    sizes = {p.name: len(p.read_text().splitlines()) for p in PACKAGE.glob("*.py")}
    assert all(n < 420 for n in sizes.values()), sizes


def test_importing_the_engine_loads_no_dataclasses() -> None:
    # A @dataclass writes and exec()s its methods at import, and the dataclasses module loads
    # inspect (with ast, dis, tokenize): a probe would pay for both before its first byte.
    names = sorted(f"smtpscope.protocol.{path.stem}" for path in PACKAGE.glob("[!_]*.py"))
    code = (f"import sys, smtpscope.protocol, {', '.join(names)}\n"
            "print(sorted({'dataclasses', 'inspect'} & set(sys.modules)))")
    env = {**os.environ, "PYTHONPATH": str(PACKAGE.parents[1])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, check=True)
    assert done.stdout.strip() == "[]"
