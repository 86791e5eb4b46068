"""Compact transcript entries behave as the plain record they replace."""

from __future__ import annotations

import dataclasses
import pickle
import sys

import pytest

from smtpscope.record.transcript import Entry, Transcript, renumber


def entry(**kw: object) -> Entry:
    base: dict[str, object] = {"seq": 3, "mono": 1.5, "wall": 1e9, "direction": "server",
                               "kind": "reply", "raw": b"250 2.1.5 Ok\r\n"}
    base.update(kw)
    return Entry(**base)  # type: ignore[arg-type]


def test_text_is_decoded_from_the_bytes_unless_it_says_something_else() -> None:
    plain = entry()
    assert plain.text == "250 2.1.5 Ok\r\n"
    assert entry(raw=b"250 caf\xc3\xa9 \xff\r\n").text == "250 café \ufffd\r\n"
    label = entry(direction="client", kind="command", raw=b"AUTH PLAIN ****\r\n",
                  text="AUTH PLAIN [credentials hidden]", redacted=True)
    assert label.text == "AUTH PLAIN [credentials hidden]" and label.redacted
    # Saying the same as the bytes costs nothing extra: the two are equal entries.
    assert entry(text="250 2.1.5 Ok\r\n") == plain


def test_fields_round_trip_through_json_replace_and_pickle() -> None:
    rich = entry(reply={"code": 250, "lines": ["2.1.5 Ok"]}, tls=True, off_script=True,
                 notes=("n1",), latency=0.25, info={"k": 1})
    assert Entry.from_json(rich.to_json()) == rich
    assert pickle.loads(pickle.dumps(rich)) == rich
    moved = rich.replace(seq=9)
    assert moved.seq == 9 and moved.notes == ("n1",) and moved.info == {"k": 1}
    assert moved != rich
    assert [e.seq for e in renumber([moved, rich])] == [0, 1]
    assert "notes=('n1',)" in repr(rich)


def test_entries_are_immutable() -> None:
    e = entry()
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.seq = 4  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.text = "x"  # type: ignore[misc]
    with pytest.raises(ValueError, match="unknown entry kind"):
        entry(kind="bogus")


def test_equal_replies_share_one_mapping_and_unhashable_ones_still_work() -> None:
    a = entry(reply={"code": 250, "lines": ["2.1.5 Ok"], "warnings": []})
    b = entry(seq=4, reply={"code": 250, "lines": ["2.1.5 Ok"], "warnings": []})
    assert a.reply is b.reply and a.reply == {"code": 250, "lines": ["2.1.5 Ok"], "warnings": []}
    odd = entry(reply={"code": 250, "nested": {"x": [1]}})
    assert odd.reply == {"code": 250, "nested": {"x": [1]}} and odd.code == 250


def test_an_entry_costs_little_more_than_its_bytes() -> None:
    transcript = Transcript()
    e = transcript.add("server", "reply", b"250 2.1.5 Ok\r\n", reply={"code": 250})
    own = sys.getsizeof(e)
    # Ten pointers and an object header; the text is not stored beside the bytes.
    assert own <= 16 + 10 * 8 + 16
    assert e._more is None


def test_replace_keeps_a_label_but_a_decoded_text_follows_new_bytes() -> None:
    plain = entry(notes=("n",))
    assert plain.replace(raw=b"250 other\r\n").text == "250 other\r\n"
    label = entry(text="[hidden]")
    assert label.replace(raw=b"250 other\r\n").text == "[hidden]"
