"""Maildir file names sort as the messages arrived, so `ls new/` lists them in order."""

from __future__ import annotations

from pathlib import Path

import pytest

from smtpscope.server import context
from smtpscope.server.context import MaildirWriter


def test_names_sort_in_the_order_of_delivery(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # Two messages in one second, at 99,999 µs and then at 305,761 µs: unpadded, "M99999"
    # sorted after "M305761" and the later message came first.
    clock = iter([1796134763.099999, 1796134763.305761])
    monkeypatch.setattr(context.time, "time", lambda: next(clock))
    writer = MaildirWriter(tmp_path)
    first = writer.deliver(b"Subject: one\r\n\r\n1\r\n", "A1")
    second = writer.deliver(b"Subject: two\r\n\r\n2\r\n", "B2")
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == [first.name, second.name]
    assert first.name.startswith("1796134763.M099999P")
