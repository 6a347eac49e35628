"""Fixtures for the framework and example tests."""

from __future__ import annotations

import pytest

from signoff_testing import RunningService


@pytest.fixture
def signoff_env(service: RunningService, project_key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGNOFF_API_KEY and SIGNOFF_API_BASE, as examples/README.md tells a user to set them."""
    monkeypatch.setenv("SIGNOFF_API_KEY", project_key)
    monkeypatch.setenv("SIGNOFF_API_BASE", service.api_url)
