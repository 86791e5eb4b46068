"""Start-up of ``smtpscope probe``: it imports what it runs and nothing else (no UI, no DNS
library unless a name goes through the resolver, no AUTH code, no catalogue it never shows)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# What a probe of an address must never pay for at start-up.
UNWANTED = ("textual", "rich.console", "dns", "smtpscope.auth", "smtpscope.tui",
            "smtpscope.protocol.codes", "smtpscope.protocol.parser", "smtpscope.server",
            "smtpscope.dns", "difflib")


def run_probe(*argv: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run ``python -X importtime -m smtpscope probe ARGV`` with bytecode caching on.

    Returns the process and every module it imported: the -X importtime log and, to be
    sure nothing escapes it, ``sys.modules`` at exit.
    """
    code = (
        "import atexit, runpy, sys\n"
        "atexit.register(lambda: print('MODULES', *sorted(sys.modules), file=sys.stderr))\n"
        f"sys.argv = ['smtpscope', 'probe', *{list(argv)!r}]\n"
        "runpy.run_module('smtpscope', run_name='__main__', alter_sys=True)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=60, check=False)
    modules: set[str] = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            modules.add(line.rsplit("|", 1)[1].strip())
        elif line.startswith("MODULES "):
            modules.update(line.split()[1:])
    return done, modules


def unwanted(modules: set[str], allowed: tuple[str, ...] = ()) -> set[str]:
    return {m for m in modules for u in UNWANTED
            if u not in allowed and (m == u or m.startswith(u + "."))}


def test_probe_with_starttls_imports_only_what_it_runs(make_server) -> None:
    server = make_server("starttls")
    done, modules = run_probe(server.target, "--cafile", server.cafile, "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["status"] == "success" and result["tls"]["verified"] is True
    # The run really happened here: engine, session and TLS were loaded...
    assert {"smtpscope.protocol.connection", "smtpscope.session", "ssl"} <= modules
    # ...and nothing the probe does not run.
    assert unwanted(modules) == set()


def test_checker_sees_an_unwanted_import() -> None:
    # The same check, given a run that does load the catalogue and rich's console, says so.
    assert unwanted({"rich", "rich.console", "smtpscope.protocol.codes", "dnsx"}) == {
        "rich.console", "smtpscope.protocol.codes"}


def test_mx_routing_loads_the_resolver_only_then(make_server, dns_server) -> None:
    server = make_server()
    done, modules = run_probe("@deadmx.test", "--port", str(server.port), "--resolver",
                              dns_server.resolver_address, "--json")
    assert json.loads(done.stdout)["status"] == "success", done.stderr[-2000:]
    assert "dns.resolver" in modules  # a name went through the resolver: now it is needed
    assert unwanted(modules, allowed=("dns", "smtpscope.dns")) == set()


def test_protocol_package_loads_its_modules_on_first_use() -> None:
    code = (
        "import sys, smtpscope.protocol as p\n"
        "before = sorted(m for m in sys.modules if m.startswith('smtpscope.protocol.'))\n"
        "p.Connection\n"
        "middle = 'smtpscope.protocol.codes' in sys.modules\n"
        "assert p.explain(p.parse_reply(b'550 no\\r\\n')).basic\n"
        "print(before, middle, 'smtpscope.protocol.codes' in sys.modules)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True, timeout=60).stdout
    assert out.split() == ["[]", "False", "True"]
    with pytest.raises(AttributeError):
        import smtpscope.protocol as p

        _ = p.NoSuchName  # type: ignore[attr-defined]
