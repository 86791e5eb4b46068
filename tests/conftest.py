"""Shared pytest setup: the real-peer plugins and a private data directory for every test."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

pytest_plugins = ["tests.peers.dns_fixtures", "tests.peers.fixtures"]

# CI runs the same fuzz examples every time, so a run is repeatable; a developer's runs keep
# exploring new ones (and a failure found there becomes an @example).
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI", "").lower() == "true":
    settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path_factory, monkeypatch):
    """Recordings, history and certificates of a test never land in the user's home."""
    monkeypatch.setenv("SMTPSCOPE_HOME", str(tmp_path_factory.mktemp("smtpscope-home")))
    # Nor does the user's config file or SMTPSCOPE_* defaults change what a test runs.
    monkeypatch.setenv("SMTPSCOPE_CONFIG", str(tmp_path_factory.mktemp("config") / "none.toml"))
    for name in ("SMTPSCOPE_PROFILE", "SMTPSCOPE_TLS", "SMTPSCOPE_HELO", "SMTPSCOPE_FROM"):
        monkeypatch.delenv(name, raising=False)
