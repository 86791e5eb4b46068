"""Capability inspector: EHLO keywords with params, meaning and RFC, and what changed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from smtpscope.message import format_size
from smtpscope.protocol.registry import explain_limits
from smtpscope.sanitize import visible

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult


def _supported_mechanisms() -> frozenset[str]:
    try:
        from smtpscope.auth import MECHANISMS
    except ImportError:  # pragma: no cover
        return frozenset()
    return frozenset(name.upper() for name in MECHANISMS)


class Hanging:
    """``lead`` then ``rest``, whose wrapped lines start under rest's first cell: a long AUTH
    list or meaning never wraps to the left edge, where it would read as another keyword."""

    def __init__(self, lead: Text, rest: Text) -> None:
        self.lead = lead
        self.rest = rest

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        indent = self.lead.cell_len
        if not self.rest.plain or indent * 2 > options.max_width:
            yield Text.assemble(self.lead, self.rest)  # too narrow to hang: plain wrapping
            return
        grid = Table.grid()
        grid.add_column(width=indent, no_wrap=True)
        grid.add_column()
        grid.add_row(self.lead, self.rest)
        yield grid


class CapabilityInspector(Static):
    """Shows the current EHLO capabilities; with ``previous`` set, marks the difference."""

    DEFAULT_CSS = """
    CapabilityInspector { padding: 0 1; }
    """

    capabilities: reactive[Any] = reactive(None, layout=True)
    """The current engine ``Capabilities`` (None before EHLO)."""
    previous: reactive[Any] = reactive(None, layout=True)
    """Capabilities before the last STARTTLS/AUTH, for the diff (None when there is none)."""
    stage: reactive[str] = reactive("")
    """What the current set follows, e.g. "after STARTTLS"."""
    greeting: reactive[str] = reactive("EHLO")
    """The verb whose reply lists the capabilities: LHLO on an LMTP session."""

    def render(self) -> RenderableType:
        caps = self.capabilities
        title = Text(f"{self.greeting} capabilities", style="bold")
        if self.stage:
            title.append(f"  ({self.stage})", style="dim")
        if caps is None:
            return Text("\n").join(
                [title, Text(f"Send {self.greeting} to see what the server offers.",
                             style="dim")])
        header = Text("server: ", style="dim")
        header.append(visible(getattr(caps, "domain", "") or "?"))
        added: set[str] = set()
        changed: set[str] = set()
        removed: list[Any] = []
        if self.previous is not None:
            diff = self.previous.diff(caps)
            added = {c.keyword.upper() for c in diff.added}
            changed = {_keyword(c).upper() for c in diff.changed}
            removed = list(diff.removed)
        supported = _supported_mechanisms()
        # Two lines a keyword (name and params, then meaning and RFC): it reads well in a
        # narrow side pane, where a table would squeeze the meaning to nothing.
        rows: list[Hanging] = []
        for cap in caps.keywords:
            key = cap.keyword.upper()
            mark, style = ("+", "bold green") if key in added else (
                ("~", "bold yellow") if key in changed else (" ", "bold"))
            params = self._params(cap, caps, supported)
            rows.append(Hanging(Text.assemble((f"{mark} ", style), (visible(cap.keyword), style),
                                              " " if params.plain else ""), params))
            meaning = Text(visible(cap.meaning or "not in the registry"), style="dim")
            if cap.rfc:
                meaning.append(f" · {visible(str(cap.rfc))}", style="dim italic")
            rows.append(Hanging(Text(" " * 4), meaning))
        for cap in removed:
            params = Text(visible(" ".join(cap.params)), style="red strike")
            rows.append(Hanging(Text.assemble(("- ", "bold red"), (visible(cap.keyword),
                                              "red strike"), " " if cap.params else ""), params))
            rows.append(Hanging(Text(" " * 4), Text("gone " + (self.stage or "now"),
                                                    style="red")))
        legend: list[Text] = []
        if self.previous is not None and not (added or removed or changed):
            legend.append(Text(f"no change from the previous {self.greeting}", style="dim"))
        elif self.previous is not None:
            legend.append(Text("+ appeared  - disappeared  ~ changed", style="dim"))
        return Group(title, header, *rows, *legend)

    @staticmethod
    def _params(cap: Any, caps: Any, supported: frozenset[str]) -> Text:
        key = cap.keyword.upper()
        if key == "SIZE":
            size = caps.size
            return Text(f"{size} ({format_size(size)})" if size else "no fixed limit")
        if key == "AUTH" or key.startswith("AUTH="):
            text = Text()
            for i, mech in enumerate(cap.params):
                if i:
                    text.append(" ")
                ok = mech.upper() in supported
                text.append(visible(mech), style="bold green" if ok else "")
            return text
        text = Text(visible(" ".join(cap.params)))
        if key == "LIMITS" and cap.params:
            text.append(f" ({visible(explain_limits(cap.params))})", style="dim")
        return text


def _keyword(item: Any) -> str:
    """A changed item may be a Capability or an (old, new) pair."""
    if isinstance(item, tuple):
        return str(item[-1].keyword)
    return str(item.keyword)
