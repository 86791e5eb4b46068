"""Start-up of ``smtpscope probe``: it imports what it runs and nothing else (no UI, no DNS
library unless a name goes through the resolver, no AUTH code, no catalogue it never shows)."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]

# What a probe of an address must never pay for at start-up.
UNWANTED = ("textual", "rich.console", "dns", "smtpscope.auth", "smtpscope.tui",
            "smtpscope.protocol.codes", "smtpscope.protocol.parser", "smtpscope.server",
            "smtpscope.dns", "difflib")


# Records, for the packages named, the thread that first looked for them, and which modules
# were already loaded before smtpscope ran (the interpreter's and site's own).
_WATCH = (
    "import atexit, runpy, sys, threading\n"
    "START = set(sys.modules)\n"
    "FIRST = {}\n"
    "class Watch:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        FIRST.setdefault(name, threading.current_thread().name)\n"
    "sys.meta_path.insert(0, Watch())\n"
    "def report():\n"
    "    print('MODULES', *sorted(sys.modules), file=sys.stderr)\n"
    "    print('NEW', *sorted(set(sys.modules) - START), file=sys.stderr)\n"
    "    print('THREADS', *(f'{k}={v}' for k, v in sorted(FIRST.items()) if '.' not in k),"
    " file=sys.stderr)\n"
    "atexit.register(report)\n"
    "import os\n"  # a probe ends with os._exit, past atexit: report there too
    "_real_exit = os._exit\n"
    "def _exit(code):\n"
    "    report()\n"
    "    _real_exit(code)\n"
    "os._exit = _exit\n"
)


def run_probe(*argv: str, env_extra: dict[str, str] | None = None,
              details: dict[str, Any] | None = None, command: str = "probe",
              ) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run ``python -X importtime -m smtpscope probe ARGV`` with bytecode caching on.

    Returns the process and every module it imported: the -X importtime log and, to be
    sure nothing escapes it, ``sys.modules`` at exit. ``details`` (when given) gets "new",
    the modules loaded after the interpreter's own start, and "thread", the thread that first
    imported each top-level package.
    """
    code = _WATCH + (
        f"sys.argv = ['smtpscope', {command!r}, *{list(argv)!r}]\n"
        "runpy.run_module('smtpscope', run_name='__main__', alter_sys=True)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(ROOT)
    env.update(env_extra or {})
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=60, check=False)
    modules: set[str] = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            modules.add(line.rsplit("|", 1)[1].strip())
        elif line.startswith("MODULES "):
            modules.update(line.split()[1:])
        elif line.startswith("NEW ") and details is not None:
            details["new"] = set(line.split()[1:])
        elif line.startswith("THREADS ") and details is not None:
            details["thread"] = dict(item.split("=", 1) for item in line.split()[1:])
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
    assert {"smtpscope.protocol.connection", "smtpscope.session_blocking", "ssl"} <= modules
    # ...and nothing the probe does not run: one server needs no event loop either.
    assert unwanted(modules) == set()
    assert "asyncio" not in modules and "smtpscope.session" not in modules


def test_send_without_auth_never_loads_the_auth_code(make_server, tmp_path: Path) -> None:
    server = make_server("starttls")  # it offers AUTH after STARTTLS
    message = tmp_path / "m.eml"
    message.write_bytes(b"Subject: startup\r\n\r\nhello\r\n")
    done, modules = run_probe(server.target, "--cafile", server.cafile, "--from", "a@example.test",
                              "--to", "b@example.test", "--data", f"@{message}", command="send")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "250-AUTH" in done.stdout and len(server.handler.messages) == 1
    assert "smtpscope.session" in modules  # the run happened here
    assert {m for m in modules if m.split(".")[:2] in (["smtpscope", "auth"],)
            or m == "smtpscope.conversation.auth"} == set()


