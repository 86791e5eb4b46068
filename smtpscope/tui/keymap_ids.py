"""Every remappable binding by id, where it applies, and a check of keymap.json against them."""

from __future__ import annotations

import importlib
import unicodedata
from dataclasses import dataclass

from textual.binding import Binding
from textual.keys import KEY_ALIASES, KEY_NAME_REPLACEMENTS, Keys

# Where bindings live: (scope label, module, class). A key can clash only within one scope or
# with the app's keys, which work everywhere; the session screen shares its scope with the
# composer and the transcript pane that live on it.
SCOPES: tuple[tuple[str, str, str], ...] = (
    ("app", "smtpscope.tui.app", "SmtpScopeApp"),
    ("session", "smtpscope.tui.screens.session", "SessionScreen"),
    ("session", "smtpscope.tui.widgets.composer", "Composer"),
    ("session", "smtpscope.tui.widgets.transcript", "TranscriptView"),
    ("replay", "smtpscope.tui.screens.replay", "ReplayScreen"),
    ("replay", "smtpscope.tui.widgets.transcript", "TranscriptView"),
    ("connect", "smtpscope.tui.screens.connect", "ConnectScreen"),
    ("history", "smtpscope.tui.screens.history", "HistoryScreen"),
    ("help", "smtpscope.tui.screens.help", "HelpScreen"),
    ("auth helper", "smtpscope.tui.screens.auth_helper", "AuthHelperScreen"),
    ("decoder", "smtpscope.tui.screens.decoder", "DecoderScreen"),
    ("editor", "smtpscope.tui.widgets.data_editor", "DataEditor"),
    ("line viewer", "smtpscope.tui.screens.line_viewer", "LineViewer"),
    ("reconnect", "smtpscope.tui.screens.reconnect", "ReconnectDialog"),
    ("certificate", "smtpscope.tui.screens.certificate", "UntrustedCertificateScreen"),
    ("message end", "smtpscope.tui.widgets.open_end_dialog", "OpenEndDialog"),
)


@dataclass(frozen=True)
class KeyInfo:
    """One binding: its id, the keys it has by default, what it does and where."""

    id: str
    keys: tuple[str, ...]
    description: str
    scopes: tuple[str, ...]


def _bindings(cls: type) -> list[Binding]:
    found: list[Binding] = []
    for klass in reversed(cls.__mro__):
        for item in klass.__dict__.get("BINDINGS", ()):
            if isinstance(item, Binding):
                found.append(item)
    return found


def catalogue() -> dict[str, KeyInfo]:
    """Every binding with an id, by id (imports the screens, so only on demand)."""
    table: dict[str, KeyInfo] = {}
    for scope, module, name in SCOPES:
        try:
            cls = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):  # a screen missing from this build
            continue
        for binding in _bindings(cls):
            if not binding.id:
                continue
            keys = tuple(k.strip() for k in binding.key.split(",") if k.strip())
            old = table.get(binding.id)
            scopes = (*old.scopes, scope) if old and scope not in old.scopes else (
                old.scopes if old else (scope,))
            table[binding.id] = KeyInfo(binding.id, keys, binding.description or "", scopes)
    return table


def effective_keys(table: dict[str, KeyInfo], keymap: dict[str, str]) -> dict[str, tuple[str, ...]]:
    """Keys of each id once the user's keymap is applied."""
    keys = {key_id: info.keys for key_id, info in table.items()}
    for key_id, value in keymap.items():
        if key_id in keys:
            keys[key_id] = tuple(_split(value))
    return keys


_MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})
# Key names Textual gives (escape, f11, pageup, ...), their aliases, and its short names for
# characters (slash, minus, ...); a character key is also its one character or its Unicode
# name in lower case with underscores (question_mark).
_NAMED = frozenset({key.value.rsplit("+", 1)[-1] for key in Keys} | set(KEY_ALIASES)
                   | {alias for names in KEY_ALIASES.values() for alias in names}
                   | set(KEY_NAME_REPLACEMENTS.values()))


