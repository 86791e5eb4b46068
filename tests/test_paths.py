"""Path checks for files the user names: inputs that must be regular files, outputs that must
not grow directories."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from smtpscope.paths import ca_file_problem, input_problem, output_problem


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


def test_a_ca_file_must_hold_a_pem_certificate(tmp_path: Path) -> None:
    """TLS reads no certificate from any other file, and said so only at the handshake."""
    plain, der = tmp_path / "hostname", tmp_path / "ca.der"
    plain.write_text("mail.example.test\n")
    der.write_bytes(b"\x30\x82\x01\x0a" + bytes(266))  # DER: OpenSSL's CA file wants PEM
    bundle, trusted = tmp_path / "bundle.pem", tmp_path / "trusted.pem"
    bundle.write_text("# comment\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    trusted.write_text("-----BEGIN TRUSTED CERTIFICATE-----\nMIIB\n"
                       "-----END TRUSTED CERTIFICATE-----\n")
    missing = "holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
    assert ca_file_problem(plain) == missing
    assert ca_file_problem(der) == missing
    assert ca_file_problem(bundle) is None and ca_file_problem(trusted) is None
    assert ca_file_problem(tmp_path) == "is a directory, not a file"  # input_problem's first


def _as_nobody(check: Callable[[], object]) -> str:
    """``check()`` in a forked child that runs as "nobody" (root reads any file)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop privileges, answer through the pipe, leave at once
        try:
            os.setgid(65534)
            os.setuid(65534)
            os.write(write_end, str(check()).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as answer:
        out = answer.read().decode()
    os.waitpid(pid, 0)
    return out


def test_input_problem_names_an_unreadable_file() -> None:
    folder = Path(tempfile.mkdtemp(prefix="smtpscope-paths-"))
    try:
        folder.chmod(0o755)
        locked = folder / "locked"
        locked.write_text("x")
        locked.chmod(0)
        if os.geteuid() == 0:
            assert _as_nobody(lambda: input_problem(locked)) == \
                "cannot be read: permission denied"
        else:
            assert input_problem(locked) == "cannot be read: permission denied"
    finally:
        shutil.rmtree(folder)


def test_output_problem_creates_nothing(tmp_path: Path) -> None:
    assert output_problem(tmp_path / "new.jsonl") is None
    missing = tmp_path / "a" / "b" / "x.jsonl"
    assert output_problem(missing) == f"the directory {missing.parent} does not exist"
    assert not (tmp_path / "a").exists()
    assert output_problem(tmp_path) == "it is a directory, not a file"
    afile = tmp_path / "f"
    afile.write_text("")
    assert output_problem(afile / "x.jsonl") == f"{afile} is not a directory"
