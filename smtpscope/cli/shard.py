"""``--shard I/N``: split a target list across machines, each taking every N-th target."""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def parse_shard(text: str) -> tuple[int, int]:
    """``I/N`` with 1 <= I <= N, for argparse."""
    index, sep, count = text.partition("/")
    if not sep or not index.strip().isdigit() or not count.strip().isdigit():
        raise argparse.ArgumentTypeError(f"invalid shard {text!r} (want I/N, e.g. 2/8)")
    i, n = int(index), int(count)
    if not 1 <= i <= n:
        raise argparse.ArgumentTypeError(f"invalid shard {text!r}: I must be 1 to N")
    return i, n


def pick(items: Sequence[str], shard: tuple[int, int] | None) -> list[tuple[int, str]]:
    """(position in the whole list, item) for this shard: positions I-1, I-1+N, I-1+2N ...

    Every item lands in exactly one of the N shards, whatever N is, as long as every machine
    reads the same list; positions let the outputs be merged back in list order.
    """
    indexed = list(enumerate(items))
    if shard is None:
        return indexed
    i, n = shard
    return indexed[i - 1::n]
