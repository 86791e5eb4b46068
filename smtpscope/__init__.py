"""smtpscope: an interactive SMTP client, recorder and debugging server on a sans-IO engine."""

__version__ = "0.1.0"
