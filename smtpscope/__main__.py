"""Entry point for ``python -m smtpscope``."""

from smtpscope.cli import main

raise SystemExit(main())
