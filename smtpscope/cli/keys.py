"""``smtpscope keys``: every key binding id (what keymap.json remaps), and problems in the file."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(subparsers: Any) -> None:
    sp = subparsers.add_parser(
        "keys", help="list the TUI's key binding ids for keymap.json and check that file",
        description="List every key binding id with its keys (after keymap.json), what it does "
        "and where it applies; report unknown ids and clashes in keymap.json (exit 1).",
    )
    sp.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from smtpscope.sanitize import terminal_safe, visible
    from smtpscope.tui.keymap import KEYMAP_FILE, load_keymap
    from smtpscope.tui.keymap_ids import (
        catalogue,
        effective_keys,
        keymap_problems,
        usable_keymap,
    )

    keymap, problem = load_keymap()
    table = catalogue()
    keys = effective_keys(table, usable_keymap(keymap))  # as the TUI applies it
    width = max(len(k) for k in table)
    key_width = max(len(", ".join(v)) for v in keys.values())
    for key_id in sorted(table):
        info = table[key_id]
        mark = "*" if key_id in keymap else " "
        print(terminal_safe(f"{key_id:<{width}} {mark}{', '.join(keys[key_id]):<{key_width}}  "
                            f"{info.description}  [{', '.join(info.scopes)}]"))
    problems = ([problem] if problem else []) + keymap_problems(keymap, table)
    if keymap:
        print("\n* remapped in " + terminal_safe(KEYMAP_FILE))
    for text in problems:
        print(f"smtpscope keys: {visible(text)}", file=sys.stderr)
    return 1 if problems else 0
