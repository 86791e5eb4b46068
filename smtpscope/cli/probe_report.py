"""Output of ``smtpscope probe``: JSON lines, a plain report for pipes, a Rich one for terminals."""

from __future__ import annotations

import sys
from typing import Any

from smtpscope.cli.common import dumps, error_line
from smtpscope.protocol.registry import explain_limits
from smtpscope.sanitize import terminal_safe, visible

# lookups (MX, TLSA, MTA-STS) come before connecting; cert_check is smtpscope's own time
# (reading and judging the chain), apart from the server's.
_STEPS = ("lookups", "connect", "banner", "ehlo", "starttls", "ehlo_tls", "quit", "cert_check",
          "total")

# Errors, hints and reply warnings are smtpscope's words, any server text in them escaped where
# they were made: terminal_safe() guards them (visible() would double those backslashes).
# Foreign values straight from the result (banner text, keywords) get visible().


def _verification(tls: dict[str, Any]) -> str:
    trust = tls.get("trust") or "unchecked"
    if trust == "unchecked":
        if tls.get("insecure"):
            return "not checked (--insecure)"
        if tls.get("verified"):
            return f"verified for {tls.get('server_hostname')}"
        return f"NOT verified: {tls.get('verify_error')}"
    words = {"verified": f"Verified (chain and name {tls.get('verified_name')})",
             "trusted": "Trusted (chain only)", "untrusted": "Untrusted",
             "dane": "DANE-verified", "fingerprint": f"Fingerprint-matched "
             f"({tls.get('fingerprint_match')})"}
    text = f"{words.get(trust, trust)} at level {tls.get('level')}"
    if tls.get("verify_error"):
        text += f"; {tls['verify_error']}"
    if not tls.get("accepted", True):
        text += f"; REFUSED: {tls.get('refusal')}"
    elif trust in ("trusted", "untrusted"):
        text += "; continued (marked untrusted)"
    return visible(text)


def _client_cert(tls: dict[str, Any]) -> str | None:
    """What became of the client certificate, before sanitizing (the subject comes from the
    --tls-cert file)."""
    from smtpscope.security.report import client_cert_words

    return client_cert_words(tls.get("cert_requested"), tls.get("cert_sent"),
                             tls.get("client_cert"))


def _chain_lines(tls: dict[str, Any], show_certs: bool = False) -> list[str]:
    from smtpscope.security.report import chain_lines_from_dict

    return [visible(line) for line in chain_lines_from_dict(tls, show_certs)]


def _keyword_rows(ehlo: dict[str, Any]) -> list[tuple[str, str, str]]:
    rows = []
    for kw in ehlo.get("keywords", ()):
        text = " ".join([kw["keyword"], *kw["params"]])
        meaning = kw.get("meaning") or ""
        if kw["keyword"] == "LIMITS" and kw["params"]:
            meaning += f": {visible(explain_limits(tuple(kw['params'])))}"
        rows.append((visible(text), kw.get("rfc") or "", meaning))
    return rows


def _warnings(result: dict[str, Any]) -> list[str]:
    """The warnings on each reply (bare LF, bytes injected after STARTTLS ...), in order."""
    replies = (("banner", result.get("banner")), ("EHLO", result["ehlo"].get("plain")),
               ("STARTTLS", result["starttls"].get("reply")),
               ("EHLO over TLS", result["ehlo"].get("tls")))
    return [f"{where}: {terminal_safe(text)}" for where, reply in replies if reply
            for text in dict.fromkeys(reply.get("warnings", ()))]


def _ehlo_rows(ehlo: dict[str, Any]) -> list[str]:
    """"250 name" for an EHLO answered; a refusal line by line, as the banner is: its words
    say why (Gmail's 421 names the rate limit)."""
    if ehlo["code"] == 250:
        return [f"{ehlo['code']} {visible(ehlo['domain'])}"]
    return [f"{ehlo['code']} {visible(line)}" for line in ehlo["lines"]]


def _starttls_unoffered(result: dict[str, Any]) -> bool:
    """STARTTLS missing from an EHLO that was answered (a refused one offers nothing)."""
    plain = result["ehlo"].get("plain")
    return plain is not None and plain["code"] == 250 and not result["starttls"]["offered"]


def _timing_text(timings: dict[str, Any]) -> str:
    return ", ".join(f"{k} {timings[k]} ms" for k in _STEPS if timings.get(k) is not None)


