"""Fault injection for client testing: ``--fail STAGE:CODE[:PROBABILITY]`` specs and their dice."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from smtpscope.server.enhanced import enhanced_code

# Where a failure can be injected, and what the stage means for the client.
STAGES: dict[str, str] = {
    "CONNECT": "the greeting (421 then closes; after any other code only QUIT is served)",
    "HELO": "the reply to HELO",
    "EHLO": "the reply to EHLO",
    "STARTTLS": "the reply to STARTTLS (no TLS handshake follows)",
    "AUTH": "the final AUTH reply, after the credentials were received",
    "MAIL": "the reply to MAIL FROM",
    "RCPT": "the reply to RCPT TO",
    "DATA": "the reply after the message content (the message is not stored)",
    "RSET": "the reply to RSET",
    "NOOP": "the reply to NOOP",
    "VRFY": "the reply to VRFY",
}


class FaultSpecError(ValueError):
    """A ``--fail`` spec that cannot be used; the message says what is wrong and the right form."""


@dataclass(frozen=True)
class Fault:
    """One injected failure: at ``stage`` answer ``code`` with the given probability."""

    stage: str
    code: int
    probability: float = 1.0

    @property
    def spec(self) -> str:
        """The spec as the user would write it."""
        if self.probability == 1.0:
            return f"{self.stage}:{self.code}"
        return f"{self.stage}:{self.code}:{self.probability:g}"

    def reply(self) -> str:
        """The reply line the server sends when this fault fires."""
        # The code a real server would give (a stage is named after the command it answers).
        enhanced = enhanced_code(self.stage, self.code)
        return f"{self.code} {enhanced} Injected failure (smtpscope --fail {self.spec})"


def parse_fault(spec: str) -> Fault:
    """Parse ``STAGE:CODE[:PROBABILITY]`` (e.g. ``RCPT:451:0.3``); raises FaultSpecError."""
    form = "expected STAGE:CODE[:PROBABILITY], e.g. RCPT:451:0.3 or AUTH:535"
    parts = spec.strip().split(":")
    if len(parts) not in (2, 3):
        raise FaultSpecError(f"--fail {spec!r}: {form}")
    stage = parts[0].strip().upper()
    if stage not in STAGES:
        raise FaultSpecError(
            f"--fail {spec!r}: unknown stage {parts[0]!r}; stages are {', '.join(STAGES)}"
        )
    try:
        code = int(parts[1])
    except ValueError:
        raise FaultSpecError(
            f"--fail {spec!r}: code {parts[1]!r} is not a number; {form}"
        ) from None
    if not 400 <= code <= 599:
        raise FaultSpecError(
            f"--fail {spec!r}: code {code} is not a failure; use a 4xx (temporary) "
            "or 5xx (permanent) code"
        )
    probability = 1.0
    if len(parts) == 3:
        try:
            probability = float(parts[2])
        except ValueError:
            raise FaultSpecError(
                f"--fail {spec!r}: probability {parts[2]!r} is not a number between 0 and 1"
            ) from None
        if not 0.0 <= probability <= 1.0:
            raise FaultSpecError(f"--fail {spec!r}: probability {parts[2]} must be between 0 and 1")
    return Fault(stage, code, probability)


@dataclass
class FaultInjector:
    """Decides, stage by stage, whether an injected failure fires (first matching spec wins)."""

    faults: tuple[Fault, ...] = ()
    rng: random.Random = field(default_factory=random.Random)

    def check(self, stage: str) -> Fault | None:
        """Roll for ``stage``; return the fault that fires, or None."""
        for fault in self.faults:
            if fault.stage != stage or fault.probability <= 0.0:
                continue
            # Probability 1 never consumes randomness, so a seeded run stays reproducible.
            if fault.probability >= 1.0 or self.rng.random() < fault.probability:
                return fault
        return None
