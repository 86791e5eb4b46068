"""The transcript pane's palette: one component class per row look, styled in CSS."""

from __future__ import annotations

from smtpscope.tui.widgets.transcript_rows import Look

# Component class of each Look, in Look order, so the palette lives in CSS and themes.
LOOK_CLASSES = (
    "transcript--client",
    "transcript--client-off-script",
    "transcript--reply-2xx",
    "transcript--reply-3xx",
    "transcript--reply-4xx",
    "transcript--reply-5xx",
    "transcript--reply-other",
    "transcript--server-off-script",
    "transcript--note",
    "transcript--warning",
    "transcript--error",
    "transcript--tls",
    "transcript--content",
    "transcript--fold",
    "transcript--explain",
    "transcript--redacted",
    "transcript--tls-unverified",
)
assert len(LOOK_CLASSES) == len(Look)

# The palette as the view indexes it: every Look, then the gutter, timestamp, latency, cursor.
PALETTE_CLASSES = (
    *LOOK_CLASSES,
    "transcript--gutter",
    "transcript--timestamp",
    "transcript--latency",
    "transcript--cursor",
)

TRANSCRIPT_CSS = """
TranscriptView {
    background: $surface;
    color: $foreground;
    overflow-y: scroll;
    overflow-x: auto;
    & > .transcript--client { color: $foreground; text-style: bold; }
    & > .transcript--client-off-script { color: $accent; text-style: bold reverse; }
    & > .transcript--reply-2xx { color: $text-success; }
    & > .transcript--reply-3xx { color: $text-primary; }
    & > .transcript--reply-4xx { color: $text-warning; }
    & > .transcript--reply-5xx { color: $text-error; }
    & > .transcript--reply-other { color: $foreground; }
    & > .transcript--server-off-script { color: $text-warning; text-style: reverse; }
    & > .transcript--note { color: $text-muted; }
    & > .transcript--warning { color: $text-warning; text-style: bold; }
    & > .transcript--error { color: $text-error; text-style: bold; }
    & > .transcript--tls { color: $text-secondary; text-style: bold; }
    & > .transcript--content { color: $foreground 80%; }
    & > .transcript--fold { color: $text-muted; text-style: italic; }
    & > .transcript--explain { color: $text-muted; text-style: italic; }
    & > .transcript--redacted { color: magenta; text-style: italic; }
    & > .transcript--tls-unverified { color: $text-error; text-style: bold; }
    & > .transcript--gutter { color: $text-muted; }
    & > .transcript--timestamp { color: $text-muted; }
    & > .transcript--latency { color: $text-muted; }
    & > .transcript--cursor { background: $accent 30%; }
    &:focus > .transcript--cursor { background: $accent 50%; }
}
"""