def is_key_name(key: str) -> bool:
    """Whether ``key`` is a key as Textual names them: modifiers joined by ``+`` to a key
    (``ctrl+q``, ``f11``, ``question_mark``, ``?``). Any other text never fires."""
    *modifiers, base = key.split("+") if key != "+" else ["+"]
    if not base or not set(modifiers) <= _MODIFIERS:
        return False
    if len(base) == 1 or base in _NAMED:
        return True
    try:  # the name Textual makes of a character (aliases such as "esc" are not)
        named = unicodedata.name(unicodedata.lookup(base.replace("_", " ")))
    except (KeyError, ValueError):
        return False
    return named.lower().replace("-", "_").replace(" ", "_") == base


def _split(value: str) -> list[str]:
    return [k.strip() for k in value.split(",") if k.strip()]


def usable_keymap(keymap: dict[str, str]) -> dict[str, str]:
    """The keymap as applied: text that is no key name is left out (it would never fire), and
    an id given none that is keeps its default keys rather than losing them all (a mistyped
    ``ctrl-q`` must not take Ctrl+Q away)."""
    out: dict[str, str] = {}
    for key_id, value in keymap.items():
        given = _split(value)
        good = [k for k in given if is_key_name(k)]
        if good or not given:
            out[key_id] = ",".join(good)
    return out


def _key_problem(key_id: str, key: str, kept: tuple[str, ...]) -> str:
    fixed = key.replace("-", "+").replace(" ", "").lower()
    hint = f"did you mean {fixed}?" if fixed != key and is_key_name(fixed) else \
        "keys are written ctrl+q, f11, escape, question_mark"
    keeps = f"; it keeps {', '.join(kept)}" if kept else ""
    return f"key '{key}' for {key_id} is not a key name, left out ({hint}){keeps}"


def keymap_problems(keymap: dict[str, str], table: dict[str, KeyInfo] | None = None) -> list[str]:
    """Unknown ids and keys claimed twice in one scope, in words for the user."""
    table = catalogue() if table is None else table
    problems: list[str] = []
    for key_id in keymap:
        if key_id not in table:
            close = [k for k in table if k.split(".")[-1] == key_id.split(".")[-1]]
            hint = f" (did you mean {close[0]}?)" if close else " (smtpscope keys lists them)"
            problems.append(f"unknown binding id '{key_id}'{hint}")
    usable = usable_keymap(keymap)
    keys = effective_keys(table, usable)
    for key_id, value in keymap.items():
        if key_id not in table:
            continue
        if not keys[key_id]:
            problems.append(f"binding id '{key_id}' is mapped to no key: it cannot be used")
        kept = keys[key_id] if key_id not in usable else ()
        problems += [_key_problem(key_id, k, kept) for k in _split(value) if not is_key_name(k)]
    scopes = sorted({s for info in table.values() for s in info.scopes} - {"app"})
    seen: set[tuple[str, str, str]] = set()
    for scope in scopes:
        owners: dict[str, list[str]] = {}
        for key_id, info in table.items():
            if scope in info.scopes or "app" in info.scopes:
                for key in keys[key_id]:
                    owners.setdefault(key, []).append(key_id)
        for key, ids in owners.items():
            if len(ids) > 1 and any(i in usable for i in ids):
                first, second = sorted(ids)[:2]
                if (key, first, second) not in seen:
                    seen.add((key, first, second))
                    problems.append(f"key '{key}' is bound to both {first} and {second}")
    return problems


def keys_markdown(keymap: dict[str, str] | None = None) -> str:
    """The id table for F1: id, keys (after the keymap), what it does, where."""
    table = catalogue()
    keys = effective_keys(table, keymap or {})
    lines = [
        "## Key binding ids",
        "Remap any of these in `keymap.json` in the data directory, e.g. "
        '`{"session.ehlo": "f11"}`; `smtpscope keys` prints this list.',
        "",
        "| id | keys | action | where |",
        "|---|---|---|---|",
    ]
    for key_id in sorted(table):
        info = table[key_id]
        shown = ", ".join(keys[key_id]).replace("|", "\\|")
        lines.append(f"| `{key_id}` | {shown} | {info.description} | {', '.join(info.scopes)} |")
    return "\n".join(lines) + "\n"
