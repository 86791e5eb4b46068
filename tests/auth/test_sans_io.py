"""auth/ stays sans-IO: importing it must not pull in sockets, asyncio or textual."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import smtpscope.auth

FORBIDDEN = {"socket", "ssl", "asyncio", "textual", "selectors", "dns"}


def test_no_forbidden_imports_in_source() -> None:
    root = pathlib.Path(smtpscope.auth.__file__).parent
    for path in root.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, (path.name, name)


def test_import_does_not_load_io_modules() -> None:
    code = (
        "import sys, smtpscope.auth, smtpscope.credentials\n"
        "bad = [m for m in ('asyncio', 'textual', 'socket', 'rich') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
