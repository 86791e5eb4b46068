"""Entry point for ``python -m smtpscope``."""

from smtpscope.launch import main

raise SystemExit(main())
