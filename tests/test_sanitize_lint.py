"""Lint: every call that puts text on a screen or a terminal passes it through the sanitizer.

The rule (ARCHITECTURE.md, "Server text is data"): text that came from the network, a
certificate, a recording, a DNS answer or a file reaches ``print``, ``sys.stdout.write``,
``notify``, ``Static``/``Label`` and ``update`` only through a function of
``smtpscope.sanitize`` (``visible``, ``terminal_safe``, ``safe_text``, ``shell_join`` ...) or its
``notify``. A value this walk cannot prove clean must be a literal, built only from literals and
numbers, or be listed in ``ALLOWED`` below with the reason it is safe.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "smtpscope"

SINK_NAMES = {"print", "Static", "Label", "error_line", "write_or_discard"}
SINK_ATTRS = {"notify", "update", "print"}
WRITE_TARGETS = {"sys.stdout", "sys.stderr", "self.stream", "stream"}
SANITIZERS = {"visible", "visible_bytes", "terminal_safe", "safe_text", "shell_join",
              "shell_quote", "dumps"}
# Calls whose result is a number or a fixed word, never foreign text.
NUMERIC = {"len", "int", "float", "round", "sum", "min", "max", "strftime", "localtime", "S_IMODE"}
# Widgets' ``update`` of these names takes no text (reactive values, renderables built clean).
NOT_TEXT_UPDATES = {"self.content_renderable()", "render_decoded(self.decoded, self.reveal)",
                    "help_text"}

# file (relative to smtpscope/) -> source texts of expressions (whole arguments, f-string
# pieces or called functions) that are clean for the reason given beside them.
ALLOWED: dict[str, set[str]] = {
    # Renderables our builders assemble from visible() pieces.
    "tui/widgets/auth_values.py": {"renderable"},
    "tui/screens/auth_helper.py": {"self._notes_text(name)"},
    "tui/screens/replay.py": {"text"},  # explain_entry(): a Text of visible() lines
    "tui/screens/connect.py": {"label"},  # _row(): the field names written in compose()
    "tui/screens/session.py": {"text"},  # same
    "tui/widgets/data_editor.py": {"text", "title"},  # our words and byte counts
    "tui/widgets/composer.py": {"_IDLE_HINT", "Text(text)"},  # the user's own typing, as Text
    # render_queue builds a Text; queued lines go through visible()
    "tui/widgets/composer_queue.py": {"render_queue(items, _QUEUE_KEYS, connected=connected)"},
    # Our own words, enum values and numbers.
    "cli/auth.py": {"title", "result.kind", "command"},
    "cli/replay.py": {"command"},
    "cli/mx.py": {"t", "title", "table", "policies", "tlsa"},  # t() = Text(visible()); tables
    # are filled through t() too
    "cli/probe_report.py": {"head", "table", "line", "err", "render_plain(result)",
                            "render_plain(result, self.show_certs)",  # visible() inside
                            "_timing_text(result['timings'])", "timings",  # our numbers
                            "text", "label",
                            "tls['version']", "tls['cipher']", "tls['bits']",
                            "_verification(tls)", "chain_line", "result['status']",
                            "result['stage']", "result.get('hint') or ''", "reply['code']"},
    "cli/serve.py": {"stamp", "session_id", "prefix", "line", "style",  # line: visible()
                     "DEPRECATED_USER_FORM"},  # a constant of ours
    "credentials.py": {"text"},  # the fixed command-line warning
    "tui/sasl_compute.py": {"self._label()"},  # a Text of a mechanism name and numbers
    "session.py": {"data"},  # self.stream is the connection to the SMTP server, not a terminal
    "transport/tcp.py": {"preamble"},  # bytes to the server (PROXY header), not a terminal
    "session_blocking.py": {"data", "opts.preamble"},  # bytes to the server, as session.py
    "cli/completion.py": {"script"},  # the completion script we generate
    "cli/manpage.py": {"page", "target", "target / 'smtpscope.1'", "exc.strerror"},  # our
    # man page; the path the user gave; the OS's error text
    "cli/send_output.py": {"text", "''.join(self.held)"},  # terminal_safe() when built
    "cli/output.py": {"text"},  # its own write: callers of write_or_discard are sinks
    "tui/screens/line_viewer.py": {"direction", "whole_text(self._entry)"},  # a fixed word;
    # whole_text() builds a Text of visible() lines
}
# ``update`` on these receivers is dict.update, not a widget.
DICT_UPDATES = {"users", "header", "values", "children"}


def _sinks(tree: ast.AST) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in SINK_NAMES:
            yield node
        elif isinstance(func, ast.Attribute):
            if func.attr == "update" and ast.unparse(func.value) in DICT_UPDATES:
                continue
            target = ast.unparse(func.value)
            if func.attr in SINK_ATTRS or (func.attr == "write" and target in WRITE_TARGETS):
                yield node


def _call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def clean(node: ast.expr, allowed: frozenset[str] = frozenset()) -> bool:
    """Whether ``node`` is provably literal, numeric, sanitized or allow-listed."""
    if ast.unparse(node) in allowed:
        return True

    def ok(child: ast.expr) -> bool:
        return clean(child, allowed)

    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.JoinedStr):
        return all(ok(v.value) if isinstance(v, ast.FormattedValue) else True
                   for v in node.values)
    if isinstance(node, ast.FormattedValue):
        return ok(node.value)
    if isinstance(node, ast.BinOp):
        return ok(node.left) and ok(node.right)
    if isinstance(node, ast.IfExp):
        return ok(node.body) and ok(node.orelse)
    if isinstance(node, ast.BoolOp):
        return all(ok(v) for v in node.values)
    if isinstance(node, ast.Call):
        name = _call_name(node)
        if name in SANITIZERS or name in NUMERIC or name in allowed:
            return True
        if name in ("Text", "join", "assemble"):  # a Text is never markup; check its pieces
            parts = list(node.args) + [k.value for k in node.keywords if k.arg != "style"]
            if isinstance(node.func, ast.Attribute) and name == "join":
                return all(ok(a) for a in node.args)
            return all(ok(p) for p in parts)
        return False
    if isinstance(node, ast.GeneratorExp | ast.ListComp):
        return ok(node.elt)
    if isinstance(node, ast.Tuple | ast.List):
        return all(ok(e) for e in node.elts)
    return False


def violations() -> list[str]:
    out: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel == "sanitize.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        allowed = frozenset(ALLOWED.get(rel, ()))
        for call in _sinks(tree):
            args = list(call.args) + [k.value for k in call.keywords
                                      if k.arg in ("title", "message", "content")]
            if _call_name(call) == "write_or_discard":
                args = args[1:]  # (stream, text): the text is what reaches the terminal
            for arg in args:
                source = ast.unparse(arg)
                if clean(arg, allowed) or source in NOT_TEXT_UPDATES:
                    continue
                out.append(f"{rel}:{call.lineno}: {ast.unparse(call.func)}({source})")
    return out


def test_every_output_call_is_sanitized() -> None:
    found = violations()
    assert not found, "unsanitized output (wrap in smtpscope.sanitize or allow-list):\n" + \
        "\n".join(found)


def test_every_notification_has_markup_off() -> None:
    """A toast's text is foreign more often than not: Textual reads it as markup by default."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "notify" and not any(
                        k.arg == "markup" and isinstance(k.value, ast.Constant)
                        and k.value.value is False for k in node.keywords)):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert not found, "notify() without markup=False (use smtpscope.sanitize.notify):\n" + \
        "\n".join(found)


def test_the_lint_catches_an_unsanitized_call() -> None:
    bad = ast.parse("self.notify(str(exc))\nprint(reply.text)\nStatic(banner)\n")
    good = ast.parse("notify(self, str(exc))\nprint(visible(reply.text))\nStatic('x')\n")
    assert len(list(_sinks(bad))) == 3
    assert not any(all(clean(a) for a in call.args) for call in _sinks(bad))
    assert [all(clean(a) for a in call.args) for call in _sinks(good)] == [True, True]