def _summary(result: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, text) lines shared by both renderers, before and after the tables."""
    out: list[tuple[str, str]] = []
    server = result.get("server") or {}
    if server.get("peer"):
        out.append(("server", f"{server['peer']} (TLS mode {server.get('tls_mode')})"))
    route = result.get("route")
    if route:
        used = route.get("used")
        if used:
            # Candidates carry MX names: DNS text, not escaped yet.
            out.append(("route", f"used {visible(used['candidate'])} ({visible(used['via'])})"))
        for failed in route.get("failed", ()):
            out.append(("route", f"failed {visible(failed['candidate'])}: "
                        f"{terminal_safe(failed['error'])}"))
    if result.get("banner"):
        for line in result["banner"]["lines"]:
            out.append(("banner", f"{result['banner']['code']} {visible(line)}"))
    return out


def render_plain(result: dict[str, Any], show_certs: bool = False) -> str:
    """The report as plain text (pipes, files, and fast: no Rich import)."""
    lines = [f"{visible(result['target'])}: {result['status']}"]
    lines += [f"  {label}: {text}" for label, text in _summary(result)]
    for key, title in (("plain", "EHLO"), ("tls", "EHLO over TLS")):
        ehlo = result["ehlo"].get(key)
        if ehlo is None:
            continue
        lines += [f"  {title}: {row}" for row in _ehlo_rows(ehlo)]
        rows = _keyword_rows(ehlo)
        width = max((len(r[0]) for r in rows), default=0)
        lines += [f"    {kw:<{width}}  {rfc:<9} {meaning}" for kw, rfc, meaning in rows]
    starttls = result["starttls"]
    if starttls["reply"] is not None:
        reply = starttls["reply"]
        lines.append(f"  STARTTLS: {reply['code']} {visible(' '.join(reply['lines']))}")
    elif _starttls_unoffered(result):
        lines.append("  STARTTLS: not offered")
    changes = result.get("capability_changes")
    if changes is not None:
        parts = [f"+{visible(c)}" for c in changes["added"]]
        parts += [f"-{visible(c)}" for c in changes["removed"]]
        parts += [f"~{visible(a)} -> {visible(b)}" for a, b in changes["changed"]]
        lines.append("  after STARTTLS: " + ("; ".join(parts) or "no change"))
    tls = result.get("tls")
    if tls:
        lines.append(f"  TLS: {tls['version']} {tls['cipher']} ({tls['bits']} bits)")
        lines.append(f"    verification: {_verification(tls)}")
        client = _client_cert(tls)
        if client:
            lines.append(f"    {visible(client)}")
        lines += [f"    {line}" for line in _chain_lines(tls, show_certs)]
    if result.get("mta_sts"):
        from smtpscope.security.mtasts import report_lines

        lines += [f"  {visible(line)}" for line in report_lines(result["mta_sts"])]
    lines += [f"  warning: {text}" for text in _warnings(result)]
    if result.get("error"):
        lines.append(f"  error at {result['stage']}: {terminal_safe(result['error'])}")
        if result.get("hint"):
            lines.append(f"  try: {terminal_safe(result['hint'])}")
    timings = _timing_text(result["timings"])
    if timings:  # nothing was timed when the target itself was refused
        lines.append(f"  timings: {timings}")
    return "\n".join(lines) + "\n"


def render_rich(result: dict[str, Any], console: Any, show_certs: bool = False) -> None:
    """The report with tables and colour, for a terminal."""
    from rich.table import Table
    from rich.text import Text

    ok = result["status"] == "success"
    head = Text(visible(result["target"]), style="bold")
    head.append("  ")
    head.append(result["status"], style="bold green" if ok else "bold red")
    console.print(head)
    for label, text in _summary(result):
        console.print(Text(f"  {label}: ", style="dim") + Text(text))
    for key, title in (("plain", "EHLO (before TLS)"), ("tls", "EHLO over TLS")):
        ehlo = result["ehlo"].get(key)
        if ehlo is None:
            continue
        if ehlo["code"] != 250:  # a refusal has no keywords: its lines, as the banner's
            for text in _ehlo_rows(ehlo):  # visible() inside
                line = Text(f"  {title}: ", style="dim") + Text(text)
                console.print(line)
            continue
        table = Table(title=f"{title}: {_ehlo_rows(ehlo)[0]}",
                      title_justify="left", show_edge=False, pad_edge=False)
        table.add_column("keyword", style="cyan", no_wrap=True)
        table.add_column("RFC", style="dim", no_wrap=True)
        table.add_column("meaning")
        for kw, rfc, meaning in _keyword_rows(ehlo):
            table.add_row(Text(kw), Text(rfc), Text(meaning))
        console.print(table)
    starttls = result["starttls"]
    if starttls["reply"] is not None:
        reply = starttls["reply"]
        console.print(Text(f"  STARTTLS: {reply['code']} {visible(' '.join(reply['lines']))}"))
    elif _starttls_unoffered(result):
        console.print(Text("  STARTTLS: not offered", style="yellow"))
    changes = result.get("capability_changes")
    if changes is not None:
        line = Text("  after STARTTLS: ", style="dim")
        for c in changes["added"]:
            line.append(f"+{visible(c)} ", style="green")
        for c in changes["removed"]:
            line.append(f"-{visible(c)} ", style="red")
        for a, b in changes["changed"]:
            line.append(f"~{visible(a)} -> {visible(b)} ", style="yellow")
        if not any(changes.values()):
            line.append("no change")
        console.print(line)
    tls = result.get("tls")
    if tls:
        console.print(Text(f"  TLS: {tls['version']} {tls['cipher']} ({tls['bits']} bits)"))
        good = tls.get("trust") in ("verified", "dane", "fingerprint") or (
            tls.get("trust") in (None, "unchecked") and tls.get("verified")
            and not tls.get("insecure"))
        console.print(Text(f"    verification: {_verification(tls)}",
                           style="green" if good else "bold red"))
        client = _client_cert(tls)
        if client:
            # Asked for and not sent: the server may still refuse us further on.
            missing = tls.get("cert_requested") and not tls.get("cert_sent")
            console.print(Text(f"    {visible(client)}", style="yellow" if missing else ""))
        for chain_line in _chain_lines(tls, show_certs):
            console.print(Text(f"    {chain_line}"))
    if result.get("mta_sts"):
        from smtpscope.security.mtasts import report_lines

        for sts_line in report_lines(result["mta_sts"]):
            console.print(Text(f"  {visible(sts_line)}"))
    for text in _warnings(result):
        console.print(Text(f"  warning: {text}", style="yellow"))
    if result.get("error"):
        err = Text(f"  error at {result['stage']}: {terminal_safe(result['error'])}",
                   style="red")
        if result.get("hint"):
            err.append(f"\n  try: {terminal_safe(result['hint'])}", style="yellow")
        console.print(err)
    timings = _timing_text(result["timings"])
    if timings:
        console.print(Text(f"  timings: {timings}", style="dim"))


class Printer:
    """Prints results in the order the targets were given, each as soon as it can."""

    def __init__(self, as_json: bool, *, total: int, progress: bool,
                 ordered: bool = True, show_certs: bool = False) -> None:
        self.as_json = as_json
        self.ordered = ordered  # False: each result the moment it is done (--jsonl)
        self.show_certs = show_certs
        self.pending: dict[int, dict[str, Any]] = {}
        self.next = 0
        self.rich = not as_json and sys.stdout.isatty()
        self.console: Any = None
        if self.rich:
            from rich.console import Console

            self.console = Console(highlight=False)
        self.progress: Any = None
        if progress and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import Progress

            self.progress = Progress(console=Console(stderr=True), transient=True)
            self.task = self.progress.add_task("probing", total=total)
            self.progress.start()

    def done(self, index: int, result: dict[str, Any]) -> None:
        if self.progress is not None:
            self.progress.advance(self.task)
        if not self.ordered:
            self._emit(result)
            return
        self.pending[index] = result
        while self.next in self.pending:
            self._emit(self.pending.pop(self.next))
            self.next += 1

    def _emit(self, result: dict[str, Any]) -> None:
        if self.as_json:
            sys.stdout.write(dumps(result) + "\n")
        elif self.rich:
            render_rich(result, self.console, self.show_certs)
        else:
            sys.stdout.write(render_plain(result, self.show_certs))
        sys.stdout.flush()
        if result["status"] != "success":
            error_line("probe", f"{visible(result['target'])}: {result['status']} at "
                       f"{result['stage']}: {terminal_safe(result['error'] or '')}",
                       result.get("hint") or "")

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
