"""The certificate helper process: same answers as in-process, nothing of its parent's held,
and every failure of it ends in the in-process path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import trustme

from smtpscope.launch import wants_helper
from smtpscope.security import checker

ROOT = Path(__file__).resolve().parents[2]

needs_helper = pytest.mark.skipif(not checker.usable(),
                                  reason="the certificate helper needs os.fork and two CPUs")


@pytest.mark.parametrize(("argv", "wanted"), [
    (["probe", "mx.example.test"], True),
    (["probe", "--cafile", "ca.pem", "smtps://mx.example.test"], True),
    (["probe", "mx.example.test", "--insecure"], True),  # the chain is still read and judged
    (["probe", "mx.example.test", "--no-tls"], False),
    (["probe", "mx.example.test", "--tls", "none"], False),
    (["probe", "mx.example.test", "--tls=none"], False),
    (["probe", "mx.example.test", "--tls-level", "none"], False),
    (["probe", "--help"], False),
    (["probe", "mx.example.test", "--tls", "starttls"], True),
    (["send", "mx.example.test", "--to", "a@example.test"], True),
    (["send", "mx.example.test", "--no-tls"], False),
    (["replay", "session.jsonl"], False),
    (["mx.example.test"], False),  # the TUI
    ([], False),
    (["--version"], False),
])
def test_which_command_lines_start_the_helper(argv: list[str], wanted: bool) -> None:
    assert wants_helper(argv) is wanted


# Run in a process of its own: forking pytest itself could copy a lock another thread holds.
SCRIPT = r"""
import json, os, signal, sys, time
from smtpscope.security import checker
from smtpscope.security.policy import TLSPolicy
from smtpscope.transport.tls import TLSInfo

cafile, leaf_der, other_der, mode = sys.argv[1], bytes.fromhex(sys.argv[2]), \
    bytes.fromhex(sys.argv[3]), sys.argv[4]
