"""Fixtures of the ACP suite: the environment that points at the fake API
(the API, the workspace and the home come from tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.fakes.anthropic_server import FakeAnthropic


@pytest.fixture
def env(api: FakeAnthropic) -> dict[str, str]:
    return {"ANTHROPIC_BASE_URL": api.base_url, "ANTHROPIC_API_KEY": "sk-test-secret"}
