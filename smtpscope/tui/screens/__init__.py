"""Screens of the TUI: connect, session, replay, history, and the modal helpers."""