out = {}
out["started"] = checker.start()
pid = checker._helper.pid
if mode == "fds":
    time.sleep(0.3)
    out["fds"] = {fd: os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
    print(json.dumps(out)); sys.exit(0)

def info(der):
    return TLSInfo(version="TLSv1.3", cipher="TLS_AES_256_GCM_SHA384", bits=256, peer_chain=(),
                   verified=False, verify_error=None, insecure=False,
                   server_hostname="mx.example.test", peer_der=(der,))

cases = [(TLSPolicy(cafile=cafile), info(leaf_der)),                    # verified
         (TLSPolicy(cafile=cafile, level="verify"), info(other_der)),   # refused: unknown CA
         (TLSPolicy(cafile=cafile), info(b"not a certificate"))]       # unreadable
checker.load_anchors(cafile, None)
if mode == "sigint":
    os.kill(pid, signal.SIGINT)  # the parent's to handle: the helper goes on
elif mode == "killed":
    os.kill(pid, signal.SIGKILL)
elif mode == "once":  # let go after its first answer; the next two are judged here
    checker.one_judgment()
elif mode == "stopped":
    os.kill(pid, signal.SIGSTOP)
    checker.ANSWER_LIMIT = 0.5
answers = [checker.judge(p, i, "mx.example.test", 25) for p, i in cases]
out["running_after"] = checker.running()
here = [checker.judge_here(p, i, "mx.example.test", 25) for p, i in cases]
out["same"] = answers == here
out["trust"] = [(a.trust, a.accepted, a.trust_reason_code, a.leaf.parse_error is None)
                for a in answers]
out["described"] = all(a.leaf is not None and a.leaf.fingerprint_sha256 for a in answers)
out["parent_loaded_cryptography"] = "cryptography" in sys.modules
print(json.dumps(out))
"""


def _run(tmp_path: Path, mode: str) -> dict:
    ca, other = trustme.CA(), trustme.CA()
    cafile = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    ders = [ssl_der(c.issue_cert("mx.example.test")) for c in (ca, other)]
    # Without the test's own import of cryptography (pytest's process has it: trustme).
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(cafile), ders[0].hex(), ders[1].hex(),
                           mode], capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stderr
    result: dict = json.loads(done.stdout)
    assert result["started"] is True
    return result


def ssl_der(leaf: trustme.LeafCert) -> bytes:
    import ssl

    return ssl.PEM_cert_to_DER_cert(leaf.cert_chain_pems[0].bytes().decode())


EXPECTED_TRUST = [["verified", True, None, True], ["untrusted", False, "unknown-ca", True],
                  ["untrusted", True, "unreadable", False]]


@needs_helper
def test_the_helper_answers_as_this_process_would(tmp_path: Path) -> None:
    result = _run(tmp_path, "plain")
    assert result["same"] is True and result["described"] is True
    assert result["trust"] == EXPECTED_TRUST
    assert result["running_after"] is True
    # The comparison itself ran judge_here in the parent, so this only shows the script ran it.
    assert result["parent_loaded_cryptography"] is True


@needs_helper
def test_one_judgment_lets_the_helper_go_after_its_answer(tmp_path: Path) -> None:
    result = _run(tmp_path, "once")
    assert result["running_after"] is False
    assert result["same"] is True and result["trust"] == EXPECTED_TRUST


@needs_helper
def test_ctrl_c_is_left_to_the_parent(tmp_path: Path) -> None:
    result = _run(tmp_path, "sigint")
    assert result["running_after"] is True and result["same"] is True
    assert result["trust"] == EXPECTED_TRUST


@needs_helper
@pytest.mark.parametrize("mode", ["killed", "stopped"])
def test_a_dead_or_silent_helper_leaves_the_work_to_this_process(tmp_path: Path,
                                                                 mode: str) -> None:
    result = _run(tmp_path, mode)
    assert result["running_after"] is False  # given up, and the answers are still right
    assert result["same"] is True and result["trust"] == EXPECTED_TRUST


@needs_helper
@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc")
def test_the_helper_holds_no_descriptor_of_its_parent(tmp_path: Path) -> None:
    result = _run(tmp_path, "fds")
    fds = result["fds"]
    assert sorted(fds, key=int) == ["0", "1", "2", "3", "4"], fds
    assert {fds[k] for k in ("0", "1", "2")} == {os.devnull}
    assert fds["3"].startswith("pipe:") and fds["4"].startswith("pipe:")


@needs_helper
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_the_helper_ends_with_its_parent(tmp_path: Path) -> None:
    code = ("from smtpscope.security import checker\n"
            "checker.start()\n"
            "print(checker._helper.pid, flush=True)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    pid = int(done.stdout)
    import time

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")  # a zombie has ended; reaping it is its new parent's job


def test_switched_off_or_without_fork_there_is_no_helper(monkeypatch) -> None:
    monkeypatch.setenv("SMTPSCOPE_CERT_HELPER", "off")
    assert checker.usable() is False
    monkeypatch.delenv("SMTPSCOPE_CERT_HELPER")
    monkeypatch.delattr(os, "fork")
    assert checker.usable() is False
    assert checker.start() is False and not checker.running()


def test_an_unreadable_certificate_is_judged_unreadable_not_missing(tmp_path: Path) -> None:
    # OpenSSL accepted it in the handshake; cryptography cannot read it. The policy judges the
    # chain as received, so the reason names the certificate, not its absence.
    from smtpscope.security.policy import TLSPolicy
    from smtpscope.transport.tls import TLSInfo

    info = TLSInfo(version="TLSv1.3", cipher="TLS_AES_256_GCM_SHA384", bits=256, peer_chain=(),
                   verified=False, verify_error=None, insecure=False,
                   server_hostname="mx.example.test", peer_der=(b"\x30\x03\x02\x01\x01",))
    judged = checker.judge_here(TLSPolicy(), info, "mx.example.test", 25)
    assert judged.leaf is not None and judged.leaf.parse_error
    assert (judged.trust, judged.trust_reason_code) == ("untrusted", "unreadable")


def test_judging_a_chain_loads_no_ssl(tmp_path: Path) -> None:
    # What the helper runs, in a fresh process: it must not load ssl (a third of its imports),
    # given the anchors as the parent reads them with its own ssl.
    ca = trustme.CA()
    cafile = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    leaf = ssl_der(ca.issue_cert("mx.example.test"))
    from smtpscope.security.anchor_source import anchor_source

    source = anchor_source(str(cafile), None)
    import pickle

    request = pickle.dumps((str(cafile), source, leaf)).hex()
    code = (
        "import pickle, sys\n"
        "import smtpscope.transport.x509 as x509\n"
        "from smtpscope.security import checker, pkix\n"
        "from smtpscope.security.policy import TLSPolicy\n"
        "from smtpscope.transport.tls_info import TLSInfo\n"
        "x509.preload()\n"
        f"cafile, source, leaf = pickle.loads(bytes.fromhex({request!r}))\n"
        "pkix.remember_anchors(cafile, None, source)\n"
        "info = TLSInfo(version='TLSv1.3', cipher='x', bits=256, peer_chain=(), verified=False,\n"
        "               verify_error=None, insecure=False, server_hostname='mx.example.test',\n"
        "               peer_der=(leaf,))\n"
        "judged = checker.judge_here(TLSPolicy(cafile=cafile), info, 'mx.example.test', 25)\n"
        "print(judged.trust, judged.leaf.subject != '', 'ssl' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["verified", "True", "False"]
