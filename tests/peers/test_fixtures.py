"""The harness helpers on a Maildir of our own: what read_delivered counts and waits for.

The harness is shared by every suite running at the time (another checkout's too), so a test
counts only its own mail (by a token) and nothing clears the Maildirs under the others.
"""

from __future__ import annotations

import threading
from pathlib import Path

from tests.peers.fixtures import Mta


def _mta(root: Path) -> Mta:
    return Mta.from_state({
        "host": "127.0.0.1", "ports": {}, "ca_file": "ca.pem", "cert_file": "cert.pem",
        "users": {"alice": "pw"}, "domain": "example.test", "maildir_root": str(root),
        "message_size_limit": 2000, "postfix_config_dir": str(root),
    })


def _deliver(mta: Mta, name: str, body: bytes) -> None:
    """As Postfix does: written in tmp/, renamed into new/ once complete."""
    box = mta.maildir("alice")
    for sub in ("tmp", "new", "cur"):
        (box / sub).mkdir(parents=True, exist_ok=True)
    (box / "tmp" / name).write_bytes(body)
    (box / "tmp" / name).rename(box / "new" / name)


def test_waits_for_every_delivery_asked_for(tmp_path: Path) -> None:
    mta = _mta(tmp_path)
    _deliver(mta, "1.first", b"Subject: token-1\n\nfirst\n")
    late = threading.Timer(0.3, _deliver, (mta, "2.second", b"Subject: token-1\n\nsecond\n"))
    late.start()
    try:
        found = mta.read_delivered("alice", wait=30.0, match=b"token-1", count=2)
    finally:
        late.join()
    assert sorted(found) == [b"Subject: token-1\n\nfirst\n", b"Subject: token-1\n\nsecond\n"]
    assert mta.read_delivered("alice", wait=0, match=b"token-1") == []  # both marked read


def test_other_suites_mail_is_neither_counted_nor_marked_read(tmp_path: Path) -> None:
    mta = _mta(tmp_path)
    _deliver(mta, "1.theirs", b"Subject: token-2\n\ntheirs\n")
    _deliver(mta, "2.ours", b"Subject: token-1\n\nours\n")
    assert mta.read_delivered("alice", wait=0, match=b"token-1", count=2) == [
        b"Subject: token-1\n\nours\n"]
    assert mta.read_delivered("alice", wait=0, match=b"token-2") == [
        b"Subject: token-2\n\ntheirs\n"]

