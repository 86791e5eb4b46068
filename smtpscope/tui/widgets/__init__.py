"""Widgets of the smtpscope TUI: each renders state it is given and posts messages upward."""
