"""Long SASL computations (SCRAM's PBKDF2 at a server-chosen iteration count) off the UI thread.

A server picks SCRAM's iteration count; at the ten million smtpscope accepts, PBKDF2 takes
seconds. The AUTH helper runs such a step in a thread and shows :class:`ComputeProgress`: the
estimated share done (PBKDF2 is one C call, so progress is time against a measured rate) and
how to cancel (``*`` to the server, the late result thrown away).
"""

from __future__ import annotations

import hashlib
import re
import time

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import ProgressBar, Static

# Steps with at least this many PBKDF2 iterations run in a thread (about 50 ms and up).
OFF_THREAD_ITERATIONS = 100_000
_ITERATIONS = re.compile(rb"(?:^|,)i=(\d{1,12})(?:,|$)")
_CALIBRATION = 20_000


def scram_iterations(mechanism: str, challenge: bytes) -> int:
    """The iteration count a SCRAM server-first message asks for (0 when none or not SCRAM)."""
    if not mechanism.upper().startswith("SCRAM-"):
        return 0
    match = _ITERATIONS.search(challenge)
    return int(match.group(1)) if match else 0


def hash_for(mechanism: str) -> str:
    """The hash a SCRAM mechanism name implies (SCRAM-SHA-1, SCRAM-SHA-256, SCRAM-SHA-512...)."""
    name = mechanism.upper().removeprefix("SCRAM-").removesuffix("-PLUS").replace("-", "")
    return name.lower() if name.lower() in hashlib.algorithms_available else "sha256"


def estimate_seconds(mechanism: str, iterations: int) -> float:
    """How long PBKDF2 with ``iterations`` should take here, from a short measured run."""
    name = hash_for(mechanism)
    started = time.perf_counter()
    hashlib.pbkdf2_hmac(name, b"calibrate", b"salt", _CALIBRATION)
    rate = _CALIBRATION / max(time.perf_counter() - started, 1e-6)
    return iterations / rate


class ComputeProgress(Vertical):
    """What the helper shows while a step computes in a thread: a bar and how to cancel."""

    DEFAULT_CSS = """
    ComputeProgress { height: auto; border: round $warning; padding: 0 1; }
    ComputeProgress ProgressBar { width: 1fr; }
    """

    def __init__(self, mechanism: str, iterations: int, estimate: float) -> None:
        super().__init__()
        self.mechanism = mechanism
        self.iterations = iterations
        self.estimate = max(estimate, 0.05)
        self.started = time.monotonic()

    def compose(self) -> ComposeResult:
        yield Static(self._label(), id="compute-label")
        yield ProgressBar(total=100, show_eta=False, id="compute-bar")

    def on_mount(self) -> None:
        self.set_interval(0.1, self.tick)

    def _label(self) -> Text:
        elapsed = time.monotonic() - self.started
        return Text(
            f"{self.mechanism}: computing SaltedPassword, {self.iterations:,} PBKDF2 iterations "
            f"(the server's i=) · {elapsed:.1f} s of about {self.estimate:.1f} s · "
            "F8 cancels (sends '*')")

    @property
    def fraction(self) -> float:
        """Estimated share done, never quite 1 until the result arrives."""
        return min(0.99, (time.monotonic() - self.started) / self.estimate)

    def tick(self) -> None:
        self.query_one("#compute-label", Static).update(self._label())
        self.query_one(ProgressBar).update(progress=round(self.fraction * 100))
