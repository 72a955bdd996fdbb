"""Fixtures every suite shares: the local fake Anthropic API, a workspace folder, a store home."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.anthropic_server import FakeAnthropic


@pytest.fixture
def api() -> Iterator[FakeAnthropic]:
    """The fake Messages API on 127.0.0.1, with an empty queue of turns."""
    with FakeAnthropic() as fake:
        yield fake


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty project folder (resolved: the server reports resolved paths)."""
    path = tmp_path / "project"
    path.mkdir()
    return path.resolve()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """Where the server keeps its sessions (`AGENT_LS_HOME`); made on first use."""
    return tmp_path / "home"