def _verified_probe(make_server, tmp_path: Path, helper: str) -> set[str]:
    # A plain verified STARTTLS probe with no config file: what it loads, and on which thread.
    server = make_server("starttls")
    details: dict[str, Any] = {}
    done, _ = run_probe(server.target, "--cafile", server.cafile, "--json",
                        env_extra={"XDG_CONFIG_HOME": str(tmp_path),
                                   "SMTPSCOPE_CERT_HELPER": helper}, details=details)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    tls = result["tls"]
    assert tls["verified"] is True and tls["trust"] == "verified"
    leaf = tls["peer_chain"][0]  # every field the report promises, from the certificate
    assert leaf["spki_sha256"] and leaf["key_type"] and leaf["signature_algorithm"]
    assert leaf["fingerprint_sha256"] and leaf["subject"] and leaf["san"]
    new: set[str] = details["new"]
    # No config file: the TOML parser never loads; nothing recorded: no recording file code.
    # No help printed: the terminal is never measured (shutil, with zlib, bz2 and lzma).
    assert "tomllib" not in new and "shutil" not in new
    assert "smtpscope.record.store" not in new and "smtpscope.record.validate" not in new
    # An address needs no resolver: no worker thread for getaddrinfo.
    assert "concurrent.futures.thread" not in new
    # Outside the standard library, a probe loads smtpscope and the certificate code only
    # (cryptography's compiled bindings register "_openssl" and "_cffi_backend" themselves).
    foreign = {m.split(".")[0] for m in new} - set(sys.stdlib_module_names)
    assert foreign <= {"smtpscope", "cryptography", "_cffi_backend", "_openssl"}, foreign
    details["thread"].setdefault("cryptography", None)
    new.add(f"first-thread:{details['thread']['cryptography']}")
    return new


def test_verified_starttls_probe_leaves_the_certificate_code_to_its_helper(
        make_server, tmp_path: Path) -> None:
    from smtpscope.security import checker

    if not checker.usable():
        pytest.skip("the certificate helper needs os.fork and two usable CPUs")
    new = _verified_probe(make_server, tmp_path, "on")
    # The chain was read and judged (the report above has every field), by the helper process:
    # this one never loads cryptography, nor the thread that would load it here.
    assert not {m for m in new if m.split(".")[0] == "cryptography"}, new
    assert "first-thread:None" in new and "smtpscope.security.pkix" not in new


def test_verified_starttls_probe_keeps_slow_imports_off_its_path(make_server,
                                                                  tmp_path: Path) -> None:
    new = _verified_probe(make_server, tmp_path, "off")
    # Without the helper, the certificate code (cryptography, ~25 ms) loads, but on the side
    # thread started before connecting, so it overlaps the network waits instead of following
    # the handshake.
    assert "cryptography.x509" in new
    assert "first-thread:smtpscope-prefetch" in new
    # The SPKI hashes above come without the key-file code (SSH, PKCS#12: about 8 ms), unless
    # this cryptography's X.509 layer loads it itself (releases before 50 do).
    if not _x509_loads_serialization():
        assert "cryptography.hazmat.primitives.serialization" not in new


def _x509_loads_serialization() -> bool:
    code = ("import sys, cryptography.x509, cryptography.x509.verification\n"
            "print('cryptography.hazmat.primitives.serialization' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    return out.strip() == "True"


def test_plaintext_probe_never_loads_the_certificate_code(make_server, tmp_path: Path) -> None:
    # --tls-level none: no STARTTLS, so neither the prefetch nor cryptography.
    server = make_server("starttls")
    details: dict[str, Any] = {}
    done, _ = run_probe(server.target, "--tls-level", "none", "--json",
                        env_extra={"XDG_CONFIG_HOME": str(tmp_path)}, details=details)
    assert json.loads(done.stdout)["status"] == "success", done.stderr[-2000:]
    assert json.loads(done.stdout)["tls"] is None
    assert not {m for m in details["new"] if m.split(".")[0] == "cryptography"}
    assert "smtpscope.security.prefetch" not in details["new"]


def test_config_file_is_parsed_only_when_it_exists(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from smtpscope.cli.defaults import load\n"
        f"assert load({str(tmp_path / 'absent.toml')!r}) == {{}}\n"
        "print('tomllib' in sys.modules)\n"
        f"print(load({str(tmp_path / 'there.toml')!r}))\n"
        "print('tomllib' in sys.modules)\n"
    )
    (tmp_path / "there.toml").write_text('[probe]\ntimeout = 5\n')
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True, timeout=60).stdout.split("\n")
    assert out[:3] == ["False", "{'probe': {'timeout': 5}}", "True"]


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


