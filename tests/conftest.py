"""Shared pytest setup: the real-peer plugins and a private data directory for every test."""

from __future__ import annotations

import pytest

pytest_plugins = ["tests.peers.dns_fixtures", "tests.peers.fixtures"]


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path_factory, monkeypatch):
    """Recordings, history and certificates of a test never land in the user's home."""
    monkeypatch.setenv("SMTPSCOPE_HOME", str(tmp_path_factory.mktemp("smtpscope-home")))
