"""When smtpscope itself fails: the traceback goes to a file, the user gets its name and an exit
code that says "software error", and no local variable (a password) is printed anywhere."""

from __future__ import annotations

import sys
import time
import traceback
from pathlib import Path

# sysexits.h EX_SOFTWARE: an internal error, distinct from usage (1) and network outcomes.
EXIT_CRASH = 70


def write_crash_report(exc: BaseException) -> Path | None:
    """Write the traceback (no local variables) to a file in the data directory; its path."""
    from smtpscope import __version__
    from smtpscope.config import data_dir

    try:
        folder = data_dir() / "crashes"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"crash-{time.strftime('%Y%m%d-%H%M%S')}-{id(exc) & 0xFFFF:04x}.txt"
        lines = [
            f"smtpscope {__version__} on Python {sys.version.split()[0]}, {sys.platform}\n",
            f"argv: {' '.join(sys.argv[1:2])} ...\n\n",  # the target only: options may be secret
            *traceback.format_exception(exc),
        ]
        path.write_text("".join(lines), encoding="utf-8")
        return path
    except OSError:
        return None


def crash_message(exc: BaseException, path: Path | None) -> str:
    """One paragraph for stderr naming the failure and where its traceback is."""
    from smtpscope.sanitize import visible

    where = f"the traceback is in {path}" if path else "the traceback could not be written"
    return (f"smtpscope crashed: {type(exc).__name__}: {visible(str(exc))}\n{where}; please "
            "include it when reporting the problem.")


def report_crash(exc: BaseException) -> int:
    """Write the report, tell the user, return the exit code."""
    from smtpscope.sanitize import terminal_safe

    print(terminal_safe(crash_message(exc, write_crash_report(exc))), file=sys.stderr)
    return EXIT_CRASH