# The value classes a probe builds at start-up: smtpscope.values classes, never dataclasses
# (each @dataclass writes and exec()s its methods while the module loads).
VALUE_MODULES = ("smtpscope.cli.common", "smtpscope.cli.introspect", "smtpscope.cli.suggest",
                 "smtpscope.cli.tls_options", "smtpscope.security.levels",
                 "smtpscope.security.pkix", "smtpscope.security.policy",
                 "smtpscope.session_types", "smtpscope.targets", "smtpscope.transport.tls",
                 "smtpscope.transport.tls_info", "smtpscope.transport.x509",
                 "smtpscope.security.anchor_source")


def test_probe_value_modules_define_no_dataclass() -> None:
    classes = {f"{name}.{cls.__name__}": cls for name in VALUE_MODULES
               for cls in vars(importlib.import_module(name)).values()
               if isinstance(cls, type) and cls.__module__ == name}
    assert {"smtpscope.transport.tls_info.TLSInfo", "smtpscope.targets.Target"} <= set(classes)
    assert [name for name, cls in classes.items() if hasattr(cls, "__dataclass_fields__")] == []


def test_report_helpers_load_what_they_use_on_first_use() -> None:
    # JSON, shell quoting and certificate hashing/dates load when a run gets to them.
    code = (
        "import sys\n"
        "import smtpscope.cli.common, smtpscope.sanitize, smtpscope.targets\n"
        "import smtpscope.transport.x509 as x509\n"
        "late = ('json', 'shlex', 'hashlib', 'datetime')\n"
        "print(*[m in sys.modules for m in late])\n"
        "assert smtpscope.cli.common.dumps({'a': '\\x85'}) == '{\"a\": \"\\\\u0085\"}'\n"
        "assert smtpscope.sanitize.shell_quote('a b') == \"'a b'\"\n"
        "assert x509.cert_info_from_der(b'x').parse_error\n"
        "assert x509.CertInfo('', '', (), '', '2000-01-01T00:00:00+00:00', '', '').expired()\n"
        "print(*[m in sys.modules for m in late])\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True, timeout=60).stdout.split("\n")
    assert out[:2] == ["False False False False", "True True True True"]


def test_parser_measures_the_terminal_only_to_print() -> None:
    # Building the parser checks every metavar with a formatter but measures nothing (shutil,
    # with its compression modules, stays unloaded); help printed later fits the terminal.
    # (-S: no site, whose editable-install hook may load shutil itself.)
    code = (
        "import sys\n"
        "assert 'shutil' not in sys.modules\n"
        "from smtpscope.cli import build_parser, subcommand_parser\n"
        "parser = build_parser('probe')\n"
        "print('shutil' in sys.modules)\n"
        "text = subcommand_parser(parser, 'probe').format_help()\n"
        "print(sum(len(line) > 58 for line in text.splitlines()), 'shutil' in sys.modules)\n"
    )
    too_wide = []  # lines over 58 columns (argparse leaves 2 free)
    for columns in ("60", "140"):
        env = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS=columns)
        out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                             env=env, check=True, timeout=60).stdout.split()
        assert out[0] == "False" and out[2] == "True"
        too_wide.append(int(out[1]))
    # At 60 columns only the usage line's one unbreakable option group overflows.
    assert too_wide[0] <= 1 and too_wide[1] > 10


def test_json_without_unsafe_characters_skips_the_escaping_patterns(monkeypatch) -> None:
    # The common case (ASCII, no DEL) needs neither pattern; DEL and C1 are still escaped.
    from smtpscope.cli import common

    class NoRe:
        def sub(self, *args: Any) -> str:
            raise AssertionError("pattern used")

    real = common.re
    monkeypatch.setattr(common, "re", NoRe())
    assert common.dumps({"a": "b\tc", "n": [1, None]}) == '{"a": "b\\tc", "n": [1, null]}'
    monkeypatch.setattr(common, "re", real)
    assert common.dumps({"a": "\x7f\x85\udce9"}) == '{"a": "\\u007f\\u0085\ufffd"}'


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


