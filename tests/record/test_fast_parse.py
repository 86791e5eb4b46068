"""The quick path for ordinary recording lines gives what the full checks give, or steps aside."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from smtpscope.record.validate import LineError, entry_from_json, fast_entry, full_entry, loads

PLAIN: dict[str, Any] = {"seq": 3, "mono": 1.5, "wall": 1_700_000_000.25, "dir": "server",
                         "kind": "reply", "text": "250 Ok\r\n", "raw": "MjUwIE9rDQo=",
                         "reply": {"code": 250}, "latency": 0.004}

VARIANTS: list[dict[str, Any]] = [
    {},
    {"text": "[AUTH PLAIN hidden]", "redacted": True, "dir": "client", "kind": "command"},
    {"tls": True, "off_script": True},
    {"mono": -0.0, "wall": -0.0},
    {"mono": 2, "wall": 3},  # integers: the full checks take them
    {"latency": None}, {"latency": 1}, {"latency": -1.0}, {"latency": math.inf},
    {"seq": True}, {"seq": -1}, {"seq": 2**31 + 1}, {"seq": 1.0},
    {"mono": math.nan}, {"wall": -1.0}, {"wall": 1e12},
    {"kind": "nonsense"}, {"kind": ["reply"]}, {"dir": "sideways"}, {"dir": None},
    {"raw": "not base64!"}, {"raw": 5}, {"text": 5},
    # base64 edge cases: both paths must agree on what the bytes are, or the quick one steps
    # aside for the full check to decide.
    {"raw": ""}, {"raw": "MjUwIE9rDQo"}, {"raw": "MjUwIE9rDQo=="}, {"raw": "MjUw IE9rDQo="},
    {"raw": "MjUwIE9rDQo=MjUw"}, {"raw": "=MjUwIE9rDQo"}, {"raw": "MjUwIE9rDQp="},
    {"raw": "MjUwIE9rDQo=\n"}, {"raw": "MjUw\r\nIE9rDQo="},
    {"raw": "é"}, {"raw": "MjUw-_9r"}, {"raw": "M==="},
    {"reply": {"code": "250"}}, {"reply": [250]}, {"reply": None},
    {"tls": 1}, {"redacted": "yes"},
    {"notes": ["a note"]}, {"info": {"version": "TLSv1.3"}}, {"future_field": 1},
]


def full(data: Any) -> Any:
    try:
        return full_entry(data)
    except LineError as exc:
        return str(exc)


@pytest.mark.parametrize("change", VARIANTS)
def test_same_entry_as_the_full_checks_or_none(change: dict[str, Any]) -> None:
    data = {**PLAIN, **change}
    quick = fast_entry(json.loads(json.dumps(data)))
    expected = full(json.loads(json.dumps(data)))
    if quick is None:
        return
    assert quick == expected
    assert (quick.text, quick.redacted, quick.notes, quick.info, quick.extra,
            quick.off_script) == (expected.text, expected.redacted, expected.notes,
                                  expected.info, expected.extra, expected.off_script)


def test_ordinary_lines_take_the_quick_path() -> None:
    for change in ({}, VARIANTS[1], VARIANTS[2], VARIANTS[3]):
        data = json.loads(json.dumps({**PLAIN, **change}))
        assert fast_entry(data) is not None, change
    assert fast_entry({**PLAIN, "seq": True}) is None and "'seq'" in full({**PLAIN, "seq": True})


@pytest.mark.parametrize("line", [
    b'{"a": 1}', b'{"a": 1}  \r', b'{"a": 1} x', b'{"a": 1}{}', b"{", b"{}", b'{"a": "\xe9"}',
    b'{"a": "\\ud800"}', b'{"a": "x\ty"}', b'\xef\xbb\xbf{"a": 1}', b'{\x00"\x00}\x00',
    b"[1]", b"", b"  ", b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    b'{"n": ' + b"1" * 5000 + b"}",
])
def test_loads_reads_each_line_as_json_loads_does(line: bytes) -> None:
    try:
        expected: Any = json.loads(line)
    except (ValueError, RecursionError):
        with pytest.raises(LineError):
            loads(line)
    else:
        assert loads(line) == expected


@pytest.mark.parametrize("change", VARIANTS)
def test_entry_from_json_gives_what_the_full_checks_give(change: dict[str, Any]) -> None:
    data = json.loads(json.dumps({**PLAIN, **change}))
    try:
        entry: Any = entry_from_json(data)
    except LineError as exc:
        entry = str(exc)
    assert entry == full(data)
