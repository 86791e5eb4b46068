"""``probe --targets-file --shard I/N --jsonl``: shards cover the list once and concatenate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smtpscope.cli.shard import pick


def test_every_target_lands_in_exactly_one_shard() -> None:
    items = [f"t{i}" for i in range(11)]
    for n in (1, 2, 3, 11, 20):
        seen = sorted(i for k in range(1, n + 1) for i, _ in pick(items, (k, n)))
        assert seen == list(range(11))


@pytest.mark.parametrize("bad", ["0/2", "3/2", "1", "a/b", "1/0"])
def test_bad_shard_is_a_usage_error(cli, bad: str) -> None:
    result = cli("probe", "127.0.0.1:9", "--shard", bad)
    assert result.code == 1 and "invalid shard" in result.err


def test_shards_concatenate_into_the_whole_list(make_server, cli, tmp_path: Path) -> None:
    servers = [make_server() for _ in range(3)]
    targets = [s.target for s in servers] + ["127.0.0.1:9", servers[0].target]
    listing = tmp_path / "targets.txt"
    listing.write_text("# customers\n" + "\n".join(targets) + "\n")
    lines: list[str] = []
    for k in (1, 2):
        result = cli("probe", "--targets-file", str(listing), "--shard", f"{k}/2", "--jsonl",
                     "--tls", "none")
        assert result.code in (0, 2)
        lines += result.out.splitlines()
    results = [json.loads(line) for line in lines]
    assert sorted(r["index"] for r in results) == list(range(len(targets)))
    for r in results:
        assert r["target"] == targets[r["index"]]
        assert r["status"] == ("connection-refused" if r["target"] == "127.0.0.1:9"
                               else "success")


@pytest.mark.peer
def test_sharded_probe_of_postfix_ports(mta, cli, tmp_path: Path) -> None:
    ports = [mta.smtp, mta.small, mta.strict, mta.submission]
    listing = tmp_path / "mx.txt"
    listing.write_text("".join(f"{mta.host}:{p}\n" for p in ports))
    out = []
    for k in (1, 2, 3):
        result = cli("probe", "--targets-file", str(listing), "--shard", f"{k}/3", "--jsonl",
                     "--cafile", str(mta.ca_file))
        assert result.code == 0, result.err
        out += [json.loads(line) for line in result.out.splitlines()]
    assert sorted(r["index"] for r in out) == [0, 1, 2, 3]
    assert all(r["banner"]["code"] == 220 for r in out)