def test_collector_waits_until_the_command_runs() -> None:
    # Start-up allocates much and frees little: no collection before the command's handler,
    # which then runs with the collector on and the start-up objects frozen out of its scans.
    code = (
        "import gc, sys\n"
        "import smtpscope.cli, smtpscope.cli.probe as probe\n"
        "smtpscope.cli.QUICK_EXIT = frozenset()\n"  # return, to be looked at afterwards
        "seen = []\n"
        "gc.callbacks.append(lambda phase, info: phase == 'start' and seen.append(1))\n"
        "def handler(args):\n"
        "    print(len(seen), gc.isenabled(), gc.get_freeze_count())\n"
        "    return 0\n"
        "probe.run = handler\n"
        "print(smtpscope.cli.main(['probe', '127.0.0.1:1']))\n"
        "seen.clear()\n"
        "sys.argv = ['smtpscope', 'probe', '127.0.0.1:1', '--json']\n"
        "print(smtpscope.cli.main(), gc.isenabled())\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True, timeout=60).stdout.split()
    # Called from a program (argv given), main leaves the caller's collector alone...
    assert out[1:4] == ["True", "0", "0"]
    # ...as the process's command line, it collects nothing before the handler runs.
    assert out[4:6] == ["0", "True"] and int(out[6]) > 0 and out[7:] == ["0", "True"]


def test_prefetch_finishes_before_the_interpreter_exits(tmp_path: Path) -> None:
    # A probe can end (refused, no TLS) while the prefetch is still importing or reading the
    # trust store. The process must wait for it: a thread stopped mid-C-call at shutdown can
    # abort the process after its report is out.
    marker = tmp_path / "done"
    code = (
        "import time\n"
        "from smtpscope.security import prefetch\n"
        "def slow(cafile, capath):\n"
        "    time.sleep(0.3)\n"
        f"    open({str(marker)!r}, 'w').close()\n"
        "prefetch._load = slow\n"
        "prefetch.prefetch(None, None)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert marker.exists()


def test_probe_refused_at_once_exits_cleanly_while_prefetching() -> None:
    # The prefetch starts before connecting; a refused connection ends the run first.
    port = free_port()
    for _ in range(3):
        done = subprocess.run(
            [sys.executable, "-m", "smtpscope", "probe", f"127.0.0.1:{port}",
             "--json"], capture_output=True, text=True, timeout=60,
            env=dict(os.environ, PYTHONPATH=str(ROOT)))
        assert json.loads(done.stdout)["status"] == "connection-refused"
        assert "Fatal" not in done.stderr and "FATAL" not in done.stderr, done.stderr
        assert done.returncode not in (-6, -11, 134, 139), done.stderr


def test_probe_ends_at_once_with_its_whole_report(make_server, tmp_path: Path) -> None:
    # The process ends without tearing the interpreter down (atexit handlers do not run), yet
    # its report is complete and its exit code the probe's; called from a program, main returns.
    server = make_server("starttls")
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('TORN DOWN', file=sys.stderr))\n"
        "from smtpscope.cli import main\n"
        "if sys.argv[1] == 'program':\n"
        "    print('RETURNED', main(sys.argv[2:]), file=sys.stderr)\n"
        "else:\n"
        "    sys.argv = ['smtpscope', *sys.argv[2:]]\n"
        "    sys.exit(main())\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    report = tmp_path / "report.json"
    for how, target, status in (("process", server.target, 0),
                                ("process", f"127.0.0.1:{free_port()}", 2)):
        with report.open("w") as out:
            done = subprocess.run([sys.executable, "-c", code, how, "probe", target, "--cafile",
                                   server.cafile, "--json"], stdout=out, stderr=subprocess.PIPE,
                                  text=True, env=env, timeout=60)
        assert done.returncode == status, done.stderr
        assert "TORN DOWN" not in done.stderr
        assert json.loads(report.read_text())["target"] == target
    done = subprocess.run([sys.executable, "-c", code, "program", "probe", server.target,
                           "--cafile", server.cafile, "--json"], capture_output=True, text=True,
                          env=env, timeout=60)
    assert "RETURNED 0" in done.stderr and "TORN DOWN" in done.stderr
    assert json.loads(done.stdout)["status"] == "success"
